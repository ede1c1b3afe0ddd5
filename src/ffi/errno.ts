/**
 * Linux errno values by name, for host messages and for the negative codes the `wasm_bpf`
 * imports return to guests (the ABI speaks Linux errno, not WASI errno).
 */
export const LinuxErrno = {
  EPERM: 1,
  ENOENT: 2,
  ESRCH: 3,
  EINTR: 4,
  EIO: 5,
  ENXIO: 6,
  E2BIG: 7,
  ENOEXEC: 8,
  EBADF: 9,
  ECHILD: 10,
  EAGAIN: 11,
  ENOMEM: 12,
  EACCES: 13,
  EFAULT: 14,
  EBUSY: 16,
  EEXIST: 17,
  EXDEV: 18,
  ENODEV: 19,
  ENOTDIR: 20,
  EISDIR: 21,
  EINVAL: 22,
  ENFILE: 23,
  EMFILE: 24,
  ENOTTY: 25,
  EFBIG: 27,
  ENOSPC: 28,
  ESPIPE: 29,
  EROFS: 30,
  EMLINK: 31,
  EPIPE: 32,
  EDOM: 33,
  ERANGE: 34,
  EDEADLK: 35,
  ENAMETOOLONG: 36,
  ENOLCK: 37,
  ENOSYS: 38,
  ENOTEMPTY: 39,
  ELOOP: 40,
  ENOMSG: 42,
  ENODATA: 61,
  ETIME: 62,
  EOVERFLOW: 75,
  EBADFD: 77,
  EILSEQ: 84,
  EUSERS: 87,
  ENOTSOCK: 88,
  EMSGSIZE: 90,
  EPROTOTYPE: 91,
  ENOPROTOOPT: 92,
  EPROTONOSUPPORT: 93,
  EOPNOTSUPP: 95,
  EAFNOSUPPORT: 97,
  EADDRINUSE: 98,
  EADDRNOTAVAIL: 99,
  ENETDOWN: 100,
  ENETUNREACH: 101,
  ECONNRESET: 104,
  ENOBUFS: 105,
  ETIMEDOUT: 110,
  ECONNREFUSED: 111,
  EALREADY: 114,
  EINPROGRESS: 115,
  ECANCELED: 125,
  ENOTSUPP: 524,
} as const;

export type LinuxErrnoName = keyof typeof LinuxErrno;

const namesByValue = new Map<number, string>(
  Object.entries(LinuxErrno).map(([name, value]) => [value, name]),
);

/** libbpf's own error range (libbpf.h `enum libbpf_errno`), returned as -4000-something. */
const libbpfNames: Record<number, string> = {
  4000: "LIBBPF_ERRNO__LIBELF",
  4001: "LIBBPF_ERRNO__FORMAT",
  4002: "LIBBPF_ERRNO__KVERSION",
  4003: "LIBBPF_ERRNO__ENDIAN",
  4004: "LIBBPF_ERRNO__INTERNAL",
  4005: "LIBBPF_ERRNO__RELOC",
  4006: "LIBBPF_ERRNO__LOAD",
  4007: "LIBBPF_ERRNO__VERIFY",
  4008: "LIBBPF_ERRNO__PROG2BIG",
  4009: "LIBBPF_ERRNO__KVER",
  4010: "LIBBPF_ERRNO__PROGTYPE",
  4011: "LIBBPF_ERRNO__WRNGPID",
  4012: "LIBBPF_ERRNO__INVSEQ",
  4013: "LIBBPF_ERRNO__NLPARSE",
};

/** The symbolic name of an errno value (sign ignored): "EPERM", "LIBBPF_ERRNO__FORMAT", or "E123". */
export function errnoName(code: number): string {
  const n = Math.abs(code);
  return namesByValue.get(n) ?? libbpfNames[n] ?? `E${n}`;
}

/** A Deno I/O error as "ENOSPC (No space left on device)": its OS errno by name, from the
 * "(os error N)" Deno puts in the message; any other error as its message. */
export function osErrorText(e: unknown): string {
  const message = e instanceof Error ? e.message : String(e);
  const os = /^(.*?) \(os error (\d+)\)/.exec(message);
  return os ? `${errnoName(Number(os[2]))} (${os[1]})` : message;
}
