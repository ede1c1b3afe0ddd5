/**
 * The one place that knows libbpf: where to find the library, its symbols with their C
 * prototypes, how its errors are named, and where its log goes.
 *
 * Pointer parameters that receive guest-memory addresses are declared `u64` and given BigInts:
 * that keeps the V8 fast call path (see docs/design.md §2) and lets the kernel read and write
 * the guest's linear memory directly, with no copy.
 */

import { cString, getLibc, lastErrno } from "./libc_ffi.ts";
import { errnoName } from "./errno.ts";
import { lazySymbols } from "./lazy_symbols.ts";

const symbols = {
  // --- objects -------------------------------------------------------------------------
  /** struct bpf_object *bpf_object__open_mem(const void *obj_buf, size_t obj_buf_sz,
   *                                          const struct bpf_object_open_opts *opts) */
  bpf_object__open_mem: { parameters: ["buffer", "usize", "pointer"], result: "pointer" },
  /** int bpf_object__load(struct bpf_object *obj) */
  bpf_object__load: { parameters: ["pointer"], result: "i32" },
  /** void bpf_object__close(struct bpf_object *obj) */
  bpf_object__close: { parameters: ["pointer"], result: "void" },
  /** struct bpf_program *bpf_object__find_program_by_name(const struct bpf_object *obj,
   *                                                       const char *name) */
  bpf_object__find_program_by_name: { parameters: ["pointer", "buffer"], result: "pointer" },
  /** struct bpf_map *bpf_object__find_map_by_name(const struct bpf_object *obj, const char *name)
   * (matches internal maps by their real name too: ".rodata", ".bss") */
  bpf_object__find_map_by_name: { parameters: ["pointer", "buffer"], result: "pointer" },
  /** struct bpf_map *bpf_object__next_map(const struct bpf_object *obj, const struct bpf_map *map) */
  bpf_object__next_map: { parameters: ["pointer", "pointer"], result: "pointer" },
  /** struct bpf_program *bpf_object__next_program(const struct bpf_object *obj,
   *                                               struct bpf_program *prog) */
  bpf_object__next_program: { parameters: ["pointer", "pointer"], result: "pointer" },

  // --- maps ----------------------------------------------------------------------------
  /** const char *bpf_map__name(const struct bpf_map *map) */
  bpf_map__name: { parameters: ["pointer"], result: "pointer" },
  /** enum bpf_map_type bpf_map__type(const struct bpf_map *map) */
  bpf_map__type: { parameters: ["pointer"], result: "i32" },
  /** int bpf_map__fd(const struct bpf_map *map) */
  bpf_map__fd: { parameters: ["pointer"], result: "i32" },
  /** __u32 bpf_map__key_size(const struct bpf_map *map) */
  bpf_map__key_size: { parameters: ["pointer"], result: "u32" },
  /** __u32 bpf_map__value_size(const struct bpf_map *map) */
  bpf_map__value_size: { parameters: ["pointer"], result: "u32" },
  /** __u32 bpf_map__max_entries(const struct bpf_map *map) */
  bpf_map__max_entries: { parameters: ["pointer"], result: "u32" },
  /** const char *bpf_map__pin_path(const struct bpf_map *map) (NULL: not pinned by name) */
  bpf_map__pin_path: { parameters: ["pointer"], result: "pointer" },

  // --- programs and links ----------------------------------------------------------------
  /** const char *bpf_program__name(const struct bpf_program *prog) */
  bpf_program__name: { parameters: ["pointer"], result: "pointer" },
  /** const char *bpf_program__section_name(const struct bpf_program *prog) */
  bpf_program__section_name: { parameters: ["pointer"], result: "pointer" },
  /** enum bpf_prog_type bpf_program__type(const struct bpf_program *prog) */
  bpf_program__type: { parameters: ["pointer"], result: "i32" },
  /** int bpf_program__fd(const struct bpf_program *prog) */
  bpf_program__fd: { parameters: ["pointer"], result: "i32" },
  /** int bpf_link__fd(const struct bpf_link *link) */
  bpf_link__fd: { parameters: ["pointer"], result: "i32" },
  /** struct bpf_link *bpf_program__attach(const struct bpf_program *prog) */
  bpf_program__attach: { parameters: ["pointer"], result: "pointer" },
  /** struct bpf_link *bpf_program__attach_cgroup(const struct bpf_program *prog, int cgroup_fd) */
  bpf_program__attach_cgroup: { parameters: ["pointer", "i32"], result: "pointer" },
  /** struct bpf_link *bpf_program__attach_xdp(const struct bpf_program *prog, int ifindex) */
  bpf_program__attach_xdp: { parameters: ["pointer", "i32"], result: "pointer" },
  /** int bpf_link__destroy(struct bpf_link *link) */
  bpf_link__destroy: { parameters: ["pointer"], result: "i32" },
  /** The same, on a worker thread: tracepoint links take 55-80 ms of kernel time each to
   * destroy, so a run with several links destroys them concurrently. */
  bpf_link__destroy_async: {
    name: "bpf_link__destroy",
    parameters: ["pointer"],
    result: "i32",
    nonblocking: true,
  },

  // --- map syscalls: key/value pointers are absolute addresses (u64), 0 = NULL ----------
  /** int bpf_map_lookup_elem_flags(int fd, const void *key, void *value, __u64 flags) */
  bpf_map_lookup_elem_flags: { parameters: ["i32", "u64", "u64", "u64"], result: "i32" },
  /** int bpf_map_update_elem(int fd, const void *key, const void *value, __u64 flags) */
  bpf_map_update_elem: { parameters: ["i32", "u64", "u64", "u64"], result: "i32" },
  /** int bpf_map_delete_elem_flags(int fd, const void *key, __u64 flags) */
  bpf_map_delete_elem_flags: { parameters: ["i32", "u64", "u64"], result: "i32" },
  /** int bpf_map_get_next_key(int fd, const void *key, void *next_key) */
  bpf_map_get_next_key: { parameters: ["i32", "u64", "u64"], result: "i32" },

  // --- ring and perf buffers -------------------------------------------------------------
  /** struct ring_buffer *ring_buffer__new(int map_fd, ring_buffer_sample_fn sample_cb, void *ctx,
   *                                      const struct ring_buffer_opts *opts)
   * ring_buffer_sample_fn: int (*)(void *ctx, void *data, size_t size) */
  ring_buffer__new: { parameters: ["i32", "function", "pointer", "pointer"], result: "pointer" },
  /** int ring_buffer__consume(struct ring_buffer *rb) */
  ring_buffer__consume: { parameters: ["pointer"], result: "i32" },
  /** int ring_buffer__epoll_fd(const struct ring_buffer *rb) */
  ring_buffer__epoll_fd: { parameters: ["pointer"], result: "i32" },
  /** void ring_buffer__free(struct ring_buffer *rb) */
  ring_buffer__free: { parameters: ["pointer"], result: "void" },
  /** struct perf_buffer *perf_buffer__new(int map_fd, size_t page_cnt,
   *   perf_buffer_sample_fn sample_cb, perf_buffer_lost_fn lost_cb, void *ctx,
   *   const struct perf_buffer_opts *opts)
   * sample: void (*)(void *ctx, int cpu, void *data, __u32 size)
   * lost:   void (*)(void *ctx, int cpu, __u64 cnt) */
  perf_buffer__new: {
    parameters: ["i32", "usize", "function", "function", "pointer", "pointer"],
    result: "pointer",
  },
  /** int perf_buffer__consume(struct perf_buffer *pb) */
  perf_buffer__consume: { parameters: ["pointer"], result: "i32" },
  /** int perf_buffer__epoll_fd(const struct perf_buffer *pb) */
  perf_buffer__epoll_fd: { parameters: ["pointer"], result: "i32" },
  /** size_t perf_buffer__buffer_cnt(const struct perf_buffer *pb) */
  perf_buffer__buffer_cnt: { parameters: ["pointer"], result: "usize" },
  /** int perf_buffer__buffer(struct perf_buffer *pb, int buf_idx, void **buf, size_t *buf_size)
   * (libbpf >= 1.0: lets us read the per-CPU rings ourselves) */
  perf_buffer__buffer: {
    parameters: ["pointer", "i32", "buffer", "buffer"],
    result: "i32",
    optional: true,
  },
  /** int perf_buffer__buffer_fd(const struct perf_buffer *pb, size_t buf_idx): the perf event
   * fd of one per-CPU buffer (libbpf >= 0.1), mapped a second time to read it in place */
  perf_buffer__buffer_fd: { parameters: ["pointer", "usize"], result: "i32", optional: true },
  /** void perf_buffer__free(struct perf_buffer *pb) */
  perf_buffer__free: { parameters: ["pointer"], result: "void" },

  // --- library ----------------------------------------------------------------------------
  /** long libbpf_get_error(const void *ptr) */
  libbpf_get_error: { parameters: ["pointer"], result: "i64" },
  /** int libbpf_strerror(int err, char *buf, size_t size) */
  libbpf_strerror: { parameters: ["i32", "buffer", "usize"], result: "i32" },
  /** libbpf_print_fn_t libbpf_set_print(libbpf_print_fn_t fn)
   * libbpf_print_fn_t: int (*)(enum libbpf_print_level level, const char *fmt, va_list ap) */
  libbpf_set_print: { parameters: ["function"], result: "pointer" },
  /** const char *libbpf_bpf_prog_type_str(enum bpf_prog_type t) (libbpf 1.0; NULL if unknown) */
  libbpf_bpf_prog_type_str: { parameters: ["i32"], result: "pointer" },
  /** int libbpf_num_possible_cpus(void) */
  libbpf_num_possible_cpus: { parameters: [], result: "i32" },
  /** __u32 libbpf_major_version(void) */
  libbpf_major_version: { parameters: [], result: "u32" },
  /** __u32 libbpf_minor_version(void) */
  libbpf_minor_version: { parameters: [], result: "u32" },
} as const satisfies Deno.ForeignLibraryInterface;

export type Libbpf = Deno.DynamicLibrary<typeof symbols>["symbols"];

/** Where we look for libbpf, in order. */
export function libbpfCandidates(): string[] {
  const fromEnv = Deno.env.get("LIBBPF_PATH");
  return [...(fromEnv ? [fromEnv] : []), "libbpf.so.1", "libbpf.so", "libbpf.so.0"];
}

/** libbpf could not be opened. */
export class LibbpfNotFoundError extends Error {
  constructor(tried: string[], causes: unknown[]) {
    super(
      `cannot load libbpf (tried ${tried.join(", ")}). ` +
        `Install it (Debian/Ubuntu: apt-get install libbpf1) or set LIBBPF_PATH to libbpf.so`,
      { cause: causes.at(-1) },
    );
    this.name = "LibbpfNotFoundError";
  }
}

let libbpf: Libbpf | undefined;

/** libbpf's symbols, opened on first use (and each bound on its own first use). */
export function getLibbpf(): Libbpf {
  if (libbpf) return libbpf;
  const tried = libbpfCandidates();
  const causes: unknown[] = [];
  for (const path of tried) {
    try {
      // Each symbol is bound on first use (lazy_symbols.ts); libbpf_set_print, needed at
      // once, is the check that `path` opens at all.
      libbpf = lazySymbols(path, symbols, ["libbpf_set_print"]);
      installLogRouter(libbpf);
      return libbpf;
    } catch (e) {
      // A missing --allow-ffi is not "library not found": let it through as it is.
      if (e instanceof Deno.errors.NotCapable || e instanceof Deno.errors.PermissionDenied) {
        throw e;
      }
      causes.push(e);
    }
  }
  throw new LibbpfNotFoundError(tried, causes);
}

// --- open options ---------------------------------------------------------------------------

/**
 * `struct bpf_object_open_opts` (libbpf.h) up to `pin_root_path`: libbpf reads `sz` bytes of
 * it and takes the rest as zero. Layout: size_t sz @0, const char *object_name @8,
 * bool relaxed_maps @16, const char *pin_root_path @24. Owns the memory it points at.
 */
export class ObjectOpenOptions {
  static readonly SIZE = 32;
  readonly #bytes = new Uint8Array(ObjectOpenOptions.SIZE);
  readonly #pinRootPath: Uint8Array;

  constructor(pinRootPath: string) {
    this.#pinRootPath = cString(pinRootPath);
    const view = new DataView(this.#bytes.buffer);
    view.setBigUint64(0, BigInt(ObjectOpenOptions.SIZE), true);
    const path = Deno.UnsafePointer.value(Deno.UnsafePointer.of(this.#pinRootPath));
    view.setBigUint64(24, BigInt(path), true);
  }

  /** The struct, for `bpf_object__open_mem`; valid while this object lives. */
  get pointer(): Deno.PointerObject {
    return Deno.UnsafePointer.of(this.#bytes)!;
  }
}

// --- errors ---------------------------------------------------------------------------------

/** libbpf's own text for an error code, including its 4000-range codes. */
export function libbpfStrerror(code: number): string {
  const buf = new Uint8Array(256);
  getLibbpf().libbpf_strerror(Math.abs(code), buf, BigInt(buf.length));
  const end = buf.indexOf(0);
  return new TextDecoder().decode(buf.subarray(0, end < 0 ? buf.length : end));
}

/** A failed libbpf call for a log line: what was being done, the errno by name, libbpf's text,
 * and a hint (the given one, else the privilege hint for EPERM and EACCES). */
export function libbpfFailureMessage(op: string, errno: number, hint?: string): string {
  const code = Math.abs(errno);
  const why = hintFor(code, hint);
  return `${op}: ${errnoName(code)} (${libbpfStrerror(code)})${why ? ` — ${why}` : ""}`;
}

function hintFor(code: number, hint?: string): string | undefined {
  if (hint) return hint;
  if (code === 1 || code === 13) return "run as root or grant CAP_BPF and CAP_PERFMON";
  return undefined;
}

/**
 * The one normaliser of libbpf's pointer returns (libbpf 1.x returns NULL and sets errno): 0 for
 * a pointer, the negative errno for NULL (-EINVAL if errno is 0). Call it at once after the call,
 * before anything else can change errno. (Calls returning an int return the negative errno
 * themselves.)
 */
export function ptrErr(p: Deno.PointerValue): number {
  return p === null ? -(lastErrno() || 22) : 0;
}

export { cString };

// --- log routing ----------------------------------------------------------------------------

/** libbpf's print levels. */
export const LogLevel = { WARN: 0, INFO: 1, DEBUG: 2 } as const;

/** Receives each formatted libbpf message (without its trailing newline). */
export type LibbpfLogger = (level: number, message: string) => void;

let logger: LibbpfLogger | undefined;
const recentWarnings: string[] = [];
const RECENT_WARNINGS_KEPT = 200;

/** Routes libbpf's messages to `fn` until the returned function is called (which restores
 * silence unless another logger took over meanwhile). libbpf has one log per process. */
export function borrowLibbpfLogger(fn: LibbpfLogger): () => void {
  logger = fn;
  return () => {
    if (logger === fn) logger = undefined;
  };
}

/** Takes the WARN/INFO messages libbpf printed since the last call (to explain a failure). */
export function takeRecentLibbpfMessages(): string[] {
  return recentWarnings.splice(0, recentWarnings.length);
}

let printCallback: { pointer: Deno.PointerObject } | undefined;

function installLogRouter(lib: Libbpf): void {
  const libc = getLibc();
  const vaCopy = new Uint8Array(24); // x86-64 __va_list_tag
  const vaCopyPtr = Deno.UnsafePointer.of(vaCopy);
  let out = new Uint8Array(1024);
  const decoder = new TextDecoder();
  printCallback = new Deno.UnsafeCallback(
    { parameters: ["i32", "pointer", "pointer"], result: "i32" } as const,
    (level, fmt, ap) => {
      try {
        if (fmt === null || ap === null) return 0;
        // vsnprintf consumes the va_list; format a copy so a second pass can grow the buffer.
        const apBytes = new Uint8Array(Deno.UnsafePointerView.getArrayBuffer(ap, 24));
        vaCopy.set(apBytes);
        let n = libc.vsnprintf(out, BigInt(out.length), fmt, vaCopyPtr);
        if (n >= out.length) {
          out = new Uint8Array(n + 1);
          vaCopy.set(apBytes);
          n = libc.vsnprintf(out, BigInt(out.length), fmt, vaCopyPtr);
        }
        if (n < 0) return 0;
        const message = decoder.decode(out.subarray(0, n)).replace(/\n$/, "");
        if (level <= LogLevel.INFO) {
          recentWarnings.push(message);
          if (recentWarnings.length > RECENT_WARNINGS_KEPT) recentWarnings.shift();
        }
        logger?.(level, message);
      } catch {
        // An exception here would be swallowed by FFI anyway; a lost log line is harmless.
      }
      return 0;
    },
  );
  lib.libbpf_set_print(printCallback.pointer);
}
