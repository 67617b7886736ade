// The bulk path of rep string instructions (exec/string-bulk.ts) against the one-iteration-at-a-time
// loop it replaces: the same registers, flags, memory, eip, instructions retired and faults, with the
// JIT on and off, whole runs and budget slices. Concrete cases also check values worked out here.
import type { Cpu } from '@fasmcov/tracer';
import { STRING_STATS, STRING_TUNING } from '../../src/cpu/exec/string-bulk';
import { CODE, DATA, STACK_TOP } from './helpers';
import { compileEagerly, loadOnce, peekEflags, runOutcome } from './jit-helpers';

compileEagerly();

/** DATA..+64 KiB is writable (helpers.load); the next page is read-only; the one after is unmapped. */
const RO_PAGE = DATA + 0x10000;
const UNMAPPED = DATA + 0x11000;

const SUFFIX: Record<number, string> = { 1: 'b', 2: 'w', 4: 'd' };
type Op = 'movs' | 'stos' | 'lods' | 'scas' | 'cmps';
const OPS: Op[] = ['movs', 'stos', 'lods', 'scas', 'cmps'];

interface Scenario {
  op: Op;
  size: number;
  prefix: 'rep' | 'repe' | 'repne';
  df: boolean;
  esi: number;
  edi: number;
  ecx: number;
  eax: number;
  /** Instruction budgets of successive run() calls (cycled) until the run stops. */
  budgets: number[];
}

interface Mode {
  jit: boolean;
  bulk: boolean;
}
const REFERENCE: Mode = { jit: false, bulk: false };
const MODES: Mode[] = [
  { jit: false, bulk: true },
  { jit: true, bulk: true },
  { jit: true, bulk: false },
];

/** Small deterministic generator (xorshift32), independent of the code under test. */
class Rng {
  constructor(private s: number) {}
  u32(): number {
    this.s ^= this.s << 13;
    this.s ^= this.s >>> 17;
    this.s ^= this.s << 5;
    return this.s >>> 0;
  }
  int(n: number): number {
    return this.u32() % n;
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)];
  }
}

/** Data: runs of zeros, of one repeated byte and random bytes, so repe/repne scans run long and short. */
function initialData(): Uint8Array {
  const rng = new Rng(12345);
  const d = new Uint8Array(0x11000);
  for (let k = 0; k < d.length; k++) {
    const region = (k >> 10) % 3;
    d[k] = region === 0 ? 0 : region === 1 ? 0x5a : rng.int(256);
  }
  return d;
}
const DATA_BYTES = initialData();

/** Every form under test, each at its own label: `mov ebx, 1 / <rep op> / mov edx, ecx / hlt`. */
const FORMS: string[] = [];
for (const op of OPS)
  for (const size of [1, 2, 4])
    for (const prefix of op === 'scas' || op === 'cmps' ? ['repe', 'repne'] : ['rep'])
      FORMS.push(`${prefix} ${op}${SUFFIX[size]}`);
/** A table of the forms' addresses at CODE, then the forms. */
const SOURCE = [
  `dd ${FORMS.map((_, k) => `f${k}`).join(', ')}`,
  ...FORMS.map((f, k) => `f${k}: mov ebx, 1\n${f}\nmov edx, ecx\nhlt`),
].join('\n');

function formAddress(cpu: Cpu, s: Scenario): number {
  return cpu.memory.read32(CODE + 4 * FORMS.indexOf(`${s.prefix} ${s.op}${SUFFIX[s.size]}`)) >>> 0;
}

/**
 * One machine per mode, reused by every scenario (a Cpu takes milliseconds to create): its
 * decoded and compiled code stays valid since no scenario writes below DATA.
 */
const machines = new Map<string, Cpu>();
function machine(mode: Mode): Cpu {
  const key = JSON.stringify(mode);
  let cpu = machines.get(key);
  if (cpu === undefined) {
    cpu = loadOnce(SOURCE);
    cpu.jit = mode.jit;
    cpu.memory.map(RO_PAGE, 0x1000, { writable: false });
    machines.set(key, cpu);
  }
  return cpu;
}

function prepare(s: Scenario, mode: Mode): Cpu {
  const cpu = machine(mode);
  cpu.memory.writeBytes(DATA, DATA_BYTES);
  cpu.regs.fill(0);
  cpu.regs[4] = STACK_TOP;
  cpu.regs[0] = s.eax;
  cpu.regs[1] = s.ecx;
  cpu.regs[6] = s.esi;
  cpu.regs[7] = s.edi;
  cpu.setEflags((s.df ? 0x400 : 0) | 0x8d5);
  cpu.eip = formAddress(cpu, s);
  cpu.instructionsRetired = 0;
  return cpu;
}

/** Registers, flags, eip, instructions retired and outcome after a slice; memory kept apart. */
interface State {
  regs: number[];
  eflags: number;
  eip: number;
  retired: number;
  outcome: string;
  memory: Buffer;
}

function state(cpu: Cpu, outcome: string): State {
  return {
    regs: Array.from(cpu.regs, (v) => v >>> 0),
    eflags: peekEflags(cpu),
    eip: cpu.eip,
    retired: cpu.instructionsRetired,
    outcome,
    memory: Buffer.from(cpu.memory.readBytes(DATA, 0x11000)),
  };
}

/** Runs the scenario in the given mode; the state after each budget slice. */
function runIn(s: Scenario, mode: Mode): State[] {
  const saved = STRING_TUNING.bulk;
  STRING_TUNING.bulk = mode.bulk;
  try {
    const cpu = prepare(s, mode);
    const out: State[] = [];
    for (let k = 0; k < 10000; k++) {
      const why = runOutcome(cpu, s.budgets[k % s.budgets.length]);
      out.push(state(cpu, why));
      if (why !== 'budget') break;
    }
    return out;
  } finally {
    STRING_TUNING.bulk = saved;
  }
}

const withoutMemory = (st: State | undefined): Omit<State, 'memory'> | undefined =>
  st && { regs: st.regs, eflags: st.eflags, eip: st.eip, retired: st.retired, outcome: st.outcome };

/** Every mode must leave exactly the reference (one by one, interpreted) state after every slice. */
function expectSameEverywhere(s: Scenario): State[] {
  const ref = runIn(s, REFERENCE);
  for (const mode of MODES) {
    const got = runIn(s, mode);
    const same = (k: number): boolean =>
      JSON.stringify(withoutMemory(got[k])) === JSON.stringify(withoutMemory(ref[k])) &&
      got[k].memory.equals(ref[k].memory);
    for (let k = 0; k < Math.max(got.length, ref.length); k++) {
      if (k < got.length && k < ref.length && same(k)) continue;
      // Name the scenario, mode and slice, and show the first difference.
      const where = `${JSON.stringify(s)} ${JSON.stringify(mode)} slice ${k}`;
      expect({ where, state: withoutMemory(got[k]) }).toEqual({ where, state: withoutMemory(ref[k]) });
      expect({ where, memory: got[k].memory.equals(ref[k].memory) }).toEqual({ where, memory: true });
    }
  }
  return ref;
}

function scenario(p: Partial<Scenario> & Pick<Scenario, 'op' | 'size'>): Scenario {
  return {
    prefix: p.op === 'scas' || p.op === 'cmps' ? 'repe' : 'rep',
    df: false,
    esi: DATA + 0x100,
    edi: DATA + 0x2000,
    ecx: 10,
    eax: 0x11223344,
    budgets: [1_000_000],
    ...p,
  };
}

const reg = (snap: State, r: number): number => snap.regs[r];
const ESI = 6;
const EDI = 7;
const ECX = 1;

describe('rep string instructions: bulk path vs one iteration at a time', () => {
  it('agrees on 400 random scenarios (sizes, DF, page crossings, overlap, faults, budgets)', () => {
    const rng = new Rng(2024);
    const before = STRING_STATS.bulkIterations;
    // Addresses near page ends, near the read-only and unmapped pages, and anywhere in the data.
    const address = (): number => {
      const k = rng.int(4);
      if (k === 0) return DATA + 0x1000 * (1 + rng.int(15)) + rng.int(19) - 9;
      if (k === 1) return RO_PAGE + rng.int(0x1000) - 0x800;
      if (k === 2) return UNMAPPED + rng.int(64) - 48;
      return DATA + rng.int(0x10000);
    };
    const count = (): number =>
      rng.pick([0, 1, 2, 3, rng.int(20), rng.int(600), 4095, 4096, 4097, rng.int(9000), 0xffffffff]);
    for (let n = 0; n < 400; n++) {
      const op = rng.pick(OPS);
      const esi = address();
      // Often close to esi, so that source and destination overlap either way.
      const edi = rng.int(3) === 0 ? esi + rng.int(17) - 8 : address();
      const s = scenario({
        op,
        size: rng.pick([1, 2, 4]),
        prefix: op === 'scas' || op === 'cmps' ? rng.pick(['repe', 'repne'] as const) : 'rep',
        df: rng.int(3) === 0,
        esi,
        edi,
        ecx: count(),
        eax: rng.pick([0, 0x5a5a5a5a, rng.u32()]),
        budgets: rng.pick([[1_000_000], [1], [2, 3]]),
      });
      expectSameEverywhere(s);
    }
    // The comparison is only worth something if the bulk path ran a lot.
    expect(STRING_STATS.bulkIterations - before).toBeGreaterThan(500_000);
  });

  it('ecx = 0 changes nothing but eip', () => {
    for (const op of OPS) {
      const [snap] = expectSameEverywhere(scenario({ op, size: 4, ecx: 0 }));
      expect([reg(snap, ESI), reg(snap, EDI), reg(snap, ECX)]).toEqual([DATA + 0x100, DATA + 0x2000, 0]);
      expect(snap.eflags & 0x8d5).toBe(0x8d5);
    }
  });

  it('movs in both directions and sizes copies what a byte-by-byte model copies', () => {
    for (const size of [1, 2, 4])
      for (const df of [false, true]) {
        // 3000 elements from an odd address, crossing several page ends.
        const [esi, edi] = df ? [DATA + 0x4ffd, DATA + 0xc003] : [DATA + 0x0ffd, DATA + 0x8003];
        const s = scenario({ op: 'movs', size, df, esi, edi, ecx: 3000 });
        const [snap] = expectSameEverywhere(s);
        const step = df ? -size : size;
        expect(reg(snap, ESI)).toBe(s.esi + 3000 * step);
        expect(reg(snap, EDI)).toBe(s.edi + 3000 * step);
        expect(reg(snap, ECX)).toBe(0);
        const lo = df ? -(3000 - 1) * size : 0;
        const copied = snap.memory.subarray(s.edi - DATA + lo, s.edi - DATA + lo + 3000 * size);
        const source = DATA_BYTES.subarray(s.esi - DATA + lo, s.esi - DATA + lo + 3000 * size);
        expect(copied.equals(source)).toBe(true);
      }
  });

  it('an overlapping forward movsb replicates bytes as the byte loop does', () => {
    for (const d of [1, 2, 3, 5]) {
      const s = scenario({ op: 'movs', size: 1, esi: DATA + 0x2400, edi: DATA + 0x2400 + d, ecx: 5000 });
      const [snap] = expectSameEverywhere(s);
      const pattern = Buffer.from(Array.from({ length: 5000 + d }, (_, k) => DATA_BYTES[0x2400 + (k % d)]));
      expect(snap.memory.subarray(0x2400, 0x2400 + 5000 + d).equals(pattern)).toBe(true);
    }
  });

  it('an overlapping movsd (distance below the element size) matches the loop', () => {
    for (const df of [false, true])
      for (const d of [-3, -1, 1, 2, 3])
        expectSameEverywhere(
          scenario({ op: 'movs', size: 4, df, esi: DATA + 0x2400, edi: DATA + 0x2400 + d, ecx: 900 }),
        );
  });

  it('stops at a fault with the registers as after the last completed iteration', () => {
    // Writing up into the read-only page: 10 dwords fit below it.
    const w = expectSameEverywhere(scenario({ op: 'stos', size: 4, edi: RO_PAGE - 40, ecx: 100 }));
    const last = w[w.length - 1];
    expect(last.outcome).toMatch(/^fault 14 /);
    expect(last.outcome).toContain(`addr ${RO_PAGE.toString(16)}`);
    expect([reg(last, EDI), reg(last, ECX)]).toEqual([RO_PAGE, 90]);
    // Reading up into the unmapped page (an unaligned dword straddles it after 2 iterations).
    const r = expectSameEverywhere(scenario({ op: 'movs', size: 4, esi: UNMAPPED - 10, ecx: 50 }));
    const end = r[r.length - 1];
    expect(end.outcome).toMatch(/^fault 14 /);
    expect(end.outcome).toContain(`addr ${UNMAPPED.toString(16)}`);
    expect([reg(end, ESI), reg(end, EDI), reg(end, ECX)]).toEqual([UNMAPPED - 2, DATA + 0x2008, 48]);
    // Downwards into the unmapped page below the data.
    const down = expectSameEverywhere(scenario({ op: 'stos', size: 2, df: true, edi: DATA + 6, ecx: 9 }));
    const stop = down[down.length - 1];
    expect(stop.outcome).toContain(`addr ${(DATA - 2).toString(16)}`);
    expect([reg(stop, EDI), reg(stop, ECX)]).toEqual([DATA - 2, 5]);
  });

  it('a budget that runs out mid-rep stops at the same instruction count and registers', () => {
    // 20000 bytes: chunks of 4096 iterations, each retired as one instruction at the rep's eip.
    const s = scenario({ op: 'movs', size: 1, ecx: 20000, budgets: [2] });
    const slices = expectSameEverywhere(s);
    expect(slices[0].retired).toBe(2);
    expect(reg(slices[0], ECX)).toBe(20000 - 4096);
    expect(slices[0].eip).toBe(formAddress(machine(REFERENCE), s) + 5);
    expect(reg(slices[1], ECX)).toBe(20000 - 3 * 4096);
    expect(slices[1].retired).toBe(4);
    expect(slices[slices.length - 1].outcome).toBe('halt');
  });

  it('scas and cmps stop at the first (mis)match with its flags', () => {
    // Zeros at DATA+0x0c00..0x0fff, then 0x5a bytes: repe scasb with al=0 stops after 0x1000.
    const s = scenario({ op: 'scas', size: 1, edi: DATA + 0x0c00, ecx: 5000, eax: 0 });
    const [snap] = expectSameEverywhere(s);
    expect(reg(snap, EDI)).toBe(DATA + 0x1001);
    expect(reg(snap, ECX)).toBe(5000 - 0x401);
    expect(snap.eflags & 0x40).toBe(0); // ZF clear: stopped on a mismatch
    const n = expectSameEverywhere(
      scenario({ op: 'scas', size: 1, prefix: 'repne', edi: DATA, ecx: 5000, eax: 0x5a }),
    );
    expect(reg(n[0], EDI)).toBe(DATA + 0x0401);
    for (const size of [1, 2, 4])
      for (const prefix of ['repe', 'repne'] as const)
        expectSameEverywhere(
          scenario({ op: 'cmps', size, prefix, esi: DATA + 0x0c00, edi: DATA + 0x3c00, ecx: 3000 }),
        );
  });
});

describe('rep stos/movs over code that runs later (self-modifying code)', () => {
  // The first pass runs `mov eax, 1`; the rep then turns it into nops, so the second pass keeps eax = 7.
  const stos = `
    mov ebx, 2
    xor esi, esi
  top:
    mov eax, 7
  patch:
    mov eax, 1
    add esi, eax
    mov edi, patch
    mov ecx, 5
    mov al, 0x90
    rep stosb
    dec ebx
    jnz top
    hlt`;
  const movs = `
    mov ebx, 2
    xor ebp, ebp
  top:
    mov eax, 7
  patch:
    mov eax, 1
    add ebp, eax
    mov esi, nops
    mov edi, patch
    mov ecx, 5
    rep movsb
    dec ebx
    jnz top
    hlt
  nops: db 5 dup 0x90`;
  for (const [name, src, r] of [
    ['rep stosb', stos, ESI],
    ['rep movsb', movs, 5],
  ] as const)
    it(`${name} invalidates decoded and compiled code`, () => {
      for (const mode of [REFERENCE, ...MODES]) {
        const saved = STRING_TUNING.bulk;
        STRING_TUNING.bulk = mode.bulk;
        try {
          const cpu = loadOnce(src);
          cpu.jit = mode.jit;
          expect(cpu.run(1000)).toBe('halt');
          expect(cpu.regs[r]).toBe(1 + 7);
        } finally {
          STRING_TUNING.bulk = saved;
        }
      }
    });
});
