// One fuzzed call per import: draw the arguments, make the call, check the result against
// the model (the exact errno where the ABI fixes it), and update the model.

import type { GuestPolicy } from "../../src/guest/policy.ts";
import { Arguments, i32 } from "./arguments.ts";
import type { Checks } from "./report.ts";
import {
  BUFFERS,
  type Harness,
  MAX_PAGES,
  OBJ_AT,
  OTHER_AT,
  PAGE,
  PREOPEN_FD,
  PROG_NAMES,
  SCRATCH_AT,
} from "./harness.ts";
import type { Model } from "./model.ts";
import type { Rng } from "./random.ts";

const EINVAL = -22;
const EFAULT = -14;
const EBADF = -9;
const ENOENT = -2;
const EPERM = -1;

export class Calls {
  readonly #args: Arguments;

  constructor(
    private readonly rng: Rng,
    private readonly harness: Harness,
    private readonly model: Model,
    private readonly checks: Checks,
    private readonly policy: GuestPolicy | undefined,
  ) {
    this.#args = new Arguments(rng, harness, model);
  }

  /** load: the good objects, mutated copies (bit flips, special bytes, truncations), or a bad
   * buffer; a bigint handle, 0 or the next handle. */
  load(): void {
    const { rng, harness, model, checks } = this;
    checks.count("load");
    const { objectBytes, otherBytes } = harness;
    let at = OBJ_AT, size = objectBytes.length;
    const kind = rng.below(10);
    if (kind === 0) {
      at = OTHER_AT;
      size = otherBytes.length;
    } else if (kind <= 3) {
      // a mutated copy: bit flips, special values, a truncation
      const src = rng.below(2) ? objectBytes : otherBytes;
      const copy = src.slice();
      for (let k = 1 + rng.below(6); k > 0; k--) {
        const off = rng.below(copy.length);
        if (rng.chance(0.5)) copy[off] ^= 1 << rng.below(8);
        else copy[off] = rng.pick([0, 0xff, 0x7f, 0x80]);
      }
      size = rng.chance(0.3) ? rng.below(copy.length) : copy.length;
      harness.bytes().set(copy, SCRATCH_AT);
      at = SCRATCH_AT;
    } else if (kind === 4) {
      at = this.#args.ptr();
      size = this.#args.len(objectBytes.length);
    }
    const call = `load(${at >>> 0}, ${size})`;
    const h = harness.imports.load(at, size);
    if (typeof h !== "bigint") return checks.fail(call, h, "not a bigint");
    const inBounds = size > 0 && (at >>> 0) + size <= harness.memSize;
    if (!inBounds && h !== 0n) return checks.fail(call, h, "loaded from a bad buffer");
    if (h === 0n) {
      checks.report.results.zero++;
      return;
    }
    checks.report.results.positive++;
    if (h !== model.lastHandle + 1n) {
      checks.fail(call, h, `expected the next handle ${model.lastHandle + 1n}`);
    }
    checks.report.loaded++;
    const maps = new Map<string, number>();
    for (const m of harness.ctx.objects.get(h)?.maps ?? []) maps.set(m.name, m.fd);
    model.loaded(h, maps);
  }

  /** close: a live handle mostly (0), else any (EINVAL). */
  async close(): Promise<void> {
    const { rng, harness, model, checks } = this;
    checks.count("close");
    const h = model.live.size && rng.chance(0.7)
      ? [...model.live.keys()][rng.below(model.live.size)]
      : this.#args.handle();
    const expect = model.live.has(h) ? 0 : EINVAL;
    const r = await harness.imports.close(h);
    checks.result(`close(${h})`, r, expect);
    model.closed(h);
  }

  /** fd_by_name: the map's fd, ENOENT, EFAULT for a bad string, EINVAL for a bad handle. */
  fdByName(): void {
    const { harness, model, checks } = this;
    checks.count("fd_by_name");
    const h = this.#args.handle();
    const p = this.#args.stringPtr();
    const r = harness.imports.fdByName(h, p);
    const call = `fd_by_name(${h}, ${p >>> 0})`;
    const maps = model.live.get(h);
    if (!maps) return checks.result(call, r, EINVAL);
    const name = harness.ctx.memory.cString(p);
    if (name === null) return checks.result(call, r, EFAULT);
    checks.result(call, r, maps.get(name) ?? (name === ".rodata" ? undefined : ENOENT));
  }

  /** map_operate: every cmd, flag and buffer; EBADF for an fd the guest does not own. */
  mapOperate(): void {
    const { rng, harness, model, checks } = this;
    checks.count("map_operate");
    const f = this.#args.fd();
    const cmd = rng.chance(0.85) ? 1 + rng.below(4) : i32(rng.pick([0, 5, -1, 1000, rng.u32()]));
    const buf = () => rng.chance(0.6) ? BUFFERS + rng.below(0x3000) : this.#args.ptr();
    const [k, v, n] = [buf(), buf(), rng.chance(0.3) ? 0 : buf()];
    const flags = rng.pick([0n, 0n, 1n, 2n, 4n, -1n, this.#args.i64()]);
    const call = `map_operate(${f}, ${cmd}, ${k >>> 0}, ${v >>> 0}, ${n >>> 0}, ${flags})`;
    const r = harness.imports.mapOperate(f, cmd, k, v, n, flags);
    if (!model.ownedFds().has(f)) return checks.result(call, r, EBADF);
    if (cmd < 1 || cmd > 4) return checks.result(call, r, this.policy ? undefined : EINVAL);
    checks.result(call, r);
    if (typeof r === "number" && r > 0) checks.fail(call, r, "map_operate returned > 0");
  }

  /** attach (by path or interface name) or attach_fd; never > 0. */
  attach(): void {
    const { rng, harness, model, checks } = this;
    const { stringAt } = harness;
    checks.count("attach");
    const h = this.#args.handle();
    const name = rng.chance(0.8) ? stringAt.get(rng.pick(PROG_NAMES))! : this.#args.stringPtr();
    if (rng.chance(0.4)) return this.#attachFd(h, name);
    const target = rng.oneOf([
      () => 0,
      () => 0,
      () => stringAt.get(harness.cgroup.dir)!,
      () => stringAt.get("lo")!,
      () => stringAt.get("no-such-if0")!,
      () => stringAt.get("/no/such/cgroup")!,
      () => stringAt.get("/sys/fs/cgroup/unified/../../../etc")!,
      () => stringAt.get("/etc/passwd")!,
      () => this.#args.stringPtr(),
    ]);
    const call = `attach(${h}, ${name >>> 0}, ${target >>> 0})`;
    const r = harness.imports.attach(h, name, target);
    if (!model.live.has(h)) return checks.result(call, r, EINVAL);
    const memory = harness.ctx.memory;
    if (memory.cString(name) === null) return checks.result(call, r, EFAULT);
    if (target !== 0 && memory.cString(target) === null) return checks.result(call, r, EFAULT);
    checks.result(call, r);
    if (r === 0) checks.report.attached++;
    if (typeof r === "number" && r > 0) checks.fail(call, r, "attach returned > 0");
  }

  /** attach_fd: the preopened cgroup, or any descriptor (refused: EPERM). */
  #attachFd(h: bigint, name: number): void {
    const { rng, harness, model, checks } = this;
    const target = rng.oneOf([() => -1, () => PREOPEN_FD, () => PREOPEN_FD, () => this.#args.fd()]);
    const call = `attach_fd(${h}, ${name >>> 0}, ${target})`;
    const r = harness.imports.attachFd(h, name, target);
    if (!model.live.has(h)) return checks.result(call, r, EINVAL);
    const prog = harness.ctx.memory.cString(name);
    if (prog === null) return checks.result(call, r, EFAULT);
    // the fd form refuses XDP, and every descriptor but the preopen for a cgroup program
    // (ENOENT: an object without that program)
    const refused = prog === "xdp_pass" ||
      (["skb_egress", "sockops_prog"].includes(prog) && target >= 0 && target !== PREOPEN_FD);
    checks.result(call, r);
    if (refused && r !== EPERM && r !== ENOENT) checks.fail(call, r, `expected ${EPERM}`);
    if (r === 0) checks.report.attached++;
    if (typeof r === "number" && r > 0) checks.fail(call, r, "attach_fd returned > 0");
  }

  /** poll: the object's ring or perf buffer mostly, with the callback at table index 1. */
  async poll(): Promise<void> {
    const { rng, harness, model, checks } = this;
    checks.count("poll");
    const h = this.#args.handle();
    const maps = model.live.get(h);
    const f = maps && rng.chance(0.7)
      ? rng.pick([maps.get("ring")!, maps.get("perf")!])
      : this.#args.fd();
    const cb = rng.pick([1, 1, 1, 0, 2, -1, i32(rng.u32())]);
    const cbCtx = rng.pick([0, 0, 1, -1, -42]);
    const data = rng.chance(0.7) ? BUFFERS + rng.below(256) : this.#args.ptr();
    const max = rng.chance(0.7) ? 1 + rng.below(64) : this.#args.len(64);
    const timeout = rng.chance(0.97) ? 0 : 1 + rng.below(3);
    if (rng.chance(0.3)) harness.getppid(); // a record for attached programs
    const call = `poll(${h}, ${f}, ${cb}, ${cbCtx}, ${data >>> 0}, ${max}, ${timeout})`;
    const r = await harness.imports.poll(h, f, cb, cbCtx, data, max, timeout);
    if (!model.live.has(h) && cb === 1) return checks.result(call, r, EINVAL);
    checks.result(call, r);
  }

  /** Grows guest memory by a page (up to its maximum), as a guest's malloc may between calls. */
  grow(): void {
    const { harness, checks } = this;
    checks.count("memory.grow");
    if (harness.memSize / PAGE < MAX_PAGES) {
      harness.memory.grow(1);
      harness.fillNonul();
    }
  }
}
