/**
 * The random draws Spark's LDA makes when it infers a new document's topics: Apache Commons
 * Math's MersenneTwister (MT19937, seeded from a long through init_by_array), its
 * nextDouble and Box–Muller nextGaussian, and breeze's Gamma sampler (Marsaglia–Tsang, as
 * in numpy) on top. Written from the published algorithms so that the same seed gives the
 * same sequence; Commons Math's FastMath log/sin/cos may differ from Math's in the last bit.
 */

const N = 624;
const M = 397;
const MAG01 = [0x0, 0x9908b0df];

export class MersenneTwister {
  private readonly mt = new Int32Array(N);
  private mti = N;
  private cachedGaussian = NaN;

  /**
   * Commons Math's MersenneTwister(long), which is init_by_array with [high word, low
   * word], or MersenneTwister(int[]) with the key itself.
   */
  constructor(seed: bigint | readonly number[]) {
    if (typeof seed !== 'bigint') {
      this.seedArray(seed);
      return;
    }
    const u = BigInt.asUintN(64, seed);
    this.seedArray([Number(u >> 32n) | 0, Number(u & 0xffffffffn) | 0]);
  }

  private seedInt(seed: number): void {
    const mt = this.mt;
    mt[0] = seed;
    for (let i = 1; i < N; i++) {
      const prev = mt[i - 1]!;
      mt[i] = (Math.imul(1812433253, prev ^ (prev >>> 30)) + i) | 0;
    }
    this.mti = N;
  }

  private seedArray(key: readonly number[]): void {
    const mt = this.mt;
    this.seedInt(19650218);
    let i = 1;
    let j = 0;
    for (let k = Math.max(N, key.length); k !== 0; k--) {
      const prev = mt[i - 1]!;
      mt[i] = ((mt[i]! ^ Math.imul(prev ^ (prev >>> 30), 1664525)) + key[j]! + j) | 0;
      i++;
      j++;
      if (i >= N) {
        mt[0] = mt[N - 1]!;
        i = 1;
      }
      if (j >= key.length) j = 0;
    }
    for (let k = N - 1; k !== 0; k--) {
      const prev = mt[i - 1]!;
      mt[i] = ((mt[i]! ^ Math.imul(prev ^ (prev >>> 30), 1566083941)) - i) | 0;
      i++;
      if (i >= N) {
        mt[0] = mt[N - 1]!;
        i = 1;
      }
    }
    mt[0] = 0x80000000 | 0;
    this.cachedGaussian = NaN;
  }

  /** The next `bits` random bits, as an unsigned number. */
  next(bits: number): number {
    const mt = this.mt;
    if (this.mti >= N) {
      for (let k = 0; k < N; k++) {
        const y = (mt[k]! & 0x80000000) | (mt[(k + 1) % N]! & 0x7fffffff);
        mt[k] = mt[(k + M) % N]! ^ (y >>> 1) ^ MAG01[y & 0x1]!;
      }
      this.mti = 0;
    }
    let y = mt[this.mti++]!;
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return (y >>> 0) >>> (32 - bits);
  }

  /** BitsStreamGenerator.nextDouble: 52 random bits (two 26-bit draws) over 2^52. */
  nextDouble(): number {
    const high = this.next(26) * 2 ** 26;
    const low = this.next(26);
    return (high + low) * 2 ** -52;
  }

  /** BitsStreamGenerator.nextGaussian: Box–Muller, the second value of each pair cached. */
  nextGaussian(): number {
    if (!Number.isNaN(this.cachedGaussian)) {
      const g = this.cachedGaussian;
      this.cachedGaussian = NaN;
      return g;
    }
    const x = this.nextDouble();
    const y = this.nextDouble();
    const alpha = 2 * Math.PI * x;
    const r = Math.sqrt(-2 * Math.log(y));
    this.cachedGaussian = r * Math.sin(alpha);
    return r * Math.cos(alpha);
  }
}

/** breeze's Gamma(shape, scale).draw for shape > 1. */
export function drawGamma(rng: MersenneTwister, shape: number, scale: number): number {
  if (!(shape > 1)) throw new Error(`gamma shape ${shape} is not above 1`);
  const d = shape - 1.0 / 3.0;
  const c = 1.0 / Math.sqrt(9.0 * d);
  for (;;) {
    let x: number;
    let v: number;
    do {
      x = rng.nextGaussian();
      v = 1.0 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const x2 = x * x;
    const u = rng.nextDouble();
    if (u < 1.0 - 0.0331 * (x2 * x2) || Math.log(u) < 0.5 * x2 + d * (1.0 - v + Math.log(v))) return scale * d * v;
  }
}
