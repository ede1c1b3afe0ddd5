/**
 * Typed access to JSPI (WebAssembly JavaScript Promise Integration), which Deno 2.9 ships on
 * but TypeScript's lib does not declare yet. A `suspending` import may return a Promise: the
 * guest's stack is suspended until it settles, and the event loop runs meanwhile. The guest's
 * entry point must then be called through `promising`.
 */

interface JspiWebAssembly {
  Suspending: new (fn: (...args: never[]) => unknown) => object;
  promising: (fn: (...args: never[]) => unknown) => (...args: unknown[]) => Promise<unknown>;
}

const jspi = WebAssembly as unknown as Partial<JspiWebAssembly>;

/** True when this runtime has JSPI. */
export const hasJspi: boolean = typeof jspi.Suspending === "function" &&
  typeof jspi.promising === "function";

/** Wraps a host function so that it may block the guest by returning a Promise. */
export function suspending<A extends unknown[], R>(
  fn: (...args: A) => R | Promise<R>,
): WebAssembly.ImportValue {
  if (!hasJspi) throw new Error("this Deno has no WebAssembly JSPI (need Deno >= 2.9)");
  return new jspi.Suspending!(fn as (...args: never[]) => unknown) as WebAssembly.ImportValue;
}

/** Calls a guest export so that its `suspending` imports can suspend it. */
export function promising(fn: WebAssembly.ExportValue): (...args: unknown[]) => Promise<unknown> {
  if (!hasJspi) throw new Error("this Deno has no WebAssembly JSPI (need Deno >= 2.9)");
  return jspi.promising!(fn as (...args: never[]) => unknown);
}
