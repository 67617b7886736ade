// The block compiler against the interpreter on the differential generator's random sequences:
// every case is run by both, whole and in budget slices, with and without a branch hook, and the
// complete state (registers, eflags, MMX, memory, eip, instructions retired, fault) must agree.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { assemble } from '@fasmcov/fas';
import { Cpu, Memory } from '@fasmcov/tracer';
import { CaseGenerator, DATA_BASE, DATA_SIZE, type DiffCase, Prng, emulatedSource } from '../../src/diff';
import { type Snapshot, compileEagerly, runOutcome, snapshot } from './jit-helpers';

const ORG = 0x01000000;
const CASES = 300;

compileEagerly();

interface Fixture {
  image: Uint8Array;
  cases: DiffCase[];
  initData: Uint8Array;
}

function makeFixture(seed: number): Fixture {
  const rng = new Prng(seed);
  const initData = new Uint8Array(DATA_SIZE);
  for (let k = 0; k < DATA_SIZE; k++)
    initData[k] = rng.chance(0.3) ? rng.pick([0, 0xff, 0x80, 0x7f]) : rng.int(256);
  const cases: DiffCase[] = [];
  for (let k = 0; k < CASES; k++) cases.push(new CaseGenerator(rng, `c${k}`).next(1 + rng.int(10)));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fasmcov-jit-'));
  try {
    fs.writeFileSync(path.join(dir, 'c.asm'), emulatedSource(cases));
    assemble(path.join(dir, 'c.asm'), { output: path.join(dir, 'c.bin'), memoryKiB: 262144 });
    return { image: new Uint8Array(fs.readFileSync(path.join(dir, 'c.bin'))), cases, initData };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function machine(f: Fixture, jit: boolean): Cpu {
  const mem = new Memory();
  mem.map(ORG, f.image.length);
  mem.writeBytes(ORG, f.image);
  mem.map(DATA_BASE, 4096);
  const cpu = new Cpu(mem);
  cpu.jit = jit;
  return cpu;
}

function start(cpu: Cpu, f: Fixture, k: number): void {
  const c = f.cases[k];
  cpu.memory.writeBytes(DATA_BASE, f.initData);
  c.regs.forEach((v, r) => (cpu.regs[r] = v));
  cpu.setEflags(c.flags);
  for (let m = 0; m < 16; m++) cpu.mm[m] = cpu.memory.read32(DATA_BASE + 4 * m);
  cpu.eip = cpu.memory.read32(ORG + 4 + 4 * k) >>> 0;
  cpu.instructionsRetired = 0;
}

const RANGES: Array<[number, number]> = [[DATA_BASE, DATA_SIZE]];

/** Runs case k in slices of the given budgets (cycled) until it stops; a snapshot after each slice. */
function sliced(cpu: Cpu, f: Fixture, k: number, budgets: number[]): Snapshot[] {
  start(cpu, f, k);
  const out: Snapshot[] = [];
  for (let s = 0; s < 100000; s++) {
    const why = runOutcome(cpu, budgets[s % budgets.length]);
    out.push(snapshot(cpu, why, RANGES));
    if (why !== 'budget') break;
  }
  return out;
}

function describeCase(f: Fixture, k: number): string {
  return `case ${k}:\n  ${f.cases[k].body.join('\n  ')}`;
}

describe('JIT vs interpreter on generated instruction sequences', () => {
  const seeds = [1, 2];
  for (const seed of seeds) {
    it(`seed ${seed}: whole runs, repeated so compiled and chained blocks are reused`, () => {
      const f = makeFixture(seed);
      const interp = machine(f, false);
      const jit = machine(f, true);
      let compared = 0;
      for (let k = 0; k < f.cases.length; k++) {
        const want = sliced(interp, f, k, [100000]);
        for (let pass = 0; pass < 3; pass++) {
          const got = sliced(jit, f, k, [100000]);
          if (JSON.stringify(got) !== JSON.stringify(want))
            expect({ case: describeCase(f, k), got }).toEqual({ case: describeCase(f, k), got: want });
          compared++;
        }
      }
      expect(compared).toBe(3 * CASES);
    });

    it(`seed ${seed}: budget slices stop at exactly the same instruction`, () => {
      const f = makeFixture(seed + 100);
      const interp = machine(f, false);
      const jit = machine(f, true);
      const rng = new Prng(seed);
      for (let k = 0; k < f.cases.length; k++) {
        const budgets = [1 + rng.int(9), 1 + rng.int(3), 2 + rng.int(20)];
        const want = sliced(interp, f, k, budgets);
        sliced(jit, f, k, budgets); // compiles
        const got = sliced(jit, f, k, budgets);
        if (JSON.stringify(got) !== JSON.stringify(want))
          expect({ case: describeCase(f, k), budgets, got }).toEqual({
            case: describeCase(f, k),
            budgets,
            got: want,
          });
      }
    });
  }

  it('the branch hook sees the same events in the same order', () => {
    const f = makeFixture(7);
    const record = (cpu: Cpu): Array<[number, number, number]> => {
      const ev: Array<[number, number, number]> = [];
      cpu.branchHook = (a, b, kind) => ev.push([a, b, kind]);
      return ev;
    };
    const interp = machine(f, false);
    const jit = machine(f, true);
    for (let k = 0; k < f.cases.length; k++) {
      const evA = record(interp);
      const want = sliced(interp, f, k, [100000]);
      sliced(jit, f, k, [100000]);
      const evB = record(jit);
      const got = sliced(jit, f, k, [100000]);
      expect(got).toEqual(want);
      if (JSON.stringify(evA) !== JSON.stringify(evB))
        expect({ case: describeCase(f, k), evB }).toEqual({ case: describeCase(f, k), evB: evA });
    }
  });

  it('is really compiling: blocks exist and the differences are detectable', () => {
    const f = makeFixture(3);
    const jit = machine(f, true);
    for (let k = 0; k < 20; k++) sliced(jit, f, k, [100000]);
    const engine = (jit as unknown as { jitEngine: { compiled: number } }).jitEngine;
    expect(engine.compiled).toBeGreaterThan(10);
    // A corrupted compiled result must show up in the comparison used above.
    const a = sliced(machine(f, false), f, 0, [100000]);
    const b = sliced(jit, f, 0, [100000]);
    b[b.length - 1].regs[0] ^= 1;
    expect(JSON.stringify(a)).not.toBe(JSON.stringify(b));
  });
});
