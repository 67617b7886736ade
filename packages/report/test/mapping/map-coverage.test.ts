import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { assemble, FasFile } from '@fasmcov/fas';
import { classifyInstruction, EdgeRecorder, GuestMachine, TraceSession } from '@fasmcov/tracer';
import { addressCountsFromEdges, mapCoverage, type AddressCounts } from '@fasmcov/report';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fasmcov-map-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
const src = path.join(dir, 'prog.asm');
fs.copyFileSync(path.join(__dirname, 'prog.asm'), src);
assemble(src, { output: path.join(dir, 'prog.o'), symbols: path.join(dir, 'prog.fas') });
const fas = FasFile.read(path.join(dir, 'prog.fas'));
const sourceLines = fs.readFileSync(src, 'utf8').split('\n');
const lineOf = (text: string) => sourceLines.findIndex((l) => l.includes(text)) + 1;

function load(): GuestMachine {
  const m = new GuestMachine();
  m.loadObject(fs.readFileSync(path.join(dir, 'prog.o')), 'prog.o');
  return m;
}

/** A machine about to enter `run`, which returns to a `hlt` at 0x10000. */
function prepared(): GuestMachine {
  const m = load();
  m.memory.map(0x10000, 4096);
  m.memory.write8(0x10000, 0xf4);
  m.cpu.regs[4] -= 4;
  m.memory.write32(m.cpu.regs[4], 0x10000);
  m.cpu.eip = m.symbol('run') as number;
  return m;
}

/** Oracle: single-step the CPU and count by eip, arms by where each conditional branch went. */
function stepCounts(): AddressCounts {
  const m = prepared();
  const counts: AddressCounts = { instructions: new Map(), branches: new Map(), entries: new Map() };
  counts.entries.set(m.cpu.eip, 1);
  for (let n = 0; n < 1000 && m.cpu.eip !== 0x10000; n++) {
    const ip = m.cpu.eip;
    const info = classifyInstruction((a) => m.memory.read8(a), ip);
    counts.instructions.set(ip, (counts.instructions.get(ip) ?? 0) + 1);
    m.cpu.run(1);
    if (info.conditional) {
      const arms = counts.branches.get(ip) ?? { taken: 0, notTaken: 0 };
      if (m.cpu.eip === ip + info.length) arms.notTaken++;
      else arms.taken++;
      counts.branches.set(ip, arms);
    }
    if (info.mnemonic === 'call') counts.entries.set(m.cpu.eip, (counts.entries.get(m.cpu.eip) ?? 0) + 1);
  }
  return counts;
}

function edgeCounts(): { counts: AddressCounts; m: GuestMachine } {
  const m = prepared();
  const edges = new EdgeRecorder();
  const session = new TraceSession({ edges });
  session.attach(m.cpu);
  expect(m.cpu.run(1000)).toBe('halt');
  session.finish(0x10000);
  const read8 = (a: number) => m.memory.read8(a);
  const image = m.images[0].sections.map((x) => ({ start: x.base, end: x.base + x.size }));
  return {
    counts: addressCountsFromEdges(edges, { classify: classifyInstruction, read8, ranges: image }),
    m,
  };
}

describe('mapping address counts to source coverage', () => {
  const { counts, m } = edgeCounts();
  const sections = m.images[0].sections;
  const doc = mapCoverage(counts, {
    fas,
    sections,
    read8: (a) => m.memory.read8(a),
    classify: classifyInstruction,
    root: dir,
    test: 'prog',
  }).document;
  const file = doc.files.find((f) => f.path === 'prog.asm');
  const line = (text: string) => file?.lines.find((l) => l.line === lineOf(text));

  it('edges give the same counts as single-stepping (for the code that ran)', () => {
    const step = stepCounts();
    expect(Object.fromEntries(counts.instructions)).toEqual(Object.fromEntries(step.instructions));
    expect(Object.fromEntries(counts.branches)).toEqual(Object.fromEntries(step.branches));
    expect(Object.fromEntries(counts.entries)).toEqual(Object.fromEntries(step.entries));
  });

  it('counts lines as the program semantics say', () => {
    expect(line('mov     ecx, 5')).toEqual({ line: lineOf('mov     ecx, 5'), hits: 1, instructions: 1 });
    // the macro invocation counts at its own line: 5 iterations × 2 instructions
    expect(line('twice   inc eax')).toMatchObject({ hits: 5, instructions: 10 });
    expect(line('dec     ecx')).toMatchObject({ hits: 5 });
    expect(line('add     eax, 1')).toMatchObject({ hits: 2 });
    const never = file?.lines.filter((l) => l.line > lineOf('.never:') && l.line < lineOf('helper:'));
    expect(never?.map((l) => l.hits)).toEqual([0, 0, 0]);
    // the macro body and the data table are not statements
    expect(file?.lines.some((l) => l.line === lineOf('  op'))).toBe(false);
    expect(file?.lines.some((l) => l.line === lineOf('table'))).toBe(false);
    expect(file?.lines.length).toBe(17); // 12 in run, 3 after .never, 2 in helper
  });

  it('gives both arms of each conditional jump', () => {
    expect(file?.branches).toEqual([
      { line: lineOf('jnz     .loop'), index: 0, taken: 4, notTaken: 1 },
      { line: lineOf('je      .never'), index: 0, taken: 0, notTaken: 1 },
    ]);
  });

  it('finds functions: public entry and call targets, with entry counts', () => {
    expect(file?.functions).toEqual([
      { name: 'run', line: lineOf('run:'), hits: 1 },
      { name: 'helper', line: lineOf('helper:'), hits: 2 },
    ]);
  });
});
