// Where fds sit in map keys and values (src/bpf/map_fds.ts), without a kernel.
import assert from "node:assert/strict";
import { BpfMapType as T, fdIn, mapFdRule } from "../src/bpf/map_fds.ts";

Deno.test("map fds: every map type of linux/bpf.h has a rule, and newer types are unknown", () => {
  for (const type of Object.values(T)) {
    if (type === T.UNSPEC) continue;
    assert.notEqual(mapFdRule(type, 4, 8).kind, "unknown", `type ${type}`);
  }
  assert.equal(mapFdRule(T.ARENA + 1, 4, 4).kind, "unknown");
  assert.equal(mapFdRule(1000, 4, 4).kind, "unknown");
  assert.equal(mapFdRule(T.UNSPEC, 4, 4).kind, "unknown");
});

Deno.test("map fds: STRUCT_OPS values are not writable by guests", () => {
  assert.equal(mapFdRule(T.STRUCT_OPS, 4, 256).kind, "read-only");
});

Deno.test("map fds: devmap and cpumap carry a program fd only in 8-byte values", () => {
  for (const type of [T.DEVMAP, T.DEVMAP_HASH, T.CPUMAP]) {
    assert.deepEqual(mapFdRule(type, 4, 4), { kind: "none" });
    const rule = mapFdRule(type, 4, 8);
    assert.equal(rule.kind, "fds");
    if (rule.kind !== "fds") return;
    const value = new Uint8Array(8);
    new DataView(value.buffer).setInt32(4, -1, true);
    assert.equal(fdIn(value, rule.value!), null);
    new DataView(value.buffer).setInt32(4, 0, true);
    assert.equal(fdIn(value, rule.value!), null);
    new DataView(value.buffer).setInt32(4, 7, true);
    assert.equal(fdIn(value, rule.value!), 7);
  }
});

Deno.test("map fds: socket maps read a u64 fd from 8-byte values", () => {
  const rule = mapFdRule(T.SOCKMAP, 4, 8);
  assert.equal(rule.kind, "fds");
  if (rule.kind !== "fds") return;
  const value = new Uint8Array(8);
  new DataView(value.buffer).setBigUint64(0, (1n << 32n) | 5n, true);
  assert.equal(fdIn(value, rule.value!), 2 ** 32 + 5);
});

Deno.test("map fds: storage maps hold the fd in the key", () => {
  for (const type of [T.SK_STORAGE, T.INODE_STORAGE, T.TASK_STORAGE, T.CGRP_STORAGE]) {
    const rule = mapFdRule(type, 4, 8);
    assert.equal(rule.kind, "fds");
    if (rule.kind === "fds") assert.deepEqual([rule.key?.offset, rule.value], [0, null]);
  }
});
