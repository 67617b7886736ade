// Edge counts and UMKa's coverage table, checked on the vector's loop by hand: mov at 0x1000,
// dec at 0x1005, jnz 0x1005 at 0x1006 (taken twice, then not), ret at 0x1008 leaving for 0x2000.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  BRANCH,
  EdgeRecorder,
  FileSink,
  SIDEBAND_SCHEMA,
  TraceFormatError,
  UMKA_TABLE_ENTRIES,
  readSideband,
  readUmkaTable,
  umkaInstructionCounts,
  umkaTableFromEdges,
  validateSideband,
  writeSideband,
  writeUmkaTable,
} from '@fasmcov/tracer';
import type { Sideband } from '@fasmcov/tracer';

function vectorEdges(): EdgeRecorder {
  const r = new EdgeRecorder({ ranges: [{ start: 0x1000, end: 0x1009 }] });
  r.start(0x1000);
  r.hook(0x1006, 0x1005, BRANCH.COND_TAKEN);
  r.hook(0x1006, 0x1005, BRANCH.COND_TAKEN);
  r.hook(0x1006, 0x1008, BRANCH.COND_NOT_TAKEN);
  r.hook(0x1008, 0x2000, BRANCH.RET);
  r.hook(0x2000, 0x2010, BRANCH.JMP); // outside: ignored
  r.hook(0x2010, 0x1005, BRANCH.JMP); // back in: a start
  return r;
}

const tmp = (): string => fs.mkdtempSync(path.join(os.tmpdir(), 'fasmcov-trace-'));

describe('edge recorder', () => {
  test('counts edges by (from, to, kind), and starts where control enters the ranges', () => {
    const r = vectorEdges();
    expect(r.edges()).toEqual([
      { from: 0x1006, to: 0x1005, kind: BRANCH.COND_TAKEN, count: 2 },
      { from: 0x1006, to: 0x1008, kind: BRANCH.COND_NOT_TAKEN, count: 1 },
      { from: 0x1008, to: 0x2000, kind: BRANCH.RET, count: 1 },
    ]);
    expect([...r.startCounts]).toEqual([
      [0x1000, 1],
      [0x1005, 1],
    ]);
    expect(r.armCounts(0x1006)).toEqual({ taken: 2, notTaken: 1 });
  });

  test('a jcc to the next instruction keeps taken and not-taken apart', () => {
    const r = new EdgeRecorder();
    r.hook(0x10, 0x12, BRANCH.COND_TAKEN);
    r.hook(0x10, 0x12, BRANCH.COND_NOT_TAKEN);
    r.hook(0x10, 0x12, BRANCH.COND_NOT_TAKEN);
    expect(r.armCounts(0x10)).toEqual({ taken: 1, notTaken: 2 });
  });

  test('the fasmcov-edges@1 document round-trips, merges, and rejects malformed input', () => {
    const r = vectorEdges();
    r.stop(0x1008);
    const doc = JSON.parse(JSON.stringify(r.toDocument()));
    const back = EdgeRecorder.fromDocument(doc);
    expect(back.toDocument()).toEqual(r.toDocument());
    back.merge(r);
    expect(back.armCounts(0x1006)).toEqual({ taken: 4, notTaken: 2 });
    expect(back.stopCounts.get(0x1008)).toBe(2);
    expect(() => EdgeRecorder.fromDocument({ schema: 'x' })).toThrow(TraceFormatError);
    expect(() => EdgeRecorder.fromDocument({ ...doc, edges: [[1, 2, 3, -1]] })).toThrow(/bad edge #0/);
  });
});

describe("UMKa's coverage table", () => {
  test('per-instruction counts from the table match the hand count', () => {
    const t = umkaTableFromEdges(vectorEdges(), 0x1000, 16);
    const counts = umkaInstructionCounts(t, [
      { offset: 0, length: 5, conditional: false },
      { offset: 5, length: 1, conditional: false },
      { offset: 6, length: 2, conditional: true },
      { offset: 8, length: 1, conditional: false },
    ]);
    // The second start (re-entry at 0x1005) adds one more pass over dec/jnz/ret; it has no
    // matching departure, as a run that ended inside the code.
    expect(counts).toEqual([{ count: 1 }, { count: 4 }, { count: 4, taken: 2, notTaken: 2 }, { count: 2 }]);
  });

  test('file layout: 16 bytes per code byte, little-endian uint64 to-count then from-count', () => {
    const t = umkaTableFromEdges(vectorEdges(), 0x1000);
    expect(t.to.length).toBe(UMKA_TABLE_ENTRIES);
    const bytes = writeUmkaTable(t);
    expect(bytes.length).toBe(UMKA_TABLE_ENTRIES * 16);
    const entry = (i: number): string => Buffer.from(bytes.subarray(i * 16, i * 16 + 16)).toString('hex');
    expect(entry(5)).toBe('0300000000000000' + '0000000000000000'); // 2 jnz arrivals + 1 start
    expect(entry(6)).toBe('0000000000000000' + '0200000000000000'); // jnz taken twice
    expect(entry(8)).toBe('0000000000000000' + '0100000000000000'); // ret
    const back = readUmkaTable(bytes);
    expect(Array.from(back.to.subarray(0, 9))).toEqual(Array.from(t.to.subarray(0, 9)));
    expect(Array.from(back.from.subarray(0, 9))).toEqual(Array.from(t.from.subarray(0, 9)));
    expect(() => readUmkaTable(new Uint8Array(17), 'x.cov')).toThrow(/x\.cov: .* at byte offset 17/);
  });
});

describe('file sink and sideband', () => {
  test('the file sink streams in chunks and ends with every byte', () => {
    const file = path.join(tmp(), 'trace.pt');
    const s = new FileSink(file, 100);
    const expected: number[] = [];
    for (let i = 0; i < 1000; i++) {
      s.writeByte((i * 31) & 0xff);
      expected.push((i * 31) & 0xff);
      if (i === 500) expect(fs.statSync(file).size).toBe(500); // 5 full chunks so far
    }
    expect(s.length).toBe(1000);
    s.close();
    expect(Array.from(fs.readFileSync(file))).toEqual(expected);
  });

  test('sideband files are validated and written atomically', () => {
    const dir = tmp();
    const sb: Sideband = {
      schema: SIDEBAND_SCHEMA,
      trace: 'trace.pt',
      mode: 32,
      ranges: [{ start: 0x1000, end: 0x2000 }],
      sections: [{ name: 'kernel', address: 0x1000, size: 0x1000, file: 'kernel.bin', offset: 0 }],
      instructions: 12,
    };
    writeSideband(path.join(dir, 'trace.sideband.json'), sb);
    expect(readSideband(path.join(dir, 'trace.sideband.json'))).toEqual(sb);
    expect(() => validateSideband({ ...sb, mode: 64 })).toThrow(/mode must be 32/);
    expect(() => validateSideband({ ...sb, sections: [{ ...sb.sections[0], address: -1 }] })).toThrow(
      /section #0/,
    );
    expect(() => validateSideband({ ...sb, schema: 'fasmcov-sideband@2' })).toThrow(TraceFormatError);
  });
});
