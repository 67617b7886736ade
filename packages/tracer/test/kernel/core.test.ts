import * as zlib from 'node:zlib';
import type { KernelSession } from '@fasmcov/tracer';
import { callLabel, openSession, prng } from './helpers';

// The kernel's core routines against independent oracles: Node's UTF-8, TextDecoder('ibm866'),
// String#toUpperCase, Date and zlib.crc32.

let s: KernelSession;
const BUF = 0x10000000 - 0x10000; // below the heap, mapped by the test
beforeAll(() => {
  s = openSession({ heapSize: 1 << 20 });
  s.machine.memory.map(BUF, 0x10000);
});
afterAll(() => s.close());

const low = (v: bigint): number => Number(v & 0xffffffffn);
const high = (v: bigint): number => Number((v >> 32n) & 0xffffffffn);
const mem = () => s.machine.memory;

describe('UTF-8', () => {
  const points = [0, 1, 0x7f, 0x80, 0x7ff, 0x800, 0xd7ff, 0xe000, 0xfffd, 0xffff, 0x10000, 0x10ffff];
  const rnd = prng(7);
  for (let i = 0; i < 300; i++) {
    const cp = rnd() % 0x110000;
    if (cp < 0xd800 || cp > 0xdfff) points.push(cp);
  }

  it('encodes and decodes every kind of code point like Node', () => {
    for (const cp of points.filter((p) => p > 0)) {
      const expected = Buffer.from(String.fromCodePoint(cp), 'utf8');
      const n = low(callLabel(s, 'utf8_encode', [cp, BUF]));
      expect([cp, Buffer.from(mem().readBytes(BUF, n)).toString('hex')]).toEqual([
        cp,
        expected.toString('hex'),
      ]);
      mem().write8(BUF + n, 0);
      const r = callLabel(s, 'utf8_decode', [BUF]);
      expect([cp, low(r), high(r)]).toEqual([cp, cp, expected.length]);
    }
  });

  it('stops at NUL and rejects malformed sequences one byte at a time', () => {
    const cases: Array<[number[], number, number]> = [
      [[0], 0, 0],
      [[0xc0, 0x80], 0xfffd, 1], // overlong NUL
      [[0xe0, 0x80, 0x80], 0xfffd, 1], // overlong
      [[0xed, 0xa0, 0x80], 0xfffd, 1], // surrogate
      [[0xf4, 0x90, 0x80, 0x80], 0xfffd, 1], // above U+10FFFF
      [[0xf5, 0x80, 0x80, 0x80], 0xfffd, 1],
      [[0x80], 0xfffd, 1], // stray continuation
      [[0xc3, 0x41], 0xfffd, 1], // missing continuation
      [[0xe2, 0x82, 0], 0xfffd, 1], // truncated by the terminator
    ];
    for (const [bytes, cp, len] of cases) {
      mem().writeBytes(BUF, Uint8Array.from([...bytes, 0]));
      const r = callLabel(s, 'utf8_decode', [BUF]);
      expect([bytes, low(r), high(r)]).toEqual([bytes, cp, len]);
      // Node agrees that the sequence is not valid UTF-8.
      if (cp === 0xfffd) expect(Buffer.from(bytes).toString('utf8')).toContain('\ufffd');
    }
  });
});

it('upper-cases like String#toUpperCase over the letters the kernel folds', () => {
  const inRange = (cp: number) =>
    (cp >= 0x61 && cp <= 0x7a) || (cp >= 0xe0 && cp <= 0x17f) || (cp >= 0x430 && cp <= 0x45f);
  for (let cp = 0; cp < 0x500; cp++) {
    const js = String.fromCodePoint(cp).toUpperCase();
    const expected = inRange(cp) && [...js].length === 1 ? js.codePointAt(0) : cp;
    expect([cp, low(callLabel(s, 'uni_upper', [cp]))]).toEqual([cp, expected]);
  }
});

it('maps cp866 both ways like TextDecoder("ibm866")', () => {
  const dec = new TextDecoder('ibm866');
  for (let b = 0; b < 256; b++) {
    // ASCII is ASCII (ICU's ibm866 swaps a few control codes, which KolibriOS does not).
    const cp = b < 0x80 ? b : (dec.decode(Uint8Array.of(b)).codePointAt(0) as number);
    expect([b, low(callLabel(s, 'cp866_to_uni', [b]))]).toEqual([b, cp]);
    if (b > 0) expect([cp, low(callLabel(s, 'uni_to_cp866', [cp]))]).toEqual([cp, b]);
  }
  for (const cp of [0x4e00, 0x100, 0x2603, 0x1f600]) expect(low(callLabel(s, 'uni_to_cp866', [cp]))).toBe(0);
});

it('converts Unix times to BDFE dates like Date', () => {
  const times = [0, 59, 86399, 86400, 951782400, 951868800, 4107456000, 4107542400, 0xffffffff];
  const rnd = prng(3);
  for (let i = 0; i < 500; i++) times.push(rnd());
  for (const t of times) {
    callLabel(s, 'unix_to_bdfe', [t, BUF]);
    const b = Buffer.from(mem().readBytes(BUF, 8));
    const d = new Date(t * 1000);
    expect([t, b[0], b[1], b[2], b[3], b[4], b[5], b.readUInt16LE(6)]).toEqual([
      t,
      d.getUTCSeconds(),
      d.getUTCMinutes(),
      d.getUTCHours(),
      0,
      d.getUTCDate(),
      d.getUTCMonth() + 1,
      d.getUTCFullYear(),
    ]);
  }
});

it('computes CRC-32 like zlib, in one go and chained', () => {
  const rnd = prng(11);
  for (const len of [0, 1, 3, 92, 511, 4096]) {
    const data = Uint8Array.from({ length: len }, () => rnd() & 0xff);
    mem().writeBytes(BUF, data);
    expect(low(callLabel(s, 'crc32_update', [0, BUF, len]))).toBe(zlib.crc32(data));
    const half = len >> 1;
    const first = low(callLabel(s, 'crc32_update', [0, BUF, half]));
    expect(low(callLabel(s, 'crc32_update', [first, BUF + half, len - half]))).toBe(zlib.crc32(data));
  }
});

it('names BDFE entries in cp866, UTF-16 and UTF-8, truncating to the field', () => {
  const names = [
    'readme.txt',
    'Привет мир.doc',
    'naïve café',
    'emoji 😀 name',
    'x'.repeat(600),
    'я'.repeat(300),
  ];
  const encodings: Array<[number, number]> = [
    [1, 264],
    [2, 520],
    [3, 520],
  ];
  for (const name of names) {
    const src = Buffer.from(`${name}\0`, 'utf8');
    mem().writeBytes(BUF + 0x8000, src);
    for (const [enc, field] of encodings) {
      mem().writeBytes(BUF, new Uint8Array(600).fill(0xaa));
      callLabel(s, 'bdfe_set_name', [BUF, BUF + 0x8000, enc]);
      const raw = Buffer.from(mem().readBytes(BUF + 40, field));
      expect(mem().read8(BUF + 4)).toBe(enc);
      let got: string;
      if (enc === 1) got = new TextDecoder('ibm866').decode(raw.subarray(0, raw.indexOf(0)));
      else if (enc === 2) {
        let end = 0;
        while (raw.readUInt16LE(end) !== 0) end += 2;
        got = raw.subarray(0, end).toString('utf16le');
      } else got = raw.subarray(0, raw.indexOf(0)).toString('utf8');
      // What fits of the name, character by character; cp866 shows '?' for what it lacks.
      const chars = [...name].map((c) => (enc === 1 && !/^[\x20-\x7e]$|^[А-яЁё]$/u.test(c) ? '?' : c));
      const budget = field - (enc === 2 ? 2 : 1);
      let expected = '';
      let used = 0;
      for (const c of chars) {
        const size =
          enc === 1 ? 1 : enc === 2 ? ((c.codePointAt(0) as number) > 0xffff ? 4 : 2) : Buffer.byteLength(c);
        if (used + size > budget) break;
        expected += c;
        used += size;
      }
      expect([name.slice(0, 20), enc, got]).toEqual([name.slice(0, 20), enc, expected]);
    }
  }
});

describe('heap', () => {
  it('allocates aligned, disjoint blocks, frees and coalesces them', () => {
    const h = openSession({ heapSize: 1 << 20 });
    try {
      const alloc = (n: number) => low(callLabel(h, 'kernel_alloc', [n]));
      const free = (p: number) => callLabel(h, 'kernel_free', [p]);
      expect(alloc(0)).toBe(0);
      expect(alloc(2 << 20)).toBe(0);
      const live = new Map<number, { size: number; fill: number }>();
      const rnd = prng(5);
      for (let step = 0; step < 600; step++) {
        if (live.size && rnd() % 3 === 0) {
          const keys = [...live.keys()];
          const p = keys[rnd() % keys.length];
          const { size, fill } = live.get(p) as { size: number; fill: number };
          expect(Buffer.from(h.machine.memory.readBytes(p, size)).every((b) => b === fill)).toBe(true);
          free(p);
          live.delete(p);
          continue;
        }
        const size = 1 + (rnd() % 3000);
        const p = alloc(size);
        if (p === 0) continue; // full for now
        expect(p % 16).toBe(0);
        for (const [q, b] of live) expect(p + size <= q || q + b.size <= p).toBe(true);
        const fill = rnd() & 0xff;
        h.machine.memory.writeBytes(p, new Uint8Array(size).fill(fill));
        live.set(p, { size, fill });
      }
      for (const p of live.keys()) free(p);
      // Everything coalesced again: one block of almost the whole heap fits.
      const big = alloc((1 << 20) - 64);
      expect(big).not.toBe(0);
    } finally {
      h.close();
    }
  });
});
