// A simulated execution for recorder tests without the emulator: walks real fasm-assembled code,
// decoded by iced-x86, taking conditional branches at random (seeded) and indirect ones to
// targets from the program's table, and tells the recorders what a CPU would tell them.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { assemble } from '@fasmcov/fas';
import { BRANCH } from '@fasmcov/tracer';
import type { BranchInfo } from '@fasmcov/report';
import { icedClassify } from './iced-classifier';

export const ORIGIN = 0x1000;

export interface WalkProgram {
  dir: string;
  binFile: string;
  bytes: Uint8Array;
  read8: (addr: number) => number;
  callTargets: number[];
  jumpTargets: number[];
  handler: number;
  tracedEnd: number;
}

export function buildWalkProgram(): WalkProgram {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fasmcov-walk-'));
  const binFile = path.join(dir, 'walk.bin');
  assemble(path.join(__dirname, '..', 'fixtures', 'walk.asm'), { output: binFile });
  const bytes = new Uint8Array(fs.readFileSync(binFile));
  const dv = new DataView(bytes.buffer, bytes.byteOffset);
  const d = (off: number): number => dv.getUint32(off, true);
  const read8 = (addr: number): number => {
    const off = addr - ORIGIN;
    if (off < 0 || off >= bytes.length) throw new RangeError(`no byte at 0x${addr.toString(16)}`);
    return bytes[off];
  };
  return {
    dir,
    binFile,
    bytes,
    read8,
    callTargets: [d(0x10), d(0x14)],
    jumpTargets: [d(0x18), d(0x1c)],
    handler: d(0x20),
    tracedEnd: d(0x24),
  };
}

export interface WalkSink {
  branch(from: number, to: number, kind: number): void;
  start(ip: number): void;
  stop(ip: number): void;
}

export interface WalkResult {
  /** Instructions executed inside the traced range while tracing. */
  instructions: number;
  perIp: Map<number, number>;
}

/** Deterministic PRNG (mulberry32). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function walk(
  prog: WalkProgram,
  sink: WalkSink,
  opts: { seed: number; steps: number; faultRate?: number },
): WalkResult {
  const random = rng(opts.seed);
  const cache = new Map<number, BranchInfo>();
  const info = (ip: number): BranchInfo => {
    let i = cache.get(ip);
    if (!i) cache.set(ip, (i = icedClassify(prog.read8, ip)));
    return i;
  };
  const inRange = (ip: number): boolean => ip >= ORIGIN && ip < prog.tracedEnd;
  const res: WalkResult = { instructions: 0, perIp: new Map() };
  const stack: number[] = [];
  let ip = ORIGIN;
  sink.start(ip);
  const go = (to: number, kind: number): void => {
    sink.branch(ip, to, kind);
    ip = to;
  };
  for (let step = 0; step < opts.steps; step++) {
    const b = info(ip);
    if (b.mnemonic === 'hlt') break;
    if (inRange(ip) && b.kind === 0 && random() < (opts.faultRate ?? 0)) {
      // A fault before this instruction: the handler's iret comes back to retry it.
      stack.push(ip);
      go(prog.handler, BRANCH.FAULT);
      continue;
    }
    if (b.mnemonic === 'hostcall') {
      sink.stop(ip);
      ip += b.length;
      sink.start(ip);
      continue;
    }
    if (inRange(ip)) {
      res.instructions++;
      res.perIp.set(ip, (res.perIp.get(ip) ?? 0) + 1);
    }
    const next = ip + b.length;
    if (b.conditional) {
      if (random() < 0.5) go(b.target!, BRANCH.COND_TAKEN);
      else go(next, BRANCH.COND_NOT_TAKEN);
    } else if (b.kind === 0) {
      ip = next;
    } else if (b.kind === BRANCH.JMP) {
      go(b.target!, b.kind);
    } else if (b.kind === BRANCH.CALL) {
      stack.push(next);
      go(b.target!, b.kind);
    } else if (b.kind === BRANCH.CALL_INDIRECT) {
      stack.push(next);
      go(prog.callTargets[Math.floor(random() * prog.callTargets.length)], b.kind);
    } else if (b.kind === BRANCH.JMP_INDIRECT) {
      go(prog.jumpTargets[Math.floor(random() * prog.jumpTargets.length)], b.kind);
    } else if (b.kind === BRANCH.INT) {
      stack.push(next);
      go(prog.handler, b.kind);
    } else if (b.kind === BRANCH.RET || b.kind === BRANCH.IRET) {
      const to = stack.pop();
      if (to === undefined) throw new Error(`unbalanced ${b.mnemonic} at 0x${ip.toString(16)}`);
      go(to, b.kind);
    } else {
      throw new Error(`walk cannot execute ${b.mnemonic}`);
    }
  }
  if (inRange(ip)) sink.stop(ip);
  return res;
}
