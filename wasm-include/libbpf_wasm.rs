// SPDX-License-Identifier: MIT
//! libbpf_wasm.rs: the guest side of the wasm-bpf ABI (docs/abi.md) for Rust guests, in one
//! self-contained file that needs no crates. Include it with
//! `#[path = "../../wasm-include/libbpf_wasm.rs"] mod libbpf_wasm;` (or `include!`) and build
//! with Debian's rustc:
//!
//! ```text
//! /usr/bin/rustc --edition 2021 --target wasm32-wasi -C opt-level=s -C strip=symbols \
//!     -C link-arg=--export-table main.rs -o main.wasm
//! ```
//!
//! `--export-table` matters: the host calls the buffer callback through the guest's exported
//! function table (a Rust `extern "C" fn` pointer is an index into it).
//!
//! What it gives, over the raw imports of `sys`:
//! - [`Object`]: a loaded BPF object that owns its handle and closes it on drop (every link of
//!   the object is detached by the host then);
//! - programs attached by name, with an optional target path or a preopened directory fd;
//! - [`Map`]: typed `lookup`/`update`/`delete`/`keys` for keys and values that are `Copy` and
//!   `#[repr(C)]` (the layouts `deno task skel --lang rust` generates);
//! - [`Buffer`]: a ring or perf buffer whose `poll(timeout)` calls a Rust closure per record;
//! - [`Error`]: a Linux errno, shown by name (`ENOENT`, `EINTR`, ...);
//! - Ctrl-C: a poll or [`sleep`] interrupted by the user returns `EINTR`
//!   ([`Error::is_interrupted`]); [`Buffer::run`] turns it into a clean `Ok(())`, as the C
//!   header's `err == -EINTR` loops do, so the guest returns from `main` and its objects drop.
#![allow(dead_code)]

use std::ffi::CString;
use std::fmt;
use std::marker::PhantomData;
use std::mem::{size_of, MaybeUninit};
use std::time::Duration;

/// The host imports (module `wasm_bpf`), with their exact wasm types. Pointers are offsets in
/// the guest's memory (0: NULL); results are 0 / a count or a negative Linux errno.
pub mod sys {
    #[link(wasm_import_module = "wasm_bpf")]
    extern "C" {
        /// Open and load a BPF ELF object from guest memory: a handle, or 0 on failure.
        pub fn wasm_load_bpf_object(obj_buf: *const u8, obj_buf_sz: i32) -> u64;
        /// Detach every link, free the pollers and close the object.
        pub fn wasm_close_bpf_object(obj: u64) -> i32;
        /// Attach the program `name`; `attach_target` NULL or "" auto-attaches from the ELF
        /// section, otherwise a cgroup v2 directory or a network interface name.
        pub fn wasm_attach_bpf_program(obj: u64, name: *const u8, attach_target: *const u8)
            -> i32;
        /// Attach the program `name` to the preopened directory the guest fd `target_fd`
        /// names (cgroup sections); `target_fd < 0` auto-attaches; xdp is refused.
        pub fn wasm_attach_bpf_program_fd(obj: u64, name: *const u8, target_fd: i32) -> i32;
        /// Poll ring/perf buffer map `fd`: per record, copy up to `max_size` bytes to `data`
        /// and call table entry `sample_func` as `(ctx, data, size) -> i32`.
        pub fn wasm_bpf_buffer_poll(
            obj: u64,
            fd: i32,
            sample_func: i32,
            ctx: u32,
            data: *mut u8,
            max_size: i32,
            timeout_ms: i32,
        ) -> i32;
        /// The fd of the map called `name`.
        pub fn wasm_bpf_map_fd_by_name(obj: u64, name: *const u8) -> i32;
        /// One map command (1 lookup, 2 update, 3 delete, 4 get next key).
        pub fn wasm_bpf_map_operate(
            fd: i32,
            cmd: i32,
            key: *const u8,
            value: *mut u8,
            next_key: *mut u8,
            flags: u64,
        ) -> i32;
    }

    // WASI's `poll_oneoff`, for a sleep that a stop request can cut short (std's
    // `thread::sleep` panics when the host ends the wait early).
    #[link(wasm_import_module = "wasi_snapshot_preview1")]
    extern "C" {
        pub fn poll_oneoff(subs: *const u8, events: *mut u8, nsubs: u32, nevents: *mut u32)
            -> u16;
    }
}

pub const BPF_MAP_LOOKUP_ELEM: i32 = 1;
pub const BPF_MAP_UPDATE_ELEM: i32 = 2;
pub const BPF_MAP_DELETE_ELEM: i32 = 3;
pub const BPF_MAP_GET_NEXT_KEY: i32 = 4;
/// Update flags.
pub const BPF_ANY: u64 = 0;
pub const BPF_NOEXIST: u64 = 1;
pub const BPF_EXIST: u64 = 2;
pub const BPF_F_LOCK: u64 = 4;

/// The largest record a [`Buffer`] receives; longer ones are truncated (as the C header's
/// `BPF_BUFFER_MAX_RECORD`).
pub const MAX_RECORD: usize = 4096;

/// A Linux errno (positive), as the host returns them negated.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Error(pub i32);

impl Error {
    pub const EPERM: Error = Error(1);
    pub const ENOENT: Error = Error(2);
    pub const EINTR: Error = Error(4);
    pub const E2BIG: Error = Error(7);
    pub const EBADF: Error = Error(9);
    pub const EAGAIN: Error = Error(11);
    pub const ENOMEM: Error = Error(12);
    pub const EFAULT: Error = Error(14);
    pub const EBUSY: Error = Error(16);
    pub const EEXIST: Error = Error(17);
    pub const EINVAL: Error = Error(22);

    /// The user stopped the run (Ctrl-C or SIGTERM): leave the loop and return.
    pub fn is_interrupted(self) -> bool {
        self == Error::EINTR
    }

    /// The errno's symbolic name, or "E<n>" for one this table does not know.
    pub fn name(self) -> String {
        let known = match self.0 {
            1 => "EPERM",
            2 => "ENOENT",
            3 => "ESRCH",
            4 => "EINTR",
            5 => "EIO",
            6 => "ENXIO",
            7 => "E2BIG",
            8 => "ENOEXEC",
            9 => "EBADF",
            11 => "EAGAIN",
            12 => "ENOMEM",
            13 => "EACCES",
            14 => "EFAULT",
            16 => "EBUSY",
            17 => "EEXIST",
            19 => "ENODEV",
            20 => "ENOTDIR",
            22 => "EINVAL",
            24 => "EMFILE",
            28 => "ENOSPC",
            34 => "ERANGE",
            36 => "ENAMETOOLONG",
            38 => "ENOSYS",
            75 => "EOVERFLOW",
            95 => "EOPNOTSUPP",
            524 => "ENOTSUPP",
            _ => return format!("E{}", self.0),
        };
        known.to_string()
    }

    /// `Ok(n)` for a non-negative host result, the errno otherwise.
    pub fn check(ret: i32) -> Result<i32, Error> {
        if ret < 0 {
            Err(Error(ret.checked_neg().unwrap_or(i32::MAX)))
        } else {
            Ok(ret)
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "{} ({})", self.name(), -self.0)
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl std::error::Error for Error {}

fn cstr(s: &str) -> Result<CString, Error> {
    CString::new(s).map_err(|_| Error::EINVAL)
}

/// Where [`Object::attach`] attaches a program.
#[derive(Clone, Copy, Debug)]
pub enum Target<'a> {
    /// From the program's ELF section (tracepoints, tp_btf, uprobes, ...).
    Auto,
    /// A cgroup v2 directory path or a network interface name (xdp).
    Path(&'a str),
    /// A directory the runtime preopened (`--dir`, `--attach-dir`), by its guest fd.
    Fd(i32),
}

/// A BPF object loaded in the kernel. Dropping it closes it, which detaches its programs.
pub struct Object {
    handle: u64,
}

impl Object {
    /// Load a BPF ELF object (CO-RE relocations against the running kernel). The host copies
    /// the bytes now, so patch `.rodata` in them first. The host logs why a load failed; the
    /// error here is `EINVAL` (the import gives no errno).
    pub fn load(bytes: &[u8]) -> Result<Object, Error> {
        if bytes.len() > i32::MAX as usize {
            return Err(Error::E2BIG);
        }
        let handle = unsafe { sys::wasm_load_bpf_object(bytes.as_ptr(), bytes.len() as i32) };
        if handle == 0 {
            Err(Error::EINVAL)
        } else {
            Ok(Object { handle })
        }
    }

    /// The host's handle (for the raw imports).
    pub fn handle(&self) -> u64 {
        self.handle
    }

    /// Attach the program whose C function name is `name`.
    pub fn attach(&self, name: &str, target: Target) -> Result<(), Error> {
        let name = cstr(name)?;
        let ret = match target {
            Target::Auto => unsafe {
                sys::wasm_attach_bpf_program(self.handle, name.as_ptr() as *const u8, 0 as _)
            },
            Target::Path(p) => {
                let p = cstr(p)?;
                unsafe {
                    sys::wasm_attach_bpf_program(
                        self.handle,
                        name.as_ptr() as *const u8,
                        p.as_ptr() as *const u8,
                    )
                }
            }
            Target::Fd(fd) => unsafe {
                sys::wasm_attach_bpf_program_fd(self.handle, name.as_ptr() as *const u8, fd)
            },
        };
        Error::check(ret).map(|_| ())
    }

    /// Attach every named program from its ELF section.
    pub fn attach_all(&self, names: &[&str]) -> Result<(), Error> {
        for n in names {
            self.attach(n, Target::Auto)?;
        }
        Ok(())
    }

    /// The fd of the map called `name` (`ENOENT`: no such map).
    pub fn map_fd(&self, name: &str) -> Result<i32, Error> {
        let name = cstr(name)?;
        Error::check(unsafe { sys::wasm_bpf_map_fd_by_name(self.handle, name.as_ptr() as _) })
    }

    /// The map called `name`, with key type `K` and value type `V`. Their sizes are not known
    /// to the host: they must be the map's (the skeleton's types are).
    pub fn map<K: Copy, V: Copy>(&self, name: &str) -> Result<Map<K, V>, Error> {
        Ok(Map::from_fd(self.map_fd(name)?))
    }

    /// A ring buffer or perf buffer map, polled by [`Buffer::poll`].
    pub fn buffer(&self, name: &str) -> Result<Buffer, Error> {
        Ok(Buffer { obj: self.handle, fd: self.map_fd(name)?, data: vec![0u8; MAX_RECORD] })
    }

    /// Close now (also done on drop); errors are the host's.
    pub fn close(mut self) -> Result<(), Error> {
        let h = std::mem::replace(&mut self.handle, 0);
        Error::check(unsafe { sys::wasm_close_bpf_object(h) }).map(|_| ())
    }
}

impl Drop for Object {
    fn drop(&mut self) {
        if self.handle != 0 {
            unsafe { sys::wasm_close_bpf_object(self.handle) };
            self.handle = 0;
        }
    }
}

/// A map with keys `K` and values `V` (`Copy`, `#[repr(C)]`, the map's own sizes). The fd is
/// the object's: the map stays valid as long as its [`Object`].
pub struct Map<K, V> {
    fd: i32,
    _types: PhantomData<(K, V)>,
}

impl<K: Copy, V: Copy> Map<K, V> {
    pub fn from_fd(fd: i32) -> Map<K, V> {
        Map { fd, _types: PhantomData }
    }

    pub fn fd(&self) -> i32 {
        self.fd
    }

    fn op(&self, cmd: i32, key: Option<&K>, value: *mut u8, next: *mut u8, flags: u64) -> i32 {
        let key = key.map_or(0 as *const u8, |k| k as *const K as *const u8);
        unsafe { sys::wasm_bpf_map_operate(self.fd, cmd, key, value, next, flags) }
    }

    /// The value of `key`: `Ok(None)` when absent.
    pub fn lookup(&self, key: &K) -> Result<Option<V>, Error> {
        let mut v = MaybeUninit::<V>::uninit();
        let ret = self.op(BPF_MAP_LOOKUP_ELEM, Some(key), v.as_mut_ptr() as _, 0 as _, 0);
        match Error::check(ret) {
            Ok(_) => Ok(Some(unsafe { v.assume_init() })),
            Err(Error::ENOENT) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Insert or replace (`BPF_ANY`), or as `flags` say (`BPF_NOEXIST`: `EEXIST` if present;
    /// `BPF_EXIST`: `ENOENT` if absent).
    pub fn update(&self, key: &K, value: &V, flags: u64) -> Result<(), Error> {
        let v = value as *const V as *mut u8;
        Error::check(self.op(BPF_MAP_UPDATE_ELEM, Some(key), v, 0 as _, flags)).map(|_| ())
    }

    /// Delete `key` (`ENOENT` if absent).
    pub fn delete(&self, key: &K) -> Result<(), Error> {
        Error::check(self.op(BPF_MAP_DELETE_ELEM, Some(key), 0 as _, 0 as _, 0)).map(|_| ())
    }

    /// The key after `key` (`None`: the first), or `Ok(None)` after the last.
    pub fn next_key(&self, key: Option<&K>) -> Result<Option<K>, Error> {
        let mut n = MaybeUninit::<K>::uninit();
        match Error::check(self.op(BPF_MAP_GET_NEXT_KEY, key, 0 as _, n.as_mut_ptr() as _, 0)) {
            Ok(_) => Ok(Some(unsafe { n.assume_init() })),
            Err(Error::ENOENT) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The keys, in the kernel's order; an error ends the iteration after yielding it.
    pub fn keys(&self) -> Keys<'_, K, V> {
        Keys { map: self, last: None, done: false }
    }
}

/// Iterator of [`Map::keys`].
pub struct Keys<'a, K, V> {
    map: &'a Map<K, V>,
    last: Option<K>,
    done: bool,
}

impl<'a, K: Copy, V: Copy> Iterator for Keys<'a, K, V> {
    type Item = Result<K, Error>;
    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        match self.map.next_key(self.last.as_ref()) {
            Ok(Some(k)) => {
                self.last = Some(k);
                Some(Ok(k))
            }
            Ok(None) => {
                self.done = true;
                None
            }
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
        }
    }
}

/// A ring buffer or perf buffer map being consumed (the host picks the kind from the map).
pub struct Buffer {
    obj: u64,
    fd: i32,
    data: Vec<u8>,
}

/// What the host calls per record, through the guest's table: `(ctx, data, size) -> i32`.
/// `ctx` points at the caller's closure, of type `F`.
extern "C" fn trampoline<F: FnMut(&[u8]) -> i32>(ctx: u32, data: u32, size: u32) -> i32 {
    let f = unsafe { &mut *(ctx as usize as *mut F) };
    let record = unsafe { std::slice::from_raw_parts(data as usize as *const u8, size as usize) };
    f(record)
}

impl Buffer {
    pub fn fd(&self) -> i32 {
        self.fd
    }

    /// Wait up to `timeout_ms` (< 0: forever, 0: no wait) and call `f` with every available
    /// record (at most [`MAX_RECORD`] bytes). A negative return from `f` stops the poll and is
    /// returned as the error. Returns the number of records consumed; `EINTR` when the user
    /// stopped the run.
    pub fn poll<F: FnMut(&[u8]) -> i32>(&mut self, timeout_ms: i32, mut f: F) -> Result<usize, Error> {
        let tramp: extern "C" fn(u32, u32, u32) -> i32 = trampoline::<F>;
        let ret = unsafe {
            sys::wasm_bpf_buffer_poll(
                self.obj,
                self.fd,
                tramp as usize as i32,
                &mut f as *mut F as usize as u32,
                self.data.as_mut_ptr(),
                self.data.len() as i32,
                timeout_ms,
            )
        };
        Error::check(ret).map(|n| n as usize)
    }

    /// Poll until the user stops the run (then `Ok(())`: clean up and return) or an error.
    pub fn run<F: FnMut(&[u8]) -> i32>(&mut self, timeout_ms: i32, mut f: F) -> Result<(), Error> {
        loop {
            match self.poll(timeout_ms, &mut f) {
                Ok(_) => {}
                Err(e) if e.is_interrupted() => return Ok(()),
                Err(e) => return Err(e),
            }
        }
    }
}

/// Sleep for `d`; `Err(EINTR)` when the sleep was cut short (the user stopped the run).
pub fn sleep(d: Duration) -> Result<(), Error> {
    // WASI subscription (48 bytes): userdata u64, tag u8 (0: clock) @8, clock id u32 @16
    // (1: monotonic), timeout u64 @24, precision u64 @32, flags u16 @40 (0: relative).
    let mut sub = [0u8; 48];
    sub[16..20].copy_from_slice(&1u32.to_le_bytes());
    let ns = d.as_nanos().min(u64::MAX as u128) as u64;
    sub[24..32].copy_from_slice(&ns.to_le_bytes());
    let mut ev = [0u8; 32]; // event: userdata u64, error u16 @8, type u8 @10
    let mut n = 0u32;
    let err = unsafe { sys::poll_oneoff(sub.as_ptr(), ev.as_mut_ptr(), 1, &mut n) };
    let ev_err = u16::from_le_bytes([ev[8], ev[9]]);
    if err != 0 || n != 1 || ev_err != 0 {
        // any failure counts as an interruption: the host's only reason to end a sleep early
        return Err(Error::EINTR);
    }
    Ok(())
}

/// The bytes of `v` (a `#[repr(C)]` value) — e.g. to write a skeleton's `.rodata` variable.
pub fn bytes_of<T: Copy>(v: &T) -> &[u8] {
    unsafe { std::slice::from_raw_parts(v as *const T as *const u8, size_of::<T>()) }
}

/// A `#[repr(C)]` value read from the start of `data`, or `None` if `data` is too short
/// (a record from a buffer, for example).
pub fn read<T: Copy>(data: &[u8]) -> Option<T> {
    if data.len() < size_of::<T>() {
        return None;
    }
    Some(unsafe { std::ptr::read_unaligned(data.as_ptr() as *const T) })
}

/// A NUL-terminated C string in a byte array, as text (lossy).
pub fn c_str(bytes: &[u8]) -> String {
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    String::from_utf8_lossy(&bytes[..end]).into_owned()
}
