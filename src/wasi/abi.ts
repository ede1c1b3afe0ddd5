/**
 * WASI preview1 (`wasi_snapshot_preview1`) constants and struct layouts, as wasm32 sees them.
 *
 * Names follow the witx definitions (`typenames.witx`), prefixed by their type, the way
 * browser_wasi_shim's `wasi_defs.ts` and uwasi's `abi.ts` spell them. Struct layouts are
 * named-offset tables (`*_SIZE` plus one `*_OFF` object per struct) used beside the codecs in
 * `memory.ts`, so no file computes an offset by hand.
 *
 * @module
 */

// ---------------------------------------------------------------------------------------------
// errno (u16)
// ---------------------------------------------------------------------------------------------
export const ERRNO_SUCCESS = 0;
export const ERRNO_2BIG = 1;
export const ERRNO_ACCES = 2;
export const ERRNO_ADDRINUSE = 3;
export const ERRNO_ADDRNOTAVAIL = 4;
export const ERRNO_AFNOSUPPORT = 5;
export const ERRNO_AGAIN = 6;
export const ERRNO_ALREADY = 7;
export const ERRNO_BADF = 8;
export const ERRNO_BADMSG = 9;
export const ERRNO_BUSY = 10;
export const ERRNO_CANCELED = 11;
export const ERRNO_CHILD = 12;
export const ERRNO_CONNABORTED = 13;
export const ERRNO_CONNREFUSED = 14;
export const ERRNO_CONNRESET = 15;
export const ERRNO_DEADLK = 16;
export const ERRNO_DESTADDRREQ = 17;
export const ERRNO_DOM = 18;
export const ERRNO_DQUOT = 19;
export const ERRNO_EXIST = 20;
export const ERRNO_FAULT = 21;
export const ERRNO_FBIG = 22;
export const ERRNO_HOSTUNREACH = 23;
export const ERRNO_IDRM = 24;
export const ERRNO_ILSEQ = 25;
export const ERRNO_INPROGRESS = 26;
export const ERRNO_INTR = 27;
export const ERRNO_INVAL = 28;
export const ERRNO_IO = 29;
export const ERRNO_ISCONN = 30;
export const ERRNO_ISDIR = 31;
export const ERRNO_LOOP = 32;
export const ERRNO_MFILE = 33;
export const ERRNO_MLINK = 34;
export const ERRNO_MSGSIZE = 35;
export const ERRNO_MULTIHOP = 36;
export const ERRNO_NAMETOOLONG = 37;
export const ERRNO_NETDOWN = 38;
export const ERRNO_NETRESET = 39;
export const ERRNO_NETUNREACH = 40;
export const ERRNO_NFILE = 41;
export const ERRNO_NOBUFS = 42;
export const ERRNO_NODEV = 43;
export const ERRNO_NOENT = 44;
export const ERRNO_NOEXEC = 45;
export const ERRNO_NOLCK = 46;
export const ERRNO_NOLINK = 47;
export const ERRNO_NOMEM = 48;
export const ERRNO_NOMSG = 49;
export const ERRNO_NOPROTOOPT = 50;
export const ERRNO_NOSPC = 51;
export const ERRNO_NOSYS = 52;
export const ERRNO_NOTCONN = 53;
export const ERRNO_NOTDIR = 54;
export const ERRNO_NOTEMPTY = 55;
export const ERRNO_NOTRECOVERABLE = 56;
export const ERRNO_NOTSOCK = 57;
export const ERRNO_NOTSUP = 58;
export const ERRNO_NOTTY = 59;
export const ERRNO_NXIO = 60;
export const ERRNO_OVERFLOW = 61;
export const ERRNO_OWNERDEAD = 62;
export const ERRNO_PERM = 63;
export const ERRNO_PIPE = 64;
export const ERRNO_PROTO = 65;
export const ERRNO_PROTONOSUPPORT = 66;
export const ERRNO_PROTOTYPE = 67;
export const ERRNO_RANGE = 68;
export const ERRNO_ROFS = 69;
export const ERRNO_SPIPE = 70;
export const ERRNO_SRCH = 71;
export const ERRNO_STALE = 72;
export const ERRNO_TIMEDOUT = 73;
export const ERRNO_TXTBSY = 74;
export const ERRNO_XDEV = 75;
export const ERRNO_NOTCAPABLE = 76;

/**
 * WASI errno by the name of the Linux errno it corresponds to (`"ENOENT"` → 44). Used to map a
 * host error's `code` (Deno sets `code` on OS errors, e.g. `"ENOTEMPTY"`) to the guest's errno.
 * The WASI numbering is its own (alphabetical); never pass a Linux number through.
 */
export const ERRNO_BY_LINUX_NAME: Readonly<Record<string, number>> = {
  E2BIG: ERRNO_2BIG,
  EACCES: ERRNO_ACCES,
  EADDRINUSE: ERRNO_ADDRINUSE,
  EADDRNOTAVAIL: ERRNO_ADDRNOTAVAIL,
  EAFNOSUPPORT: ERRNO_AFNOSUPPORT,
  EAGAIN: ERRNO_AGAIN,
  EWOULDBLOCK: ERRNO_AGAIN,
  EALREADY: ERRNO_ALREADY,
  EBADF: ERRNO_BADF,
  EBADMSG: ERRNO_BADMSG,
  EBUSY: ERRNO_BUSY,
  ECANCELED: ERRNO_CANCELED,
  ECHILD: ERRNO_CHILD,
  ECONNABORTED: ERRNO_CONNABORTED,
  ECONNREFUSED: ERRNO_CONNREFUSED,
  ECONNRESET: ERRNO_CONNRESET,
  EDEADLK: ERRNO_DEADLK,
  EDESTADDRREQ: ERRNO_DESTADDRREQ,
  EDOM: ERRNO_DOM,
  EDQUOT: ERRNO_DQUOT,
  EEXIST: ERRNO_EXIST,
  EFAULT: ERRNO_FAULT,
  EFBIG: ERRNO_FBIG,
  EHOSTUNREACH: ERRNO_HOSTUNREACH,
  EIDRM: ERRNO_IDRM,
  EILSEQ: ERRNO_ILSEQ,
  EINPROGRESS: ERRNO_INPROGRESS,
  EINTR: ERRNO_INTR,
  EINVAL: ERRNO_INVAL,
  EIO: ERRNO_IO,
  EISCONN: ERRNO_ISCONN,
  EISDIR: ERRNO_ISDIR,
  ELOOP: ERRNO_LOOP,
  EMFILE: ERRNO_MFILE,
  EMLINK: ERRNO_MLINK,
  EMSGSIZE: ERRNO_MSGSIZE,
  EMULTIHOP: ERRNO_MULTIHOP,
  ENAMETOOLONG: ERRNO_NAMETOOLONG,
  ENETDOWN: ERRNO_NETDOWN,
  ENETRESET: ERRNO_NETRESET,
  ENETUNREACH: ERRNO_NETUNREACH,
  ENFILE: ERRNO_NFILE,
  ENOBUFS: ERRNO_NOBUFS,
  ENODEV: ERRNO_NODEV,
  ENOENT: ERRNO_NOENT,
  ENOEXEC: ERRNO_NOEXEC,
  ENOLCK: ERRNO_NOLCK,
  ENOLINK: ERRNO_NOLINK,
  ENOMEM: ERRNO_NOMEM,
  ENOMSG: ERRNO_NOMSG,
  ENOPROTOOPT: ERRNO_NOPROTOOPT,
  ENOSPC: ERRNO_NOSPC,
  ENOSYS: ERRNO_NOSYS,
  ENOTCONN: ERRNO_NOTCONN,
  ENOTDIR: ERRNO_NOTDIR,
  ENOTEMPTY: ERRNO_NOTEMPTY,
  ENOTRECOVERABLE: ERRNO_NOTRECOVERABLE,
  ENOTSOCK: ERRNO_NOTSOCK,
  ENOTSUP: ERRNO_NOTSUP,
  EOPNOTSUPP: ERRNO_NOTSUP,
  ENOTTY: ERRNO_NOTTY,
  ENXIO: ERRNO_NXIO,
  EOVERFLOW: ERRNO_OVERFLOW,
  EOWNERDEAD: ERRNO_OWNERDEAD,
  EPERM: ERRNO_PERM,
  EPIPE: ERRNO_PIPE,
  EPROTO: ERRNO_PROTO,
  EPROTONOSUPPORT: ERRNO_PROTONOSUPPORT,
  EPROTOTYPE: ERRNO_PROTOTYPE,
  ERANGE: ERRNO_RANGE,
  EROFS: ERRNO_ROFS,
  ESPIPE: ERRNO_SPIPE,
  ESRCH: ERRNO_SRCH,
  ESTALE: ERRNO_STALE,
  ETIMEDOUT: ERRNO_TIMEDOUT,
  ETXTBSY: ERRNO_TXTBSY,
  EXDEV: ERRNO_XDEV,
};

// ---------------------------------------------------------------------------------------------
// clockid (u32)
// ---------------------------------------------------------------------------------------------
export const CLOCKID_REALTIME = 0;
export const CLOCKID_MONOTONIC = 1;
export const CLOCKID_PROCESS_CPUTIME_ID = 2;
export const CLOCKID_THREAD_CPUTIME_ID = 3;

// ---------------------------------------------------------------------------------------------
// filetype (u8)
// ---------------------------------------------------------------------------------------------
export const FILETYPE_UNKNOWN = 0;
export const FILETYPE_BLOCK_DEVICE = 1;
export const FILETYPE_CHARACTER_DEVICE = 2;
export const FILETYPE_DIRECTORY = 3;
export const FILETYPE_REGULAR_FILE = 4;
export const FILETYPE_SOCKET_DGRAM = 5;
export const FILETYPE_SOCKET_STREAM = 6;
export const FILETYPE_SYMBOLIC_LINK = 7;

// ---------------------------------------------------------------------------------------------
// whence (u8)
// ---------------------------------------------------------------------------------------------
export const WHENCE_SET = 0;
export const WHENCE_CUR = 1;
export const WHENCE_END = 2;

// ---------------------------------------------------------------------------------------------
// fdflags (u16), oflags (u16), lookupflags (u32), fstflags (u16)
// ---------------------------------------------------------------------------------------------
export const FDFLAGS_APPEND = 1 << 0;
export const FDFLAGS_DSYNC = 1 << 1;
export const FDFLAGS_NONBLOCK = 1 << 2;
export const FDFLAGS_RSYNC = 1 << 3;
export const FDFLAGS_SYNC = 1 << 4;

export const OFLAGS_CREAT = 1 << 0;
export const OFLAGS_DIRECTORY = 1 << 1;
export const OFLAGS_EXCL = 1 << 2;
export const OFLAGS_TRUNC = 1 << 3;

export const LOOKUPFLAGS_SYMLINK_FOLLOW = 1 << 0;

// ---------------------------------------------------------------------------------------------
// rights (u64, as bigint)
// ---------------------------------------------------------------------------------------------
export const RIGHTS_FD_DATASYNC = 1n << 0n;
export const RIGHTS_FD_READ = 1n << 1n;
export const RIGHTS_FD_SEEK = 1n << 2n;
export const RIGHTS_FD_FDSTAT_SET_FLAGS = 1n << 3n;
export const RIGHTS_FD_SYNC = 1n << 4n;
export const RIGHTS_FD_TELL = 1n << 5n;
export const RIGHTS_FD_WRITE = 1n << 6n;
export const RIGHTS_FD_ADVISE = 1n << 7n;
export const RIGHTS_FD_ALLOCATE = 1n << 8n;
export const RIGHTS_PATH_CREATE_DIRECTORY = 1n << 9n;
export const RIGHTS_PATH_CREATE_FILE = 1n << 10n;
export const RIGHTS_PATH_LINK_SOURCE = 1n << 11n;
export const RIGHTS_PATH_LINK_TARGET = 1n << 12n;
export const RIGHTS_PATH_OPEN = 1n << 13n;
export const RIGHTS_FD_READDIR = 1n << 14n;
export const RIGHTS_PATH_READLINK = 1n << 15n;
export const RIGHTS_PATH_RENAME_SOURCE = 1n << 16n;
export const RIGHTS_PATH_RENAME_TARGET = 1n << 17n;
export const RIGHTS_PATH_FILESTAT_GET = 1n << 18n;
export const RIGHTS_PATH_FILESTAT_SET_SIZE = 1n << 19n;
export const RIGHTS_PATH_FILESTAT_SET_TIMES = 1n << 20n;
export const RIGHTS_FD_FILESTAT_GET = 1n << 21n;
export const RIGHTS_FD_FILESTAT_SET_SIZE = 1n << 22n;
export const RIGHTS_FD_FILESTAT_SET_TIMES = 1n << 23n;
export const RIGHTS_PATH_SYMLINK = 1n << 24n;
export const RIGHTS_PATH_REMOVE_DIRECTORY = 1n << 25n;
export const RIGHTS_PATH_UNLINK_FILE = 1n << 26n;
export const RIGHTS_POLL_FD_READWRITE = 1n << 27n;
export const RIGHTS_SOCK_SHUTDOWN = 1n << 28n;
export const RIGHTS_SOCK_ACCEPT = 1n << 29n;
/** Every right defined by preview1. */
export const RIGHTS_ALL = (1n << 30n) - 1n;

// ---------------------------------------------------------------------------------------------
// eventtype (u8), subclockflags (u16), eventrwflags (u16), preopentype (u8)
// ---------------------------------------------------------------------------------------------
export const EVENTTYPE_CLOCK = 0;
export const EVENTTYPE_FD_READ = 1;
export const EVENTTYPE_FD_WRITE = 2;

export const SUBCLOCKFLAGS_SUBSCRIPTION_CLOCK_ABSTIME = 1 << 0;

export const EVENTRWFLAGS_FD_READWRITE_HANGUP = 1 << 0;

export const PREOPENTYPE_DIR = 0;

// ---------------------------------------------------------------------------------------------
// Struct layouts (byte offsets; all little-endian)
// ---------------------------------------------------------------------------------------------

/** `ciovec` / `iovec`: `{ buf: u32, buf_len: u32 }`. */
export const IOVEC_SIZE = 8;
export const IOVEC_OFF = { buf: 0, buf_len: 4 } as const;

/**
 * `subscription` (48 bytes): `userdata: u64`, then the tagged union `u` (tag u8 at 8, payload
 * at 16). Clock payload: `id: u32, timeout: u64, precision: u64, flags: u16`; fd_read /
 * fd_write payload: `file_descriptor: u32`.
 */
export const SUBSCRIPTION_SIZE = 48;
export const SUBSCRIPTION_OFF = {
  userdata: 0,
  tag: 8,
  clock_id: 16,
  clock_timeout: 24,
  clock_precision: 32,
  clock_flags: 40,
  fd: 16,
} as const;

/**
 * `event` (32 bytes): `userdata: u64, error: u16, type: u8`, then `fd_readwrite`:
 * `nbytes: u64` at 16, `flags: u16` at 24.
 */
export const EVENT_SIZE = 32;
export const EVENT_OFF = {
  userdata: 0,
  error: 8,
  type: 10,
  nbytes: 16,
  flags: 24,
} as const;

/**
 * `fdstat` (24 bytes): `fs_filetype: u8, fs_flags: u16 (at 2), fs_rights_base: u64 (at 8),
 * fs_rights_inheriting: u64 (at 16)`.
 */
export const FDSTAT_SIZE = 24;
export const FDSTAT_OFF = {
  fs_filetype: 0,
  fs_flags: 2,
  fs_rights_base: 8,
  fs_rights_inheriting: 16,
} as const;

/**
 * `filestat` (64 bytes): `dev: u64, ino: u64, filetype: u8 (at 16), nlink: u64 (at 24),
 * size: u64, atim: u64, mtim: u64, ctim: u64` (timestamps in ns).
 */
export const FILESTAT_SIZE = 64;
export const FILESTAT_OFF = {
  dev: 0,
  ino: 8,
  filetype: 16,
  nlink: 24,
  size: 32,
  atim: 40,
  mtim: 48,
  ctim: 56,
} as const;

/** `prestat` (8 bytes): `tag: u8` (0 = dir), then `pr_name_len: u32` at 4. */
export const PRESTAT_SIZE = 8;
export const PRESTAT_OFF = { tag: 0, pr_name_len: 4 } as const;

/**
 * `dirent` header (24 bytes), followed by `d_namlen` bytes of name (no NUL):
 * `d_next: u64` (cookie of the next entry), `d_ino: u64`, `d_namlen: u32` (at 16),
 * `d_type: u8` (at 20).
 */
export const DIRENT_SIZE = 24;
export const DIRENT_OFF = { d_next: 0, d_ino: 8, d_namlen: 16, d_type: 20 } as const;

/** Every function of `wasi_snapshot_preview1`, in witx order (46 names). */
export const PREVIEW1_FUNCTIONS = [
  "args_get",
  "args_sizes_get",
  "environ_get",
  "environ_sizes_get",
  "clock_res_get",
  "clock_time_get",
  "fd_advise",
  "fd_allocate",
  "fd_close",
  "fd_datasync",
  "fd_fdstat_get",
  "fd_fdstat_set_flags",
  "fd_fdstat_set_rights",
  "fd_filestat_get",
  "fd_filestat_set_size",
  "fd_filestat_set_times",
  "fd_pread",
  "fd_prestat_get",
  "fd_prestat_dir_name",
  "fd_pwrite",
  "fd_read",
  "fd_readdir",
  "fd_renumber",
  "fd_seek",
  "fd_sync",
  "fd_tell",
  "fd_write",
  "path_create_directory",
  "path_filestat_get",
  "path_filestat_set_times",
  "path_link",
  "path_open",
  "path_readlink",
  "path_remove_directory",
  "path_rename",
  "path_symlink",
  "path_unlink_file",
  "poll_oneoff",
  "proc_exit",
  "proc_raise",
  "sched_yield",
  "random_get",
  "sock_accept",
  "sock_recv",
  "sock_send",
  "sock_shutdown",
] as const;

/** One preview1 function name. */
export type Preview1Function = typeof PREVIEW1_FUNCTIONS[number];
