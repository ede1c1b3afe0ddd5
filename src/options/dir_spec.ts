/**
 * The `HOST[:GUEST]` value of `--dir` and `--attach-dir`, written by the library's process
 * isolation (process_child.ts) and read by the CLI (run_options.ts): one format for both sides, so a
 * directory whose name holds a `:` reaches the guest as itself.
 *
 * `\:` is a literal colon and `\\` a literal backslash; the first unescaped `:` separates HOST
 * from GUEST (no separator: GUEST is HOST). Any other backslash stays as it is, so a spec
 * written without `\:` or `\\` means what it meant before this escape existed.
 * {@link formatDirSpec} escapes every `\` and `:`, so `parseDirSpec(formatDirSpec(h, g))` gives
 * back `h` and `g` for all strings.
 */

export interface DirSpec {
  hostPath: string;
  guestPath: string;
}

/** The spec of directory `hostPath`, seen by the guest as `guestPath`. */
export function formatDirSpec(hostPath: string, guestPath: string): string {
  return `${escape(hostPath)}:${escape(guestPath)}`;
}

/** Reads a `HOST[:GUEST]` spec; null when HOST or GUEST is empty. */
export function parseDirSpec(spec: string): DirSpec | null {
  const parts: string[] = [""];
  for (let i = 0; i < spec.length; i++) {
    const c = spec[i];
    const next = spec[i + 1];
    if (c === "\\" && (next === ":" || next === "\\")) {
      parts[parts.length - 1] += next;
      i++;
    } else if (c === ":" && parts.length === 1) {
      parts.push("");
    } else {
      parts[parts.length - 1] += c;
    }
  }
  const hostPath = parts[0];
  const guestPath = parts.length > 1 ? parts[1] : hostPath;
  if (!hostPath || !guestPath) return null;
  return { hostPath, guestPath };
}

function escape(path: string): string {
  return path.replace(/[\\:]/g, (c) => `\\${c}`);
}
