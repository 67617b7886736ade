import { BRANCH, BYTE_REG } from '../constants';
import { EA, type Insn } from '../decode/insn';
import {
  FIELD_LOCAL,
  type FlagField,
  INT32_FIELDS,
  PRODUCER_FIELDS,
  type Producer,
  cfExpr,
  condExpr,
} from './flags-gen';
import { type EdgeCounters, PT_RET_STACK } from './engine';

/** Placeholders replaced once the whole block is known (which registers and flag fields it uses). */
export const SYNC = '@@SYNC@@';
/** What a block returns, having done nothing, when T cannot take its branches in place (see pt). */
export const NOT_IN_PLACE = -2;
/** Placeholder: append a counted loop's PT bits (followed by how many of this pass). */
const PT_FLUSH = '@@PTFLUSH@@';
export const FLUSH = '@@FLUSH@@';

export class Unsupported extends Error {}

/**
 * What compiled code reports branches to, fixed when a block is compiled (the Jit keeps one set of
 * blocks per shape): nothing (BARE: no hook); for a registered hook (InlineBranchTarget), the
 * members it has: EDGES counts passes in C (EdgeCounters), RING appends taken branches to LR,
 * PT feeds T (TntSink), REST calls G = J.rest for every branch; GENERIC calls cpu.branchHook for
 * every branch (an unregistered hook).
 */
export const SHAPE = { BARE: 0, EDGES: 1, RING: 2, PT: 4, REST: 8, GENERIC: 16 } as const;
/** Number of shapes (GENERIC is the largest). */
export const SHAPES = SHAPE.GENERIC + 1;

/**
 * Targets a dynamic site remembers, the latest new one first: a routine's `ret` goes back to a few
 * callers in turn (on the bundled kernel one entry misses 23 % of returns, two 7 %, four 0.06 %).
 */
export const SITE_WAYS = 4;

/** Placeholder for a back-edge's own LBR record, known once the block's back-edges are. */
const LOOP_LBR = '@@LOOPLBR@@';

const hex = (v: number): string => '0x' + (v >>> 0).toString(16);

/**
 * JavaScript source emitter for one block. Guest registers live in locals r0..r7 (int32) and the
 * lazy-flag record in the locals of FIELD_LOCAL; every exit writes back the registers the block
 * modifies and the flag fields it records (the SYNC placeholder), so the Cpu sees exactly the
 * interpreter's state at each block boundary.
 */
export class Gen {
  readonly out: string[] = [];
  readonly regsUsed = new Set<number>();
  readonly regsMod = new Set<number>();
  readonly flagFields = new Set<FlagField>();
  /** The last flag producer emitted, or null when the record is still the one the block started with. */
  prod: Producer | null = null;
  /** A flag producer has been emitted since the start of the block (not of the loop iteration). */
  anyProd = false;
  /** Index of the instruction being emitted and its address / the next one's. */
  k = 0;
  addr = 0;
  next = 0;
  /** The instruction being emitted wrote memory (an SMC check follows it). */
  wroteMem = false;
  exits = 0;
  /** A branch is reported (the prologue sets up C, LR, T and G as the shape needs). */
  private reports = false;
  /** Edges of the conditional branches not taken so far in the pass. */
  private readonly passed: number[] = [];
  /** Counter of the pass a fault at instruction k ends, by k. */
  private readonly faultPaths = new Map<number, number>();
  /** Loop back-edges: the counter their passes add to, and their hook arguments. */
  private readonly backEdges: Array<{ path: number; args: string }> = [];
  private t = 0;
  private lastK = -1;
  /** Static targets fed to T in place (see pt): their lowest and highest. */
  private tntLo = Infinity;
  private tntHi = -1;
  /**
   * PT in a loop with one back-edge: until the branch back (the loop's pass), the bits of the
   * pass are not appended one by one but counted: ret counts the passes (since qb), ptTos holds the targets
   * of the pass's bits (the not-taken branches', then the back-edge's when conditional) and ptN
   * how many of them this pass has gone through. Each exit appends them (ptFlush); the pass's
   * bits are fixed, since any other outcome leaves the block.
   */
  private ptPassing: boolean;
  private readonly ptLoop: boolean;
  private readonly ptTos: number[] = [];
  private ptN = 0;
  private ptLast = 0;
  /** Instructions in a pass: ret grows by it at the back-edge, so passes = (ret - qb) / it. */
  private ptPassLen = 0;
  /** The back-edge was emitted: the not-taken arm of the back-edge ends the counting. */
  private ptLooped = false;
  /** ptN at each fault point of the counted part, by k. */
  private readonly ptFaultN = new Map<number, number>();
  /**
   * Outside a counted loop, the targets of the not-taken branches passed so far in the pass: their
   * 0 bits are static, so they are appended only at the exits (ptAppend), with the exit's own bit.
   */
  private readonly ptPend: number[] = [];
  /** The bit of each (0 for a branch not taken, 1 for a return the block went on through). */
  private readonly ptPendBits: number[] = [];
  /** The block goes on through returns (see through): it runs only when T compresses them. */
  private ptRetThrough = false;
  /** ptPend.length at each fault point, by k. */
  private readonly ptPendAtK = new Map<number, number>();
  /** The target lists of the appends (PTS0, PTS1, ... outside the block function). */
  private readonly ptSpills: number[][] = [];
  /** The exit being emitted has nothing pending (a back-edge appended it). */
  private ptNothingPending = false;

  constructor(
    readonly loop: boolean,
    /** dead[k]: instruction k's flag record is overwritten before anything can observe it. */
    private readonly dead: boolean[],
    /** Where static edges get their counter slots (used when the shape has EDGES). */
    private readonly counters: EdgeCounters,
    /** A SHAPE value. */
    private readonly shape: number,
    /** The block is a loop with a single back-edge. */
    oneBackEdge = false,
  ) {
    this.ptLoop = loop && oneBackEdge && (shape & SHAPE.PT) !== 0;
    this.ptPassing = this.ptLoop;
  }

  private has(bit: number): boolean {
    return (this.shape & bit) !== 0;
  }

  line(s: string): void {
    this.out.push(s);
  }
  tmp(expr: string): string {
    const name = `t${this.t++}`;
    this.line(`const ${name} = ${expr};`);
    return name;
  }
  /** Starts a new loop iteration: fault points must set k again. */
  resetK(): void {
    this.lastK = -1;
  }
  /** The next statements may throw a guest fault attributed to the current instruction. */
  faultPoint(): void {
    if (this.lastK !== this.k) this.line(`k = ${this.k};`);
    this.lastK = this.k;
    // A fault here ends the pass after the branches not taken so far.
    if (this.has(SHAPE.EDGES) && this.passed.length && !this.faultPaths.has(this.k))
      this.faultPaths.set(this.k, this.counters.path(this.passed));
    if (this.ptPassing && !this.ptFaultN.has(this.k)) this.ptFaultN.set(this.k, this.ptN);
    if (this.ptPend.length && !this.ptPendAtK.has(this.k)) this.ptPendAtK.set(this.k, this.ptPend.length);
  }

  // ---- registers (values handed around are unsigned, masked to the operand size) ----
  r(n: number): string {
    this.regsUsed.add(n);
    return `r${n}`;
  }
  getReg(size: number, n: number): string {
    if (size === 4) return `(${this.r(n)} >>> 0)`;
    if (size === 2) return `(${this.r(n)} & 0xffff)`;
    const b = BYTE_REG[n];
    return b & 1 ? `((${this.r(b >> 2)} >>> 8) & 0xff)` : `(${this.r(b >> 2)} & 0xff)`;
  }
  setReg(size: number, n: number, v: string): void {
    if (size === 1) {
      const b = BYTE_REG[n];
      const w = b >> 2;
      this.regsMod.add(w);
      if (b & 1) this.line(`${this.r(w)} = (r${w} & -65281) | ((${v} & 0xff) << 8);`);
      else this.line(`${this.r(w)} = (r${w} & -256) | (${v} & 0xff);`);
      return;
    }
    this.regsMod.add(n);
    if (size === 2) this.line(`${this.r(n)} = (r${n} & -65536) | (${v} & 0xffff);`);
    else this.line(`${this.r(n)} = ${v} | 0;`);
  }

  // ---- memory ----
  /** Effective address (int32) of a 32-bit addressing form, as Cpu.ea computes it. */
  ea(i: Insn): string {
    if (i.asize !== 4) throw new Unsupported('16-bit addressing');
    const d = i.disp | 0;
    switch (i.eaKind) {
      case EA.DISP:
        return `${d}`;
      case EA.BASE:
        return `((${this.r(i.base)} + ${d}) | 0)`;
      case EA.BASE_INDEX:
        return `((${this.r(i.base)} + (${this.r(i.index)} << ${i.shift}) + ${d}) | 0)`;
      case EA.INDEX:
        return `(((${this.r(i.index)} << ${i.shift}) + ${d}) | 0)`;
      default:
        throw new Unsupported('addressing form');
    }
  }
  load(size: number, a: string): string {
    this.faultPoint();
    if (size === 4) return this.tmp(`M.read32(${a}) >>> 0`);
    return this.tmp(`M.read${size * 8}(${a})`);
  }
  store(size: number, a: string, v: string): void {
    this.faultPoint();
    this.line(`M.write${size * 8}(${a}, ${v});`);
    this.wroteMem = true;
  }

  /** Reads the r/m operand; `addr` is the memory operand's address temp (for a write-back). */
  readE(i: Insn, size: number): { v: string; addr: string } {
    if (i.mod3) return { v: this.tmp(this.getReg(size, i.rm)), addr: '' };
    const addr = this.tmp(this.ea(i));
    return { v: this.load(size, addr), addr };
  }
  writeE(i: Insn, size: number, v: string, addr?: string): void {
    if (i.mod3) this.setReg(size, i.rm, v);
    else this.store(size, addr ?? this.tmp(this.ea(i)), v);
  }

  // ---- stack ----
  push(size: number, v: string): void {
    const sp = this.tmp(`(${this.r(4)} - ${size}) | 0`);
    this.store(size, sp, v);
    this.regsMod.add(4);
    this.line(`r4 = ${sp};`);
  }
  pop(size: number): string {
    const v = this.load(size, this.r(4));
    this.regsMod.add(4);
    this.line(`r4 = (r4 + ${size}) | 0;`);
    return v;
  }

  // ---- flags ----
  private record(p: Producer, assigns: string): void {
    this.prod = p;
    if (this.dead[this.k]) return;
    this.anyProd = true;
    for (const f of PRODUCER_FIELDS[p.kind]) this.flagFields.add(f);
    this.line(assigns);
  }
  /** add/sub with carry-in `cin` ('0' or a 0/1 temp); returns the result temp. */
  addSub(kind: 'add' | 'sub', a: string, b: string, cin: string, size: number): string {
    const op = kind === 'add' ? '+' : '-';
    const sum = cin === '0' ? `${a} ${op} ${b}` : `${a} ${op} ${b} ${op} ${cin}`;
    const r = this.tmp(size === 4 ? `(${sum}) >>> 0` : `(${sum}) & ${size === 2 ? '0xffff' : '0xff'}`);
    const lk = kind === 'add' ? 0 : 1;
    this.record(
      { kind, size, cin0: cin === '0' },
      `fL = ${lk}; f1 = ${a} | 0; f2 = ${b} | 0; fc = ${cin}; fr = ${r} | 0; fS = ${size * 8 - 1}; fK = 0x8d5;`,
    );
    return r;
  }
  /** and/or/xor/test result r: CF=OF=AF=0, SF/ZF/PF lazy. */
  logic(r: string, size: number): void {
    this.record(
      { kind: 'logic', size, cin0: true },
      `fL = 2; fr = ${r} | 0; fS = ${size * 8 - 1}; fK = 0xc4; fl &= -2066;`,
    );
  }
  /** inc/dec of a: CF kept (materialised), the rest lazy; returns the result temp. */
  incDec(dec: boolean, a: string, size: number): string {
    const m = size === 4 ? '' : size === 2 ? ' & 0xffff' : ' & 0xff';
    const r = this.tmp(size === 4 ? `(${a} ${dec ? '-' : '+'} 1) >>> 0` : `(${a} ${dec ? '-' : '+'} 1)${m}`);
    if (this.dead[this.k]) {
      this.prod = { kind: dec ? 'dec' : 'inc', size, cin0: true };
      return r;
    }
    const cf = this.tmp(this.cf());
    this.record(
      { kind: dec ? 'dec' : 'inc', size, cin0: true },
      `fL = ${dec ? 1 : 0}; f1 = ${a} | 0; f2 = 1; fc = 0; fr = ${r} | 0; fS = ${size * 8 - 1}; fK = 0x8d4; fl = (fl & -2) | ${cf};`,
    );
    return r;
  }
  /** FlagsCore.result: SF/ZF/PF lazy from r, CF/OF/AF from `value` (an expression). */
  result(r: string, size: number, value: string): void {
    this.record(
      { kind: 'result', size, cin0: true },
      `fL = 2; fr = ${r} | 0; fS = ${size * 8 - 1}; fK = 0xc4; fl = (fl & -2066) | (${value});`,
    );
  }
  /** FlagsCore.putFlags(CF|OF, value) (multiplies): the other flags stay as recorded. */
  cfOf(value: string): void {
    if (this.dead[this.k]) {
      if (this.prod !== null) this.prod = { ...this.prod, cfOfInFl: true };
      return;
    }
    this.anyProd = true;
    this.flagFields.add('fchg');
    this.flagFields.add('flags');
    this.line(`fK &= -2050; fl = (fl & -2050) | (${value});`);
    if (this.prod !== null) this.prod = { ...this.prod, cfOfInFl: true };
  }
  /** Current CF (0/1) as an expression. */
  cf(): string {
    if (this.prod !== null) return cfExpr(this.prod);
    this.flushIfNeeded();
    return 'cpu.cf()';
  }
  /** Condition cc as a boolean expression. */
  cond(cc: number): string {
    if (this.prod !== null) return condExpr(this.prod, cc);
    this.flushIfNeeded();
    return `cpu.cond(${cc})`;
  }
  /** Before asking the Cpu about flags, give it the record held in locals (a loop's previous pass). */
  private flushIfNeeded(): void {
    if (this.loop || this.anyProd) this.line(FLUSH);
  }

  // ---- exits and branch reports ----
  // Branches are reported as the interpreter reports them to the hook, in the block's SHAPE. A
  // loop counts its passes in a local (i0, i1, ...) added to C (and repeated into LR when it has
  // one back-edge) at every exit, in SYNC.

  /** Leaves the block with `retiredHere` instructions of this pass done and eip = `eip`. */
  exit(eip: string, retiredHere: number): void {
    this.countPass();
    this.exitAfterCount(eip, retiredHere);
  }
  private exitAfterCount(eip: string, retiredHere: number): void {
    this.ptFlush();
    this.line(SYNC);
    this.line(`cpu.instructionsRetired = ret + ${retiredHere}; cpu.eip = ${eip};`);
    this.line(`return ${this.exits++};`);
  }

  /** A taken branch to `to` (a number, or a temp holding a dynamic target) ends the block. */
  leave(from: number, to: number | string, kind: number): void {
    const eip = typeof to === 'number' ? hex(to) : to;
    if (this.shape === SHAPE.BARE) return this.exitAfterCount(eip, this.k + 1);
    this.reports = true;
    if (this.has(SHAPE.EDGES)) {
      const e = this.counters;
      if (typeof to === 'number') this.countPass(e.edge(from, to, kind));
      else {
        // The site's counters count the pass, its not-taken branches included.
        const d = e.site(from, kind, this.passed);
        const w = d * SITE_WAYS;
        // Every way is checked in place: a routine's return alternates between callers, and a
        // call of miss costs more than the compares (kernel run: 1.49 M calls with one way).
        const ways = Array.from(
          { length: SITE_WAYS },
          (_, i) => `if (D[${w + i}] === ${to}) C[E.ds[${w + i}]]++; else `,
        );
        this.line(`{ const D = E.dt; ${ways.join('')}{ E.miss(${d}, ${to}); C = E.c; } }`);
      }
    }
    // Bits kept in place must be in tb/tc before SYNC writes them back; T.branch needs them there.
    const inPlace = typeof to === 'number' && (kind === BRANCH.COND_TAKEN || kind === BRANCH.JMP);
    if (inPlace && kind === BRANCH.COND_TAKEN && this.has(SHAPE.PT)) this.ptTaken(to);
    else {
      this.ptFlush();
      if (inPlace) this.pt(from, to, kind);
    }
    this.line(SYNC);
    const args = `${hex(from)}, ${eip}, ${kind}`;
    if (this.has(SHAPE.RING)) this.line(`LR.record(${args});`);
    if (!inPlace) this.pt(from, to, kind);
    this.callHook(args);
    this.line(`cpu.instructionsRetired = ret + ${this.k + 1}; cpu.eip = ${eip};`);
    this.line(`return ${this.exits++};`);
  }

  /**
   * A direct jump or call to `to` the block goes on through (the instruction there is compiled
   * next): a static edge of the pass, like a conditional branch not taken.
   */
  through(from: number, to: number, kind: number): void {
    if (this.shape !== SHAPE.BARE) {
      this.reports = true;
      const args = `${hex(from)}, ${hex(to)}, ${kind}`;
      if (this.has(SHAPE.EDGES)) this.passed.push(this.counters.edge(from, to, kind));
      if (this.has(SHAPE.RING)) this.line(`LR.record(${args});`);
      if (this.has(SHAPE.PT)) {
        // In place: the block runs only when T is on and its range holds `to` (prologue).
        this.ptTarget(to);
        if (kind === BRANCH.CALL) this.line(this.ptPush(to));
        else if (kind === BRANCH.RET) this.ptRetThroughCode(to);
      }
      this.callHook(args, hex(to));
    }
    this.next = to;
  }

  /** A conditional branch not taken: the pass goes on (unless a hook stopped the run). */
  notTaken(from: number): void {
    if (this.shape === SHAPE.BARE) return;
    this.reports = true;
    if (this.has(SHAPE.EDGES)) this.passed.push(this.counters.edge(from, this.next, BRANCH.COND_NOT_TAKEN));
    if (this.ptLooped && this.ptPassing) {
      // The back-edge not taken: the loop is left after a pass through every not-taken branch
      // of it; its counted bits go out before this one.
      this.ptN = this.ptTos.length - this.ptLast;
      this.ptFlush();
      this.ptPassing = false;
    }
    this.pt(from, this.next, BRANCH.COND_NOT_TAKEN);
    this.callHook(`${hex(from)}, ${hex(this.next)}, ${BRANCH.COND_NOT_TAKEN}`, hex(this.next));
  }

  /** A taken branch back to the block's start: the next pass of a loop of `n` instructions. */
  loopBack(from: number, to: number, kind: number, n: number): void {
    if (this.shape !== SHAPE.BARE) {
      this.reports = true;
      const args = `${hex(from)}, ${hex(to)}, ${kind}`;
      if (this.has(SHAPE.EDGES) || this.has(SHAPE.RING)) {
        const e = this.counters;
        const j = this.backEdges.length;
        const path = this.has(SHAPE.EDGES) ? e.path([...this.passed, e.edge(from, to, kind)]) : -1;
        this.backEdges.push({ path, args });
        this.line(`i${j}++; ${LOOP_LBR}${j} `);
      }
      if (this.ptPassing) this.ptPass(to, kind);
      else if (this.has(SHAPE.PT)) this.ptBackEdge(to, kind);
      this.callHook(args);
    }
    this.line(`ret += ${this.k + 1}; if (ret + ${n} > end || cpu.stopping) {`);
    this.ptNothingPending = true;
    this.exitAfterCount(hex(to), 0);
    this.ptNothingPending = false;
    this.line('} continue;');
  }

  /** The pass ends before the interpreter runs the block's last instruction (see compile.ts). */
  endPass(): void {
    this.countPass();
    this.ptFlush();
  }

  /** Counts the pass that ends here, through the branches not taken and `edge` (when counting). */
  private countPass(edge?: number): void {
    if (!this.has(SHAPE.EDGES)) return;
    const edges = edge === undefined ? this.passed : [...this.passed, edge];
    if (edges.length) this.line(`C[${this.counters.path(edges)}]++;`);
  }

  /**
   * Feeds the branch to T (see TntSink). A conditional branch to a static target appends its bit
   * and a direct jump sends nothing: the block runs only when T is on and its range holds every
   * such target of the block (tntLo..tntHi), so that none can leave it; else it returns
   * NOT_IN_PLACE at once (the engine runs the block's GENERIC form, which calls the hook). The
   * pending bits are kept in locals tb/tc, written back at every exit (SYNC) before anything else
   * can see T. Other branches call T.branch.
   */
  private pt(from: number, to: number | string, kind: number): void {
    if (!this.has(SHAPE.PT)) return;
    const args = `${hex(from)}, ${typeof to === 'number' ? hex(to) : to}, ${kind}`;
    const cond = kind === BRANCH.COND_TAKEN || kind === BRANCH.COND_NOT_TAKEN;
    if (kind === BRANCH.CALL && typeof to === 'number') return this.ptCall(to, args);
    if (kind === BRANCH.RET && typeof to === 'string') return this.ptRet(to, args);
    if (typeof to !== 'number' || (!cond && kind !== BRANCH.JMP)) {
      this.line(`T.branch(${args});`);
      return;
    }
    this.ptTarget(to);
    if (!cond) return;
    if (this.ptPassing && kind === BRANCH.COND_NOT_TAKEN) {
      // Counted (see ptPassing): one more bit of the pass.
      this.ptTos.push(to >>> 0);
      this.ptN++;
      return;
    }
    if (kind === BRANCH.COND_NOT_TAKEN) this.ptPending(to, 0);
    else this.ptTaken(to);
  }

  /** A static bit for a branch to `to`, appended at the next exit with the others (ptFlush). */
  private ptPending(to: number, bit: number): void {
    this.ptPend.push(to >>> 0);
    this.ptPendBits.push(bit);
  }

  /** A static target fed to T in place: the block runs only when T's range holds it (prologue). */
  private ptTarget(to: number): void {
    this.tntLo = Math.min(this.tntLo, to >>> 0);
    this.tntHi = Math.max(this.tntHi, to >>> 0);
  }

  /** A conditional branch taken out of the block: the pending bits and its own go out together. */
  private ptTaken(to: number): void {
    this.ptTarget(to);
    if (this.ptPassing) {
      this.ptFlush();
      this.ptAppend([to >>> 0], [1]);
    } else this.ptAppend([...this.ptPend, to >>> 0], [...this.ptPendBits, 1]);
  }

  /** A back-edge of a loop that is not counted: the pass's bits go out in the loop. */
  private ptBackEdge(to: number, kind: number): void {
    this.ptTarget(to);
    if (kind === BRANCH.COND_TAKEN) this.ptAppend([...this.ptPend, to >>> 0], [...this.ptPendBits, 1]);
    else this.ptAppend([...this.ptPend], [...this.ptPendBits]);
  }

  /**
   * Appends `bits` (bit i of a branch to tos[i]) to tb/tc; a full short TNT goes out through
   * T.tntSpill, which knows each bit's target.
   */
  private ptAppend(tos: number[], bits: number[]): void {
    const code = this.ptAppendCode(tos, bits);
    if (code !== '') this.line(code);
  }
  private ptAppendCode(tos: number[], bits: number[]): string {
    const n = tos.length;
    if (n === 0) return '';
    const id = this.ptSpills.length;
    this.ptSpills.push(tos);
    const pattern = bits.reduce((v, b) => v * 2 + b, 0);
    return (
      `tb = (tb << ${n}) | ${pattern}; if ((tc += ${n}) >= 6) { T.tntBits = tb; T.tntCount = tc; ` +
      `T.tntSpill(PTS${id}); tb = T.tntBits; tc = T.tntCount; }`
    );
  }

  /** The back-edge of a counted loop (see ptPassing): the pass is complete, ret counts it. */
  private ptPass(to: number, kind: number): void {
    if (this.ptLooped) throw new Error('jit: a second back-edge in a loop compiled for one');
    this.ptLooped = true;
    this.ptTarget(to);
    if (kind === BRANCH.COND_TAKEN) {
      this.ptTos.push(to >>> 0);
      this.ptLast = 1;
    }
    // Nothing to do in the loop: ret counts the passes.
    this.ptPassLen = this.k + 1;
    // The budget exit after it is at the start of a new pass.
    this.ptN = 0;
  }

  /**
   * Before an exit: appends the bits not appended yet — in the counted part of a loop the passes
   * counted and this pass's bits, elsewhere the pending not-taken bits.
   */
  private ptFlush(): void {
    if (this.ptPassing) this.line(`${PT_FLUSH}${this.ptN}`);
    else if (!this.ptNothingPending) this.ptAppend([...this.ptPend], [...this.ptPendBits]);
  }

  /** Appends the counted bits: the passes since qb, then the first `prefix` (a number or a local) of this one. */
  private ptFlushCode(prefix: number | string, guard: string): string {
    // A loop whose pass has no conditional branch has nothing to append.
    if (this.ptTos.length === 0) return '';
    const n = this.ptTos.length;
    const passes = this.ptLooped ? `(ret - qb) / ${this.ptPassLen}` : '0';
    return (
      `if (${guard}) { T.tntBits = tb; T.tntCount = tc; T.tntLoop(${passes}, ${prefix}, ${n}, ${this.ptLast}, PTT); ` +
      'tb = T.tntBits; tc = T.tntCount; qb = ret; }'
    );
  }

  /** In the catch clause, before SYNC: the counted bits up to the faulting instruction k. */
  ptFaultFlush(): string {
    const code = this.ptFlushCode('n', 'ret !== qb || n !== 0');
    const loop =
      code === '' ? '' : `{ const n = ${JSON.stringify(Object.fromEntries(this.ptFaultN))}[k] | 0; ${code} }`;
    if (this.ptPendAtK.size === 0) return loop;
    // The pending bits before instruction k: the first m.
    const cases = [...this.ptPendAtK].map(
      ([k, m]) =>
        `case ${k}: ${this.ptAppendCode(this.ptPend.slice(0, m), this.ptPendBits.slice(0, m))} break;`,
    );
    return `${loop} switch (k) { ${cases.join(' ')} }`;
  }

  /** Declarations outside the block function (made once per block): the counted loop's targets. */
  outerDecls(): string {
    const list = (tos: number[]): string => `[${tos.map(hex).join(', ')}]`;
    const decls = this.ptSpills.map((tos, j) => `PTS${j} = ${list(tos)}`);
    if (this.ptTos.length) decls.push(`PTT = ${list(this.ptTos)}`);
    return decls.length ? `const ${decls.join(', ')};` : '';
  }

  /** A direct call to `to` (after SYNC): pushes the return address for return compression. */
  private ptCall(to: number, args: string): void {
    const t = hex(to);
    this.line(`if (T.on && ${t} >= T.lo && ${t} < T.hi) { ${this.ptPush(to)} } else T.branch(${args});`);
  }

  /** What a direct call to `to` inside T's range does: push the return address (compression on). */
  private ptPush(to: number): string {
    const m = PT_RET_STACK - 1;
    // A call of the next instruction (to read EIP) pushes nothing, as in the encoder.
    if (this.next >>> 0 === to >>> 0) return '';
    return (
      `if (T.retCompression) { const r = (T.retTop + 1) & ${m}; T.retTop = r; ` +
      `T.retStack[r] = ${hex(this.next)}; if (T.retCount < ${PT_RET_STACK}) T.retCount++; }`
    );
  }

  /**
   * A `ret` to the address the block's own call pushed (see through): with compression on (the
   * prologue checks) T's stack has it on top, so it pops and is a static taken bit.
   */
  private ptRetThroughCode(to: number): void {
    const m = PT_RET_STACK - 1;
    this.ptRetThrough = true;
    this.line(`T.retTop = (T.retTop + ${m}) & ${m}; T.retCount--;`);
    this.ptPending(to, 1);
  }

  /** A `ret` to `to` (a temp, after SYNC): a compressed one pops and is one taken TNT bit. */
  private ptRet(to: string, args: string): void {
    const m = PT_RET_STACK - 1;
    this.line(
      `if (T.on && ${to} >= T.lo && ${to} < T.hi && T.retCount > 0 && T.retStack[T.retTop] === ${to}) { ` +
        `T.retTop = (T.retTop + ${m}) & ${m}; T.retCount--; const b = (T.tntBits << 1) | 1; ` +
        `if (++T.tntCount < 6) T.tntBits = b; else if (T.tntRoom > 0) { T.tntRoom--; const s = T.sink; ` +
        `s.buf[s.pos++] = 0x80 | (b << 1); T.tntBits = 0; T.tntCount = 0; } else T.tntFull(b, ${to}); } ` +
        `else T.branch(${args});`,
    );
  }

  /** Calls the hook that must see the branch (REST, GENERIC); `thenEip`: the block goes on after it. */
  private callHook(args: string, thenEip?: string): void {
    if (this.has(SHAPE.REST)) this.line(`{ G(${args});`);
    // An unregistered hook is looked up at each branch: a hook may remove itself.
    else if (this.has(SHAPE.GENERIC))
      this.line(`{ const h = cpu.branchHook; if (h !== undefined) h(${args});`);
    else return;
    if (thenEip !== undefined) {
      this.line('if (cpu.stopping) {');
      this.exit(thenEip, this.k + 1);
      this.line('}');
    }
    this.line('}');
  }

  /** After an instruction that wrote memory: if that invalidated compiled code, stop after it. */
  smcCheck(): void {
    if (!this.wroteMem) return;
    this.wroteMem = false;
    this.line(`if (J.epoch !== ep) {`);
    // The pass ends here: the branches not taken so far in it must be counted too.
    this.countPass();
    this.ptFlush();
    this.line(SYNC);
    this.line(`cpu.instructionsRetired = ret + ${this.k + 1}; cpu.eip = ${hex(this.next)}; return -1; }`);
  }

  // ---- final assembly ----
  /** A line of the body with its placeholders filled in (`sync`: syncCode()). */
  resolve(line: string, sync: string): string {
    if (line === SYNC) return sync;
    if (line === FLUSH) return this.flushCode();
    if (line.startsWith(PT_FLUSH)) {
      const prefix = Number(line.slice(PT_FLUSH.length));
      return this.ptFlushCode(prefix, prefix === 0 ? 'ret !== qb' : 'true');
    }
    const at = line.indexOf(LOOP_LBR);
    if (at < 0) return line;
    // One back-edge: its LBR records are repeated at the exit; several: each pass records its own.
    const j = Number(line.slice(at + LOOP_LBR.length, line.indexOf(' ', at)));
    const own =
      this.backEdges.length > 1 && this.has(SHAPE.RING) ? `LR.record(${this.backEdges[j].args});` : '';
    return line.replace(`${LOOP_LBR}${j}`, own);
  }
  syncCode(): string {
    const regs = [...this.regsMod].sort().map((n) => `R[${n}] = r${n};`);
    const tnt = this.tntInPlace() ? ['T.tntBits = tb; T.tntCount = tc;'] : [];
    return [...regs, this.flushCode(), ...this.loopFlush(), ...tnt].join(' ');
  }
  private tntInPlace(): boolean {
    return this.tntHi >= 0;
  }
  flushCode(): string {
    return [...this.flagFields]
      .map((f) => `cpu.${f} = ${FIELD_LOCAL[f]}${INT32_FIELDS.has(f) ? ' >>> 0' : ''};`)
      .join(' ');
  }
  /** Adds the passes the loop counted in locals to C, and to LR when it has one back-edge. */
  private loopFlush(): string[] {
    const one = this.backEdges.length === 1;
    const edges = this.has(SHAPE.EDGES);
    const ring = one && this.has(SHAPE.RING);
    return this.backEdges.map(
      (b, j) =>
        `if (i${j} !== 0) { ${edges ? `C[${b.path}] += i${j}; ` : ''}` +
        `${ring ? `LR.repeat(${b.args}, i${j}); ` : ''}i${j} = 0; }`,
    );
  }
  /** Counts the pass a guest fault ends (in the catch clause, with k the faulting instruction). */
  faultCount(): string {
    if (this.faultPaths.size === 0) return '';
    const table = JSON.stringify(Object.fromEntries(this.faultPaths));
    return `{ const p = ${table}[k]; if (p !== undefined) C[p]++; }`;
  }
  prologue(): string {
    const regs = [...this.regsUsed].sort().map((n) => `r${n} = R[${n}]`);
    const flags = [...this.flagFields].map(
      (f) => `${FIELD_LOCAL[f]} = cpu.${f}${INT32_FIELDS.has(f) ? ' | 0' : ''}`,
    );
    const loops = this.backEdges.map((_, j) => `i${j} = 0`);
    if (this.ptLoop && this.ptTos.length) loops.push('qb = ret');
    const decl = [...regs, ...flags, ...loops];
    if (this.reports && this.has(SHAPE.EDGES)) decl.push('C = E.c');
    const consts: string[] = [];
    if (this.reports && this.has(SHAPE.RING)) consts.push('LR = J.ring');
    if (this.reports && this.has(SHAPE.PT)) consts.push('T = J.pt');
    if (this.reports && this.has(SHAPE.REST)) consts.push('G = J.rest');
    if (this.tntInPlace()) decl.push('tb = T.tntBits', 'tc = T.tntCount');
    const bail = this.tntInPlace()
      ? `if (!(T.on && T.lo <= ${hex(this.tntLo)} && ${hex(this.tntHi)} < T.hi${this.ptRetThrough ? ' && T.retCompression' : ''})) return ${NOT_IN_PLACE};`
      : '';
    return [
      consts.length ? `const ${consts.join(', ')};` : '',
      bail,
      decl.length ? `let ${decl.join(', ')};` : '',
    ].join('\n');
  }
}
