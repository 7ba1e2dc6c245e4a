/**
 * @module session/drive
 * Runs a routine written as a generator that yields what it waits for (the gensync pattern). A
 * routine reads top to bottom like its C original: `const ok = (yield open()) as boolean` hands
 * the module's answer (a value or a promise) to the driver, and a routine that calls another
 * writes `yield* other(r)`. The driver resumes at once while the yielded value is a plain value
 * and switches to promises at the first thenable. So a request whose module answers synchronously
 * never allocates a promise inside the routine, and one whose module is asynchronous is awaited
 * step by step.
 *
 * Two rules keep this as cheap as the hand-cut code it replaced (measured with a synchronous
 * in-memory module): yield module answers directly (a helper generator per wait costs an
 * allocation each), and never create a generator closure per call (`function* () {...}` inside a
 * function): V8 then keeps the request reachable until the next full GC, which tripled GC time.
 * Routines are module-level generator functions taking the request.
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
