/**
 * The validated-bytes cache of lazy decoding (lib/session/validated.ts, serializers/lazy.ts).
 *
 * Serializer level: a decode that takes its result from the cache (the same bytes validated
 * cleanly before, or encoded by the engine for the store) must give exactly what a decode with
 * no cache gives: success, diagnostics, every value read, the encoded bytes. fast-check with a
 * fixed seed (FC_SEED), over generated sessions, access patterns and the fuzz payloads with
 * their mutations; the runs count the cache hits, so a cache that never answers fails.
 *
 * Engine level (files handler): the second cycle on bytes the engine wrote parses nothing;
 * bytes changed by PHP or by another writer (even of the same length), a corrupt payload (PHP's
 * warning), another save path and another serializer are all validated again; the bound holds.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { PhpArray, SessionEngine, serialize, type PhpKey } from 'php-session-engine';
import type { SerializerContext, ValidatedSession, ValidatedSlot } from '../../lib/serializer.ts';
import { ValidatedCache } from '../../lib/session/validated.ts';
import { Unserializer } from '../../serializers/unserialize.ts';
import type { OracleDiagnostic } from '../oracle/php-oracle.ts';
import { describeWith, runPhp } from '../support/tools.ts';
import { phpString, tree } from './arbitraries.ts';
import { SESSION_PAYLOADS } from './cases.ts';
import { latin1, recordingContext, serializerNamed, sessionPayloadAs } from './helpers.ts';
import { mutate, mutationArbitrary } from './mutate.ts';

const SEED = Number(process.env['FC_SEED'] ?? 4711);
const HANDLERS = ['php', 'php_binary', 'php_serialize'] as const;

/** A slot over a plain variable that counts the lookups answered with these very bytes. */
class CountingSlot implements ValidatedSlot {
  held: ValidatedSession | undefined;
  hits = 0;
  /** Hits on bytes the serializer encoded (its record of them, not a validation). */
  encodedHits = 0;
  probe: Uint8Array | undefined;
  probingEncoded = false;
  get(): ValidatedSession | undefined {
    const h = this.held;
    if (h !== undefined && this.probe !== undefined && Buffer.compare(h.bytes, this.probe) === 0) {
      this.hits++;
      if (this.probingEncoded) this.encodedHits++;
    }
    return h;
  }
  set(v: ValidatedSession): void {
    this.held = v;
  }
}

interface Outcome {
  ok: boolean;
  diagnostics: OracleDiagnostic[];
  seen: string[];
  encoded: string | null;
  whole: string;
}

const show = (v: unknown): string => (v === undefined ? '<undefined>' : serialize(v as never).toString('latin1'));

/** Decodes `data` (with the slot when given), reads every entry once, sets one, encodes. */
function run(handler: string, data: Buffer, slot: CountingSlot | undefined, touch: number): Outcome {
  const diagnostics: OracleDiagnostic[] = [];
  const ctx: SerializerContext = { ...recordingContext('session_decode', diagnostics), lazy: true, validated: slot };
  if (slot !== undefined) slot.probe = data;
  const r = serializerNamed(handler).decode(data, new PhpArray(), ctx);
  if (!r.ok) return { ok: false, diagnostics, seen: [], encoded: null, whole: '' };
  if (!(r.session instanceof PhpArray)) return { ok: true, diagnostics, seen: [show(r.session)], encoded: null, whole: '' };
  const s = r.session;
  const seen: string[] = [];
  const keys: PhpKey[] = [...s.keys()];
  if (touch < keys.length) seen.push(show(s.getExact(keys[touch]!)));
  s.setExact('touched', touch);
  const e = serializerNamed(handler).encode(s, { ...recordingContext('session_encode', diagnostics), lazy: true, validated: slot });
  for (const [k, v] of s) seen.push(`${String(k)}=${show(v)}`);
  return { ok: true, diagnostics, seen, encoded: e === null ? null : Buffer.from(e).toString('latin1'), whole: serialize(s).toString('latin1') };
}

/** A change of one byte that keeps the length: [position (mod length), new byte]. */
type Flip = [number, number];
const flipArb: fc.Arbitrary<Flip> = fc.tuple(fc.nat(), fc.constantFrom(...'0123456789:;{}"|Nbisda\x01\x02'.split('').map((c) => c.charCodeAt(0))));

/**
 * The same payload three ways: with no cache; twice through one slot (the second decode may be
 * answered by the first's validation); and the bytes the first cached run encoded, decoded
 * through the slot (answered by the encode's record) and with no cache; then those bytes with one
 * byte changed (same length), through the slot and with no cache. All must agree.
 */
function same(handler: string, data: Buffer, touch: number, slot: CountingSlot, flip: Flip): void {
  slot.held = undefined;
  const plain = run(handler, data, undefined, touch);
  const first = run(handler, data, slot, touch);
  const second = run(handler, data, slot, touch);
  const label = `${handler} ${JSON.stringify(data.toString('latin1'))} touch ${touch}`;
  expect(first, label).toEqual(plain);
  expect(second, label).toEqual(plain);
  if (first.encoded !== null) {
    const written = latin1(first.encoded);
    // The slot now holds the encode's record (when it was clean).
    slot.probingEncoded = true;
    const again = run(handler, written, slot, touch + 1);
    slot.probingEncoded = false;
    expect(again, `${label} → ${JSON.stringify(first.encoded)}`).toEqual(run(handler, written, undefined, touch + 1));
    if (written.length > 0) {
      const changed = Buffer.from(written);
      changed[flip[0] % changed.length] = flip[1];
      run(handler, written, slot, touch); // the slot holds `written` again
      expect(run(handler, changed, slot, touch), `${label} → ${JSON.stringify(changed.toString('latin1'))}`).toEqual(
        run(handler, changed, undefined, touch),
      );
    }
  }
}

function encodedSessions(handler: string): fc.Arbitrary<Buffer> {
  return fc.array(fc.tuple(phpString, tree), { minLength: 1, maxLength: 6 }).map((pairs) => {
    const s = new PhpArray();
    for (const [k, v] of pairs) s.setExact(typeof k === 'string' ? k : 'k', v);
    const enc = serializerNamed(handler).encode(s, recordingContext('session_encode', []));
    return enc === null ? Buffer.alloc(0) : Buffer.from(enc);
  });
}

const mutation = mutationArbitrary(':;{}"0123456789-+RrNabisdO|!\x01\x04\x7f\x80', 12);

describe(`cached and uncached lazy decodes agree (fast-check seed ${SEED})`, () => {
  for (const handler of HANDLERS) {
    it(`${handler}: generated sessions`, () => {
      const slot = new CountingSlot();
      fc.assert(
        fc.property(encodedSessions(handler), fc.nat(7), flipArb, (data, touch, flip) => same(handler, data, touch, slot, flip)),
        { seed: SEED, numRuns: 300 },
      );
      // Most generated sessions validate cleanly (those with references or objects do not): the
      // cache answered, up to twice per run, once from the encoder's record.
      expect(slot.hits).toBeGreaterThan(150);
      expect(slot.encodedHits).toBeGreaterThan(150);
    });

    it(`${handler}: the fuzz payloads and their mutations`, () => {
      const toFormat = (p: string): Buffer => sessionPayloadAs(handler, p);
      const slot = new CountingSlot();
      for (const p of SESSION_PAYLOADS) same(handler, toFormat(p), 0, slot, [0, 0x4e]);
      fc.assert(
        fc.property(fc.constantFrom(...SESSION_PAYLOADS), fc.array(mutation, { maxLength: 3 }), fc.nat(4), flipArb, (base, muts, touch, flip) =>
          same(handler, mutate(toFormat(base).toString('latin1'), muts), touch, slot, flip),
        ),
        { seed: SEED, numRuns: 1000 },
      );
      expect(slot.hits).toBeGreaterThan(100);
    });
  }
});

describe('ValidatedCache: bounded, least recently used first out', () => {
  const entry = (n: number): ValidatedSession => ({ bytes: Buffer.alloc(n), entries: null });

  it('evicts the least recently used sessions past its bound, and skips a session larger than the bound', () => {
    const c = new ValidatedCache(3 * 1024 + 3 * 600);
    c.set('a', entry(1000));
    c.set('b', entry(1000));
    c.set('c', entry(1000));
    expect(c.count).toBe(3);
    c.get('a'); // a is now the most recent
    c.set('d', entry(1000));
    expect(c.get('b')).toBeUndefined();
    expect(c.get('a')).toBeDefined();
    expect(c.get('c')).toBeDefined();
    expect(c.size).toBeLessThanOrEqual(c.limit);
    c.set('huge', entry(10_000));
    expect(c.get('huge')).toBeUndefined();
    // Replacing a session's entry does not count it twice.
    c.set('a', entry(1000));
    c.set('a', entry(1000));
    expect(c.count).toBe(3);
  });

  it('rejects a bound that is not a non-negative integer', () => {
    for (const bad of [-1, 1.5, Number.NaN, Infinity]) expect(() => new SessionEngine({ validatedCacheBytes: bad })).toThrow(TypeError);
  });
});

const ID = 'validatedcache000000000000001';

describe('the engine reuses its own validation, and validates anything else again', () => {
  const dirs: string[] = [];
  afterEach(() => {
    vi.restoreAllMocks();
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });
  const tempDir = (): string => {
    const d = mkdtempSync(join(tmpdir(), 'pse-validated-'));
    dirs.push(d);
    return d;
  };
  // Deferred entries (arrays), small scalars, and an entry PHP rewrites (i:007;).
  const STORED = 'a|a:2:{i:0;s:1:"x";i:1;d:0.5;}b|i:7;c|s:2:"hi";big|a:3:{i:0;i:1;i:1;i:2;i:2;a:1:{s:1:"k";b:1;}}';

  async function cycle(engine: SessionEngine, set: number | null, id = ID) {
    const parses = vi.spyOn(Unserializer.prototype, 'parseValue');
    const req = engine.request({ cookies: { PHPSESSID: id } });
    const started = await req.start();
    const parsed = parses.mock.calls.length;
    parses.mockRestore();
    const values = started ? Object.fromEntries([...req.session].map(([k, v]) => [String(k), show(v)])) : {};
    if (set !== null) req.session.set('n', set);
    await req.writeClose();
    await req.end();
    return { started, parsed, values, diagnostics: req.diagnostics.map((d) => `${d.level}: ${d.message}`) };
  }

  const lazyEngine = (dir: string, extra: Record<string, string> = {}, bytes?: number) =>
    new SessionEngine({ ini: { 'session.save_path': dir, 'session.cache_limiter': '', ...extra }, lazyDecode: true, ...(bytes === undefined ? {} : { validatedCacheBytes: bytes }) });

  it('parses nothing when it reads back the bytes it wrote, and reads the same values', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, `sess_${ID}`), STORED);
    const engine = lazyEngine(dir);
    const first = await cycle(engine, 1);
    expect(first.parsed).toBeGreaterThan(0);
    const second = await cycle(engine, 2);
    expect(second.parsed).toBe(0);
    const third = await cycle(engine, null);
    expect(third.parsed).toBe(0);
    // What an engine with no cache reads from the same file.
    const fresh = await cycle(lazyEngine(dir, {}, 0), null);
    expect(fresh.parsed).toBeGreaterThan(0);
    expect(third.values).toEqual(fresh.values);
    expect(third.values['n']).toBe('i:2;');
    // Read-only cycles (lazy_write: nothing written) keep answering from the validation.
    expect((await cycle(engine, null)).parsed).toBe(0);
  });

  it('validates bytes another writer changed, of the same length too, and warns as PHP on a corrupt payload', async () => {
    const dir = tempDir();
    const file = join(dir, `sess_${ID}`);
    writeFileSync(file, STORED);
    const engine = lazyEngine(dir);
    await cycle(engine, 1);
    const mine = readFileSync(file, 'latin1');
    // Same length, one byte different: c|s:2:"hi" → c|s:2:"ho".
    writeFileSync(file, mine.replace('s:2:"hi"', 's:2:"ho"'));
    const changed = await cycle(engine, null);
    expect(changed.parsed).toBeGreaterThan(0);
    expect(changed.values['c']).toBe('s:2:"ho";');
    // Same length, now corrupt (a string length off by one): PHP's warning, the session emptied.
    writeFileSync(file, mine.replace('s:2:"hi"', 's:3:"hi"'));
    const corrupt = await cycle(engine, null);
    const uncached = lazyEngine(dir, {}, 0);
    writeFileSync(file, mine.replace('s:2:"hi"', 's:3:"hi"'));
    const reference = await cycle(uncached, null);
    expect(corrupt.diagnostics).toEqual(reference.diagnostics);
    expect(corrupt.diagnostics.some((d) => d.includes('Failed to decode session object'))).toBe(true);
    expect(corrupt.values).toEqual({});
  });

  it('keeps save paths and serializers apart', async () => {
    const one = tempDir();
    const two = tempDir();
    writeFileSync(join(one, `sess_${ID}`), 'a|i:1;b|a:1:{i:0;i:1;}');
    writeFileSync(join(two, `sess_${ID}`), 'a|i:2;b|a:1:{i:0;i:2;}');
    const engine = new SessionEngine({ ini: { 'session.cache_limiter': '' }, lazyDecode: true });
    const at = async (dir: string, serializer = 'php') => {
      const parses = vi.spyOn(Unserializer.prototype, 'parseValue');
      const req = engine.request({ cookies: { PHPSESSID: ID } });
      req.iniSet('session.save_path', dir);
      req.iniSet('session.serialize_handler', serializer);
      const ok = await req.start();
      const parsed = parses.mock.calls.length;
      parses.mockRestore();
      const b = ok ? show(req.session.get('b')) : '';
      await req.end();
      return { ok, parsed, b, diagnostics: req.diagnostics.map((d) => d.message) };
    };
    expect((await at(one)).b).toBe('a:1:{i:0;i:1;}');
    expect((await at(two)).b).toBe('a:1:{i:0;i:2;}');
    const again = await at(one);
    expect(again).toMatchObject({ parsed: 0, b: 'a:1:{i:0;i:1;}' });
    // The same bytes under php_binary are another payload (and not a valid one).
    const binary = await at(one, 'php_binary');
    expect(binary.diagnostics.some((m) => m.includes('Failed to decode session object'))).toBe(true);
  });

  /** An engine on an in-memory module holding one session's bytes (`held.bytes`); `written` collects every write. */
  function memoryEngine(initial: string) {
    const held = { bytes: Buffer.from(initial, 'latin1'), written: [] as Uint8Array[] };
    const memory = { name: 'vcmem', create: () => ({ name: 'vcmem', open: () => true, close: () => true, read: () => held.bytes,
      write: (_id: string, d: Uint8Array) => {
        held.written.push(d);
        held.bytes = Buffer.from(d);
        return true;
      }, destroy: () => true, gc: () => 0 }) };
    const engine = new SessionEngine({ modules: [memory], ini: { 'session.save_handler': 'vcmem', 'session.cache_limiter': '' }, lazyDecode: true });
    return { engine, held };
  }

  it('compares changed bytes of the cached length with the cached ones once, not once more in the decode', async () => {
    const { engine, held } = memoryEngine(STORED);
    await cycle(engine, 1);
    const mine = held.bytes.toString('latin1');
    held.bytes = Buffer.from(mine.replace('s:2:"hi"', 's:2:"ho"'), 'latin1');
    const req = engine.request({ cookies: { PHPSESSID: ID } });
    const compares = vi.spyOn(Buffer, 'compare');
    expect(await req.start()).toBe(true);
    const ofPayload = compares.mock.calls.filter(([a, b]) => a.length === mine.length && b.length === mine.length).length;
    compares.mockRestore();
    expect(req.session.get('c')).toBe('ho');
    await req.end();
    expect(ofPayload).toBe(1);
  });

  it('writes a large session read lazily from one buffer of about its size', async () => {
    // 40 entries of ~4 KB nobody reads: the encode copies them, and its buffer starts large enough.
    const entry = (i: number) => `e${i}|a:1:{i:0;s:4000:"${String.fromCharCode(97 + (i % 26)).repeat(4000)}";}`;
    const stored = Array.from({ length: 40 }, (_, i) => entry(i)).join('');
    const { engine, held: { written } } = memoryEngine(stored);
    const req = engine.request({ cookies: { PHPSESSID: ID } });
    expect(await req.start()).toBe(true);
    req.session.set('n', 1);
    expect(await req.writeClose()).toBe(true);
    await req.end();
    expect(Buffer.from(written[0]!).toString('latin1')).toBe(`${stored}n|i:1;`);
    // Before: a 4 KB buffer doubled six times (and copied each time) to a 256 KB one.
    expect(written[0]!.buffer.byteLength).toBeLessThan(stored.length * 1.25);
  });

  it('is off with validatedCacheBytes: 0 and with eager decoding', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, `sess_${ID}`), STORED);
    for (const engine of [lazyEngine(dir, {}, 0), new SessionEngine({ ini: { 'session.save_path': dir, 'session.cache_limiter': '' }, lazyDecode: false })]) {
      await cycle(engine, 1);
      expect((await cycle(engine, 2)).parsed).toBeGreaterThan(0);
    }
  });
});

describeWith(['php'], 'a session PHP changed between two engine cycles is validated again', () => {
  it('reads what PHP wrote, and PHP reads what the engine wrote', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pse-validated-php-'));
    try {
      const ini = { 'session.save_path': dir, 'session.use_cookies': '0', 'session.cache_limiter': '' };
      const php = (code: string) => runPhp(`session_id('${ID}'); session_start(); ${code} session_write_close();`, { ini });
      await php(`$_SESSION['list'] = [1, 2, 3]; $_SESSION['n'] = 0;`);
      const engine = new SessionEngine({ ini: { 'session.save_path': dir, 'session.cache_limiter': '' }, lazyDecode: true });
      const bump = async () => {
        const parses = vi.spyOn(Unserializer.prototype, 'parseValue');
        const req = engine.request({ cookies: { PHPSESSID: ID } });
        await req.start();
        const parsed = parses.mock.calls.length;
        parses.mockRestore();
        const list = show(req.session.get('list'));
        req.session.set('n', (req.session.get('n') as number) + 1);
        await req.writeClose();
        await req.end();
        return { parsed, list, diagnostics: req.diagnostics };
      };
      expect((await bump()).parsed).toBeGreaterThan(0);
      expect(await bump()).toEqual({ parsed: 0, list: 'a:3:{i:0;i:1;i:1;i:2;i:2;i:3;}', diagnostics: [] });
      // PHP appends to the list: other bytes, validated again.
      await php(`$_SESSION['list'][] = 4;`);
      const after = await bump();
      expect(after.parsed).toBeGreaterThan(0);
      expect(after.list).toBe('a:4:{i:0;i:1;i:1;i:2;i:2;i:3;i:3;i:4;}');
      // PHP corrupts nothing; the stored bytes are what PHP writes for the same session.
      const out = await runPhp(`session_id('${ID}'); session_start(); echo session_encode();`, { ini });
      expect(Buffer.from(out.stdout).toString('latin1')).toBe(readFileSync(join(dir, `sess_${ID}`), 'latin1'));
      expect(readFileSync(join(dir, `sess_${ID}`), 'latin1')).toBe('list|a:4:{i:0;i:1;i:1;i:2;i:2;i:3;i:3;i:4;}n|i:3;');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
