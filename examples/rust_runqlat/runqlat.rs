// bpf: ../runqlat/runqlat.bpf.c
// skel: --types hist
// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
//! runqlat in Rust: run queue (scheduler) latency histograms, as examples/runqlat (same BPF
//! object, same options except -c, same output). Built with Debian's rustc and no crates.

#[path = "../../wasm-include/libbpf_wasm.rs"]
mod libbpf_wasm;
mod runqlat_skel;

use libbpf_wasm::{sleep, Error, Map};
use runqlat_skel::hist;
use std::io::Write;
use std::process::exit;
use std::time::Duration;

const MAX_SLOTS: usize = 26;

#[derive(Default)]
struct Env {
    interval: u64,
    times: u64,
    pid: i32,
    milliseconds: bool,
    per_process: bool,
    per_thread: bool,
    per_pidns: bool,
    timestamp: bool,
}

const DOC: &str = "Summarize run queue (scheduler) latency as a histogram.

USAGE: runqlat [--help] [-T] [-m] [--pidnss] [-L] [-P] [-p PID] [interval]
[count]

EXAMPLES:
    runqlat         # summarize run queue latency as a histogram
    runqlat 1 10    # print 1 second summaries, 10 times
    runqlat -mT 1   # 1s summaries, milliseconds, and timestamps
    runqlat -P      # show each PID separately
    runqlat -p 185  # trace PID 185 only

  -L, --tids                 Print a histogram per thread ID
  -m, --milliseconds         Millisecond histogram
      --pidnss               Print a histogram per PID namespace
  -p, --pid=PID              Trace this PID only
  -P, --pids                 Print a histogram per process ID
  -T, --timestamp            Include timestamp on output
  -v, --verbose              Verbose debug output
  -h, -?, --help             Give this help list
  -V, --version              Print program version
";

fn fail(msg: &str) -> ! {
    eprintln!("{}", msg);
    exit(1)
}

fn parse_pid(s: Option<&str>) -> i32 {
    match s.and_then(|s| s.parse::<i32>().ok()).filter(|&p| p >= 1) {
        Some(p) => p,
        None => fail(&format!("Invalid PID: {}", s.unwrap_or("(none)"))),
    }
}

/// Print the help or the version: nothing else to do.
fn info(help: bool) -> Option<Env> {
    if help {
        print!("Usage: runqlat [OPTION...]\n{}", DOC);
    } else {
        println!("runqlat 0.1");
    }
    None
}

/// The options, or None when --help/--version was printed.
fn parse_args() -> Option<Env> {
    let args: Vec<String> = std::env::args().collect();
    let mut env = Env { interval: 99999999, times: 99999999, ..Env::default() };
    let (mut pos, mut i) = (0, 1);
    while i < args.len() {
        let a = args[i].as_str();
        if a.starts_with("--") && a.len() > 2 {
            match a {
                "--help" | "--version" => return info(a == "--help"),
                "--timestamp" => env.timestamp = true,
                "--milliseconds" => env.milliseconds = true,
                "--pids" => env.per_process = true,
                "--tids" => env.per_thread = true,
                "--pidnss" => env.per_pidns = true,
                "--verbose" => {}
                "--pid" => {
                    i += 1;
                    env.pid = parse_pid(args.get(i).map(|s| s.as_str()));
                }
                _ if a.starts_with("--pid=") => env.pid = parse_pid(Some(&a[6..])),
                _ => fail(&format!(
                    "runqlat: unrecognized option '{}'\nTry `runqlat --help' for more information.",
                    a
                )),
            }
        } else if a.starts_with('-') && a.len() > 1 {
            // bundled short options: -mT, -p185, -p 185
            for (k, c) in a.char_indices().skip(1) {
                match c {
                    'h' | '?' | 'V' => return info(c != 'V'),
                    'T' => env.timestamp = true,
                    'm' => env.milliseconds = true,
                    'P' => env.per_process = true,
                    'L' => env.per_thread = true,
                    'v' => {}
                    'p' => {
                        let rest = &a[k + 1..];
                        env.pid = if rest.is_empty() {
                            i += 1;
                            parse_pid(args.get(i).map(|s| s.as_str()))
                        } else {
                            parse_pid(Some(rest))
                        };
                        break;
                    }
                    'c' => fail("runqlat: -c (cgroup filter) is not supported in the wasm port"),
                    _ => fail(&format!(
                        "runqlat: invalid option -- '{}'\nTry `runqlat --help' for more information.",
                        c
                    )),
                }
            }
        } else {
            let v = a.parse::<u64>().ok().filter(|&v| v >= 1);
            match (pos, v) {
                (0, Some(v)) => env.interval = v,
                (0, None) => fail("invalid internal"),
                (1, Some(v)) => env.times = v,
                (1, None) => fail("invalid times"),
                _ => fail(&format!("unrecognized positional argument: {}", a)),
            }
            pos += 1;
        }
        i += 1;
    }
    if (env.per_thread && (env.per_process || env.per_pidns)) || (env.per_process && env.per_pidns) {
        fail("pidnss, pids, tids cann't be used together.");
    }
    Some(env)
}

/// A log2 histogram, in the format of libbpf-tools' print_log2_hist (and the C example's).
fn print_log2_hist(out: &mut impl Write, vals: &[u32], unit: &str) -> std::io::Result<()> {
    let last = match vals.iter().rposition(|&v| v != 0) {
        Some(l) => l,
        None => return Ok(()),
    };
    let val_max = vals.iter().copied().max().unwrap_or(0);
    let wide = last > 32;
    let (col, width) = if wide { (20, 20) } else { (10, 40) };
    writeln!(
        out,
        "{:w1$}{:<w2$} : count    distribution",
        "",
        unit,
        w1 = if wide { 15 } else { 5 },
        w2 = if wide { 29 } else { 19 }
    )?;
    for (i, &v) in vals.iter().enumerate().take(last + 1) {
        let mut lo = (1u64 << (i + 1)) >> 1;
        let hi = (1u64 << (i + 1)) - 1;
        if lo == hi {
            lo -= 1;
        }
        let stars = if val_max != 0 { (v.min(val_max) as u64 * width / val_max as u64) as usize } else { 0 };
        let bar: String = (0..width as usize).map(|k| if k < stars { '*' } else { ' ' }).collect();
        writeln!(out, "{:>col$} -> {:<col$} : {:<8} |{}{}|", lo, hi, v, bar, if v > val_max { "+" } else { "" }, col = col)?;
    }
    Ok(())
}

fn print_hists(env: &Env, hists: &Map<u32, hist>) -> Result<(), Error> {
    let units = if env.milliseconds { "msecs" } else { "usecs" };
    let mut out = std::io::stdout().lock();
    for key in hists.keys() {
        let key = key?;
        let h = match hists.lookup(&key)? {
            Some(h) => h,
            None => continue, // deleted meanwhile
        };
        let comm = libbpf_wasm::c_str(&h.comm);
        if env.per_process {
            let _ = write!(out, "\npid = {} {}\n", key as i32, comm);
        } else if env.per_thread {
            let _ = write!(out, "\ntid = {} {}\n", key as i32, comm);
        } else if env.per_pidns {
            let _ = write!(out, "\npidns = {} {}\n", key, comm);
        }
        let slots = h.slots; // copied out of the packed struct
        let _ = print_log2_hist(&mut out, &slots[..MAX_SLOTS], units);
    }
    let _ = out.flush();
    // then clear them: always delete the first key until the map is empty
    while let Some(k) = hists.next_key(None)? {
        match hists.delete(&k) {
            Ok(()) | Err(Error::ENOENT) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

fn main() {
    let mut env = match parse_args() {
        Some(env) => env,
        None => return,
    };
    let mut skel = runqlat_skel::Skel::open();
    // filtering options, patched into .rodata before load
    let r = skel.rodata();
    r.targ_per_process = env.per_process as u8;
    r.targ_per_thread = env.per_thread as u8;
    r.targ_per_pidns = env.per_pidns as u8;
    r.targ_ms = env.milliseconds as u8;
    r.targ_tgid = env.pid;
    let bpf = skel.load().unwrap_or_else(|e| fail(&format!("failed to load BPF object: {}", e)));
    if let Err(e) = bpf.attach() {
        fail(&format!("failed to attach BPF programs: {}", e));
    }
    let hists: Map<u32, hist> = bpf
        .obj
        .map("hists")
        .unwrap_or_else(|e| fail(&format!("failed to get hists map fd: {}", e)));

    println!("Tracing run queue latency... Hit Ctrl-C to end.");
    let _ = std::io::stdout().flush();
    loop {
        // a sleep cut short by Ctrl-C: print what was gathered, then stop
        let exiting = sleep(Duration::from_secs(env.interval)).is_err();
        println!();
        if env.timestamp {
            let t = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0);
            println!("{:<8}", format!("{:02}:{:02}:{:02}", t / 3600 % 24, t / 60 % 60, t % 60));
        }
        if let Err(e) = print_hists(&env, &hists) {
            eprintln!("failed to print histograms: {}", e);
            drop(bpf);
            exit(1);
        }
        env.times -= 1;
        if exiting || env.times == 0 {
            break;
        }
    }
}
