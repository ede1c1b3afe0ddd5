/**
 * Where libbpf pins the maps a guest declares with `LIBBPF_PIN_BY_NAME`, and the removal of
 * the pins a run created.
 *
 * libbpf pins such a map at `<pin root>/<map name>`, and when something is already pinned
 * there it reuses it instead of creating the map: with libbpf's default root, /sys/fs/bpf, a
 * guest would get whatever map another program pinned under that name, and its own pins would
 * outlive the run. So by default each run pins into a private directory on the BPF filesystem,
 * `/sys/fs/bpf/wasm-bpf-run-<pid namespace>-<pid>-<random>` (mode 0700, created on the first
 * load that pins),
 * removed with its pins when the run ends. Sharing is opt-in (`--pin-root=DIR`): maps are
 * pinned in and reused from DIR, and the pins the run created are removed at its end, while
 * those that were there before stay.
 *
 * A run that ends by SIGKILL (or by the default action of a signal, while the guest runs wasm)
 * cannot clean up: the next run that creates a private directory removes those of processes
 * of its pid namespace that no longer exist (a container sharing the BPF filesystem has other
 * pids: its directories are left alone).
 */

import { getLibbpf, ObjectOpenOptions } from "../ffi/libbpf_ffi.ts";
import { getLibc } from "../ffi/libc_ffi.ts";
import { errnoName, LinuxErrno } from "../ffi/errno.ts";
import { OwnedFd } from "../ffi/owned_fd.ts";

/** Where private pin directories are made: libbpf's default pin root. */
export const BPF_FS = "/sys/fs/bpf";
const PRIVATE_PREFIX = "wasm-bpf-run-";
const PRIVATE_NAME = /^wasm-bpf-run-(\d+)-(\d+)-[0-9a-f]+$/;

/** A pinned map of an opened object: its name and the path libbpf will pin it at. */
interface PinnedMap {
  name: string;
  path: string;
}

/** The pin root of one run (one guest). */
export class PinRoot {
  /** The shared directory (`--pin-root`), or undefined for a private one. */
  readonly #shared: string | undefined;
  /** The private directory's path (made on first use) when not shared. */
  readonly #private: string;
  #privateMade = false;
  /** Pins this run created in a shared directory, removed at its end. */
  readonly #created = new Set<string>();
  /** libbpf's open options naming the root. */
  readonly openOptions: ObjectOpenOptions;

  constructor(shared?: string) {
    this.#shared = shared === undefined ? undefined : shared.replace(/\/+$/, "") || "/";
    const random = crypto.getRandomValues(new Uint32Array(2));
    this.#private = `${BPF_FS}/${PRIVATE_PREFIX}${pidNamespace()}-${Deno.pid}-` +
      [...random].map((n) => n.toString(16).padStart(8, "0")).join("");
    this.openOptions = new ObjectOpenOptions(this.path);
  }

  /** The directory libbpf is told to pin in (`bpf_object_open_opts.pin_root_path`). */
  get path(): string {
    return this.#shared ?? this.#private;
  }

  /**
   * Call between open and load. Null when the object's pinned maps may be pinned: their names
   * are plain file names (no `/`, not `.` or `..`: a name must not make a path that leaves the
   * root) and the root exists. Otherwise why not. Returns the maps that were not pinned yet,
   * for {@link loaded}.
   */
  prepare(obj: Deno.PointerObject): { refusal: string } | { fresh: string[] } {
    const pinned = pinnedMaps(obj);
    if (pinned.length === 0) return { fresh: [] };
    for (const { name, path } of pinned) {
      if (name === "" || name === "." || name === ".." || name.includes("/")) {
        return { refusal: `map "${name}" is pinned by name, and its name is not a file name` };
      }
      if (path !== `${this.path}/${name}`) {
        return { refusal: `map "${name}" would be pinned at ${path}, outside ${this.path}` };
      }
    }
    if (this.#shared) {
      const problem = pinRootProblem(this.#shared);
      if (problem) return { refusal: `the pin root ${this.#shared}: ${problem}` };
    }
    if (!this.#shared && !this.#privateMade) {
      const error = this.#makePrivate();
      if (error) return { refusal: error };
    }
    return { fresh: pinned.map((p) => p.path).filter((path) => !exists(path)) };
  }

  /** Call after a successful load with what {@link prepare} returned: the pins it made are
   * the run's to remove. */
  loaded(fresh: string[]): void {
    for (const path of fresh) if (exists(path)) this.#created.add(path);
  }

  /** Removes the pins this run created (and its private directory). Idempotent. */
  removePins(): void {
    if (this.#shared) {
      for (const path of this.#created) removeQuietly(path);
      this.#created.clear();
      return;
    }
    if (this.#privateMade) removeDir(this.#private);
    this.#privateMade = false;
  }

  #makePrivate(): string | undefined {
    sweepDeadRuns();
    try {
      Deno.mkdirSync(this.#private, { mode: 0o700 });
      Deno.chmodSync(this.#private, 0o700); // mkdir's mode is masked by the umask
      this.#privateMade = true;
      return undefined;
    } catch (e) {
      return `cannot make the private pin directory ${this.#private} (${(e as Error).message}): ` +
        `pinned maps need a BPF filesystem at ${BPF_FS} (mount -t bpf bpf ${BPF_FS}), or ` +
        `--pin-root=DIR on one`;
    }
  }
}

/** The maps of `obj` that libbpf will pin (LIBBPF_PIN_BY_NAME), with their pin paths. */
function pinnedMaps(obj: Deno.PointerObject): PinnedMap[] {
  const lib = getLibbpf();
  const out: PinnedMap[] = [];
  for (let m = lib.bpf_object__next_map(obj, null); m; m = lib.bpf_object__next_map(obj, m)) {
    const path = lib.bpf_map__pin_path(m);
    if (path === null) continue;
    out.push({
      name: Deno.UnsafePointerView.getCString(lib.bpf_map__name(m)!),
      path: Deno.UnsafePointerView.getCString(path),
    });
  }
  return out;
}

const BPF_FS_MAGIC = 0xcafe4a11n;
const O_RDONLY_DIRECTORY_CLOEXEC = 0o2200000;

/** Why `dir` cannot be a pin root: no directory, or not on a BPF filesystem (libbpf would refuse
 * it at load, in lines of its own); undefined when it can. Through libc: Deno lets no one read
 * /proc/self/mountinfo without --allow-all. */
export function pinRootProblem(dir: string): string | undefined {
  const opened = OwnedFd.open(dir, O_RDONLY_DIRECTORY_CLOEXEC, LinuxErrno.ENOENT);
  if (typeof opened === "number") {
    if (opened === -LinuxErrno.ENOTDIR) return "not a directory";
    if (opened === -LinuxErrno.ENOENT) return "no such directory";
    return errnoName(opened);
  }
  try {
    const buf = new Uint8Array(256); // struct statfs: 120 bytes on 64-bit Linux, f_type first
    if (getLibc().fstatfs(opened.fd, buf) !== 0) return undefined; // left to libbpf
    if (new DataView(buf.buffer).getBigUint64(0, true) !== BPF_FS_MAGIC) {
      return "not on a BPF filesystem (mount -t bpf bpf DIR)";
    }
    return undefined;
  } finally {
    opened.close();
  }
}

function exists(path: string): boolean {
  try {
    Deno.lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

function removeQuietly(path: string): void {
  try {
    Deno.removeSync(path);
  } catch {
    // already gone
  }
}

/** Removes a private directory and its pins (bpffs holds only pins and directories here). */
function removeDir(dir: string): void {
  try {
    for (const entry of Deno.readDirSync(dir)) removeQuietly(`${dir}/${entry.name}`);
  } catch {
    // already gone
  }
  removeQuietly(dir);
}

/** The inode number of this process's pid namespace ("0" when unknown). */
function pidNamespace(): string {
  try {
    return Deno.readLinkSync("/proc/self/ns/pid").match(/\[(\d+)\]/)?.[1] ?? "0";
  } catch {
    return "0";
  }
}

/** Removes the private directories of runs of this pid namespace whose process is gone. */
function sweepDeadRuns(): void {
  const ns = pidNamespace();
  try {
    for (const entry of Deno.readDirSync(BPF_FS)) {
      const [, runNs, pid] = entry.name.match(PRIVATE_NAME) ?? [];
      if (runNs !== ns || ns === "0" || Number(pid) === Deno.pid || exists(`/proc/${pid}`)) {
        continue;
      }
      removeDir(`${BPF_FS}/${entry.name}`);
    }
  } catch {
    // no BPF filesystem: nothing to sweep
  }
}
