// The fuzzer's only source of randomness: a seeded PRNG (sfc32 seeded by splitmix32), so that
// `--seed N` replays a run call for call. Every draw goes through one Rng, in program order:
// adding or reordering a draw changes what every later seed does.

function sfc32(seed: number): () => number {
  let s = seed >>> 0;
  const split = () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
  let a = split(), b = split(), c = split(), d = split();
  return () => {
    const t = (((a + b) >>> 0) + d) >>> 0;
    d = (d + 1) >>> 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) >>> 0;
    c = ((c << 21) | (c >>> 11)) >>> 0;
    c = (c + t) >>> 0;
    return t;
  };
}

/** Seeded draws. */
export class Rng {
  readonly #next: () => number;

  constructor(seed: number) {
    this.#next = sfc32(seed);
  }

  /** A uniform u32. */
  u32(): number {
    return this.#next();
  }

  /** 0 ≤ n' < n. */
  below(n: number): number {
    return this.u32() % n;
  }

  /** True with probability `p`. */
  chance(p: number): boolean {
    return this.u32() / 2 ** 32 < p;
  }

  /** One of `xs`. */
  pick<T>(xs: readonly T[]): T {
    return xs[this.below(xs.length)];
  }

  /** Calls one of `makers` (a maker may draw more). Listing a maker twice doubles its odds. */
  oneOf<T>(makers: readonly (() => T)[]): T {
    return this.pick(makers)();
  }
}
