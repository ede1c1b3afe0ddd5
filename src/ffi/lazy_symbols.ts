/**
 * A library's FFI symbols, each bound on its first use. `Deno.dlopen` builds a call trampoline
 * for every symbol it is given (about 0.1 ms each), and a run calls only some of them: binding
 * all of libbpf's and libc's at once cost a CLI start ~10 ms. Once bound, a symbol is a plain
 * property holding the same function `Deno.dlopen` gives, so calls cost what they did.
 */

/** `symbols` of `path`, each opened by its own `Deno.dlopen` when first read. `eager` names
 * are bound at once: those whose first use must not run a dlopen between a call and the read
 * of its errno (`__errno_location`). `path` must open (the caller has checked it). */
export function lazySymbols<S extends Deno.ForeignLibraryInterface>(
  path: string,
  symbols: S,
  eager: readonly (keyof S & string)[] = [],
): Deno.DynamicLibrary<S>["symbols"] {
  const bound = {} as Record<string, unknown>;
  const bind = (name: string) => {
    const fn = Deno.dlopen(path, { [name]: symbols[name] }).symbols[name];
    Object.defineProperty(bound, name, { value: fn, enumerable: true });
    return fn;
  };
  for (const name of Object.keys(symbols)) {
    Object.defineProperty(bound, name, {
      configurable: true,
      enumerable: true,
      get: () => bind(name),
    });
  }
  for (const name of eager) bind(name);
  return bound as Deno.DynamicLibrary<S>["symbols"];
}
