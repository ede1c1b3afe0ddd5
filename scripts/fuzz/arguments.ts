// The arguments the calls are made with: mostly what a guest would pass, often every edge of
// it (pointers at and past the end of memory, lengths off by one, negative and huge values,
// handles and fds that are closed, of another object, or of the host).

import { BUFFERS, type Harness, OBJ_AT, PAGE } from "./harness.ts";
import type { Model } from "./model.ts";
import type { Rng } from "./random.ts";

/** An i32 as the import receives it. */
export const i32 = (n: number): number => n | 0;

export class Arguments {
  constructor(
    private readonly rng: Rng,
    private readonly harness: Harness,
    private readonly model: Model,
  ) {}

  /** A guest pointer: into the buffers, strings or object, near or past the end, or any. */
  ptr(): number {
    const { rng, harness } = this;
    return i32(
      rng.oneOf([
        () => 0,
        () => BUFFERS + rng.below(0x4000),
        () => BUFFERS + rng.below(64),
        () => harness.memSize - rng.below(33),
        () => harness.memSize,
        () => harness.memSize + 1 + rng.below(PAGE),
        () => 0xffffffff,
        () => 0xfffffff0,
        () => 0x7fffffff,
        () => 0x80000000,
        () => rng.u32(),
        () => rng.pick(harness.strings),
        () => harness.nonul,
        () => OBJ_AT + rng.below(harness.objectBytes.length),
      ]),
    );
  }

  /** A pointer to a string: a NUL-terminated one, one without a NUL, or any pointer. */
  stringPtr(): number {
    const { rng, harness } = this;
    return rng.chance(0.6)
      ? rng.pick(harness.strings)
      : rng.chance(0.5)
      ? harness.nonul
      : this.ptr();
  }

  /** A length: `good` half the time, else shorter, one longer, 0, negative or huge. */
  len(good: number): number {
    const { rng, harness } = this;
    return i32(
      rng.oneOf([
        () => good,
        () => good,
        () => good - 1 - rng.below(good),
        () => good + 1,
        () => 0,
        () => -1,
        () => 0x80000000,
        () => 0x7fffffff,
        () => harness.memSize,
        () => rng.u32(),
      ]),
    );
  }

  /** A handle: a live one, a closed one, the next one, or any i64. */
  handle(): bigint {
    const { rng, model } = this;
    const live = () => [...model.live.keys()][rng.below(Math.max(1, model.live.size))] ?? 1n;
    return rng.oneOf([
      live,
      live,
      () => model.everHandles.length ? rng.pick(model.everHandles) : 1n,
      () => 0n,
      () => -1n,
      () => model.lastHandle + 1n,
      () => (1n << 32n) + (model.lastHandle || 1n),
      () => this.i64(),
      () => -(1n << 63n),
    ]);
  }

  /** An fd: a live map's, a closed map's, stdio, the host's, or any. */
  fd(): number {
    const { rng, harness, model } = this;
    const owned = [...model.ownedFds()];
    const ownedFd = () => owned.length ? rng.pick(owned) : 3;
    return i32(
      rng.oneOf([
        ownedFd,
        ownedFd,
        ownedFd,
        () => model.deadFds.length ? rng.pick(model.deadFds) : 0,
        () => rng.pick([0, 1, 2]),
        () => harness.unrelatedFd,
        () => -1,
        () => rng.below(1024),
        () => 0x7fffffff,
        () => rng.u32(),
      ]),
    );
  }

  /** Any i64 (two draws: high word first). */
  i64(): bigint {
    return BigInt.asIntN(64, BigInt(this.rng.u32()) << 32n | BigInt(this.rng.u32()));
  }
}
