/**
 * @module session/drive
 * Runs a routine written as a generator that yields what it waits for (the gensync pattern). A
 * routine reads top to bottom like its C original; `yield* wait(x)` hands `x` to the driver, which
 * continues synchronously while `x` is a plain value and switches to promises at the first
 * thenable. So a request whose module answers synchronously never allocates a promise inside the
 * routine, and one whose module is asynchronous is awaited step by step.
 */

/** A routine: yields values it waits for, returns its result. */
export type Routine<T> = Generator<unknown, T, unknown>;

/** What `await` would treat as a promise (an object or function with a callable `then`). */
export function isThenable(v: unknown): v is PromiseLike<unknown> {
  return (
    ((typeof v === 'object' && v !== null) || typeof v === 'function') &&
    typeof (v as { then?: unknown }).then === 'function'
  );
}

/** Waits for `v` (a value or a promise) inside a routine: `const ok = yield* wait(open())`. */
export function* wait<T>(v: T | PromiseLike<T>): Generator<unknown, T, unknown> {
  return (yield v) as T;
}

/**
 * Runs `routine` to its end: synchronously (returning the plain result) until it yields a
 * thenable, then asynchronously (returning a promise). A rejected thenable is thrown into the
 * routine at its `yield`; an exception the routine does not catch propagates (thrown, or as the
 * promise's rejection once asynchronous).
 */
export function drive<T>(routine: Routine<T>): T | Promise<T> {
  let step = routine.next();
  while (!step.done) {
    const v = step.value;
    if (isThenable(v)) return resume(routine, v);
    step = routine.next(v);
  }
  return step.value;
}

async function resume<T>(routine: Routine<T>, first: PromiseLike<unknown>): Promise<T> {
  let v: unknown = first;
  for (;;) {
    let step: IteratorResult<unknown, T>;
    if (isThenable(v)) {
      let settled: unknown;
      let ok = true;
      try {
        settled = await v;
      } catch (e) {
        ok = false;
        settled = e;
      }
      step = ok ? routine.next(settled) : routine.throw(settled);
    } else {
      step = routine.next(v);
    }
    if (step.done) return step.value;
    v = step.value;
  }
}
