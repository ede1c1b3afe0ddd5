/**
 * `drive`: runs tests/guests/policy/driver.wasm through the CLI; the driver runs the calls its
 * arguments name (`load:FILE`, `attach:N:PROG[:TARGET]`, `update:N:MAP`, `malloc:N`...) and
 * prints each result on a line.
 */

import { guest, guestsDir, runCli, type RunCliOptions, type RunCliResult } from "./kernel.ts";

/** The driver guest's path. */
export const driver: string = guest("policy/driver.wasm");

/** Options of {@link drive}. */
export interface DriveOptions {
  /** CLI flags before the `--dir`s and the module, e.g. a policy flag. */
  flags?: string[];
  /** `--dir` specs (HOST:GUEST); default `tests/guests/` at `/g`. */
  dirs?: string[];
  /** Options of the run itself. */
  run?: RunCliOptions;
}

/** Runs the driver with `commands` as its arguments. */
export function drive(commands: string[], opts: DriveOptions = {}): Promise<RunCliResult> {
  const dirs = (opts.dirs ?? [`${guestsDir}:/g`]).flatMap((d) => ["--dir", d]);
  return runCli([...(opts.flags ?? []), ...dirs, driver, ...commands], opts.run);
}
