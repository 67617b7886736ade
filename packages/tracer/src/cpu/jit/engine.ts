import type { Cpu } from '../cpu';
import { type Block, NO_BLOCK, compileBlock } from './compile';
import { SHAPE, SHAPES, SITE_WAYS, Unsupported } from './gen';

export type BranchHook = (from: number, to: number, kind: number) => void;

/** A recorder of exact edge counts that compiled code may feed through counters (EdgeRecorder). */
export interface EdgeCountSink {
  /** Exactly what `count` calls of the recorder's hook with (from, to, kind) would do. */
  addBranches(from: number, to: number, kind: number, count: number): void;
  /** `p` holds counts for the sink until drained: the sink drains it before it is read. */
  attachPending(p: PendingEdgeCounts): void;
  detachPending(p: PendingEdgeCounts): void;
}

/** An LBR ring without filters: compiled code appends its taken branches in execution order. */
export interface BranchRing {
  record(from: number, to: number, kind: number): void;
  /** `n` records of the same branch (a loop's back-edge taken n times in a row). */
  repeat(from: number, to: number, kind: number, n: number): void;
}

/**
 * A PT log as compiled code feeds it (see trace/pt-log.ts): records of one or two Int32 words. A
 * record's first word is an id times 4 plus a tag (gen.ts PT_PASS, PT_SITE, PT_LOOP) naming edge
 * counters' paths and sites, so the log's reader needs their edges: `define` is called with the
 * counters after each compile, before the block can run.
 */
export interface PtLogSink {
  record(head: number): void;
  record2(head: number, arg: number): void;
  /** A LOOP record: `passes` passes of a loop (the reader's work grows with them). */
  loop(head: number, passes: number): void;
  define(counters: EdgeCounters): void;
}

/**
 * What compiled code does instead of calling a registered hook: count edges for `edges`, append
 * taken branches to `ring`, log passes to `pt` as PtLogSink says, and call `rest` (the recorders
 * it cannot stand in for, such as filtered LBRs). Together they must do exactly what the hook does.
 */
export interface InlineBranchTarget {
  edges?: EdgeCountSink;
  ring?: BranchRing;
  pt?: PtLogSink;
  rest?: BranchHook;
}

const inlineTargets = new WeakMap<BranchHook, InlineBranchTarget>();

/** Declares that compiled code may replace calls of `hook` by what `target` describes. */
export function registerInlineHook(hook: BranchHook, target: InlineBranchTarget): void {
  inlineTargets.set(hook, target);
}

/** What a hook was registered with (undefined: compiled code must call it). */
export function inlineTargetOf(hook: BranchHook): InlineBranchTarget | undefined {
  return inlineTargets.get(hook);
}

/** Something the sink must drain before it is read. */
export interface PendingEdgeCounts {
  drain(): void;
}

/** No target seen yet at a dynamic site. */
const NO_TARGET = -1;

/**
 * Edge counters of one Jit's compiled code. A counter counts passes through a block along one path:
 * the conditional branches not taken on the way and the branch that left (a loop's pass ends at
 * its back-edge), so a pass costs one increment however many branches it reports. Each dynamic
 * site (a return or indirect branch, together with the branches its block's pass did not take on
 * the way there) has a counter per target, which counts the whole pass, and remembers the last
 * SITE_WAYS new targets. Counters are made when code is compiled and shared by recompilations of
 * the same code, so invalidation loses nothing. Compiled code checks a site's remembered targets
 * itself (`dt[d * SITE_WAYS + w]`) and calls `miss` for a new one. Counts belong to `owner`, the
 * sink bound when they were counted, and move to it when it drains them.
 */
export class EdgeCounters implements PendingEdgeCounts {
  /** Count per counter (compiled code: `C[p]++`). */
  c = new Float64Array(64);
  /** Per dynamic site, SITE_WAYS targets (the latest new one first) and their counters. */
  dt = new Float64Array(16 * SITE_WAYS).fill(NO_TARGET);
  ds = new Int32Array(16 * SITE_WAYS);
  owner: EdgeCountSink | undefined;
  /**
   * Edges (from, to, kind) by index, and their index by source and kind, then target. The tables
   * here are public for readers of what compiled code recorded (PT's log); only this class
   * changes them.
   */
  readonly from: number[] = [];
  readonly to: number[] = [];
  readonly kind: number[] = [];
  private readonly edgeIndex = new Map<number, Map<number, number>>();
  /** The edges each counter stands for, and counters by their edge list. */
  readonly pathEdges: number[][] = [];
  private readonly pathIndex = new Map<string, number>();
  private readonly sites = new Map<string, number>();
  readonly siteFrom: number[] = [];
  readonly siteKind: number[] = [];
  /** Per dynamic site, the edges of the pass before its branch. */
  readonly sitePassed: number[][] = [];
  /** Per dynamic site, the counter of each target seen there. */
  private readonly siteTargets: Array<Map<number, number>> = [];

  /** The index of edge (from, to, kind), made on first use. */
  edge(from: number, to: number, kind: number): number {
    const key = from * 16 + kind; // exact in a double
    let byTarget = this.edgeIndex.get(key);
    if (byTarget === undefined) this.edgeIndex.set(key, (byTarget = new Map()));
    let e = byTarget.get(to);
    if (e === undefined) {
      e = this.from.length;
      byTarget.set(to, e);
      this.from.push(from);
      this.to.push(to);
      this.kind.push(kind);
    }
    return e;
  }

  /** The counter of passes through `edges` (edge indexes, in order), made on first use. */
  path(edges: number[]): number {
    const key = edges.join(',');
    let p = this.pathIndex.get(key);
    if (p === undefined) {
      p = this.pathEdges.length;
      this.pathIndex.set(key, p);
      this.pathEdges.push([...edges]);
      if (p >= this.c.length) this.c = grow(this.c, 0);
    }
    return p;
  }

  /**
   * The dynamic site of a return or indirect branch at `from` reached through the edges `passed`
   * (recompiled code gets the same one).
   */
  site(from: number, kind: number, passed: readonly number[]): number {
    const key = `${from * 16 + kind}:${passed.join(',')}`;
    const known = this.sites.get(key);
    if (known !== undefined) return known;
    const d = this.siteFrom.length;
    this.sites.set(key, d);
    this.siteFrom.push(from);
    this.siteKind.push(kind);
    this.sitePassed.push([...passed]);
    this.siteTargets.push(new Map());
    if ((d + 1) * SITE_WAYS > this.dt.length) {
      this.dt = grow(this.dt, NO_TARGET);
      const ds = new Int32Array(this.dt.length);
      ds.set(this.ds);
      this.ds = ds;
    }
    return d;
  }

  /**
   * Dynamic site `d` went to `to`, a target it does not remember (compiled code's slow path): it
   * is counted and becomes the site's first way, the oldest one is forgotten.
   */
  miss(d: number, to: number): void {
    const dt = this.dt;
    const ds = this.ds;
    const base = d * SITE_WAYS;
    const byTarget = this.siteTargets[d];
    let p = byTarget.get(to);
    if (p === undefined) {
      p = this.path([...this.sitePassed[d], this.edge(this.siteFrom[d], to, this.siteKind[d])]);
      byTarget.set(to, p);
    }
    for (let w = SITE_WAYS - 1; w > 0; w--) {
      dt[base + w] = dt[base + w - 1];
      ds[base + w] = ds[base + w - 1];
    }
    dt[base] = to;
    ds[base] = p;
    this.c[p]++;
  }

  /** Moves the counts to their owner (or drops them when no sink was bound). */
  drain(): void {
    const c = this.c;
    const perEdge = new Float64Array(this.from.length);
    let any = false;
    for (let p = 0; p < this.pathEdges.length; p++) {
      const n = c[p];
      if (n === 0) continue;
      for (const e of this.pathEdges[p]) perEdge[e] += n;
      c[p] = 0;
      any = true;
    }
    const owner = this.owner;
    if (!any || owner === undefined) return;
    for (let e = 0; e < perEdge.length; e++)
      if (perEdge[e] !== 0) owner.addBranches(this.from[e], this.to[e], this.kind[e], perEdge[e]);
  }

  /** From now on the counts belong to `sink`. */
  bind(sink: EdgeCountSink | undefined): void {
    if (sink === this.owner) return;
    this.drain();
    this.owner?.detachPending(this);
    this.owner = sink;
    sink?.attachPending(this);
  }
}

function grow(a: Float64Array, fill: number): Float64Array<ArrayBuffer> {
  const b = new Float64Array(a.length * 2).fill(fill);
  b.set(a);
  return b;
}

/** Tunables (tests lower the threshold so that every block is compiled at once). */
export const JIT_TUNING = {
  /**
   * Arrivals at an address before the block there is compiled (max 65535). Compiling a block costs
   * about as much as interpreting it a thousand times, so colder code stays interpreted.
   */
  hotThreshold: 1000,
};
const PAGES = 1 << 20;

interface JitPage {
  /** Per SHAPE (made on first use), the compiled block by start offset in the page. */
  blocks: Array<Array<Block | undefined> | undefined>;
  hits: Uint16Array;
  /** Every block with instruction bytes on this page (invalidated with it). */
  owned: Block[];
}

/** The JIT is on unless the environment says FASMCOV_JIT=0. */
export function jitEnabledByDefault(): boolean {
  return typeof process === 'undefined' || process.env.FASMCOV_JIT !== '0';
}

/**
 * Runs hot basic blocks as compiled JavaScript functions for one Cpu. Blocks are found by counting
 * how often the interpreter loop arrives at an address; once compiled, a block's exits remember the
 * block they led to, so straight runs of compiled code go block to block without the interpreter.
 */
export class Jit {
  /** Bumped when compiled code is invalidated (compiled code checks it after each memory write). */
  epoch = 0;
  /** Blocks compiled so far (for tests and statistics). */
  compiled = 0;
  private slot: Int32Array | undefined;
  private readonly pages: Array<JitPage | null> = [null];
  private readonly free: number[] = [];
  /** Edge counters of the compiled code (see InlineBranchTarget). */
  readonly counters = new EdgeCounters();
  /**
   * The registered hook whose calls compiled code replaces, and what it does instead (compiled
   * code reads them as its SHAPE says): `ring` gets taken branches, `pt` the passes' records,
   * `rest` is called for every branch.
   */
  inl: BranchHook | undefined;
  ring: BranchRing | undefined;
  pt: PtLogSink | undefined;
  rest: BranchHook | undefined;
  /** cpu.branchHook when compiled code last started (binding is looked at when it changes). */
  private seenHook: BranchHook | undefined;
  /** The SHAPE of the blocks that run for seenHook. */
  private shape: number = SHAPE.BARE;
  /**
   * Compiled code reports branches when there is a hook; FASMCOV_JIT_BRANCHES=0 (benchmarks only)
   * leaves them out even then.
   */
  readonly reportBranches = typeof process === 'undefined' || process.env.FASMCOV_JIT_BRANCHES !== '0';

  constructor(private readonly cpu: Cpu) {}

  /**
   * Runs compiled code from `eip` as far as it goes without passing the instruction budget `end`.
   * Returns false, having done nothing, when the interpreter should execute the next instruction.
   */
  run(eip: number, end: number): boolean {
    const cpu = this.cpu;
    const hook = cpu.branchHook;
    if (hook !== this.seenHook) this.bindHook(hook);
    // Each shape has its own blocks: with no hook they report nothing (tracing off costs compiled
    // code nothing), with a registered one they do just what its target needs.
    const shape = this.shape;
    const first = this.blockAt(eip, shape);
    if (first === undefined) return false;
    let b: Block = first;
    let ran = false;
    for (;;) {
      if (cpu.instructionsRetired + b.n > end) return ran;
      const x = b.fn(cpu, end);
      ran = true;
      // A changed hook (by a host call) may need other blocks: the caller comes back.
      if (x < 0 || cpu.stopping || cpu.branchHook !== hook) return true;
      const to = cpu.eip;
      let nb: Block | undefined = b.links[x];
      if (nb === undefined || nb.start !== to || !nb.valid) {
        nb = this.blockAt(to, shape);
        if (nb === undefined) return true;
        b.links[x] = nb;
      }
      b = nb;
    }
  }

  /**
   * The hook changed: if it was registered, compiled code stands in for it from now on (the
   * counters gathered for the previous one are handed over first); an unregistered one is called
   * (GENERIC); none, nothing is reported (BARE).
   */
  private bindHook(h: BranchHook | undefined): void {
    this.seenHook = h;
    if (h === undefined || !this.reportBranches) {
      this.shape = SHAPE.BARE;
      return;
    }
    const t = inlineTargetOf(h);
    if (t === undefined) {
      this.shape = SHAPE.GENERIC;
      return;
    }
    if (h !== this.inl) {
      this.counters.bind(t.edges);
      this.inl = h;
      this.ring = t.ring;
      this.pt = t.pt;
      this.rest = t.rest;
    }
    this.shape =
      (t.edges ? SHAPE.EDGES : 0) |
      (t.ring ? SHAPE.RING : 0) |
      (t.pt ? SHAPE.PT : 0) |
      (t.rest ? SHAPE.REST : 0);
  }

  /** The compiled block of `shape` at eip; compiles it once the address is hot. */
  private blockAt(eip: number, shape: number): Block | undefined {
    const pg = this.page(eip >>> 12);
    const off = eip & 4095;
    const b = pg.blocks[shape]?.[off];
    if (b !== undefined) return b;
    if (++pg.hits[off] < JIT_TUNING.hotThreshold) return undefined;
    pg.hits[off] = 0;
    return this.compile(eip, shape);
  }

  private page(p: number): JitPage {
    const slot = (this.slot ??= new Int32Array(PAGES));
    let s = slot[p];
    if (s === 0) {
      s = this.free.pop() ?? this.pages.length;
      this.pages[s] = {
        blocks: new Array<Array<Block | undefined> | undefined>(SHAPES).fill(undefined),
        hits: new Uint16Array(4096),
        owned: [],
      };
      slot[p] = s;
    }
    return this.pages[s] as JitPage;
  }

  private compile(eip: number, shape: number): Block {
    let b: Block;
    try {
      b = compileBlock(this.cpu, eip, this, shape) ?? NO_BLOCK;
    } catch (e) {
      // A form the code generator turned down late: that address stays interpreted.
      if (!(e instanceof Unsupported)) throw e;
      b = NO_BLOCK;
    }
    const home = (pg: JitPage): Array<Block | undefined> =>
      (pg.blocks[shape] ??= new Array<Block | undefined>(4096).fill(undefined));
    if (b === NO_BLOCK) {
      home(this.page(eip >>> 12))[eip & 4095] = b;
      return b;
    }
    // The log's reader must know the block's paths before its first record.
    if (shape & SHAPE.PT) this.pt?.define(this.counters);
    // Decoding may have dropped pages (it never writes, but be safe): register after compiling.
    for (const p of b.pages) this.page(p).owned.push(b);
    home(this.page(eip >>> 12))[eip & 4095] = b;
    this.compiled++;
    return b;
  }

  /** Code on page `p` changed (or is gone): forget every block with bytes there. */
  invalidatePage(p: number): void {
    const s = this.slot?.[p] ?? 0;
    if (s === 0) return;
    const pg = this.pages[s] as JitPage;
    for (const b of pg.owned) {
      b.valid = false;
      const home = b.start >>> 12;
      if (home !== p && this.slot !== undefined && this.slot[home] !== 0) {
        const hp = this.pages[this.slot[home]] as JitPage;
        for (const set of hp.blocks) if (set?.[b.start & 4095] === b) set[b.start & 4095] = undefined;
      }
    }
    this.pages[s] = null;
    this.free.push(s);
    (this.slot as Int32Array)[p] = 0;
    this.epoch++;
  }
}
