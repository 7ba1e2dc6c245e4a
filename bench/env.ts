/**
 * Bench settings from the environment, shared by the benches that take them.
 */

/** A positive integer from environment variable `name`, or `fallback` when it is unset or empty; anything else throws. */
export function positiveInt(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${name} must be a positive integer, got ${JSON.stringify(raw)}`);
  return n;
}
