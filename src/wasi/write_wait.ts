/**
 * A guest's `fd_write` that can wait for a slow reader without making every write pay for
 * JSPI.
 *
 * A `WebAssembly.Suspending` import costs on every call, even one that returns at once. So the
 * guest's `fd_write` is a small wasm function instead, assembled here, which calls the
 * synchronous JS write and only when that answers {@link MUST_WAIT} calls the `Suspending`
 * wait, then writes again:
 *
 *     (import "h" "write" (func $write (param i32 i32 i32 i32) (result i32)))  ;; sync
 *     (import "h" "wait"  (func $wait (param i32) (result i32)))  ;; Suspending
 *     (func (export "fd_write") (param $fd i32) (param $iovs i32) (param $n i32)
 *       (param $nwritten i32) (result i32) (local $r i32)
 *       loop
 *         r = write(fd, iovs, n, nwritten)
 *         if (r != MUST_WAIT) return r
 *         r = wait(fd)            ;; 0: there is room (or nobody reads): write again
 *         if (r != 0) return r    ;; an errno (EINTR after a stop)
 *       end)
 *
 * Wasm to wasm from the guest, the wait suspends also below a buffer callback (the record
 * pump is wasm too). `write` must have written nothing when it answers MUST_WAIT.
 *
 * @module
 */

/** The synchronous write's answer when the guest must wait first; never an errno. */
export const MUST_WAIT = -1;

// deno-lint-ignore no-explicit-any
type Fn = (...args: any[]) => unknown;

let compiled: WebAssembly.Module | undefined;

function trampolineModule(): WebAssembly.Module {
  const I32 = 0x7f;
  const body = [
    ...[0x01, 0x01, I32], // one i32 local: $r (local 4)
    ...[0x03, 0x40], // loop
    ...[0x20, 0, 0x20, 1, 0x20, 2, 0x20, 3, 0x10, 0, 0x22, 4], // r = write(fd, iovs, n, nw)
    ...[0x41, 0x7f, 0x47, 0x04, 0x40, 0x20, 4, 0x0f, 0x0b], // if (r != -1) return r
    ...[0x20, 0, 0x10, 1, 0x22, 4], // r = wait(fd)
    ...[0x04, 0x40, 0x20, 4, 0x0f, 0x0b], // if (r) return r
    ...[0x0c, 0x00, 0x0b], // br 0; end loop
    ...[0x00, 0x0b], // unreachable; end
  ];
  return new WebAssembly.Module(
    new Uint8Array([
      ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
      // types: 0 (i32 i32 i32 i32) -> i32, 1 (i32) -> i32
      ...section(1, [2, 0x60, 4, I32, I32, I32, I32, 1, I32, 0x60, 1, I32, 1, I32]),
      // imports: h.write (type 0), h.wait (type 1)
      ...section(2, [2, ...str("h"), ...str("write"), 0x00, 0, ...str("h"), ...str("wait"), 0, 1]),
      ...section(3, [1, 0]), // function 2 has type 0
      ...section(7, [1, ...str("fd_write"), 0x00, 2]), // exported as fd_write
      ...section(10, [1, body.length, ...body]),
    ]),
  );
}

/** A section of fewer than 128 bytes (one-byte LEB128 size). */
function section(id: number, bytes: number[]): number[] {
  return [id, bytes.length, ...bytes];
}

/** A name of fewer than 128 ASCII characters. */
function str(s: string): number[] {
  return [s.length, ...[...s].map((c) => c.charCodeAt(0))];
}

/**
 * The guest's `fd_write`: `write` (synchronous; returns an errno or {@link MUST_WAIT}) and
 * `wait` (a `WebAssembly.Suspending` of `(fd) => errno | Promise<errno>`) joined in wasm.
 */
export function waitingFdWrite(write: Fn, wait: unknown): WebAssembly.ExportValue {
  compiled ??= trampolineModule();
  const instance = new WebAssembly.Instance(compiled, { h: { write, wait } } as never);
  return instance.exports.fd_write;
}
