/** The largest module file we compile: 64 MiB, far above any real guest (most are under
 * 1 MiB), and small enough that compiling it cannot take the host down. A leaf module, so
 * that the registry client shares the limit without loading the runtime (and its FFI). */
export const MAX_MODULE_BYTES = 64 * 1024 * 1024;
