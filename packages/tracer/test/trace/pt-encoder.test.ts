// The PT encoder's sinks against each other: a FileSink with tiny chunks holds what a BufferSink
// holds; PSB+ comes at the default interval.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { BRANCH, BufferSink, FileSink, PtEncoder, findPsb } from '@fasmcov/tracer';
import { encode, events, opts } from './helpers/branch-events';

describe('PtEncoder entry points and sinks', () => {
  test.each([false, true])('a FileSink in 64-byte chunks holds the same bytes (long TNT %s)', (longTnt) => {
    const evs = events(7, 20000);
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'fasmcov-sink-')), 'trace.pt');
    const fileSink = new FileSink(file, 64);
    const pt = new PtEncoder(fileSink, opts({ longTnt }));
    pt.enable(0x1000);
    for (const e of evs) pt.branch(e.from, e.to, e.kind);
    pt.finish(0x1000);
    fileSink.close();
    const inMemory = encode(evs, opts({ longTnt })).toBytes();
    expect(fileSink.length).toBe(inMemory.length);
    expect(Buffer.from(fs.readFileSync(file)).equals(Buffer.from(inMemory))).toBe(true);
  });

  test('the default PSB interval is 16 KiB of trace', () => {
    const sink = new BufferSink();
    const pt = new PtEncoder(sink);
    pt.enable(0x1000);
    // Indirect jumps alternating between two 64 KiB pages: a 5-byte TIP each.
    for (let i = 0; i < 40000; i++) pt.branch(0x1000, i % 2 ? 0x20000 : 0x30000, BRANCH.JMP_INDIRECT);
    pt.finish(0x1000);
    const b = sink.toBytes();
    const psbs: number[] = [];
    for (let at = findPsb(b, 0); at >= 0; at = findPsb(b, at + 1)) psbs.push(at);
    expect(psbs.length).toBeGreaterThanOrEqual(4);
    // The interval is checked after each packet: a PSB comes within one TIP of it.
    for (let k = 1; k < psbs.length; k++) {
      expect(psbs[k] - psbs[k - 1]).toBeGreaterThanOrEqual(16 * 1024);
      expect(psbs[k] - psbs[k - 1]).toBeLessThan(16 * 1024 + 5);
    }
  });
});
