// bpf: ../maps/maps.bpf.c
// skel: --types val12
//! The Rust bindings (wasm-include/libbpf_wasm.rs) on real maps: typed lookup, update with
//! each flag, delete, keys(), the errors by name, a wrong name, attach by name, a poll of a map
//! that is no buffer, and a .rodata setter that the loaded object sees. One "ok <check>" or
//! "FAIL <check>: ..." line per check (tests/kernel_rust_test.ts).

#[path = "../../../wasm-include/libbpf_wasm.rs"]
mod libbpf_wasm;
mod maps_skel;

use libbpf_wasm::{Error, Map, Target, BPF_ANY, BPF_EXIST, BPF_NOEXIST};
use maps_skel::val12;
use std::fmt::Debug;

struct Checks {
    ok: u32,
    fail: u32,
}

impl Checks {
    fn eq<T: PartialEq + Debug>(&mut self, name: &str, got: T, want: T) {
        if got == want {
            self.ok += 1;
            println!("ok {}", name);
        } else {
            self.fail += 1;
            println!("FAIL {}: got {:?}, want {:?}", name, got, want);
        }
    }
}

fn v12(a: u32, b: u32, c: u32) -> val12 {
    let mut v = val12::zeroed();
    v.a = a;
    v.b = b;
    v.c = c;
    v
}

fn triple(v: Option<val12>) -> Option<(u32, u32, u32)> {
    v.map(|v| (v.a, v.b, v.c))
}

fn main() {
    let mut t = Checks { ok: 0, fail: 0 };
    let mut skel = maps_skel::Skel::open();
    skel.set_magic(0x2222333344445555);
    let bpf = skel.load().expect("load");

    // hash: u32 -> u64
    let hash: Map<u32, u64> = bpf.obj.map("hash_map").expect("hash_map");
    t.eq("hash.lookup_absent_is_none", hash.lookup(&1), Ok(None));
    t.eq("hash.update_any", hash.update(&1, &10, BPF_ANY), Ok(()));
    t.eq("hash.lookup", hash.lookup(&1), Ok(Some(10)));
    t.eq("hash.update_noexist_present_is_EEXIST", hash.update(&1, &11, BPF_NOEXIST), Err(Error::EEXIST));
    t.eq("hash.update_exist_absent_is_ENOENT", hash.update(&2, &5, BPF_EXIST), Err(Error::ENOENT));
    t.eq("hash.update_exist", hash.update(&1, &12, BPF_EXIST), Ok(()));
    t.eq("hash.lookup_updated", hash.lookup(&1), Ok(Some(12)));
    t.eq("hash.update_bad_flags_is_EINVAL", hash.update(&3, &1, 99), Err(Error::EINVAL));
    for k in 2..=4u32 {
        hash.update(&k, &(k as u64 * 100), BPF_NOEXIST).expect("insert");
    }
    let mut keys: Vec<u32> = hash.keys().map(|k| k.expect("key")).collect();
    keys.sort();
    t.eq("hash.keys", keys, vec![1, 2, 3, 4]);
    t.eq("hash.delete", hash.delete(&2), Ok(()));
    t.eq("hash.delete_absent_is_ENOENT", hash.delete(&2), Err(Error::ENOENT));
    t.eq("hash.keys_after_delete", hash.keys().count(), 3);
    t.eq("error.name", Error::ENOENT.name(), "ENOENT".to_string());
    t.eq("error.display", format!("{}", Error::EEXIST), "EEXIST (-17)".to_string());
    t.eq("error.unknown_name", Error(3333).name(), "E3333".to_string());

    // array: u32 -> struct val12 (the skeleton's type)
    let array: Map<u32, val12> = bpf.obj.map("array_map").expect("array_map");
    t.eq("array.lookup_zeroed", triple(array.lookup(&3).unwrap()), Some((0, 0, 0)));
    t.eq("array.update", array.update(&1, &v12(7, 8, 9), BPF_ANY), Ok(()));
    t.eq("array.lookup_struct", triple(array.lookup(&1).unwrap()), Some((7, 8, 9)));
    t.eq("array.lookup_out_of_range_is_none", triple(array.lookup(&4).unwrap()), None);
    t.eq("array.delete_is_EINVAL", array.delete(&1), Err(Error::EINVAL));
    t.eq("array.keys_in_order", array.keys().map(|k| k.unwrap()).collect::<Vec<_>>(), vec![0, 1, 2, 3]);

    // names, programs, buffers
    t.eq("map_fd.unknown_is_ENOENT", bpf.obj.map_fd("no_such_map"), Err(Error::ENOENT));
    t.eq("map_fd.nul_in_name_is_EINVAL", bpf.obj.map_fd("hash\0map"), Err(Error::EINVAL));
    t.eq("attach.unknown_is_ENOENT", bpf.obj.attach("no_such_prog", Target::Auto), Err(Error::ENOENT));
    t.eq("attach.by_name", bpf.obj.attach("touch_maps", Target::Auto), Ok(()));
    let mut not_a_buffer = bpf.obj.buffer("hash_map").expect("fd");
    let polled = not_a_buffer.poll(0, |_| 0);
    t.eq("poll.not_a_buffer_is_an_error", polled.is_err(), true);

    // the .rodata setter reached the loaded object: read it back through its map
    let rodata: Map<u32, [u8; 8]> = bpf.obj.map(".rodata").expect("rodata map");
    t.eq("rodata.setter_seen_by_kernel", rodata.lookup(&0), Ok(Some(0x2222333344445555u64.to_le_bytes())));

    // closing twice is harmless; the map fd is gone with the object
    let fd = hash.fd();
    t.eq("object.close", bpf.obj.close(), Ok(()));
    t.eq("map.after_close_is_error", Map::<u32, u64>::from_fd(fd).lookup(&1).is_err(), true);

    println!("summary ok={} fail={}", t.ok, t.fail);
    if t.fail > 0 {
        std::process::exit(1);
    }
}
