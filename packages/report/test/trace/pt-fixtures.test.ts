// Kernel fixture runs recorded as they ship (return compression on): the PT trace decodes with our
// decoder to the edge recorder's exact edges, and with libipt to run.json's instruction count.
// (packages/instrument/test/kernel-fixtures.test.ts checks every fixture; these few run fast.)
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  BRANCH,
  buildKernel,
  fixtureScript,
  prepareFixture,
  readSideband,
  runScript,
  sidebandPath,
} from '@fasmcov/tracer';
import type { EdgesDocument } from '@fasmcov/tracer';
import { dumpPackets, ptSizeFloor, readRunInfo, runEdges, runImage } from '@fasmcov/report';
import { buildOracle, oracleFlow, oracleMissing } from './helpers/ipt-oracle';

const repoRoot = path.resolve(__dirname, '../../../..');
const FIXTURES = ['ext2-cwd', 'fat16-write', 'gpt-partitions'];

let kernel: { object: string; bytes: Buffer };
let work: string;

beforeAll(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'fasmcov-pt-fixtures-'));
  const k = buildKernel(path.join(repoRoot, 'kernel'), path.join(work, 'kernel'));
  kernel = { object: k.object, bytes: fs.readFileSync(k.object) };
});

function record(name: string): string {
  const f = prepareFixture(
    path.join(repoRoot, 'fixtures/fs', name),
    path.join(repoRoot, 'fixtures/images'),
    path.join(work, name),
  );
  const runDir = path.join(work, name, 'run');
  runScript({
    kernel: kernel.bytes,
    kernelFile: kernel.object,
    ...fixtureScript(f),
    maxInstructions: 2e10,
    traces: ['edges', 'pt'],
    runDir,
  });
  return runDir;
}

function tntBits(trace: Uint8Array): number {
  let bits = 0;
  for (const { packet } of dumpPackets(trace).packets) if (packet.type === 'tnt') bits += packet.count;
  return bits;
}

describe.each(FIXTURES)('%s', (name) => {
  test('PT with return compression: same edges as the edge recorder, libipt agrees with run.json', () => {
    const runDir = record(name);
    const info = readRunInfo(runDir);
    const image = runImage(runDir, info);
    const fromEdges = runEdges(runDir, info, image, 'edges');
    const fromPt = runEdges(runDir, info, image, 'pt');
    // Every edge; starts and stops inside the traced code (the edge recorder also notes those
    // in host-call stubs, where PT is off).
    const traced = (ip: number): boolean => info.ranges.some((r) => ip >= r.start && ip < r.end);
    const inCode = (d: EdgesDocument): EdgesDocument => ({
      ...d,
      starts: d.starts.filter(([ip]) => traced(ip)),
      stops: d.stops.filter(([ip]) => traced(ip)),
    });
    expect(inCode(fromPt.toDocument())).toEqual(inCode(fromEdges.toDocument()));

    // Returns were compressed: the TNT bits outnumber the conditional branches by the returns
    // that went back to their call sites, most of them.
    const trace = new Uint8Array(fs.readFileSync(path.join(runDir, 'trace.pt')));
    let conditional = 0;
    let returns = 0;
    for (const e of fromEdges.edges()) {
      if (e.kind === BRANCH.COND_TAKEN || e.kind === BRANCH.COND_NOT_TAKEN) conditional += e.count;
      if (e.kind === BRANCH.RET) returns += e.count;
    }
    const compressed = tntBits(trace) - conditional;
    expect(compressed).toBeGreaterThan(returns / 2);
    expect(compressed).toBeLessThanOrEqual(returns);
    // The size floor counts the same bits and is below the trace by its TIPs at least.
    const floor = ptSizeFloor(trace);
    expect(floor.tntBits).toBe(tntBits(trace));
    const tipBytes = dumpPackets(trace)
      .packets.filter((p) => p.packet.type === 'tip')
      .reduce((n, p) => n + p.size, 0);
    expect(floor.bytes).toBeLessThanOrEqual(trace.length - tipBytes);
    expect(floor.bytes).toBeGreaterThanOrEqual(Math.ceil(floor.tntBits / 6) + 18);
    process.stdout.write(
      `${name}: ${trace.length} bytes, ${info.tracedInstructions} instructions, ` +
        `${((trace.length * 8) / info.tracedInstructions).toFixed(3)} bits/instr, ` +
        `${compressed} of ${returns} returns compressed\n`,
    );

    if (!buildOracle()) {
      process.stdout.write(`libipt oracle skipped: ${oracleMissing()}\n`);
      return;
    }
    const sbFile = path.join(runDir, 'trace.sideband.json');
    const sb = readSideband(sbFile);
    const lib = oracleFlow(
      sidebandPath(sbFile, sb.trace),
      sb.sections.map((s) => `${sidebandPath(sbFile, s.file)}:${s.offset}:${s.size}:${s.address}`),
    );
    expect(lib.errors).toEqual([]);
    expect(lib.instructions).toBe(info.tracedInstructions);
  });
});
