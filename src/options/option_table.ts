/**
 * A declarative option table and what is generated from it: the parser of a command line, its
 * help lines, and the argv that gives back a set of options. Each option is one row (its
 * flags, the key it sets, how its value is read and written, its help), so the parser and its
 * inverse cannot drift apart. The rows themselves are in run_options.ts, policy_flags.ts
 * and registry_options.ts; this module imports nothing.
 */

/** What every row of a table has: its flags and its help. */
export interface OptionRow {
  /** Its long flag (`--verbose`). */
  readonly long: string;
  /** Its short flag (`-v`), if any. */
  readonly short?: string;
  /** The name of its value in the help (`NAME`); none for a switch, which takes no value. */
  readonly value?: string;
  /** Whether the help writes it `--flag=VALUE` rather than `--flag VALUE`. */
  readonly inline?: boolean;
  /** Its help, one string per line (wrapped by hand to fit the help's second column). */
  readonly help: readonly string[];
}

/** One option of a command line, read into and written from a `T`. */
export interface OptionSpec<T> extends OptionRow {
  /** Reads one occurrence into `into`: returns a usage error message, or undefined. A
   * switch is given "". */
  readonly parse: (into: T, value: string) => string | undefined;
  /** The argv that gives `from`'s value of this option; [] when it is unset. */
  readonly format: (from: T) => string[];
}

/** A switch that ends the parse at once, such as `--help`. */
export interface StopSpec<S extends string> extends OptionRow {
  readonly value?: undefined;
  readonly stop: S;
}

/** A usage error: a bad command line, reported with its message (exit status 2). */
export class UsageError extends Error {}

/** The rows of `table` that read and write the part `part(t)` of a larger `T`. */
export function nested<T, P>(
  table: readonly OptionSpec<P>[],
  part: (whole: T) => P,
): OptionSpec<T>[] {
  return table.map((spec) => ({
    ...spec,
    parse: (into: T, value: string) => spec.parse(part(into), value),
    format: (from: T) => spec.format(part(from)),
  }));
}

/** The keys of `T` that hold an optional string. */
type StringKey<T> = { [K in keyof T]-?: T[K] extends string | undefined ? K : never }[keyof T];

/** A row that sets the string `key` of `T`, to a value that is not empty (`--log-file=` is a
 * mistake, not a wish for no log file); written `--flag VALUE` when set. */
export function stringOption<T>(
  row: OptionRow,
  key: StringKey<T>,
): OptionSpec<T> {
  return {
    ...row,
    parse(into, value) {
      if (value === "") return `${row.long} takes ${row.value ?? "a value"}, got ""`;
      into[key] = value as T[StringKey<T>];
      return undefined;
    },
    format(from) {
      const value = from[key] as string | undefined;
      return value ? [row.long, value] : [];
    },
  };
}

/** The row of `table` for `flag`, if there is one. */
export function findOption<R extends OptionRow>(
  table: readonly R[],
  flag: string,
): R | undefined {
  return table.find((spec) => spec.long === flag || spec.short === flag);
}

/** What {@link parseOptions} found: where the operands start, or the stop switch given. */
export type ParsedOptions<S extends string> = { stop: S } | { operands: string[] };

/**
 * Reads options from the head of `argv` into `into`, up to the first operand (a word not
 * starting with `-`, or `-` itself) or past a `--`. A value follows its flag as the next word,
 * or after `=` for a long flag (`--env=A=b`); a switch ignores a value given after `=`.
 * Throws {@link UsageError} for an unknown flag, a missing value or a value its row refuses.
 */
export function parseOptions<T, S extends string>(
  table: readonly (OptionSpec<T> | StopSpec<S>)[],
  argv: readonly string[],
  into: T,
): ParsedOptions<S> {
  let i = 0;
  for (; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--") {
      i++;
      break;
    }
    if (!arg.startsWith("-") || arg === "-") break;
    const eq = arg.startsWith("--") ? arg.indexOf("=") : -1;
    const flag = eq > 0 ? arg.slice(0, eq) : arg;
    const spec = findOption(table, flag);
    if (!spec) throw new UsageError(`unknown option ${arg}`);
    if ("stop" in spec) return { stop: spec.stop };
    let value = "";
    if (spec.value !== undefined) {
      if (eq > 0) value = arg.slice(eq + 1);
      else if (i + 1 < argv.length) value = argv[++i];
      else throw new UsageError(`${flag} needs a value`);
    }
    const error = spec.parse(into, value);
    if (error) throw new UsageError(error);
  }
  return { operands: argv.slice(i) };
}

/** The argv giving every set option of `from`, in the table's order. */
export function formatOptions<T>(table: readonly OptionSpec<T>[], from: T): string[] {
  return table.flatMap((spec) => spec.format(from));
}

/** The help's width of the first column, where the flags are. */
const FLAG_COLUMN = 36;

/** The help lines of `table`: flags in the first column, their help in the second. */
export function optionHelp(table: readonly OptionRow[]): string {
  return table.map((spec) => {
    const value = spec.value === undefined ? "" : `${spec.inline ? "=" : " "}${spec.value}`;
    const flags = `  ${spec.short ? `${spec.short}, ` : "    "}${spec.long}${value}`;
    const [first, ...rest] = spec.help;
    return [flags.padEnd(FLAG_COLUMN) + first, ...rest.map((l) => " ".repeat(FLAG_COLUMN) + l)]
      .map((line) => `${line}\n`).join("");
  }).join("");
}
