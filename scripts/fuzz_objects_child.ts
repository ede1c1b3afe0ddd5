// The sacrificial half of the object fuzzer (scripts/fuzz_objects.ts): reads objects from stdin,
// each as a 4-byte little-endian length and the bytes, and for each opens and loads it with
// libbpf (no check of ours), closes it, and writes one line: `ok`, or `open <errno>` /
// `load <errno>`. A crash or a hang of libbpf takes only this process down; the parent knows
// which object was in flight.
//
// usage: deno run --allow-ffi --allow-read --allow-write --allow-env scripts/fuzz_objects_child.ts PIN_ROOT
// PIN_ROOT: a directory in the BPF filesystem for maps a mutant declares pinned (never /sys/fs/bpf
// itself: a mutant must not reuse or leave pins of other programs).

import { getLibbpf, ObjectOpenOptions, ptrErr } from "../src/ffi/libbpf_ffi.ts";

const pinRoot = Deno.args[0];
if (!pinRoot) {
  console.error("usage: fuzz_objects_child.ts PIN_ROOT");
  Deno.exit(2);
}
const lib = getLibbpf();
const options = new ObjectOpenOptions(pinRoot);
const encoder = new TextEncoder();

/** Opens and loads one object; the result line. */
function openAndLoad(bytes: Uint8Array): string {
  const obj = lib.bpf_object__open_mem(bytes, BigInt(bytes.length), options.pointer);
  if (obj === null) return `open ${-ptrErr(obj)}`;
  const ret = lib.bpf_object__load(obj);
  lib.bpf_object__close(obj);
  return ret < 0 ? `load ${-ret}` : "ok";
}

let pending = new Uint8Array(0);
for await (const chunk of Deno.stdin.readable) {
  const joined = new Uint8Array(pending.length + chunk.length);
  joined.set(pending);
  joined.set(chunk, pending.length);
  pending = joined;
  while (pending.length >= 4) {
    const len = new DataView(pending.buffer, pending.byteOffset).getUint32(0, true);
    if (pending.length < 4 + len) break;
    const line = openAndLoad(pending.slice(4, 4 + len));
    pending = pending.subarray(4 + len);
    Deno.stdout.writeSync(encoder.encode(line + "\n"));
  }
}
