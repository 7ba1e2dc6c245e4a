/**
 * @module lcg
 * PHP's combined linear congruential generator (ext/random/lcg.c, php_combined_lcg), used by
 * session_start() for the garbage-collection draw. PHP seeds it from the time and process id; the
 * exact sequence is not observable, so each instance here is seeded from the CSPRNG.
 */
import { randomBytes } from 'node:crypto';

const M1 = 2147483563;
const M2 = 2147483399;

/** L'Ecuyer's combined generator with PHP's constants; next() is uniform in [0, 1). */
export class CombinedLcg {
  #s1: number;
  #s2: number;

  constructor(seed1?: number, seed2?: number) {
    const r = randomBytes(8);
    this.#s1 = seed1 ?? (r.readUInt32LE(0) % (M1 - 1)) + 1;
    this.#s2 = seed2 ?? (r.readUInt32LE(4) % (M2 - 1)) + 1;
  }

  /** The next value in [0, 1), as php_combined_lcg() computes it. */
  next(): number {
    let q = Math.trunc(this.#s1 / 53668);
    this.#s1 = 40014 * (this.#s1 - 53668 * q) - 12211 * q;
    if (this.#s1 < 0) this.#s1 += M1;
    q = Math.trunc(this.#s2 / 52774);
    this.#s2 = 40692 * (this.#s2 - 52774 * q) - 3791 * q;
    if (this.#s2 < 0) this.#s2 += M2;
    let z = this.#s1 - this.#s2;
    if (z < 1) z += M1 - 1;
    return z * 4.656613e-10;
  }
}
