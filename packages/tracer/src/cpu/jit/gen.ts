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
import type { EdgeCounters } from './engine';

/** Placeholders replaced once the whole block is known (which registers and flag fields it uses). */
export const SYNC = '@@SYNC@@';
/**
 * Tags of PT log records (the low two bits of a record's first word, see PtLogSink and
 * trace/pt-log.ts, which reads them): a pass along counter `id`; a pass to dynamic site `id` (a
 * second word: the target); a loop's counted passes along counter `id` (a second word: how many);
 * a control record (written by the log itself, never by compiled code).
 */
export const PT_PASS = 0;
export const PT_SITE = 1;
export const PT_LOOP = 2;
export const PT_CTRL = 3;
export const FLUSH = '@@FLUSH@@';

export class Unsupported extends Error {}

/**
 * What compiled code reports branches to, fixed when a block is compiled (the Jit keeps one set of
 * blocks per shape): nothing (BARE: no hook); for a registered hook (InlineBranchTarget), the
 * members it has: EDGES counts passes in C (EdgeCounters), RING appends taken branches to LR,
 * PT records passes in L (PtLogSink), REST calls G = J.rest for every branch; GENERIC calls
 * cpu.branchHook for every branch (an unregistered hook).
 */
export const SHAPE = { BARE: 0, EDGES: 1, RING: 2, PT: 4, REST: 8, GENERIC: 16 } as const;
/** Number of shapes (GENERIC is the largest). */
export const SHAPES = SHAPE.GENERIC + 1;

/**
 * Targets a dynamic site remembers, the latest new one first: a routine's `ret` goes back to a few
 * callers in turn (on the bundled kernel one entry misses 23 % of returns, two 7 %, four 0.06 %).
 */
export const SITE_WAYS = 4;

/** Placeholder for a back-edge's own LBR and PT records, known once the block's back-edges are. */
const LOOP_LBR = '@@LOOPLBR@@';

const hex = (v: number): string => '0x' + (v >>> 0).toString(16);

/**
 * Code appending a record to PT's log L (see PtLogSink): its first word `head` (the tag in the low
 * two bits), then `arg` when it has one. Records of a pass come after SYNC, which records the
 * loop's counted passes first, so the log keeps the order of the branches. (A call, not the
 * stores themselves: V8 inlines it, and the smaller blocks run faster, 943 against 1006 ms.)
 */
function ptRecordCode(head: number | string, arg?: string): string {
  return arg === undefined ? `L.record(${head});` : `L.record2(${head}, ${arg});`;
}

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
  constructor(
    readonly loop: boolean,
    /** dead[k]: instruction k's flag record is overwritten before anything can observe it. */
    private readonly dead: boolean[],
    /** Where static edges get their counter slots (used when the shape has EDGES). */
    private readonly counters: EdgeCounters,
    /** A SHAPE value. */
    private readonly shape: number,
  ) {}

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
    if (this.paths() && this.passed.length && !this.faultPaths.has(this.k))
      this.faultPaths.set(this.k, this.counters.path(this.passed));
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
    this.exitAfterCount(eip, retiredHere, this.countPass());
  }
  /** `pass`: the counter of the pass that ends here, for PT's record (see ptRecord). */
  private exitAfterCount(eip: string, retiredHere: number, pass?: number): void {
    this.line(SYNC);
    if (pass !== undefined) this.ptRecord(PT_PASS, pass);
    this.line(`cpu.instructionsRetired = ret + ${retiredHere}; cpu.eip = ${eip};`);
    this.line(`return ${this.exits++};`);
  }

  /** A taken branch to `to` (a number, or a temp holding a dynamic target) ends the block. */
  leave(from: number, to: number | string, kind: number): void {
    const eip = typeof to === 'number' ? hex(to) : to;
    if (this.shape === SHAPE.BARE) return this.exitAfterCount(eip, this.k + 1);
    this.reports = true;
    const e = this.counters;
    // A static branch ends the pass on a counter; a dynamic one at a site (its counter per target).
    let pass: number | undefined;
    let site: number | undefined;
    if (typeof to === 'number') pass = this.countPass(e.edge(from, to, kind));
    else if (this.paths()) site = e.site(from, kind, this.passed);
    if (site !== undefined && this.has(SHAPE.EDGES)) {
      const w = site * SITE_WAYS;
      // Every way is checked in place: a routine's return alternates between callers, and a
      // call of miss costs more than the compares (kernel run: 1.49 M calls with one way).
      const ways = Array.from(
        { length: SITE_WAYS },
        (_, i) => `if (D[${w + i}] === ${to}) C[E.ds[${w + i}]]++; else `,
      );
      this.line(`{ const D = E.dt; ${ways.join('')}{ E.miss(${site}, ${to}); C = E.c; } }`);
    }
    this.line(SYNC);
    if (pass !== undefined) this.ptRecord(PT_PASS, pass);
    if (site !== undefined) this.ptRecord(PT_SITE, site, eip);
    const args = `${hex(from)}, ${eip}, ${kind}`;
    if (this.has(SHAPE.RING)) this.line(`LR.record(${args});`);
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
      if (this.paths()) this.passed.push(this.counters.edge(from, to, kind));
      if (this.has(SHAPE.RING)) this.line(`LR.record(${args});`);
      this.callHook(args, hex(to));
    }
    this.next = to;
  }

  /** A conditional branch not taken: the pass goes on (unless a hook stopped the run). */
  notTaken(from: number): void {
    if (this.shape === SHAPE.BARE) return;
    this.reports = true;
    if (this.paths()) this.passed.push(this.counters.edge(from, this.next, BRANCH.COND_NOT_TAKEN));
    this.callHook(`${hex(from)}, ${hex(this.next)}, ${BRANCH.COND_NOT_TAKEN}`, hex(this.next));
  }

  /** A taken branch back to the block's start: the next pass of a loop of `n` instructions. */
  loopBack(from: number, to: number, kind: number, n: number): void {
    if (this.shape !== SHAPE.BARE) {
      this.reports = true;
      const args = `${hex(from)}, ${hex(to)}, ${kind}`;
      if (this.paths() || this.has(SHAPE.RING)) {
        const e = this.counters;
        const j = this.backEdges.length;
        const path = this.paths() ? e.path([...this.passed, e.edge(from, to, kind)]) : -1;
        this.backEdges.push({ path, args });
        this.line(`i${j}++; ${LOOP_LBR}${j} `);
      }
      this.callHook(args);
    }
    this.line(`ret += ${this.k + 1}; if (ret + ${n} > end || cpu.stopping) {`);
    this.exitAfterCount(hex(to), 0);
    this.line('} continue;');
  }

  /** The pass ends before the interpreter runs the block's last instruction (see compile.ts). */
  endPass(): void {
    const pass = this.countPass();
    this.line(SYNC);
    if (pass !== undefined) this.ptRecord(PT_PASS, pass);
  }

  /** Edge counters are made: the shape counts edges or records PT passes. */
  private paths(): boolean {
    return this.has(SHAPE.EDGES) || this.has(SHAPE.PT);
  }

  /**
   * The counter of the pass that ends here, through the branches not taken and `edge`: counted in
   * C (EDGES) at once; undefined when the pass reported no branch or nothing is counted.
   */
  private countPass(edge?: number): number | undefined {
    if (!this.paths()) return undefined;
    const edges = edge === undefined ? this.passed : [...this.passed, edge];
    if (edges.length === 0) return undefined;
    const p = this.counters.path(edges);
    if (this.has(SHAPE.EDGES)) this.line(`C[${p}]++;`);
    return p;
  }

  /** Appends a record to PT's log, after SYNC (see ptRecordCode). */
  private ptRecord(tag: number, id: number, arg?: string): void {
    if (this.has(SHAPE.PT)) this.line(ptRecordCode(id * 4 + tag, arg));
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
    const pass = this.countPass();
    this.line(SYNC);
    if (pass !== undefined) this.ptRecord(PT_PASS, pass);
    this.line(`cpu.instructionsRetired = ret + ${this.k + 1}; cpu.eip = ${hex(this.next)}; return -1; }`);
  }

  // ---- final assembly ----
  /** A line of the body with its placeholders filled in (`sync`: syncCode()). */
  resolve(line: string, sync: string): string {
    if (line === SYNC) return sync;
    if (line === FLUSH) return this.flushCode();
    const at = line.indexOf(LOOP_LBR);
    if (at < 0) return line;
    // One back-edge: its passes are counted and recorded at the exit (loopFlush); several: each
    // pass records its own.
    const j = Number(line.slice(at + LOOP_LBR.length, line.indexOf(' ', at)));
    const b = this.backEdges[j];
    let own = '';
    if (this.backEdges.length > 1) {
      if (this.has(SHAPE.RING)) own += `LR.record(${b.args});`;
      if (this.has(SHAPE.PT)) own += ptRecordCode(b.path * 4 + PT_PASS);
    }
    return line.replace(`${LOOP_LBR}${j}`, own);
  }
  syncCode(): string {
    const regs = [...this.regsMod].sort().map((n) => `R[${n}] = r${n};`);
    return [...regs, this.flushCode(), ...this.loopFlush()].join(' ');
  }
  flushCode(): string {
    return [...this.flagFields]
      .map((f) => `cpu.${f} = ${FIELD_LOCAL[f]}${INT32_FIELDS.has(f) ? ' >>> 0' : ''};`)
      .join(' ');
  }
  /**
   * Adds the passes the loop counted in locals to C, and to LR and PT's log when it has one
   * back-edge.
   */
  private loopFlush(): string[] {
    const one = this.backEdges.length === 1;
    const edges = this.has(SHAPE.EDGES);
    const ring = one && this.has(SHAPE.RING);
    const pt = one && this.has(SHAPE.PT);
    return this.backEdges.map(
      (b, j) =>
        `if (i${j} !== 0) { ${edges ? `C[${b.path}] += i${j}; ` : ''}` +
        `${ring ? `LR.repeat(${b.args}, i${j}); ` : ''}` +
        `${pt ? `L.loop(${b.path * 4 + PT_LOOP}, i${j}); ` : ''}` +
        `i${j} = 0; }`,
    );
  }
  /** Counts the pass a guest fault ends (in the catch clause, with k the faulting instruction). */
  faultCount(): string {
    if (this.faultPaths.size === 0 || !this.has(SHAPE.EDGES)) return '';
    const table = JSON.stringify(Object.fromEntries(this.faultPaths));
    return `{ const p = ${table}[k]; if (p !== undefined) C[p]++; }`;
  }
  /** Records the pass a guest fault ends in PT's log (in the catch clause, after SYNC). */
  ptFaultRecord(): string {
    if (this.faultPaths.size === 0 || !this.has(SHAPE.PT)) return '';
    const table = JSON.stringify(
      Object.fromEntries([...this.faultPaths].map(([k, p]) => [k, p * 4 + PT_PASS])),
    );
    return `{ const h = ${table}[k]; if (h !== undefined) ${ptRecordCode('h')} }`;
  }
  prologue(): string {
    const regs = [...this.regsUsed].sort().map((n) => `r${n} = R[${n}]`);
    const flags = [...this.flagFields].map(
      (f) => `${FIELD_LOCAL[f]} = cpu.${f}${INT32_FIELDS.has(f) ? ' | 0' : ''}`,
    );
    const loops = this.backEdges.map((_, j) => `i${j} = 0`);
    const decl = [...regs, ...flags, ...loops];
    if (this.reports && this.has(SHAPE.EDGES)) decl.push('C = E.c');
    const consts: string[] = [];
    if (this.reports && this.has(SHAPE.RING)) consts.push('LR = J.ring');
    if (this.reports && this.has(SHAPE.PT)) consts.push('L = J.pt');
    if (this.reports && this.has(SHAPE.REST)) consts.push('G = J.rest');
    return [
      consts.length ? `const ${consts.join(', ')};` : '',
      decl.length ? `let ${decl.join(', ')};` : '',
    ].join('\n');
  }
}
