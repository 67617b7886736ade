import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { assemble } from '@fasmcov/fas';
import { Cpu } from '../cpu/cpu';
import { GuestFault } from '../cpu/fault';
import { JIT_TUNING } from '../cpu/jit/engine';
import { Memory } from '../cpu/memory';
import { type BitScanMode, CaseGenerator, DATA_BASE, DATA_EBP, DATA_SIZE, type DiffCase } from './generator';
import { Prng } from './prng';

/** Flags compared: CF PF AF ZF SF OF and DF. */
export const COMPARED_FLAGS = 0xcd5;
const EMU_ORG = 0x01000000;
/** Per case: 8 registers, eflags, 8 MMX registers, the data area. */
const RESULT_BYTES = 36 + 64 + DATA_SIZE;
const REG_NAMES = ['eax', 'ecx', 'edx', 'ebx', 'esp', 'ebp', 'esi', 'edi'];
const FLAG_NAMES: Array<[number, string]> = [
  [0x1, 'CF'],
  [0x4, 'PF'],
  [0x10, 'AF'],
  [0x40, 'ZF'],
  [0x80, 'SF'],
  [0x400, 'DF'],
  [0x800, 'OF'],
];

export interface Mismatch {
  seed: number;
  index: number;
  body: string[];
  /** e.g. 'eax', 'flag CF', 'data[+0x12]', 'fault'. */
  field: string;
  native: string;
  emulated: string;
  reproducer?: string;
}

export interface BatchResult {
  cases: number;
  mismatches: Mismatch[];
}

const hex = (v: number): string => '0x' + (v >>> 0).toString(16).padStart(8, '0');

function caseInit64(c: DiffCase): string[] {
  return [
    'cld',
    'lea rsi, [init_data]',
    `mov edi, ${hex(DATA_BASE)}`,
    `mov ecx, ${DATA_SIZE}`,
    'rep movsb',
    `mov rax, ${hex(c.flags)}`,
    'push rax',
    'popfq',
    // MMX registers start as the first 64 bytes of the data area.
    ...[0, 1, 2, 3, 4, 5, 6, 7].map((r) => `movq mm${r}, [${hex(DATA_BASE + 8 * r)}]`),
    ...[0, 1, 2, 3, 5, 6, 7].map((r) => `mov ${REG_NAMES[r]}, ${hex(c.regs[r])}`),
  ];
}

/** The native (64-bit Linux) program: every case's results written to stdout. */
export function nativeSource(cases: DiffCase[], initData: Uint8Array): string {
  const out: string[] = ['format ELF64 executable 3', 'entry start', 'segment readable executable', 'start:'];
  // mmap(DATA_BASE, 4096, RW, MAP_PRIVATE|MAP_ANONYMOUS|MAP_FIXED, -1, 0)
  out.push('mov eax, 9', `mov edi, ${hex(DATA_BASE)}`, 'mov esi, 4096', 'mov edx, 3', 'mov r10d, 0x32');
  out.push('mov r8, -1', 'xor r9d, r9d', 'syscall');
  cases.forEach((c, k) => {
    out.push(`; case ${k}`, ...caseInit64(c), ...c.body);
    [0, 1, 2, 3, 5, 6, 7].forEach((r) => out.push(`mov dword [results+${r * 4}], ${REG_NAMES[r]}`));
    out.push('pushfq', 'pop rax', 'mov dword [results+32], eax');
    for (let r = 0; r < 8; r++) out.push(`movq qword [results+${36 + 8 * r}], mm${r}`);
    out.push('mov eax, 1', 'mov edi, 1', 'lea rsi, [results]', 'mov edx, 100', 'syscall');
    out.push('mov eax, 1', 'mov edi, 1', `mov esi, ${hex(DATA_BASE)}`, `mov edx, ${DATA_SIZE}`, 'syscall');
  });
  out.push('mov eax, 60', 'xor edi, edi', 'syscall', 'segment readable writeable', 'results: rd 32');
  out.push('init_data:');
  for (let k = 0; k < initData.length; k += 32)
    out.push('db ' + Array.from(initData.subarray(k, k + 32)).join(','));
  return out.join('\n') + '\n';
}

/** The emulated (use32 flat) program: a table of case entry points, each case ending in hlt. */
export function emulatedSource(cases: DiffCase[]): string {
  const out: string[] = ['use32', `org ${hex(EMU_ORG)}`, `dd ${cases.length}`];
  cases.forEach((_, k) => out.push(`dd case${k}`));
  cases.forEach((c, k) => out.push(`case${k}:`, ...c.body, 'hlt'));
  return out.join('\n') + '\n';
}

interface Outcome {
  regs: number[];
  flags: number;
  mm: number[];
  data: Uint8Array;
  fault?: string;
}

/**
 * One emulator per engine and batch: the image is loaded once and the data area reset before each
 * case. `jit` picks the engine; the JIT one compiles every block on first arrival, so each case
 * runs as compiled code and the compiled path is proved against the CPU as well as the interpreter.
 */
function makeEmulator(image: Uint8Array, jit: boolean): Cpu {
  const mem = new Memory();
  mem.map(EMU_ORG, image.length);
  mem.writeBytes(EMU_ORG, image);
  mem.map(DATA_BASE, 4096);
  const cpu = new Cpu(mem);
  cpu.jit = jit;
  return cpu;
}

/** Runs `f` with every block compiled on its first arrival. */
function compiledAtOnce<T>(f: () => T): T {
  const saved = JIT_TUNING.hotThreshold;
  JIT_TUNING.hotThreshold = 1;
  try {
    return f();
  } finally {
    JIT_TUNING.hotThreshold = saved;
  }
}

function runEmulated(
  cpu: Cpu,
  k: number,
  c: DiffCase,
  initData: Uint8Array,
  after?: (cpu: Cpu) => void,
): Outcome {
  const mem = cpu.memory;
  mem.writeBytes(DATA_BASE, initData);
  c.regs.forEach((v, r) => (cpu.regs[r] = v));
  cpu.setEflags(c.flags);
  for (let k = 0; k < 16; k++) cpu.mm[k] = mem.read32(DATA_BASE + 4 * k);
  cpu.eip = mem.read32(EMU_ORG + 4 + 4 * k) >>> 0;
  let fault: string | undefined;
  try {
    const why = cpu.run(100000);
    if (why !== 'halt') fault = `stopped: ${why}`;
  } catch (e) {
    if (!(e instanceof GuestFault)) throw e;
    fault = e.message;
  }
  if (after) after(cpu);
  const regs = Array.from(cpu.regs, (v) => v >>> 0);
  regs[4] = 0;
  const mm = Array.from(cpu.mm, (v) => v >>> 0);
  return {
    regs,
    flags: cpu.getEflags() & COMPARED_FLAGS,
    mm,
    data: mem.readBytes(DATA_BASE, DATA_SIZE),
    fault,
  };
}

function compare(nat: Outcome, emu: Outcome): [string, string, string] | undefined {
  if (emu.fault) return ['fault', 'no fault', emu.fault];
  for (const r of [0, 1, 2, 3, 5, 6, 7]) {
    if (nat.regs[r] !== emu.regs[r]) return [REG_NAMES[r], hex(nat.regs[r]), hex(emu.regs[r])];
  }
  for (const [bit, name] of FLAG_NAMES) {
    if ((nat.flags & bit) !== (emu.flags & bit))
      return [`flag ${name}`, String(nat.flags & bit ? 1 : 0), String(emu.flags & bit ? 1 : 0)];
  }
  for (let k = 0; k < 16; k++) {
    if (nat.mm[k] !== emu.mm[k])
      return [`mm${k >> 1}.${k & 1 ? 'hi' : 'lo'}`, hex(nat.mm[k]), hex(emu.mm[k])];
  }
  for (let k = 0; k < DATA_SIZE; k++) {
    if (nat.data[k] !== emu.data[k]) {
      const off = k - DATA_SIZE / 2;
      return [`data[ebp${off < 0 ? '-' : '+'}${Math.abs(off)}]`, String(nat.data[k]), String(emu.data[k])];
    }
  }
  return undefined;
}

function reproducer(m: Mismatch, c: DiffCase): string {
  const lines = [
    `; fasmcov CPU differential mismatch: seed ${m.seed}, case ${m.index}`,
    `; field ${m.field}: native ${m.native}, emulated ${m.emulated}`,
    `; initial: ${[0, 1, 2, 3, 5, 6, 7].map((r) => `${REG_NAMES[r]}=${hex(c.regs[r])}`).join(' ')} eflags=${hex(c.flags)}`,
    `; ebp points to ${hex(DATA_EBP)} in a ${DATA_SIZE}-byte data area at ${hex(DATA_BASE)} (seeded contents)`,
    'use32',
    ...c.body,
    'hlt',
  ];
  return lines.join('\n') + '\n';
}

export interface BatchOptions {
  seed: number;
  count: number;
  /** Instructions (templates) per case. */
  length?: number;
  /** Scratch directory for sources, binaries and reproducers. */
  workDir: string;
  /** Keep the generated sources and binaries even when every case matched. */
  keep?: boolean;
  /** Test hook: runs after each emulated case (e.g. to corrupt state and prove the comparison fails). */
  afterRun?: (cpu: Cpu) => void;
  /** How bsf/bsr are emitted (see BitScanMode; hostBitScanMode tells what this CPU needs). */
  bitScans?: BitScanMode;
}

/** Generates `count` cases from `seed`, runs them natively and emulated, and compares. */
export function runBatch(opts: BatchOptions): BatchResult {
  const rng = new Prng(opts.seed);
  const initData = new Uint8Array(DATA_SIZE);
  for (let k = 0; k < DATA_SIZE; k++)
    initData[k] = rng.chance(0.3) ? rng.pick([0, 0xff, 0x80, 0x7f]) : rng.int(256);
  const cases: DiffCase[] = [];
  for (let k = 0; k < opts.count; k++)
    cases.push(
      new CaseGenerator(rng, `c${k}`, { bitScans: opts.bitScans }).next(1 + rng.int(opts.length ?? 6)),
    );
  fs.mkdirSync(opts.workDir, { recursive: true });
  const base = path.join(opts.workDir, `cpu-${opts.seed}`);
  fs.writeFileSync(`${base}-native.asm`, nativeSource(cases, initData));
  fs.writeFileSync(`${base}-emu.asm`, emulatedSource(cases));
  assemble(`${base}-native.asm`, { output: `${base}-native`, memoryKiB: 262144 });
  assemble(`${base}-emu.asm`, { output: `${base}-emu.bin`, memoryKiB: 262144 });
  fs.chmodSync(`${base}-native`, 0o755);
  const run = spawnSync(`${base}-native`, { maxBuffer: RESULT_BYTES * opts.count + 4096 });
  if (run.error) throw run.error;
  const stdout = run.stdout;
  if (stdout.length !== RESULT_BYTES * opts.count)
    throw new Error(
      `native program wrote ${stdout.length} bytes, expected ${RESULT_BYTES * opts.count} (signal ${run.signal})`,
    );
  const image = new Uint8Array(fs.readFileSync(`${base}-emu.bin`));
  const engines: Array<[string, Cpu]> = [
    ['', makeEmulator(image, false)],
    ['[jit] ', makeEmulator(image, true)],
  ];
  const mismatches: Mismatch[] = [];
  cases.forEach((c, k) => {
    const o = k * RESULT_BYTES;
    const view = new DataView(stdout.buffer, stdout.byteOffset + o, RESULT_BYTES);
    const nat: Outcome = {
      regs: Array.from({ length: 8 }, (_, r) => view.getUint32(r * 4, true)),
      flags: view.getUint32(32, true) & COMPARED_FLAGS,
      mm: Array.from({ length: 16 }, (_, k) => view.getUint32(36 + 4 * k, true)),
      data: new Uint8Array(stdout.buffer, stdout.byteOffset + o + 100, DATA_SIZE),
    };
    nat.regs[4] = 0;
    let diff: [string, string, string] | undefined;
    let engine = '';
    for (const [name, cpu] of engines) {
      diff = compiledAtOnce(() => compare(nat, runEmulated(cpu, k, c, initData, opts.afterRun)));
      engine = name;
      if (diff) break;
    }
    if (!diff) return;
    const m: Mismatch = {
      seed: opts.seed,
      index: k,
      body: c.body,
      field: engine + diff[0],
      native: diff[1],
      emulated: diff[2],
    };
    m.reproducer = `${base}-case${k}.asm`;
    fs.writeFileSync(m.reproducer, reproducer(m, c));
    mismatches.push(m);
  });
  if (mismatches.length === 0 && !opts.keep) {
    for (const f of ['-native.asm', '-emu.asm', '-native', '-emu.bin']) fs.rmSync(base + f, { force: true });
  }
  return { cases: opts.count, mismatches };
}

/** One line per mismatch: seed, case, field, values and the instructions. */
export function formatMismatch(m: Mismatch): string {
  return `seed ${m.seed} case ${m.index}: ${m.field} native ${m.native} emulated ${m.emulated}\n    ${m.body.join('\n    ')}\n    reproducer: ${m.reproducer ?? '-'}`;
}

/** The flags bsf/bsr leave undefined (Intel SDM): CF, PF, AF, SF, OF. */
const BIT_SCAN_UNDEFINED = new Set(['flag CF', 'flag PF', 'flag AF', 'flag SF', 'flag OF']);

/**
 * What this CPU needs of the generator's bit scans: 'as-is' when its bsf/bsr set the flags Intel
 * leaves undefined as the emulator does (the reference, an AMD Zen 4), 'defined' when 200 cases of
 * bit scans alone differ from the emulator in those flags and nothing else (a Zen 3 leaves them
 * unchanged). Any other difference keeps 'as-is', so that the full comparison reports it.
 */
export function hostBitScanMode(workDir: string): BitScanMode {
  const r = runBatch({ seed: 2718, count: 200, workDir, bitScans: 'only' });
  if (r.mismatches.length === 0) return 'as-is';
  return r.mismatches.every((m) => BIT_SCAN_UNDEFINED.has(m.field.replace('[jit] ', '')))
    ? 'defined'
    : 'as-is';
}
