// bpf: ../perfbuf/perfbuf.bpf.c
//! Buffer::poll of the Rust bindings on a perf event array and a ring buffer of one object
//! (the BPF side of tests/guests/perfbuf): closures that keep state, records as `&[u8]`, and a
//! closure's negative return that stops the poll. Usage: buffers TGID COUNT; prints "ready",
//! then one line per record, then "stopped <error>" (tests/kernel_rust_test.ts).

#[path = "../../../wasm-include/libbpf_wasm.rs"]
mod libbpf_wasm;
mod buffers_skel;

use libbpf_wasm::{read, Error, Map, BPF_ANY};
use std::io::Write;

/// tests/guests/_common/syscall_tp.h
#[repr(C, packed)]
#[derive(Clone, Copy)]
struct TestEvent {
    seq: u32,
    tgid: u32,
    arg: u64,
    tag: [u8; 8],
}
const _: () = assert!(std::mem::size_of::<TestEvent>() == 24);

fn show(kind: &str, data: &[u8]) {
    if let Some(e) = read::<TestEvent>(data) {
        let (seq, tgid, arg) = (e.seq, e.tgid, e.arg);
        println!("{} seq={} tgid={} arg={} tag={}", kind, seq, tgid, arg, libbpf_wasm::c_str(&e.tag));
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let tgid: u32 = args[1].parse().expect("TGID");
    let count: usize = args[2].parse().expect("COUNT");
    let bpf = buffers_skel::Skel::open().load().expect("load");
    let config: Map<u32, u32> = bpf.obj.map("config").expect("config");
    config.update(&0, &tgid, BPF_ANY).expect("config");
    bpf.attach().expect("attach");
    let mut perf = bpf.obj.buffer("perf_events").expect("perf_events");
    let mut ring = bpf.obj.buffer("ring").expect("ring");
    // a perf buffer exists from its first poll: poll once before saying ready
    perf.poll(0, |_| 0).expect("first poll");
    println!("ready");
    let _ = std::io::stdout().flush();

    let (mut n_perf, mut n_ring) = (0, 0);
    while n_perf < count || n_ring < count {
        n_perf += perf.poll(10, |d| {
            show("perf", d);
            0
        }).expect("perf poll");
        n_ring += ring.poll(10, |d| {
            show("ring", d);
            0
        }).expect("ring poll");
    }
    // one more record, and a closure that refuses it: the poll stops with its value
    println!("more");
    let _ = std::io::stdout().flush();
    let mut seen = 0;
    let stopped = loop {
        match ring.poll(100, |_| {
            seen += 1;
            -7
        }) {
            Ok(_) => continue,
            Err(e) => break e,
        }
    };
    println!("stopped {} after {}", stopped, seen);
    assert!(stopped == Error(7));
}
