// ptSizeFloor on a trace whose every packet is known: the PT encoder's own output for a few
// branches, a call out of the traced range (a host call) and back, and the stop at the end.
import { BRANCH, BufferSink, PtEncoder, writePacket } from '@fasmcov/tracer';
import { dumpPackets, ptSizeFloor } from '@fasmcov/report';

function hostCallTrace(): Uint8Array {
  const sink = new BufferSink();
  const enc = new PtEncoder(sink, { ranges: [{ start: 0x1000, end: 0x2000 }] });
  enc.enable(0x1000);
  for (let i = 0; i < 13; i++) enc.branch(0x1010, 0x1000, BRANCH.COND_TAKEN);
  enc.branch(0x1100, 0x7ffe0000, BRANCH.CALL); // leaves the range: TIP.PGD(stub)
  enc.branch(0x7ffe0003, 0x1105, BRANCH.RET); // back in: TIP.PGE(return address)
  for (let i = 0; i < 5; i++) enc.branch(0x1110, 0x1120, BRANCH.COND_NOT_TAKEN);
  enc.finish(0x1200); // FUP + TIP.PGD, IP suppressed
  return sink.toBytes();
}

describe('ptSizeFloor', () => {
  test('counts TNT bits at six a byte, each TIP.PGE/PGD at its shortest IP, and one PSB+', () => {
    const trace = hostCallTrace();
    const floor = ptSizeFloor(trace);
    expect(floor.tntBits).toBe(18);
    expect(floor.filterPackets).toBe(4);
    // PGE(0x1000) after the PSB (last IP 0): 16-bit update, 3 bytes (the encoder sends 5);
    // PGD(0x7ffe0000) and PGE(0x1105) share no upper half with the IP before: 5 bytes each;
    // the final PGD has no IP: 1 byte.
    expect(floor.filterBytes).toBe(3 + 5 + 5 + 1);
    expect(floor.bytes).toBe(3 + 14 + 18);
    expect(floor.bytes).toBeLessThan(trace.length);
  });

  test('the shortest forms are taken against the last IP, which a PSB resets', () => {
    // Code at 0x12340000, a host stub at 0x12348000 in the same upper half.
    const sink = new BufferSink();
    const ip = (type: 'tip-pge' | 'tip-pgd', low: number, ipBytes = 2) =>
      writePacket(sink, { type, ipBytes, ipLow: low, ipHigh: 0 });
    writePacket(sink, { type: 'psb' });
    writePacket(sink, { type: 'psbend' });
    ip('tip-pge', 0x12340000); // after a PSB (last IP 0): 5 bytes
    ip('tip-pgd', 0x12348000); // after 0x12340000: 3
    ip('tip-pge', 0x12340015); // after 0x12348000: 3
    ip('tip-pgd', 0x12348000); // 3
    writePacket(sink, { type: 'psb' });
    writePacket(sink, { type: 'psbend' });
    ip('tip-pge', 0x12340015); // after a PSB again: 5, not 3
    ip('tip-pgd', 0, 0); // IP suppressed: 1
    const floor = ptSizeFloor(sink.toBytes());
    expect(floor.filterPackets).toBe(6);
    expect(floor.filterBytes).toBe(5 + 3 + 3 + 3 + 5 + 1);
    expect(floor.tntBits).toBe(0);
    expect(floor.bytes).toBe(floor.filterBytes + 18);
  });

  test('a damaged trace is an error, not a floor', () => {
    const trace = hostCallTrace();
    const fup = dumpPackets(trace).packets.find((p) => p.packet.type === 'fup');
    if (fup === undefined) throw new Error('no FUP in the trace');
    trace[fup.offset] = (5 << 5) | (trace[fup.offset] & 0x1f); // IPBytes 101: reserved
    expect(() => ptSizeFloor(trace)).toThrow(/IPBytes/);
  });
});
