// bpf: ../bootstrap/bootstrap.bpf.c
// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
//! bootstrap in Rust: trace process exec and exit, as examples/bootstrap (same BPF object,
//! same output). Built with Debian's rustc and no crates (examples/README.md, "Rust guests").
//! Usage: bootstrap [-d MIN_DURATION_MS] [-v] [-h]

#[path = "../../wasm-include/libbpf_wasm.rs"]
mod libbpf_wasm;
mod bootstrap_skel;

use libbpf_wasm::{c_str, read};
use std::io::Write;
use std::mem::size_of;
use std::process::exit;

/// The ring buffer record (examples/bootstrap/bootstrap.h): not in the object's BTF (only a
/// pointer to it is used there), so written out here with its layout pinned.
#[repr(C, packed)]
#[derive(Clone, Copy)]
struct Event {
    pid: i32,
    ppid: i32,
    exit_code: u32,
    _pad0: [u8; 4],
    duration_ns: u64,
    comm: [u8; 16],
    filename: [u8; 127],
    exit_event: u8,
}
const _: () = assert!(size_of::<Event>() == 168);
const _: () = assert!(size_of::<[i32; 2]>() + size_of::<u32>() + 4 == 16); // duration_ns
const _: () = assert!(16 + size_of::<u64>() == 24); // comm
const _: () = assert!(24 + size_of::<[u8; 16]>() == 40); // filename

const USAGE: &str = "BPF bootstrap demo application.

It traces process start and exits and shows associated
information (filename, process duration, PID and PPID, etc).

USAGE: bootstrap [-d <min-duration-ms>] [-v] [-h]

  -d, --duration MS  only report processes that ran at least MS ms
                     (exec events are then not reported)
  -v, --verbose      accepted, ignored
  -h, --help         show this help
";

/// The minimum duration in ms, or None after --help.
fn parse_args() -> Option<u64> {
    let args: Vec<String> = std::env::args().collect();
    let mut min_ms = 0u64;
    let mut i = 1;
    while i < args.len() {
        let a = args[i].as_str();
        let val = match a {
            "-h" | "--help" => {
                print!("{}", USAGE);
                return None;
            }
            "-v" | "--verbose" => None,
            "-d" | "--duration" => {
                i += 1;
                match args.get(i) {
                    Some(v) => Some(v.as_str()),
                    None => {
                        eprintln!("bootstrap: {} needs a value", a);
                        exit(1);
                    }
                }
            }
            _ if a.starts_with("--duration=") => Some(&a[11..]),
            _ if a.starts_with("-d") => Some(&a[2..]),
            _ => {
                eprintln!("bootstrap: unknown argument: {}", a);
                eprint!("{}", USAGE);
                exit(1);
            }
        };
        if let Some(v) = val {
            min_ms = v.parse().unwrap_or_else(|_| {
                eprintln!("bootstrap: invalid duration: {}", v);
                exit(1)
            });
        }
        i += 1;
    }
    Some(min_ms)
}

/// HH:MM:SS of the wall clock (UTC: what the C guest's localtime gives under WASI).
fn now_hms() -> String {
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    format!("{:02}:{:02}:{:02}", t / 3600 % 24, t / 60 % 60, t % 60)
}

fn handle_event(data: &[u8]) -> i32 {
    let e: Event = match read(data) {
        Some(e) => e,
        None => return 0,
    };
    let (pid, ppid, code, dur) = (e.pid, e.ppid, e.exit_code, e.duration_ns);
    let mut out = std::io::stdout().lock();
    let comm = c_str(&e.comm);
    if e.exit_event != 0 {
        let _ = write!(out, "{:<8} {:<5} {:<16} {:<7} {:<7} [{}]", now_hms(), "EXIT", comm, pid, ppid, code);
        if dur != 0 {
            let _ = write!(out, " ({}ms)", dur / 1_000_000);
        }
        let _ = writeln!(out);
    } else {
        let file = c_str(&e.filename);
        let _ = writeln!(out, "{:<8} {:<5} {:<16} {:<7} {:<7} {}", now_hms(), "EXEC", comm, pid, ppid, file);
    }
    let _ = out.flush();
    0
}

fn main() {
    let min_ms = match parse_args() {
        Some(ms) => ms,
        None => return,
    };
    let mut skel = bootstrap_skel::Skel::open();
    // parameterise the BPF code before load (patches the embedded .rodata)
    skel.set_min_duration_ns(min_ms.saturating_mul(1_000_000));
    let bpf = skel.load().unwrap_or_else(|e| {
        eprintln!("Failed to load and verify BPF skeleton: {}", e);
        exit(1)
    });
    if let Err(e) = bpf.attach() {
        eprintln!("Failed to attach BPF skeleton: {}", e);
        exit(1);
    }
    let mut rb = bpf.obj.buffer("rb").unwrap_or_else(|e| {
        eprintln!("Failed to create ring buffer: {}", e);
        exit(1)
    });
    println!("{:<8} {:<5} {:<16} {:<7} {:<7} {}", "TIME", "EVENT", "COMM", "PID", "PPID", "FILENAME/EXIT CODE");
    let _ = std::io::stdout().flush();
    // until Ctrl-C (then Ok: `bpf` drops, which detaches everything)
    if let Err(e) = rb.run(100, handle_event) {
        eprintln!("Error polling ring buffer: {}", e);
        drop(bpf);
        exit(1);
    }
}
