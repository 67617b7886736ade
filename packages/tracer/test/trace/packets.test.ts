// PT packets against the Intel SDM encodings: the checked vector of
// /work/shared/reference/intel-pt-vector.md (produced here by the encoder from the branch events
// of its run), hand-checked single packets, last-IP rules, and damage reporting.
import {
  BRANCH,
  BufferSink,
  LastIp,
  PtDecodeError,
  PtEncoder,
  TntCache,
  decodePacket,
  findPsb,
  writePacket,
} from '@fasmcov/tracer';
import type { PtPacket } from '@fasmcov/tracer';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const bytes = (h: string): Uint8Array => new Uint8Array(Buffer.from(h.replace(/\s+/g, ''), 'hex'));

const VECTOR =
  '02820282028202820282028202820282' + // PSB
  '0223' + // PSBEND
  '9902' + // MODE.Exec 32-bit
  '5100100000' + // TIP.PGE 0x1000 (IPBytes 010)
  '1c' + // short TNT taken, taken, not taken
  '4100200000'; // TIP.PGD 0x2000

function encode(p: PtPacket): string {
  const s = new BufferSink();
  writePacket(s, p);
  return hex(s.toBytes());
}

describe('PT encoder', () => {
  test('the checked vector: mov/dec/jnz loop at 0x1000 leaving by ret to 0x2000', () => {
    const sink = new BufferSink();
    const pt = new PtEncoder(sink, { ranges: [{ start: 0x1000, end: 0x1009 }] });
    pt.enable(0x1000);
    pt.branch(0x1006, 0x1005, BRANCH.COND_TAKEN);
    pt.branch(0x1006, 0x1005, BRANCH.COND_TAKEN);
    pt.branch(0x1006, 0x1008, BRANCH.COND_NOT_TAKEN);
    pt.branch(0x1008, 0x2000, BRANCH.RET);
    pt.finish(0x2000);
    expect(hex(sink.toBytes())).toBe(VECTOR);
  });

  test('TNT bits go out six to a short TNT; a TIP flushes pending bits first', () => {
    const sink = new BufferSink();
    const pt = new PtEncoder(sink, { psbInterval: 1e9 });
    pt.enable(0x1000);
    const start = sink.length;
    for (let i = 0; i < 10; i++)
      pt.branch(0x1010, i % 3 ? 0x1000 : 0x1012, i % 3 ? BRANCH.COND_TAKEN : BRANCH.COND_NOT_TAKEN);
    pt.branch(0x1020, 0x1234, BRANCH.JMP_INDIRECT);
    // Bits 011011 0110: 1 011011 0 = 0xb6, then 1 0110 0 = 0x2c; then TIP with a 16-bit update.
    expect(hex(sink.toBytes().subarray(start))).toBe('b6' + '2c' + '2d3412');
  });

  test('with longTnt, 47 pending bits are one long TNT and the rest short TNTs', () => {
    const sink = new BufferSink();
    const pt = new PtEncoder(sink, { psbInterval: 1e9, longTnt: true });
    pt.enable(0x1000);
    const start = sink.length;
    for (let i = 0; i < 47 + 10; i++)
      pt.branch(0x1010, i % 3 ? 0x1000 : 0x1012, i % 3 ? BRANCH.COND_TAKEN : BRANCH.COND_NOT_TAKEN);
    pt.branch(0x1020, 0x1234, BRANCH.JMP_INDIRECT);
    // The long TNT payload: the first 47 bits of the pattern under a stop bit at bit 47.
    let payload = 1n;
    for (let i = 0; i < 47; i++) payload = payload * 2n + (i % 3 ? 1n : 0n);
    const le = Buffer.alloc(8);
    le.writeBigUInt64LE(payload);
    // Bits 47..56 continue the pattern (101101 1011): 1 101101 0 = 0xda, 1 1011 0 = 0x36.
    expect(hex(sink.toBytes().subarray(start))).toBe(
      '02a3' + le.subarray(0, 6).toString('hex') + 'da' + '36' + '2d3412',
    );
  });

  test('leaving the traced range by a call, coming back by ret: TIP.PGD, then TIP.PGE', () => {
    const sink = new BufferSink();
    const pt = new PtEncoder(sink, { ranges: [{ start: 0x1000, end: 0x2000 }] });
    pt.enable(0x1000);
    const start = sink.length;
    pt.branch(0x1003, 0x3000, BRANCH.CALL);
    pt.branch(0x3001, 0x3005, BRANCH.JMP_INDIRECT); // outside: nothing
    pt.branch(0x3005, 0x1008, BRANCH.RET);
    pt.disable(0x100a);
    pt.finish(0);
    // No MODE.Exec before the TIP.PGE: the mode is the one sent since the last PSB (SDM).
    expect(hex(sink.toBytes().subarray(start))).toBe('4100300000' + '5108100000' + '5d0a100000' + '01');
  });

  test('a fault is FUP (faulting instruction) + TIP (handler)', () => {
    const sink = new BufferSink();
    const pt = new PtEncoder(sink);
    pt.enable(0x1000);
    const start = sink.length;
    pt.branch(0x1004, 0x1004, BRANCH.COND_TAKEN);
    pt.branch(0x1004, 0x5000, BRANCH.FAULT);
    // TNT (1 bit taken) = 0b110 = 0x06; FUP 16-bit 0x1004; TIP 16-bit 0x5000.
    expect(hex(sink.toBytes().subarray(start))).toBe('06' + '3d0410' + '2d0050');
  });

  test('PSB+ every psbInterval bytes carries MODE.Exec and a FUP of the next instruction', () => {
    const sink = new BufferSink();
    const pt = new PtEncoder(sink, { psbInterval: 32 });
    pt.enable(0x1000);
    for (let i = 0; i < 40; i++) pt.branch(0x1000 + i, 0x2000 + i * 0x10000, BRANCH.JMP_INDIRECT);
    const b = sink.toBytes();
    const psbs: number[] = [];
    for (let at = findPsb(b, 0); at >= 0; at = findPsb(b, at + 1)) psbs.push(at);
    expect(psbs.length).toBeGreaterThan(3);
    for (let k = 1; k < psbs.length; k++) {
      // The interval is checked after each branch, so PSBs are at least 32 bytes apart.
      expect(psbs[k] - psbs[k - 1]).toBeGreaterThanOrEqual(32);
      expect(hex(b.subarray(psbs[k] + 16, psbs[k] + 16 + 2 + 5 + 2)).slice(0, 6)).toBe('99025d');
      expect(hex(b.subarray(psbs[k] + 23, psbs[k] + 25))).toBe('0223');
    }
  });
});

describe('PT packets', () => {
  test.each<[PtPacket, string]>([
    [{ type: 'pad' }, '00'],
    [{ type: 'psbend' }, '0223'],
    [{ type: 'ovf' }, '02f3'],
    [{ type: 'tracestop' }, '0283'],
    [{ type: 'tnt', long: false, count: 1, bits: 0 }, '04'],
    [{ type: 'tnt', long: false, count: 6, bits: 0b101010 }, 'd4'],
    [{ type: 'tnt', long: true, count: 47, bits: 2 ** 47 - 1 }, '02a3ffffffffffff'],
    [{ type: 'tip', ipBytes: 0, ipLow: 0, ipHigh: 0 }, '0d'],
    [{ type: 'tip-pge', ipBytes: 1, ipLow: 0xbeef, ipHigh: 0 }, '31efbe'],
    [{ type: 'fup', ipBytes: 3, ipLow: 0x12345678, ipHigh: 0xffff }, '7d78563412ffff'],
    [{ type: 'tip-pgd', ipBytes: 6, ipLow: 0x89abcdef, ipHigh: 0x01234567 }, 'c1efcdab8967452301'],
    [{ type: 'mode-exec', csl: false, csd: true }, '9902'],
    [{ type: 'mode-tsx', intx: true, abrt: false }, '9921'],
    [{ type: 'cbr', ratio: 0x22 }, '02032200'],
    [{ type: 'mtc', ctc: 7 }, '5907'],
    [{ type: 'tsc', low: 0x04030201, high: 0x070605 }, '1901020304050607'],
    [{ type: 'cyc', value: 3 }, '1b'],
    [{ type: 'cyc', value: 32 }, '0702'],
  ])('%j encodes as %s and decodes back', (p, h) => {
    expect(encode(p)).toBe(h);
    const d = decodePacket(bytes(h), 0);
    expect(d.size).toBe(h.length / 2);
    expect(d.packet).toEqual(p);
  });

  test('damage is reported with its offset and kind', () => {
    const cases: Array<[string, string, number]> = [
      ['d9', 'bad-opc', 0], // (0xff would be a CYC header)
      ['02ff', 'bad-opc', 0],
      ['02a3000000000000', 'bad-packet', 0],
      ['ad00', 'bad-packet', 0], // IPBytes 101 is reserved
      ['5100', 'eos', 0],
      ['0282028202', 'eos', 0],
      ['02820282028202820282028202820200', 'bad-packet', 0],
      ['99e0', 'bad-packet', 0],
    ];
    for (const [h, code, offset] of cases) {
      let err: unknown;
      try {
        decodePacket(bytes(h), 0);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(PtDecodeError);
      expect([h, (err as PtDecodeError).code, (err as PtDecodeError).offset]).toEqual([h, code, offset]);
    }
  });

  test('findPsb finds only whole PSBs', () => {
    const psb = '0282'.repeat(8);
    const b = bytes('00' + '0282'.repeat(7) + '00' + psb);
    expect(findPsb(b, 0)).toBe(16);
    expect(findPsb(bytes(psb), 1)).toBe(-1);
  });
});

describe('last IP', () => {
  test('reconstruction follows the IPBytes rules', () => {
    const l = new LastIp();
    expect(l.update(2, 0x12345678, 0)).toBe(true);
    expect(l.update(1, 0xabcd, 0)).toBe(true);
    expect(l.low).toBe(0x1234abcd);
    expect(l.update(0, 0, 0)).toBe(false);
    expect(l.low).toBe(0x1234abcd);
    l.update(3, 0x11112222, 0x8000);
    expect([l.low, l.high]).toEqual([0x11112222, 0xffff8000]);
    l.update(4, 0x33334444, 0x0001);
    expect([l.low, l.high]).toEqual([0x33334444, 0xffff0001]);
    expect(() => l.update(5, 0, 0)).toThrow(RangeError);
  });

  test('compression picks the fewest bytes that reconstruct the IP', () => {
    const enc = new LastIp();
    const dec = new LastIp();
    const ips = [0x1000, 0x1010, 0x20001000, 0x20001ffe, 0xfffffff0, 0x10];
    const sizes = ips.map((ip) => {
      const n = enc.compress(ip, 0);
      dec.update(n, ip, 0);
      expect(dec.low).toBe(ip >>> 0);
      return n;
    });
    expect(sizes).toEqual([1, 1, 2, 1, 2, 2]);
  });

  test('the TNT cache writes short TNTs of up to 6 bits when capped at 6', () => {
    const sink = new BufferSink();
    const c = new TntCache(sink, 6);
    for (let i = 0; i < 7; i++) c.add(true);
    c.flush();
    expect(hex(sink.toBytes())).toBe('fe' + '06');
  });
});
