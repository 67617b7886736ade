// PT's branch log: what the guest's branches were, in order, in a few Int32 words each, for a
// reader (PtReplay) that feeds them to the PT encoder — on the same thread or on a worker thread
// (pt-worker.ts). Compiled blocks write one record per pass along a path of edge counters (the
// same counters the edge recorder uses) instead of running encoder code; the interpreter's
// branches and the points where tracing starts and stops are records too, so the reader sees
// exactly the calls the encoder's branch hook would have had.
//
// Format (version PT_LOG_VERSION): records of Int32 words; the first word is id * 4 + tag.
//   tag 0 PASS  id = path       the path's edges, in order
//   tag 1 SITE  id = site       word 2: target; the site's passed edges, then its branch to it
//   tag 2 LOOP  id = path       word 2: n; the path's edges n times
//   tag 3 CTRL  id = operation:
//     0 BRANCH   from, to, kind, len     one branch (the interpreter's, a fault)
//     1 ENABLE   ip                      tracing starts or resumes before ip
//     2 DISABLE  ip                      tracing stops before ip (a host call)
//     3 FINISH   ip                      the end: stop before ip; nothing follows
//     4 EDGE     from, to, kind, len     defines the next edge
//     5 PATH     n, edge × n             defines the next path
//     6 SITEDEF  from, kind, len, n, edge × n   defines the next site
// `len` is the length of a call instruction at `from` (return compression), else 0. Definitions
// come before the first record that names them (PtLogSink.define runs after each compile).
import { BRANCH } from '../cpu/constants';
import { type BranchHook, type EdgeCounters, type PtLogSink, registerInlineHook } from '../cpu/jit/engine';
import { PT_CTRL, PT_LOOP, PT_PASS, PT_SITE } from '../cpu/jit/gen';

export const PT_LOG_VERSION = 1;

/** The record tags (compiled code writes the first three: jit/gen.ts defines them). */
export const LOG_TAG = { PASS: PT_PASS, SITE: PT_SITE, LOOP: PT_LOOP, CTRL: PT_CTRL } as const;
export const LOG_OP = { BRANCH: 0, ENABLE: 1, DISABLE: 2, FINISH: 3, EDGE: 4, PATH: 5, SITE: 6 } as const;

/** Words of the log buffer (1 MiB): big enough that hand-offs are rare, small enough for a cache. */
export const DEFAULT_LOG_WORDS = 1 << 18;

/** Where a full buffer of records goes. */
export interface PtLogChannel {
  /** The buffer the log starts in (at least 64 words). */
  readonly first: Int32Array;
  /** The reader takes records b[0..n) (in order after those before); returns the buffer to go on in. */
  handOff(b: Int32Array, n: number): Int32Array;
  /** The last records (ending with FINISH) were handed off: waits until the reader wrote them all. */
  close(): void;
}

/** What a run's trace session drives: PtEncoder itself, or a PtLog in front of one. */
export interface PtRecorder {
  readonly hook: BranchHook;
  enable(ip: number): void;
  disable(ip: number): void;
  finish(nextIp: number): void;
}

export interface PtLogOptions {
  /** The length of the instruction at an address: given when the encoder compresses returns. */
  insnLength?: (address: number) => number;
}

const { CALL, CALL_INDIRECT } = BRANCH;
/** Loop passes after which the buffer is handed on, full or not (see loop). */
const LOOP_HANDOFF_PASSES = 1 << 20;
const ctrl = (op: number): number => op * 4 + LOG_TAG.CTRL;

export class PtLog implements PtLogSink, PtRecorder {
  private b: Int32Array;
  private p = 0;
  /** After each record p ≤ lim, so that a record of two words fits without a check. */
  private readonly lim: number;
  readonly hook: BranchHook;
  private readonly insnLength: ((address: number) => number) | undefined;
  /** The counters whose tables were shipped, and how much of each. */
  private counters: EdgeCounters | undefined;
  private edges = 0;
  private paths = 0;
  private sites = 0;
  private finished = false;
  /** Loop passes in the records since the last hand-off. */
  private passes = 0;

  constructor(
    private readonly channel: PtLogChannel,
    opts: PtLogOptions = {},
  ) {
    this.b = channel.first;
    this.lim = this.b.length - 2;
    this.insnLength = opts.insnLength;
    this.hook = (from, to, kind) => this.branch(from, to, kind);
    registerInlineHook(this.hook, { pt: this });
  }

  record(head: number): void {
    const p = this.p;
    this.b[p] = head;
    if ((this.p = p + 1) > this.lim) this.full();
  }

  record2(head: number, arg: number): void {
    const b = this.b;
    const p = this.p;
    b[p] = head;
    b[p + 1] = arg;
    if ((this.p = p + 2) > this.lim) this.full();
  }

  loop(head: number, passes: number): void {
    this.record2(head, passes);
    // Hand long loops on at once: their replay is work that could already run (a loop-heavy
    // run's records may not fill a buffer before its end).
    if ((this.passes += passes) > LOOP_HANDOFF_PASSES) this.full();
  }

  private full(): void {
    this.b = this.channel.handOff(this.b, this.p);
    this.p = 0;
    this.passes = 0;
  }

  /** Makes room for a record of `n` words (n ≤ the buffer's size). */
  private room(n: number): void {
    if (this.p + n > this.b.length) this.full();
  }

  private put(w: number): void {
    this.b[this.p++] = w;
  }

  /** After a record written here: keeps compiled code's invariant (p ≤ lim). */
  private done(): void {
    if (this.p > this.lim) this.full();
  }

  private callLength(from: number, kind: number): number {
    return this.insnLength !== undefined && (kind === CALL || kind === CALL_INDIRECT)
      ? this.insnLength(from >>> 0)
      : 0;
  }

  branch(from: number, to: number, kind: number): void {
    this.room(5);
    this.put(ctrl(LOG_OP.BRANCH));
    this.put(from);
    this.put(to);
    this.put(kind);
    this.put(this.callLength(from, kind));
    this.done();
  }

  private control(op: number, ip: number): void {
    if (this.finished) throw new Error('PT log: a record after the end of the trace');
    this.room(2);
    this.put(ctrl(op));
    this.put(ip);
    this.done();
  }

  enable(ip: number): void {
    this.control(LOG_OP.ENABLE, ip);
  }

  disable(ip: number): void {
    this.control(LOG_OP.DISABLE, ip);
  }

  /**
   * Ends the trace before `nextIp` and waits until the reader has written all of it (once: later
   * calls do nothing, as a second stop does nothing to the encoder).
   */
  finish(nextIp: number): void {
    if (this.finished) return;
    this.control(LOG_OP.FINISH, nextIp);
    this.finished = true;
    this.full();
    this.channel.close();
  }

  /** Ships the edges, paths and sites `counters` made since the last call (see PtLogSink). */
  define(counters: EdgeCounters): void {
    if (this.counters !== counters) {
      if (this.counters !== undefined) throw new Error('PT log: fed by the compiled code of two CPUs');
      this.counters = counters;
    }
    const c = counters;
    for (; this.edges < c.from.length; this.edges++) {
      const e = this.edges;
      this.room(5);
      this.put(ctrl(LOG_OP.EDGE));
      this.put(c.from[e]);
      this.put(c.to[e]);
      this.put(c.kind[e]);
      this.put(this.callLength(c.from[e], c.kind[e]));
      this.done();
    }
    for (; this.paths < c.pathEdges.length; this.paths++) {
      const edges = c.pathEdges[this.paths];
      this.room(2 + edges.length);
      this.put(ctrl(LOG_OP.PATH));
      this.put(edges.length);
      for (const e of edges) this.put(e);
      this.done();
    }
    for (; this.sites < c.siteFrom.length; this.sites++) {
      const d = this.sites;
      const passed = c.sitePassed[d];
      this.room(5 + passed.length);
      this.put(ctrl(LOG_OP.SITE));
      this.put(c.siteFrom[d]);
      this.put(c.siteKind[d]);
      this.put(this.callLength(c.siteFrom[d], c.siteKind[d]));
      this.put(passed.length);
      for (const e of passed) this.put(e);
      this.done();
    }
  }
}
