import { BRANCH, BYTE_REG } from './constants';
import { decodeInto } from './decode/decoder';
import { EA, Insn } from './decode/insn';
import { lookupHandler } from './exec/dispatch';
import * as C from './exec/control';
import * as F from './exec/fast';
import * as X from './exec/misc';
import { GuestFault, HOST_EIP } from './fault';
import { FlagsCore } from './flags';
import { Jit, jitEnabledByDefault } from './jit/engine';
import type { Memory } from './memory';

export type StopReason = 'halt' | 'budget' | 'stop';

const PAGES = 1 << 20;

/** 32-bit flat protected-mode IA-32 interpreter (integer instructions + MMX). */
export class Cpu extends FlagsCore {
  readonly regs = new Int32Array(8);
  readonly r16 = new Uint16Array(this.regs.buffer);
  readonly r8 = new Uint8Array(this.regs.buffer);
  /** MMX registers: mm[2*i] = low dword, mm[2*i+1] = high dword. */
  readonly mm = new Int32Array(16);
  eip = 0;
  instructionsRetired = 0;
  /**
   * Times a rep string instruction resumed at its own eip after a chunk of iterations: each counts
   * as a retired instruction (as after an interrupt on a real CPU) but is no new execution of the
   * instruction for a branch trace, so trace recorders subtract them.
   */
  repRestarts = 0;
  hostCall: ((id: number) => void) | undefined;
  branchHook: ((from: number, to: number, kind: number) => void) | undefined;
  interruptHook: ((vector: number) => void) | undefined;
  /** Address of the instruction being executed (faults and branch sources refer to it). */
  curEip = 0;
  /** Effective address of the last memory operand read through `readE`, for the write-back. */
  addr = 0;
  /** Set by hlt / stop() to end the current `run`. */
  private exit: StopReason | undefined;
  // Decoded-instruction cache: icSlot[page] indexes icPages (0 = nothing decoded on that page).
  // The per-page arrays are where a block compiler can later hang compiled blocks.
  private readonly icSlot = new Int32Array(PAGES);
  private readonly icPages: Array<Array<Insn | undefined> | null> = [null];
  private readonly icFree: number[] = [];

  /** Per code page, which bytes belong to decoded instructions (self-modifying code detection). */
  private readonly codeBytes = new Map<number, Uint8Array>();

  constructor(readonly memory: Memory) {
    super();
    memory.onCodeWrite = (addr, len) => this.codeWrite(addr, len);
  }

  // ---- JIT hook (compiled basic blocks: see jit/engine.ts) ----
  private jitEngine: Jit | undefined = jitEnabledByDefault() ? new Jit(this) : undefined;
  /** Compile hot basic blocks to JavaScript (default on unless FASMCOV_JIT=0). */
  get jit(): boolean {
    return this.jitEngine !== undefined;
  }
  set jit(on: boolean) {
    if (on !== this.jit) this.jitEngine = on ? new Jit(this) : undefined;
  }
  /** The decoded instruction at eip, decoded and cached as `run` would (for the block compiler). */
  insnAt(eip: number): Insn {
    const pg = this.icPages[this.icSlot[eip >>> 12]];
    return (pg !== null ? pg[eip & 4095] : undefined) ?? this.decodeAt(eip);
  }
  /** hlt or stop() was executed during the current `run`. */
  get stopping(): boolean {
    return this.exit !== undefined;
  }
  // ---- end of JIT hook ----

  /** A write touched a page holding decoded code: drop that page's decoded code if it overlaps. */
  private codeWrite(addr: number, len: number): boolean {
    const page = addr >>> 12;
    const map = this.codeBytes.get(page);
    if (map === undefined) return false;
    const start = addr & 4095;
    const end = Math.min(start + len, 4096);
    let hit = false;
    for (let k = start; k < end && !hit; k++) hit = map[k] !== 0;
    if (!hit) return true;
    // An instruction on the previous page may extend into this one: drop that page too.
    this.dropPage(page);
    this.dropPage((page - 1) & (PAGES - 1));
    return false;
  }

  private dropPage(page: number): void {
    const s = this.icSlot[page];
    if (s !== 0) {
      // `run` may hold this array as its current page: emptied, it sends run back to decoding.
      (this.icPages[s] as Array<Insn | undefined>).fill(undefined);
      this.icPages[s] = null;
      this.icFree.push(s);
      this.icSlot[page] = 0;
    }
    this.codeBytes.delete(page);
    this.jitEngine?.invalidatePage(page); // JIT hook
  }

  stop(): void {
    this.exit = 'stop';
  }
  halt(): void {
    this.exit = 'halt';
  }

  run(maxInstructions: number): StopReason {
    this.exit = undefined;
    const end = this.instructionsRetired + maxInstructions;
    const icSlot = this.icSlot;
    const icPages = this.icPages;
    const jit = this.jitEngine; // JIT hook
    // The decoded instructions of the page last executed (-1: none), looked up again on a page change.
    let page = -1;
    let pg: Array<Insn | undefined> | null = null;
    try {
      while (this.instructionsRetired < end) {
        const eip = this.eip;
        // JIT hook: compiled blocks run from eip while they can; false = interpret one instruction.
        if (jit !== undefined && jit.run(eip, end)) {
          if (this.exit !== undefined) return this.exit;
          continue;
        }
        if (eip >>> 12 !== page) {
          page = eip >>> 12;
          pg = icPages[icSlot[page]];
        }
        let i = pg !== null ? pg[eip & 4095] : undefined;
        if (i === undefined) {
          i = this.decodeAt(eip);
          page = -1; // decoding may have started this page's array
        }
        this.curEip = eip;
        this.eip = (eip + i.len) >>> 0;
        // The hottest handlers are called directly (a monomorphic call V8 can inline) rather
        // than through i.handler (megamorphic): the same functions, see exec/fast.ts FAST_HANDLERS.
        switch (i.fast) {
          case 1:
            F.aluEGreg(this, i);
            break;
          case 2:
            F.aluEGmem(this, i);
            break;
          case 3:
            F.aluGEreg(this, i);
            break;
          case 4:
            F.aluGEmem(this, i);
            break;
          case 5:
            F.aluAccImm(this, i);
            break;
          case 6:
            F.aluImmReg(this, i);
            break;
          case 7:
            F.aluImmMem(this, i);
            break;
          case 8:
            F.aluImm8Mem(this, i);
            break;
          case 9:
            F.aluByteRegs(this, i);
            break;
          case 10:
            F.testReg(this, i);
            break;
          case 11:
            F.testMem(this, i);
            break;
          case 12:
            F.testAccImm(this, i);
            break;
          case 13:
            F.movEGreg(this, i);
            break;
          case 14:
            F.movEGmem(this, i);
            break;
          case 15:
            F.movGEreg(this, i);
            break;
          case 16:
            F.movGEmem(this, i);
            break;
          case 17:
            F.movRegImm32(this, i);
            break;
          case 18:
            F.movEImmReg(this, i);
            break;
          case 19:
            F.movEImmMem(this, i);
            break;
          case 20:
            F.movEbGbMem(this, i);
            break;
          case 21:
            F.movGbEbMem(this, i);
            break;
          case 22:
            F.movzxByteReg(this, i);
            break;
          case 23:
            F.movzxByteMem(this, i);
            break;
          case 24:
            F.movzxWordReg(this, i);
            break;
          case 25:
            F.movzxWordMem(this, i);
            break;
          case 26:
            F.incReg32(this, i);
            break;
          case 27:
            F.decReg32(this, i);
            break;
          case 28:
            F.shiftImmReg32(this, i);
            break;
          case 29:
            F.pushReg32(this, i);
            break;
          case 30:
            F.popReg32(this, i);
            break;
          case 31:
            F.pushImm32(this, i);
            break;
          case 32:
            C.jccShort(this, i);
            break;
          case 33:
            C.jccNear(this, i);
            break;
          case 34:
            C.jmpShort(this, i);
            break;
          case 35:
            C.jmpNear(this, i);
            break;
          case 36:
            C.callNear(this, i);
            break;
          case 37:
            C.ret(this, i);
            break;
          case 38:
            X.lea(this, i);
            break;
          default:
            i.handler(this, i);
        }
        this.instructionsRetired++;
        if (this.exit !== undefined) return this.exit;
      }
    } catch (e) {
      if (!(e instanceof GuestFault)) throw e;
      this.eip = this.curEip;
      if (this.branchHook) this.branchHook(this.curEip, this.curEip, BRANCH.FAULT);
      throw e.eip === HOST_EIP ? e.at(this.curEip) : e;
    }
    return 'budget';
  }

  private decodeAt(eip: number): Insn {
    this.curEip = eip;
    const i = decodeInto((a) => this.memory.read8(a), eip, new Insn());
    i.handler = lookupHandler(i);
    i.fast = F.fastKind(i.handler);
    for (let k = 0; k < i.len; k++) {
      const a = (eip + k) >>> 0;
      let map = this.codeBytes.get(a >>> 12);
      if (map === undefined) {
        map = new Uint8Array(4096);
        this.codeBytes.set(a >>> 12, map);
      }
      this.memory.markCode(a);
      map[a & 4095] = 1;
    }
    let s = this.icSlot[eip >>> 12];
    if (s === 0) {
      s = this.icFree.pop() ?? this.icPages.length;
      this.icPages[s] = new Array<Insn | undefined>(4096).fill(undefined);
      this.icSlot[eip >>> 12] = s;
    }
    const pg = this.icPages[s] as Array<Insn | undefined>;
    pg[eip & 4095] = i;
    return i;
  }

  fault(vector: number, detail?: string, address?: number): GuestFault {
    return new GuestFault(vector, this.curEip, address, detail);
  }

  // ---- registers and operands (values are unsigned, masked to the operand size) ----
  getReg(size: number, r: number): number {
    if (size === 4) return this.regs[r] >>> 0;
    if (size === 2) return this.r16[r << 1];
    return this.r8[BYTE_REG[r]];
  }
  setReg(size: number, r: number, v: number): void {
    if (size === 4) this.regs[r] = v;
    else if (size === 2) this.r16[r << 1] = v;
    else this.r8[BYTE_REG[r]] = v;
  }
  rd(size: number, addr: number): number {
    if (size === 4) return this.memory.read32(addr) >>> 0;
    if (size === 2) return this.memory.read16(addr);
    return this.memory.read8(addr);
  }
  wr(size: number, addr: number, v: number): void {
    if (size === 4) this.memory.write32(addr, v);
    else if (size === 2) this.memory.write16(addr, v);
    else this.memory.write8(addr, v);
  }
  ea(i: Insn): number {
    const regs = this.regs;
    switch (i.eaKind) {
      case EA.DISP:
        return i.disp;
      case EA.BASE:
        return (regs[i.base] + i.disp) | 0;
      case EA.BASE_INDEX:
        return (regs[i.base] + (regs[i.index] << i.shift) + i.disp) | 0;
      case EA.INDEX:
        return ((regs[i.index] << i.shift) + i.disp) | 0;
      default: {
        let a = i.disp;
        if (i.base >= 0) a += this.r16[i.base << 1];
        if (i.index >= 0) a += this.r16[i.index << 1];
        return a & 0xffff;
      }
    }
  }
  /** Reads the r/m operand; remembers a memory operand's address for `writeE`. */
  readE(i: Insn, size: number): number {
    if (i.mod3) return this.getReg(size, i.rm);
    this.addr = this.ea(i);
    return this.rd(size, this.addr);
  }
  /** Writes the r/m operand last read by `readE` (or computes the address when not read). */
  writeE(i: Insn, size: number, v: number, wasRead = true): void {
    if (i.mod3) this.setReg(size, i.rm, v);
    else this.wr(size, wasRead ? this.addr : this.ea(i), v);
  }

  // ---- stack ----
  push(size: number, v: number): void {
    const sp = (this.regs[4] - size) | 0;
    this.wr(size, sp, v);
    this.regs[4] = sp;
  }
  pop(size: number): number {
    const v = this.rd(size, this.regs[4]);
    this.regs[4] = (this.regs[4] + size) | 0;
    return v;
  }

  /** Transfers control and reports it to the branch hook. */
  jump(to: number, kind: number): void {
    this.eip = to >>> 0;
    if (this.branchHook) this.branchHook(this.curEip, this.eip, kind);
  }
}
