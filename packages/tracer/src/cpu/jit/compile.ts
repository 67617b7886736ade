import type { Cpu } from '../cpu';
import type { Handler, Insn } from '../decode/insn';
import { GuestFault } from '../fault';
import { PARITY } from '../flags';
import type { BranchHook, BranchRing, EdgeCounters, PtLogSink } from './engine';
import { Gen } from './gen';
import { type BlockCtx, type Plan, type Through, planFor } from './ops';

/** Returns the index of the exit taken, or -1 to go back to the interpreter loop. */
export type BlockFn = (cpu: Cpu, end: number) => number;

/** Longest block, in instructions (a block ends earlier at a control transfer or an uncompiled one). */
const MAX_INSNS = 32;
/**
 * Conditional jumps a block runs through before it ends: each entry point gets its own block, so
 * long superblocks would compile the same code many times over.
 */
const MAX_SIDE_EXITS = 4;

/** A compiled basic block. */
export interface Block {
  readonly start: number;
  /** Instructions retired by one pass (a self-loop checks the budget itself for further passes). */
  readonly n: number;
  readonly fn: BlockFn;
  /** Successor block last reached through each exit (checked against eip before use). */
  readonly links: Array<Block | undefined>;
  /** Pages holding the block's instruction bytes. */
  readonly pages: number[];
  valid: boolean;
  readonly source: string;
}

/** Where no block can start (the first instruction cannot even be fetched): always interpret. */
export const NO_BLOCK: Block = {
  start: -1,
  n: Infinity,
  fn: () => -1,
  links: [],
  pages: [],
  valid: true,
  source: '',
};

/** The Jit as compiled code sees it (J): the epoch and how branches are reported (see Gen.branchHook). */
export interface BlockEnv {
  /** Bumped whenever compiled code is invalidated. */
  epoch: number;
  readonly counters: EdgeCounters;
  inl: BranchHook | undefined;
  ring: BranchRing | undefined;
  pt: PtLogSink | undefined;
  rest: BranchHook | undefined;
}

interface Formed {
  insns: Insn[];
  addrs: number[];
  plans: Plan[];
  /** Instruction after the compiled ones run by its interpreter handler, if any. */
  tail: Insn | undefined;
  pages: number[];
  /** Address after the last instruction. */
  end: number;
}

/** The instruction at `eip`, or undefined when fetching it faults (the interpreter raises that). */
function fetchInsn(cpu: Cpu, eip: number): Insn | undefined {
  try {
    return cpu.insnAt(eip);
  } catch (e) {
    if (e instanceof GuestFault) return undefined;
    throw e;
  }
}

/**
 * The instructions of the block at `start`. With `follow`, a direct jump or call to code that can
 * be compiled does not end it, nor does the return of such a call: the block goes on at the target
 * (fewer, longer blocks; a kernel's blocks are short and a third of them end at a call).
 */
function form(cpu: Cpu, start: number, ctx: BlockCtx, follow: boolean): Formed | undefined {
  const f: Formed = { insns: [], addrs: [], plans: [], tail: undefined, pages: [], end: start };
  let eip = start;
  let sideExits = 0;
  /** Return addresses of the calls the block went through, the latest last. */
  const calls: number[] = [];
  while (f.insns.length < MAX_INSNS) {
    const i = fetchInsn(cpu, eip);
    if (i === undefined) break;
    for (const p of [eip >>> 12, ((eip + i.len - 1) >>> 0) >>> 12]) if (!f.pages.includes(p)) f.pages.push(p);
    const next = (eip + i.len) >>> 0;
    let plan = planFor(i, ctx);
    f.end = next;
    if (plan === undefined) {
      f.tail = i;
      f.addrs.push(eip);
      break;
    }
    f.insns.push(i);
    f.addrs.push(eip);
    const to = throughTarget(plan, next, calls);
    // Not to code already in the block: a loop entered here would be unrolled, not compiled as one.
    if (follow && to !== undefined && !f.addrs.includes(to) && compilable(cpu, to, ctx)) {
      const through = plan.through as Through;
      if (through.kind === 'ret') calls.pop();
      // A call of the next instruction (to read EIP) is no call a return comes back from.
      else if (through.kind === 'call' && to !== next) calls.push(next);
      plan = { ...plan, term: false, emit: (g) => through.emit(g, to) };
      f.plans.push(plan);
      f.end = eip = to;
      ctx.follows++;
      continue;
    }
    f.plans.push(plan);
    eip = next;
    const target = plan.jumpsTo?.(next);
    if (target === start) ctx.loop = true;
    if (plan.term || (target !== undefined && ++sideExits === MAX_SIDE_EXITS)) break;
  }
  if (f.insns.length === 0 && f.tail === undefined) return undefined;
  ctx.n = f.insns.length + (f.tail ? 1 : 0);
  return f;
}

/** Where the block could go on after `plan` (undefined: nowhere), see Plan.through. */
function throughTarget(plan: Plan, next: number, calls: number[]): number | undefined {
  const t = plan.through;
  if (t === undefined) return undefined;
  return t.kind === 'ret' ? calls[calls.length - 1] : t.target(next);
}

/** The instruction at `eip` can be fetched and compiled (a host-call stub, say, cannot). */
function compilable(cpu: Cpu, eip: number, ctx: BlockCtx): boolean {
  const i = fetchInsn(cpu, eip);
  return i !== undefined && planFor(i, ctx) !== undefined;
}

/** dead[k]: the flag record of instruction k is overwritten before any read, fault point or exit. */
function deadFlags(plans: Plan[]): boolean[] {
  return plans.map((p, k) => {
    if ((p.flags !== 'write' && p.flags !== 'readwrite') || p.lateWrite) return false;
    for (let j = k + 1; j < plans.length; j++) {
      const q = plans[j];
      if (q.mem || q.term || q.flags === 'read' || q.flags === 'readwrite') return false;
      if (q.flags === 'write') return true;
    }
    return false;
  });
}

const hex = (v: number): string => '0x' + (v >>> 0).toString(16);

function source(f: Formed, ctx: BlockCtx, env: BlockEnv, shape: number): { text: string; exits: number } {
  const g = new Gen(ctx.loop, deadFlags(f.plans), env.counters, shape);
  const body: string[] = g.out;
  let faults = false;
  f.plans.forEach((p, k) => {
    g.k = k;
    g.addr = f.addrs[k];
    g.next = (f.addrs[k] + f.insns[k].len) >>> 0;
    faults ||= p.mem;
    p.emit(g, f.insns[k]);
    if (p.term) g.wroteMem = false;
    else g.smcCheck();
  });
  const last = f.plans[f.plans.length - 1];
  const k = f.plans.length;
  let tail = '';
  if (f.tail !== undefined) {
    // State as the interpreter has it when it calls the handler; the handler then runs outside the try.
    g.endPass();
    body.push(
      `cpu.instructionsRetired = ret + ${k}; cpu.curEip = ${hex(f.addrs[k])}; cpu.eip = ${hex(f.end)};`,
      ctx.loop ? 'break;' : '',
    );
    tail = `H(cpu, I); cpu.instructionsRetired++; return ${g.exits++};`;
  } else if (last === undefined || !last.term) g.exit(hex(f.end), k);
  const sync = g.syncCode();
  const onFault = faults
    ? `} catch (e) { ${g.faultCount()} ${sync} ${g.ptFaultRecord()} cpu.instructionsRetired = ret + k; cpu.curEip = A[k]; throw e; }`
    : '}';
  const text = [
    'return (function block(cpu, end) {',
    'const R = cpu.regs, M = cpu.memory, ep = J.epoch;',
    'let ret = cpu.instructionsRetired, k = 0;',
    g.prologue(),
    faults ? 'try {' : '{',
    ctx.loop ? 'for (;;) {' : '',
    ...body.map((l) => g.resolve(l, sync)),
    ctx.loop ? '}' : '',
    onFault,
    tail,
    '});',
  ].join('\n');
  return { text, exits: g.exits };
}

type BlockFactory = (
  p: Uint8Array,
  a: number[],
  j: BlockEnv,
  h: Handler | undefined,
  i: Insn | undefined,
  e: EdgeCounters,
) => BlockFn;

/**
 * Compiles the block starting at `start`, reporting its branches as `shape` (a SHAPE value) says,
 * or returns undefined when nothing there can be fetched.
 */
export function compileBlock(cpu: Cpu, start: number, env: BlockEnv, shape: number): Block | undefined {
  let ctx: BlockCtx = { start, n: 0, loop: false, follows: 0 };
  let f = form(cpu, start, ctx, true);
  if (f !== undefined && ctx.loop && ctx.follows > 0) {
    // A loop's passes are recorded in bulk (counted passes, repeated LBR records), which assumes
    // its back-edge is the pass's only taken branch: loops do not go through jumps and calls.
    ctx = { start, n: 0, loop: false, follows: 0 };
    f = form(cpu, start, ctx, false);
  }
  if (f === undefined) return undefined;
  const { text, exits } = source(f, ctx, env, shape);
  const handler: Handler | undefined = f.tail?.handler;
  // One closure per factory: V8 then specialises the block's code to its context (A, J, E, ...).
  const make = new Function('P', 'A', 'J', 'H', 'I', 'E', text) as BlockFactory;
  return {
    start,
    n: ctx.n,
    fn: make(PARITY, f.addrs, env, handler, f.tail, env.counters),
    links: new Array<Block | undefined>(exits).fill(undefined),
    pages: f.pages,
    valid: true,
    source: text,
  };
}
