/* SPDX-License-Identifier: MIT */
/*
 * libbpf-wasm.h — the guest side of the wasm-bpf ABI (docs/abi.md §5).
 *
 * A header-only subset of the libbpf user-space API for wasm32-wasi guests.
 * It is source-compatible with the upstream eunomia-bpf/wasm-bpf header of
 * the same name: the same function names and semantics, and the same struct
 * layouts as wasm32 sees them, so a guest written for upstream builds against
 * this header by changing only its include lines.
 *
 * Everything here is implemented on top of seven host functions imported
 * from the wasm module "wasm_bpf" (declared below).  Pointers passed to the host
 * are offsets into the guest's linear memory; a pointer of 0 means NULL.
 *
 * Error conventions (as upstream / libbpf 1.x):
 *  - integer-returning functions return 0 (or a non-negative value) on
 *    success and a negative errno on failure; map and skeleton helpers also
 *    set errno to the positive error code when they fail, as libbpf does;
 *  - the raw wasm_* imports return Linux errno values; every wrapper below
 *    converts them to the guest libc's E* numbering (wasi-libc's EINTR is 27,
 *    not 4), so `err == -EINTR` / `-ENOENT` comparisons work;
 *  - pointer-returning functions return NULL and set errno on failure.
 */
#ifndef _LIBBPF_WASM_H
#define _LIBBPF_WASM_H

#include <assert.h>
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Default poll timeout used by upstream guests (milliseconds). */
#define POLL_TIMEOUT_MS 100

/* Size of the per-buffer scratch area that receives one record before the
 * host calls the sample callback.  Records longer than this are truncated
 * (the callback's size argument tells the delivered length).  Upstream uses
 * 4096; a guest may define a larger value before including this header. */
#ifndef BPF_BUFFER_MAX_RECORD
#define BPF_BUFFER_MAX_RECORD 4096
#endif

#define __WASM_BPF_IMPORT(name) \
    __attribute__((import_module("wasm_bpf"), import_name(name)))

/* Handle of a loaded BPF object, as returned by the host (1, 2, 3, ...).
 * 0 means "no object". */
typedef uint64_t bpf_object_skel;

/* ------------------------------------------------------------------------ */
/* Host imports (module "wasm_bpf")                                          */
/* ------------------------------------------------------------------------ */

/* Open a BPF ELF object from guest memory and load it into the kernel (CO-RE
 * relocations applied against the running kernel's BTF).  The host copies
 * the bytes at call time, so edits made to them beforehand (e.g. to .rodata)
 * take effect.  Returns a non-zero handle, or 0 on failure. */
__WASM_BPF_IMPORT("wasm_load_bpf_object")
bpf_object_skel wasm_load_bpf_object(const void* obj_buf, int obj_buf_sz);

/* Detach every link of the object, free its buffer pollers and close it.
 * Returns 0, or -EINVAL for an unknown handle. */
__WASM_BPF_IMPORT("wasm_close_bpf_object")
int wasm_close_bpf_object(bpf_object_skel obj);

/* Attach the program whose C function name is `name`.  attach_target NULL
 * or "" lets libbpf auto-attach from the ELF section; otherwise it is a
 * cgroup v2 directory (cgroup/sockops sections) or a network interface name
 * (xdp).  Returns 0 or a negative errno (-ENOENT: no such program). */
__WASM_BPF_IMPORT("wasm_attach_bpf_program")
int wasm_attach_bpf_program(bpf_object_skel obj,
                            const char* name,
                            const char* attach_target);

/* Attach the program whose C function name is `name` to the hook that the
 * guest descriptor target_fd names, with no path string: cgroup/sockops
 * programs attach to the cgroup v2 directory the host preopened at that fd
 * (the runtime's --dir or --attach-dir).  A descriptor the guest opened
 * itself, stdio, a file or a closed fd is refused.  target_fd < 0 lets libbpf
 * auto-attach from the ELF section; xdp is refused (use the call above with
 * the interface name); other sections ignore the fd.  Returns 0 or a
 * negative errno (-EPERM: not a target this guest may use). */
__WASM_BPF_IMPORT("wasm_attach_bpf_program_fd")
int wasm_attach_bpf_program_fd(bpf_object_skel obj,
                               const char* name,
                               int target_fd);

/* Poll the ring buffer or perf buffer map `fd` of object `program` for up to
 * timeout_ms (< 0: forever, 0: no wait).  For each record the host copies at
 * most max_size bytes into `data` and calls the guest function at table
 * index `sample_func` as (ctx, data, size) -> int; a negative return stops
 * the poll and is returned.  Returns the number of records consumed or a
 * negative errno (-EINTR when the user interrupted the run). */
__WASM_BPF_IMPORT("wasm_bpf_buffer_poll")
int wasm_bpf_buffer_poll(bpf_object_skel program,
                         int fd,
                         int32_t sample_func,
                         uint32_t ctx,
                         char* data,
                         int max_size,
                         int timeout_ms);

/* The fd of the map called `name` in the object (> 0), or a negative errno
 * (-ENOENT: no such map, -EINVAL: unknown handle). */
__WASM_BPF_IMPORT("wasm_bpf_map_fd_by_name")
int wasm_bpf_map_fd_by_name(bpf_object_skel obj, const char* name);

/* One map syscall: cmd is BPF_MAP_LOOKUP_ELEM (1), BPF_MAP_UPDATE_ELEM (2),
 * BPF_MAP_DELETE_ELEM (3) or BPF_MAP_GET_NEXT_KEY (4).  Unused pointers may
 * be NULL; GET_NEXT_KEY with key NULL returns the first key.  Returns 0 or a
 * negative errno (-ENOENT: no such element / no next key). */
__WASM_BPF_IMPORT("wasm_bpf_map_operate")
int wasm_bpf_map_operate(int fd,
                         int cmd,
                         void* key,
                         void* value,
                         void* next_key,
                         uint64_t flags);

#undef __WASM_BPF_IMPORT

/* ------------------------------------------------------------------------ */
/* BPF constants                                                             */
/* ------------------------------------------------------------------------ */

/* flags for BPF_MAP_UPDATE_ELEM */
enum {
    BPF_ANY = 0,     /* create a new element or update an existing one */
    BPF_NOEXIST = 1, /* create a new element only if it did not exist */
    BPF_EXIST = 2,   /* update an existing element only */
    BPF_F_LOCK = 4,  /* spin_lock-ed map_lookup/map_update */
};

/* Only the map commands are meaningful to the host. */
enum bpf_cmd {
    BPF_MAP_LOOKUP_ELEM = 1,
    BPF_MAP_UPDATE_ELEM = 2,
    BPF_MAP_DELETE_ELEM = 3,
    BPF_MAP_GET_NEXT_KEY = 4,
};

enum bpf_map_type {
    BPF_MAP_TYPE_UNSPEC,
    BPF_MAP_TYPE_HASH,
    BPF_MAP_TYPE_ARRAY,
    BPF_MAP_TYPE_PROG_ARRAY,
    BPF_MAP_TYPE_PERF_EVENT_ARRAY,
    BPF_MAP_TYPE_PERCPU_HASH,
    BPF_MAP_TYPE_PERCPU_ARRAY,
    BPF_MAP_TYPE_STACK_TRACE,
    BPF_MAP_TYPE_CGROUP_ARRAY,
    BPF_MAP_TYPE_LRU_HASH,
    BPF_MAP_TYPE_LRU_PERCPU_HASH,
    BPF_MAP_TYPE_LPM_TRIE,
    BPF_MAP_TYPE_ARRAY_OF_MAPS,
    BPF_MAP_TYPE_HASH_OF_MAPS,
    BPF_MAP_TYPE_DEVMAP,
    BPF_MAP_TYPE_SOCKMAP,
    BPF_MAP_TYPE_CPUMAP,
    BPF_MAP_TYPE_XSKMAP,
    BPF_MAP_TYPE_SOCKHASH,
    BPF_MAP_TYPE_CGROUP_STORAGE_DEPRECATED,
    BPF_MAP_TYPE_CGROUP_STORAGE = BPF_MAP_TYPE_CGROUP_STORAGE_DEPRECATED,
    BPF_MAP_TYPE_REUSEPORT_SOCKARRAY,
    BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE,
    BPF_MAP_TYPE_QUEUE,
    BPF_MAP_TYPE_STACK,
    BPF_MAP_TYPE_SK_STORAGE,
    BPF_MAP_TYPE_DEVMAP_HASH,
    BPF_MAP_TYPE_STRUCT_OPS,
    BPF_MAP_TYPE_RINGBUF,
    BPF_MAP_TYPE_INODE_STORAGE,
    BPF_MAP_TYPE_TASK_STORAGE,
    BPF_MAP_TYPE_BLOOM_FILTER,
    BPF_MAP_TYPE_USER_RINGBUF,
    BPF_MAP_TYPE_CGRP_STORAGE,
};

enum bpf_prog_type {
    BPF_PROG_TYPE_UNSPEC,
    BPF_PROG_TYPE_SOCKET_FILTER,
    BPF_PROG_TYPE_KPROBE,
    BPF_PROG_TYPE_SCHED_CLS,
    BPF_PROG_TYPE_SCHED_ACT,
    BPF_PROG_TYPE_TRACEPOINT,
    BPF_PROG_TYPE_XDP,
    BPF_PROG_TYPE_PERF_EVENT,
    BPF_PROG_TYPE_CGROUP_SKB,
    BPF_PROG_TYPE_CGROUP_SOCK,
    BPF_PROG_TYPE_LWT_IN,
    BPF_PROG_TYPE_LWT_OUT,
    BPF_PROG_TYPE_LWT_XMIT,
    BPF_PROG_TYPE_SOCK_OPS,
    BPF_PROG_TYPE_SK_SKB,
    BPF_PROG_TYPE_CGROUP_DEVICE,
    BPF_PROG_TYPE_SK_MSG,
    BPF_PROG_TYPE_RAW_TRACEPOINT,
    BPF_PROG_TYPE_CGROUP_SOCK_ADDR,
    BPF_PROG_TYPE_LWT_SEG6LOCAL,
    BPF_PROG_TYPE_LIRC_MODE2,
    BPF_PROG_TYPE_SK_REUSEPORT,
    BPF_PROG_TYPE_FLOW_DISSECTOR,
    BPF_PROG_TYPE_CGROUP_SYSCTL,
    BPF_PROG_TYPE_RAW_TRACEPOINT_WRITABLE,
    BPF_PROG_TYPE_CGROUP_SOCKOPT,
    BPF_PROG_TYPE_TRACING,
    BPF_PROG_TYPE_STRUCT_OPS,
    BPF_PROG_TYPE_EXT,
    BPF_PROG_TYPE_LSM,
    BPF_PROG_TYPE_SK_LOOKUP,
    BPF_PROG_TYPE_SYSCALL,
};

enum bpf_attach_type {
    BPF_CGROUP_INET_INGRESS,
    BPF_CGROUP_INET_EGRESS,
    BPF_CGROUP_INET_SOCK_CREATE,
    BPF_CGROUP_SOCK_OPS,
    BPF_SK_SKB_STREAM_PARSER,
    BPF_SK_SKB_STREAM_VERDICT,
    BPF_CGROUP_DEVICE,
    BPF_SK_MSG_VERDICT,
    BPF_CGROUP_INET4_BIND,
    BPF_CGROUP_INET6_BIND,
    BPF_CGROUP_INET4_CONNECT,
    BPF_CGROUP_INET6_CONNECT,
    BPF_CGROUP_INET4_POST_BIND,
    BPF_CGROUP_INET6_POST_BIND,
    BPF_CGROUP_UDP4_SENDMSG,
    BPF_CGROUP_UDP6_SENDMSG,
    BPF_LIRC_MODE2,
    BPF_FLOW_DISSECTOR,
    BPF_CGROUP_SYSCTL,
    BPF_CGROUP_UDP4_RECVMSG,
    BPF_CGROUP_UDP6_RECVMSG,
    BPF_CGROUP_GETSOCKOPT,
    BPF_CGROUP_SETSOCKOPT,
    BPF_TRACE_RAW_TP,
    BPF_TRACE_FENTRY,
    BPF_TRACE_FEXIT,
    BPF_MODIFY_RETURN,
    BPF_LSM_MAC,
    BPF_TRACE_ITER,
    BPF_CGROUP_INET4_GETPEERNAME,
    BPF_CGROUP_INET6_GETPEERNAME,
    BPF_CGROUP_INET4_GETSOCKNAME,
    BPF_CGROUP_INET6_GETSOCKNAME,
    BPF_XDP_DEVMAP,
    BPF_CGROUP_INET_SOCK_RELEASE,
    BPF_XDP_CPUMAP,
    BPF_SK_LOOKUP,
    BPF_XDP,
    BPF_SK_SKB_VERDICT,
    BPF_SK_REUSEPORT_SELECT,
    BPF_SK_REUSEPORT_SELECT_OR_MIGRATE,
    BPF_PERF_EVENT,
    BPF_TRACE_KPROBE_MULTI,
    BPF_LSM_CGROUP,
    __MAX_BPF_ATTACH_TYPE
};

/* ------------------------------------------------------------------------ */
/* Skeleton types (layouts as upstream, as seen by wasm32)                   */
/* ------------------------------------------------------------------------ */

/* A map of a skeleton: the object it belongs to and its libbpf name (for a
 * global-data map this is "<obj prefix>.rodata", ".bss", ...). */
struct bpf_map {
    bpf_object_skel obj_ptr;
    char name[64];
};

/* A program of a skeleton: the object, its function name, an optional attach
 * target (see bpf_set_prog_attach_target) and upstream's `autoattach` field,
 * which records the last bpf_program__set_autoload() argument.  The trailing
 * fields are private to this header (guests never allocate this struct; one
 * zero-initialised attaches by path, with no target). */
struct bpf_program {
    bpf_object_skel obj_ptr;
    char name[64];
    char attach_target[128];
    bool autoattach;
    /* private */
    bool __skip_attach;
    bool __attach_by_fd; /* set by bpf_set_prog_attach_target_fd */
    int __attach_fd;
};

struct bpf_map_skeleton {
    const char* name;
    struct bpf_map** map;
    void** mmaped;
};

struct bpf_prog_skeleton {
    const char* name;
    struct bpf_program** prog;
};

struct bpf_object_skeleton {
    size_t sz; /* size of this struct, for forward/backward compatibility */
    const char* name;
    void* data;           /* the whole BPF ELF object, writable */
    size_t data_sz;       /* its size in bytes */
    size_t rodata_offset; /* file offset of .rodata in data (0: none) */
    size_t bss_offset;    /* file offset of .bss in data (0: none; unused) */

    bpf_object_skel obj; /* handle after load, 0 before */

    int map_cnt;
    int map_skel_sz; /* sizeof(struct bpf_map_skeleton) */
    struct bpf_map_skeleton* maps;

    int prog_cnt;
    int prog_skel_sz; /* sizeof(struct bpf_prog_skeleton) */
    struct bpf_prog_skeleton* progs;
};

struct bpf_object_open_opts;

typedef int (*bpf_buffer_sample_fn)(void* ctx, void* data, size_t size);

/* A ring buffer or perf buffer map being consumed.  The host picks the
 * kind from the map type.  The first four fields are upstream's layout;
 * the rest is private to this header. */
struct bpf_buffer {
    struct bpf_map* events;
    int fd;
    void* ctx;
    bpf_buffer_sample_fn sample_fn;
    /* private */
    char* __data;
    int __data_sz;
};

#if defined(__wasm32__)
_Static_assert(sizeof(struct bpf_object_skeleton) == 56,
               "bpf_object_skeleton layout");
_Static_assert(offsetof(struct bpf_object_skeleton, obj) == 24,
               "bpf_object_skeleton.obj offset");
_Static_assert(offsetof(struct bpf_object_skeleton, map_cnt) == 32,
               "bpf_object_skeleton.map_cnt offset");
_Static_assert(offsetof(struct bpf_object_skeleton, progs) == 52,
               "bpf_object_skeleton.progs offset");
_Static_assert(sizeof(struct bpf_map_skeleton) == 12, "bpf_map_skeleton");
_Static_assert(sizeof(struct bpf_prog_skeleton) == 8, "bpf_prog_skeleton");
_Static_assert(sizeof(struct bpf_map) == 72, "bpf_map layout");
_Static_assert(offsetof(struct bpf_program, attach_target) == 72,
               "bpf_program.attach_target offset");
_Static_assert(offsetof(struct bpf_program, autoattach) == 200,
               "bpf_program.autoattach offset");
_Static_assert(offsetof(struct bpf_buffer, sample_fn) == 12,
               "bpf_buffer layout");
#endif

/* ------------------------------------------------------------------------ */
/* Internal helpers                                                          */
/* ------------------------------------------------------------------------ */

/* The host returns Linux errno values (what libbpf returns: -4 is EINTR,
 * -2 ENOENT, ...), but wasi-libc numbers its E* constants differently (its
 * EINTR is 27, ENOENT 44).  This maps a positive Linux errno to the guest
 * libc's value, so that `err == -EINTR`, strerror(errno) etc. work as in
 * native libbpf code.  libbpf's own codes (4000..4999) are kept as they are;
 * other unknown codes become EIO. */
static inline int __wasm_bpf_linux_errno(int e) {
    switch (e) {
    case 1: return EPERM;
    case 2: return ENOENT;
    case 3: return ESRCH;
    case 4: return EINTR;
    case 5: return EIO;
    case 6: return ENXIO;
    case 7: return E2BIG;
    case 8: return ENOEXEC;
    case 9: return EBADF;
    case 10: return ECHILD;
    case 11: return EAGAIN;
    case 12: return ENOMEM;
    case 13: return EACCES;
    case 14: return EFAULT;
    case 16: return EBUSY;
    case 17: return EEXIST;
    case 18: return EXDEV;
    case 19: return ENODEV;
    case 20: return ENOTDIR;
    case 21: return EISDIR;
    case 22: return EINVAL;
    case 23: return ENFILE;
    case 24: return EMFILE;
    case 25: return ENOTTY;
    case 26: return ETXTBSY;
    case 27: return EFBIG;
    case 28: return ENOSPC;
    case 29: return ESPIPE;
    case 30: return EROFS;
    case 31: return EMLINK;
    case 32: return EPIPE;
    case 33: return EDOM;
    case 34: return ERANGE;
    case 35: return EDEADLK;
    case 36: return ENAMETOOLONG;
    case 37: return ENOLCK;
    case 38: return ENOSYS;
    case 39: return ENOTEMPTY;
    case 40: return ELOOP;
#ifdef ENODATA
    case 61: return ENODATA;
#endif
#ifdef ETIME
    case 62: return ETIME;
#endif
    case 71: return EPROTO;
    case 74: return EBADMSG;
    case 75: return EOVERFLOW;
    case 84: return EILSEQ;
    case 95: return EOPNOTSUPP;
    case 105: return ENOBUFS;
    case 110: return ETIMEDOUT;
    case 114: return EALREADY;
    case 115: return EINPROGRESS;
    case 125: return ECANCELED;
    case 524: return EOPNOTSUPP; /* kernel-internal ENOTSUPP */
    default: return (e >= 4000 && e < 5000) ? e : EIO;
    }
}

/* Turn a host result into libbpf's convention: a negative Linux errno
 * becomes the negative guest errno, which is also stored in errno (libbpf's
 * libbpf_err()); other values pass through. */
static inline int __wasm_bpf_err(int ret) {
    if (ret < 0) {
        ret = -__wasm_bpf_linux_errno(-ret);
        errno = -ret;
    }
    return ret;
}

/* libbpf's helper for errno-based errors: errno is assumed to be set. */
static inline int libbpf_err_errno(int ret) {
    return ret < 0 ? -errno : ret;
}

/* Kept for source compatibility with upstream (sic). */
static inline bool str_has_surfix(const char* str, const char* surfix) {
    size_t str_len = strlen(str);
    size_t surfix_len = strlen(surfix);
    if (str_len < surfix_len)
        return false;
    return strcmp(str + str_len - surfix_len, surfix) == 0;
}

#define __wasm_bpf_map_skel(s, i) \
    ((struct bpf_map_skeleton*)((char*)(s)->maps + (i) * (s)->map_skel_sz))
#define __wasm_bpf_prog_skel(s, i) \
    ((struct bpf_prog_skeleton*)((char*)(s)->progs + (i) * (s)->prog_skel_sz))

/* ------------------------------------------------------------------------ */
/* Programs and maps                                                         */
/* ------------------------------------------------------------------------ */

/* Set the target a program attaches to: a cgroup v2 directory path for
 * sockops / cgroup_* programs, an interface name for xdp.  Other program
 * kinds ignore it.  Must be called before the skeleton's attach.  It undoes
 * bpf_set_prog_attach_target_fd() (the last setter wins); NULL or "" means
 * no target (auto-attach). */
static inline void bpf_set_prog_attach_target(struct bpf_program* prog,
                                              char* attach_target) {
    const char* target = attach_target ? attach_target : "";
    if (!prog)
        return;
    strncpy(prog->attach_target, target, sizeof(prog->attach_target) - 1);
    prog->attach_target[sizeof(prog->attach_target) - 1] = '\0';
    prog->__attach_by_fd = false;
}

/* Attach the program through a descriptor instead of a path (upstream's
 * fd-based attach): `fd` is the guest descriptor of a directory the runtime
 * preopened, found with fd_prestat_get / fd_prestat_dir_name (a descriptor
 * from open(), even of the same directory, is refused).  0 is a valid fd; a
 * negative fd means auto-attach from the ELF section.  The last setter
 * wins. */
static inline void bpf_set_prog_attach_target_fd(struct bpf_program* prog,
                                                 int fd) {
    if (!prog)
        return;
    prog->__attach_by_fd = true;
    prog->__attach_fd = fd;
}

/* The program's function name. */
static inline const char* bpf_program__name(const struct bpf_program* prog) {
    return prog->name;
}

/* The map's name as libbpf knows it. */
static inline const char* bpf_map__name(const struct bpf_map* map) {
    return map->name;
}

/* Upstream stores the flag and otherwise ignores it.  Here the program is
 * still loaded by the host (the whole object is loaded at once), but
 * bpf_object__attach_skeleton() skips a program whose autoload is false, so
 * it never runs.  Returns 0. */
static inline int bpf_program__set_autoload(struct bpf_program* prog,
                                            bool autoload) {
    if (!prog)
        return __wasm_bpf_err(-EINVAL);
    prog->autoattach = autoload;
    prog->__skip_attach = !autoload;
    return 0;
}

/* libbpf 1.0 API: whether bpf_object__attach_skeleton() attaches this
 * program.  Returns 0. */
static inline int bpf_program__set_autoattach(struct bpf_program* prog,
                                              bool autoattach) {
    if (!prog)
        return __wasm_bpf_err(-EINVAL);
    prog->__skip_attach = !autoattach;
    return 0;
}

/* Attach one program (as libbpf's bpf_program__attach, but returning 0 or a
 * negative errno instead of a link: the link belongs to the object and is
 * destroyed with it). */
static inline int bpf_program__attach_wasm(struct bpf_program* prog) {
    if (!prog || !prog->obj_ptr)
        return __wasm_bpf_err(-EINVAL);
    if (prog->__attach_by_fd)
        return __wasm_bpf_err(wasm_attach_bpf_program_fd(
            prog->obj_ptr, prog->name, prog->__attach_fd));
    return __wasm_bpf_err(wasm_attach_bpf_program(
        prog->obj_ptr, prog->name,
        prog->attach_target[0] ? prog->attach_target : NULL));
}

/* The kernel fd of a map of a loaded skeleton, or a negative errno
 * (-EINVAL before load). */
static inline int bpf_map__fd(const struct bpf_map* map) {
    if (!map)
        return __wasm_bpf_err(-EINVAL);
    if (!map->obj_ptr)
        return __wasm_bpf_err(-EINVAL);
    return __wasm_bpf_err(wasm_bpf_map_fd_by_name(map->obj_ptr, map->name));
}

/* ------------------------------------------------------------------------ */
/* Skeleton life cycle                                                       */
/* ------------------------------------------------------------------------ */

/* Allocate the bpf_map / bpf_program records of a skeleton and point the
 * skeleton's `rodata` at the .rodata bytes inside the embedded ELF, so that
 * `skel->rodata->x = v` before load changes the object that gets loaded.
 * (.bss/.data are not mapped: like upstream, they can't be set before load.)
 * opts is ignored.  Returns 0 or -ENOMEM (errno set). */
static inline int bpf_object__open_skeleton(
    struct bpf_object_skeleton* s,
    const struct bpf_object_open_opts* opts) {
    (void)opts;
    if (!s || !s->data || !s->data_sz)
        return __wasm_bpf_err(-EINVAL);

    for (int i = 0; i < s->map_cnt; i++) {
        struct bpf_map_skeleton* ms = __wasm_bpf_map_skel(s, i);
        struct bpf_map* map = (struct bpf_map*)calloc(1, sizeof(*map));
        if (!map)
            return __wasm_bpf_err(-ENOMEM);
        *ms->map = map;
        strncpy(map->name, ms->name, sizeof(map->name) - 1);
        if (ms->mmaped && str_has_surfix(ms->name, ".rodata") &&
            s->rodata_offset)
            *ms->mmaped = (char*)s->data + s->rodata_offset;
    }

    for (int i = 0; i < s->prog_cnt; i++) {
        struct bpf_prog_skeleton* ps = __wasm_bpf_prog_skel(s, i);
        struct bpf_program* prog =
            (struct bpf_program*)calloc(1, sizeof(*prog));
        if (!prog)
            return __wasm_bpf_err(-ENOMEM);
        *ps->prog = prog;
        strncpy(prog->name, ps->name, sizeof(prog->name) - 1);
    }
    return 0;
}

/* Load the (possibly patched) embedded object into the kernel.  The host
 * copies the bytes now.  Returns 0, or -1 with errno = EINVAL when the host
 * refused the object (upstream returns -1; the host logs the reason). */
static inline int bpf_object__load_skeleton(struct bpf_object_skeleton* s) {
    if (!s || !s->data || !s->data_sz)
        return __wasm_bpf_err(-EINVAL);
    s->obj = wasm_load_bpf_object(s->data, (int)s->data_sz);
    if (!s->obj) {
        errno = EINVAL;
        return -1;
    }
    for (int i = 0; i < s->map_cnt; i++) {
        struct bpf_map_skeleton* ms = __wasm_bpf_map_skel(s, i);
        if (!*ms->map)
            return __wasm_bpf_err(-EINVAL);
        (*ms->map)->obj_ptr = s->obj;
    }
    for (int i = 0; i < s->prog_cnt; i++) {
        struct bpf_prog_skeleton* ps = __wasm_bpf_prog_skel(s, i);
        if (!*ps->prog)
            return __wasm_bpf_err(-EINVAL);
        (*ps->prog)->obj_ptr = s->obj;
    }
    return 0;
}

/* Attach every program of a loaded skeleton (except those turned off with
 * set_autoload/set_autoattach), each to its attach target when one was set:
 * through its descriptor after bpf_set_prog_attach_target_fd(), else its
 * path.  Stops at the first failure and returns its negative errno (errno
 * set). */
static inline int bpf_object__attach_skeleton(struct bpf_object_skeleton* s) {
    if (!s || !s->obj)
        return __wasm_bpf_err(-EINVAL);
    for (int i = 0; i < s->prog_cnt; i++) {
        struct bpf_prog_skeleton* ps = __wasm_bpf_prog_skel(s, i);
        struct bpf_program* prog = ps->prog ? *ps->prog : NULL;
        if (!prog || prog->__skip_attach)
            continue;
        int err = prog->__attach_by_fd
                      ? wasm_attach_bpf_program_fd(s->obj, prog->name,
                                                   prog->__attach_fd)
                      : wasm_attach_bpf_program(
                            s->obj, prog->name,
                            prog->attach_target[0] ? prog->attach_target
                                                   : NULL);
        if (err < 0)
            return __wasm_bpf_err(err);
    }
    return 0;
}

/* Links are owned by the object; they go away in destroy.  Returns 0. */
static inline int bpf_object__detach_skeleton(struct bpf_object_skeleton* s) {
    (void)s;
    return 0;
}

/* Close the object (which detaches its programs) and free the skeleton:
 * its map and program records, the arrays and the skeleton itself. */
static inline void bpf_object__destroy_skeleton(struct bpf_object_skeleton* s) {
    if (!s)
        return;
    if (s->obj)
        wasm_close_bpf_object(s->obj);
    s->obj = 0;
    for (int i = 0; s->maps && i < s->map_cnt; i++) {
        struct bpf_map_skeleton* ms = __wasm_bpf_map_skel(s, i);
        if (ms->map && *ms->map) {
            free(*ms->map);
            *ms->map = NULL;
        }
    }
    for (int i = 0; s->progs && i < s->prog_cnt; i++) {
        struct bpf_prog_skeleton* ps = __wasm_bpf_prog_skel(s, i);
        if (ps->prog && *ps->prog) {
            free(*ps->prog);
            *ps->prog = NULL;
        }
    }
    free(s->maps);
    free(s->progs);
    free(s);
}

/* ------------------------------------------------------------------------ */
/* Uprobe targets (a wasm-bpf extension; upstream has no equivalent)         */
/* ------------------------------------------------------------------------ */

/* libbpf auto-attaches SEC("uprobe/PATH:FUNC") and SEC("uretprobe/PATH:FUNC")
 * to FUNC in the binary PATH, which is part of the section name, fixed at
 * compile time.  To choose the binary at run time, write the section with a
 * placeholder path of the maximum length, e.g.
 *     #define TARGET "/wasm-bpf-uprobe-target" + padding (see examples/uprobe)
 *     SEC("uprobe/" TARGET ":uprobe_add")
 * and, before load, call this function with that placeholder and the real
 * absolute path: every copy of the placeholder in the embedded object (the
 * section name table and the BTF strings) is overwritten by `path`, padded on
 * the left with '/' to the same length ("/////usr/bin/x" is the same file as
 * "/usr/bin/x"), so no offset in the object changes.
 * Returns the number of copies patched (> 0), or a negative errno with errno
 * set: -EINVAL (bad arguments, relative path, ':' in path, placeholder not
 * starting with '/'), -ENAMETOOLONG (path longer than the placeholder),
 * -ENOENT (placeholder not found), -EBUSY (object already loaded). */
static inline int wasm_bpf_set_uprobe_path(struct bpf_object_skeleton* s,
                                           const char* placeholder,
                                           const char* path) {
    size_t plen, len, n = 0;
    char* data;
    if (!s || !s->data || !placeholder || !path || placeholder[0] != '/' ||
        path[0] != '/' || strchr(path, ':'))
        return __wasm_bpf_err(-EINVAL);
    if (s->obj)
        return __wasm_bpf_err(-EBUSY);
    plen = strlen(placeholder);
    len = strlen(path);
    if (len > plen)
        return __wasm_bpf_err(-ENAMETOOLONG);
    data = (char*)s->data;
    for (size_t i = 0; i + plen <= s->data_sz; i++) {
        if (data[i] != placeholder[0] || memcmp(data + i, placeholder, plen))
            continue;
        memset(data + i, '/', plen - len);
        memcpy(data + i + plen - len, path, len);
        n++;
        i += plen - 1;
    }
    return n ? (int)n : __wasm_bpf_err(-ENOENT);
}

/* ------------------------------------------------------------------------ */
/* Ring buffer / perf buffer                                                 */
/* ------------------------------------------------------------------------ */

/* A buffer for `events` without a callback yet (upstream API).  Use
 * bpf_buffer__open() to get a pollable buffer.  NULL + errno on failure. */
static inline struct bpf_buffer* bpf_buffer__new(struct bpf_map* events) {
    struct bpf_buffer* b;
    if (!events) {
        errno = EINVAL;
        return NULL;
    }
    b = (struct bpf_buffer*)calloc(1, sizeof(*b));
    if (!b) {
        errno = ENOMEM;
        return NULL;
    }
    b->events = events;
    b->fd = -1;
    return b;
}

/* A buffer that consumes the ring buffer or perf buffer map `events` of a
 * loaded skeleton and calls sample_cb(ctx, data, size) for every record.
 * The host decides ring vs perf from the map type.  NULL + errno on
 * failure. */
static inline struct bpf_buffer* bpf_buffer__open(struct bpf_map* events,
                                                  bpf_buffer_sample_fn sample_cb,
                                                  void* ctx) {
    struct bpf_buffer* b = bpf_buffer__new(events);
    if (!b)
        return NULL;
    b->ctx = ctx;
    b->sample_fn = sample_cb;
    b->fd = bpf_map__fd(events);
    if (b->fd < 0) {
        int err = -b->fd;
        free(b);
        errno = err;
        return NULL;
    }
    return b;
}

/* Wait up to timeout_ms for records (< 0: forever, 0: do not wait) and
 * deliver every available record to the callback.  Returns the number of
 * records consumed, the callback's negative return value, or a negative
 * errno: -EINTR when the user stopped the run (Ctrl-C) — the guest should
 * then leave its loop, clean up and return.
 * (Upstream replaces timeout_ms <= 0 by 100 ms; here the value is passed
 * as is, with libbpf's meaning.) */
static inline int bpf_buffer__poll(struct bpf_buffer* b, int timeout_ms) {
    if (!b || !b->events || !b->sample_fn)
        return __wasm_bpf_err(-EINVAL);
    if (b->fd < 0) {
        b->fd = bpf_map__fd(b->events);
        if (b->fd < 0)
            return b->fd;
    }
    if (!b->__data) {
        b->__data = (char*)malloc(BPF_BUFFER_MAX_RECORD);
        if (!b->__data)
            return __wasm_bpf_err(-ENOMEM);
        b->__data_sz = BPF_BUFFER_MAX_RECORD;
    }
    return __wasm_bpf_err(wasm_bpf_buffer_poll(
        b->events->obj_ptr, b->fd, (int32_t)(uintptr_t)b->sample_fn,
        (uint32_t)(uintptr_t)b->ctx, b->__data, b->__data_sz, timeout_ms));
}

/* Free the buffer (NULL is fine).  The host's poller goes away with the
 * object. */
static inline void bpf_buffer__free(struct bpf_buffer* b) {
    if (!b)
        return;
    free(b->__data);
    free(b);
}

/* ------------------------------------------------------------------------ */
/* Map element operations (libbpf's bpf.h low-level API)                     */
/* ------------------------------------------------------------------------ */

/* Insert or update an element; flags: BPF_ANY, BPF_NOEXIST, BPF_EXIST,
 * BPF_F_LOCK.  0 or a negative errno. */
static inline int bpf_map_update_elem(int fd,
                                      const void* key,
                                      const void* value,
                                      uint64_t flags) {
    return __wasm_bpf_err(wasm_bpf_map_operate(
        fd, BPF_MAP_UPDATE_ELEM, (void*)key, (void*)value, NULL, flags));
}

/* Copy the value of `key` into `value`.  0, or -ENOENT if absent. */
static inline int bpf_map_lookup_elem(int fd, const void* key, void* value) {
    return __wasm_bpf_err(wasm_bpf_map_operate(fd, BPF_MAP_LOOKUP_ELEM,
                                               (void*)key, value, NULL, 0));
}

/* Same with flags (BPF_F_LOCK). */
static inline int bpf_map_lookup_elem_flags(int fd,
                                            const void* key,
                                            void* value,
                                            uint64_t flags) {
    return __wasm_bpf_err(wasm_bpf_map_operate(fd, BPF_MAP_LOOKUP_ELEM,
                                               (void*)key, value, NULL, flags));
}

/* Delete `key`.  0, or -ENOENT if absent. */
static inline int bpf_map_delete_elem(int fd, const void* key) {
    return __wasm_bpf_err(wasm_bpf_map_operate(fd, BPF_MAP_DELETE_ELEM,
                                               (void*)key, NULL, NULL, 0));
}

/* Same with flags. */
static inline int bpf_map_delete_elem_flags(int fd,
                                            const void* key,
                                            uint64_t flags) {
    return __wasm_bpf_err(wasm_bpf_map_operate(fd, BPF_MAP_DELETE_ELEM,
                                               (void*)key, NULL, NULL, flags));
}

/* Store the key following `key` in next_key; key NULL gives the first key.
 * 0, or -ENOENT after the last key. */
static inline int bpf_map_get_next_key(int fd,
                                       const void* key,
                                       void* next_key) {
    return __wasm_bpf_err(wasm_bpf_map_operate(fd, BPF_MAP_GET_NEXT_KEY,
                                               (void*)key, NULL, next_key, 0));
}

#ifdef __cplusplus
}
#endif

#endif /* _LIBBPF_WASM_H */
