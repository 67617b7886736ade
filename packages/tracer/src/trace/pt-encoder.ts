// Intel PT encoder for 32-bit code, fed by the CPU's branch hook. It writes what a processor with
// an address filter would write: PSB+ at a byte interval, TNT for conditional branches (and for
// compressed returns), TIP for indirect branches, TIP.PGD/TIP.PGE where control leaves/enters the
// traced ranges, FUP+TIP for faults, FUP+TIP.PGD where tracing stops between two instructions
// (host calls, end of run).
//
// The branch hook runs for every branch the guest executes, so it allocates nothing, keeps its
// state in small integers and typed arrays, and stores packet bytes straight into the sink's
// buffer (one room check per packet, not a call per byte).
import { BRANCH } from '../cpu/constants';
import type { ChunkSink } from './byte-sink';
import { type EdgeRuns, MAX_PATTERN_BITS } from './edge-runs';
import { LONG_TNT_MAX, PT, SHORT_TNT_MAX, writeExt, writeLongTnt, writeModeExec, writePsb } from './packets';
import { writeShortTnts } from './tnt-cache';

/** A traced address range, [start, end). */
export interface AddressRange {
  start: number;
  end: number;
}

export interface PtEncoderOptions {
  /**
   * Write PSB+ once this many bytes were written since the last PSB (default
   * DEFAULT_PSB_INTERVAL). Like IA32_RTIT_CTL.PSBFreq, the interval is approximate.
   */
  psbInterval?: number;
  /** Only code in these ranges is traced, like the IA32_RTIT_ADDRn filters. Default: all. */
  ranges?: AddressRange[];
  /**
   * Send 47 pending TNT bits as one long TNT (8 bytes). Default false: short TNTs only, six bits a
   * byte, which is never larger (8 short TNTs carry 48 bits); a decoder reads fewer packets with
   * long ones. Fewer than 47 bits are always sent as short TNTs.
   */
  longTnt?: boolean;
  /**
   * Return compression, as real PT unless IA32_RTIT_CTL.DisRETC is set: a `ret` to the address
   * its call pushed becomes one taken TNT bit instead of a TIP. Needs the length of the call
   * instruction at an address (code does not change under a trace: lengths are cached).
   */
  retCompression?: { insnLength: (address: number) => number };
}

/**
 * 16 KiB: Linux perf's default psb_period (3, i.e. 2^(3+11) bytes). The MSR's reset value is
 * 2 KiB; at our ~25-byte PSB+ that would cost 1.2 % of the trace instead of 0.15 %.
 */
export const DEFAULT_PSB_INTERVAL = 16 * 1024;

/** Depth of the return-address stack, as libipt's (it keeps the newest 64). */
const RET_STACK = 64;
/** Slots of the direct-mapped cache of call-instruction lengths. */
const LEN_CACHE = 4096;

const { COND_TAKEN, COND_NOT_TAKEN, JMP, CALL, CALL_INDIRECT, RET, FAULT } = BRANCH;

export class PtEncoder {
  private readonly psbInterval: number;
  private readonly longTnt: boolean;
  /** Traced ranges as sorted [start, end) pairs; empty: everything. */
  private readonly starts: Float64Array;
  private readonly ends: Float64Array;
  /** The traced range holding the latest target, [lo, hi): most branches stay in it. */
  private lo = 0;
  private hi = 2 ** 32;

  private started = false;
  /**
   * Tracing is enabled (IA32_RTIT_CTL.TraceEn): between enable() and disable(), whether or not
   * the IP is in the traced ranges; a branch into them then starts the packets.
   */
  private traceEn = false;
  private nextPsbAt = 0;
  /** A MODE.Exec was sent since the last PSB (SDM: it may then be left out at a TIP.PGE). */
  private modeSent = false;
  /** Last IP sent in an IP packet (IP compression); 0 after a PSB. */
  private lastIp = 0;

  /** Pending TNT bits, the oldest highest; a double in long-TNT mode (up to 47 bits). */
  private tntBits = 0;
  private tntCount = 0;

  private readonly insnLength: ((address: number) => number) | undefined;
  private readonly lenKeys = new Uint32Array(LEN_CACHE);
  /** 0: empty slot (no instruction is 0 bytes long). */
  private readonly lenValues = new Uint8Array(LEN_CACHE);
  private readonly retStack = new Uint32Array(RET_STACK);
  private retTop = 0;
  private retCount = 0;

  /** Tracing is on and the current IP is inside the traced ranges. */
  private on = false;

  /** Bound branch hook for `Cpu.branchHook`. */
  readonly hook: (from: number, to: number, kind: number) => void;

  constructor(
    readonly sink: ChunkSink,
    opts: PtEncoderOptions = {},
  ) {
    this.psbInterval = opts.psbInterval ?? DEFAULT_PSB_INTERVAL;
    this.longTnt = opts.longTnt ?? false;
    const ranges = (opts.ranges ?? [])
      .map((r) => [r.start >>> 0, r.end] as const)
      .sort((a, b) => a[0] - b[0]);
    this.starts = Float64Array.from(ranges, (r) => r[0]);
    this.ends = Float64Array.from(ranges, (r) => r[1]);
    if (ranges.length > 0) this.hi = 0; // nothing located yet
    this.insnLength = opts.retCompression?.insnLength;
    this.hook = (from, to, kind) => this.branch(from, to, kind);
  }

  inRange(ip: number): boolean {
    ip >>>= 0;
    return (ip >= this.lo && ip < this.hi) || this.locate(ip);
  }

  /** Makes the range holding `ip` the current one; false when no range holds it. */
  private locate(ip: number): boolean {
    const n = this.starts.length;
    if (n === 0) return true;
    for (let i = 0; i < n; i++)
      if (ip >= this.starts[i] && ip < this.ends[i]) {
        this.lo = this.starts[i];
        this.hi = this.ends[i];
        return true;
      }
    return false;
  }

  /** Tracing starts (or resumes after a host call) with the instruction at `ip`. */
  enable(ip: number): void {
    ip >>>= 0;
    this.traceEn = true;
    if (this.on || !this.inRange(ip)) return;
    if (!this.started) {
      this.started = true;
      this.psb();
      writeExt(this.sink, PT.EXT_PSBEND);
    }
    if (!this.modeSent) this.mode();
    this.ipPacket(PT.TIP_PGE, ip, true);
    this.on = true;
  }

  /**
   * Tracing stops before the instruction at `ip` executes (a host call, the end of the run):
   * FUP(ip) + TIP.PGD with the IP suppressed, an asynchronous disable in libipt's terms.
   */
  disable(ip: number): void {
    this.traceEn = false;
    if (!this.on) return;
    this.flushTnt();
    this.ipPacket(PT.FUP, ip >>> 0, true);
    this.sink.writeByte(PT.TIP_PGD);
    this.on = false;
  }

  /** Ends the trace: stops tracing before `nextIp`. */
  finish(nextIp: number): void {
    this.disable(nextIp);
    this.flushTnt();
  }

  /** Control went from the instruction at `from` to `to`; `kind` is a BRANCH value. */
  branch(from: number, to: number, kind: number): void {
    to >>>= 0;
    if (!this.on) {
      // Entering the traced ranges (a return from a filtered-out routine, an interrupt handler).
      if (this.traceEn && this.inRange(to)) this.enable(to);
      return;
    }
    if (to >= this.lo && to < this.hi) {
      if (kind === COND_TAKEN) this.tnt(1, to);
      else if (kind === COND_NOT_TAKEN) this.tnt(0, to);
      else this.transfer(from >>> 0, to, kind);
    } else this.leaveOrSwitch(from >>> 0, to, kind);
  }

  /** A branch other than a conditional one, to `to` inside the current range. */
  private transfer(from: number, to: number, kind: number): void {
    switch (kind) {
      case JMP:
        return;
      case CALL:
        if (this.insnLength !== undefined) this.pushCall(from, to, kind);
        return;
      case CALL_INDIRECT:
        if (this.insnLength !== undefined) this.pushCall(from, to, kind);
        break;
      case RET:
        if (this.retCount > 0 && this.retStack[this.retTop] === to) {
          this.retTop = (this.retTop + RET_STACK - 1) & (RET_STACK - 1);
          this.retCount--;
          this.tnt(1, to);
          return;
        }
        break;
    }
    // Indirect jumps and calls, uncompressed returns, int n, iret, faults: a TIP (after a FUP
    // of the faulting instruction for a fault).
    this.flushTnt();
    if (kind === FAULT) this.ipPacket(PT.FUP, from, false);
    this.ipPacket(PT.TIP, to, false);
    this.checkPsb(to);
  }

  /** A branch to outside the current range: into another traced range, or leaving them. */
  private leaveOrSwitch(from: number, to: number, kind: number): void {
    if (this.locate(to)) return this.branch(from, to, kind);
    if (this.insnLength !== undefined && (kind === CALL || kind === CALL_INDIRECT))
      this.pushCall(from, to, kind);
    this.flushTnt();
    if (kind === FAULT) this.ipPacket(PT.FUP, from, false);
    this.ipPacket(PT.TIP_PGD, to, true);
    this.on = false;
  }

  /**
   * Run r of `runs` (a compiled block's pass, from PT's log), when all its branches are direct:
   * does what branch() does for each and returns true; returns false, having done nothing, when
   * they must go one by one (an indirect one among them, tracing off, a target outside the
   * current range).
   */
  directRun(runs: EdgeRuns, r: number): boolean {
    if (!this.takesDirect(runs, r)) return false;
    const n = runs.bits[r];
    const count = this.tntCount + n;
    if (count < SHORT_TNT_MAX && !this.longTnt) {
      // No packet goes out, so no PSB+ can reset the return stack between the pushes.
      this.tntBits = (this.tntBits << n) | runs.pattern[r];
      this.tntCount = count;
      if (this.insnLength !== undefined)
        for (let i = runs.pushOff[r], end = i + runs.pushCount[r]; i < end; i++) this.push(runs.pushes[i]);
      return true;
    }
    const kinds = runs.kind;
    const tos = runs.to;
    for (let i = runs.off[r], end = i + runs.len[r]; i < end; i++) {
      const k = kinds[i];
      if (k === COND_TAKEN) this.tnt(1, tos[i]);
      else if (k === COND_NOT_TAKEN) this.tnt(0, tos[i]);
      else if (k === CALL && this.insnLength !== undefined && runs.ret[i] !== tos[i]) this.push(runs.ret[i]);
    }
    return true;
  }

  /**
   * Run r `passes` times over (a loop's counted passes, from PT's log), when its branches are
   * direct, push nothing and take at most MAX_PATTERN_BITS bits (else false, having done nothing,
   * as directRun). The bits repeat, so whole short TNTs go straight into the sink's buffer where
   * neither its end nor a PSB+ falls among them; they repeat every bits / gcd(bits, 6) bytes.
   */
  directLoop(runs: EdgeRuns, r: number, passes: number): boolean {
    const b = runs.bits[r];
    if (b > MAX_PATTERN_BITS || runs.pushCount[r] !== 0 || this.longTnt || !this.takesDirect(runs, r))
      return false;
    if (b === 0) return true;
    const pattern = runs.pattern[r];
    const tos = runs.bitTo;
    const at0 = runs.bitOff[r];
    const s = this.sink;
    let total = passes * b;
    /** The next bit's index in the pass. */
    let j = 0;
    while (total > 0) {
      const bytes =
        this.tntCount === 0 && total >= 12
          ? Math.min(Math.floor(total / 6), s.buf.length - s.pos, this.nextPsbAt - s.length - 1)
          : 0;
      if (bytes < 2) {
        this.tnt((pattern >>> (b - 1 - j)) & 1, tos[at0 + j]);
        if (++j === b) j = 0;
        total--;
        continue;
      }
      const period = b / gcd(b, SHORT_TNT_MAX);
      const at = s.pos;
      const first = Math.min(period, bytes);
      for (let x = 0; x < first; x++) {
        let byte = 0;
        for (let y = 0; y < SHORT_TNT_MAX; y++) {
          byte = (byte << 1) | ((pattern >>> (b - 1 - j)) & 1);
          if (++j === b) j = 0;
        }
        s.buf[at + x] = 0x80 | (byte << 1);
      }
      // Doubling copies keep the period (each starts at a multiple of it).
      for (let filled = first; filled < bytes; filled += Math.min(filled, bytes - filled))
        s.buf.copyWithin(at + filled, at, at + Math.min(filled, bytes - filled));
      if (bytes > first) j = (j + (bytes - first) * SHORT_TNT_MAX) % b;
      s.pos = at + bytes;
      total -= bytes * SHORT_TNT_MAX;
    }
    return true;
  }

  /** Run r's branches are all direct and go inside the current range while tracing is on. */
  private takesDirect(runs: EdgeRuns, r: number): boolean {
    return runs.direct[r] !== 0 && this.on && runs.min[r] >= this.lo && runs.max[r] < this.hi;
  }

  /**
   * Every call the decoder walks pushes its return address, also one that leaves the traced
   * ranges; pops happen only for compressed returns, so encoder and decoder stacks stay the same.
   * A direct call to the next instruction (`call $+5`, to read EIP) does not push, as on real PT
   * and in libipt.
   */
  private pushCall(from: number, to: number, kind: number): void {
    const next = (from + this.callLength(from)) >>> 0;
    if (kind === CALL && next === to) return;
    this.push(next);
  }

  private push(ret: number): void {
    this.retTop = (this.retTop + 1) & (RET_STACK - 1);
    this.retStack[this.retTop] = ret;
    if (this.retCount < RET_STACK) this.retCount++;
  }

  private callLength(from: number): number {
    const slot = (from ^ (from >>> 12)) & (LEN_CACHE - 1);
    if (this.lenKeys[slot] === from && this.lenValues[slot] !== 0) return this.lenValues[slot];
    const len = this.insnLength!(from);
    this.lenKeys[slot] = from;
    this.lenValues[slot] = len;
    return len;
  }

  /** Appends one TNT bit for a branch to `to`; a full TNT goes out at once. */
  private tnt(bit: number, to: number): void {
    if (this.longTnt) {
      this.tntBits = this.tntBits * 2 + bit;
      if (++this.tntCount === LONG_TNT_MAX) {
        writeLongTnt(this.sink, this.tntBits, LONG_TNT_MAX);
        this.tntBits = 0;
        this.tntCount = 0;
        this.checkPsb(to);
      }
      return;
    }
    const bits = (this.tntBits << 1) | bit;
    if (++this.tntCount === SHORT_TNT_MAX) this.tntFull(bits, to);
    else this.tntBits = bits;
  }

  /** Six TNT bits are pending after a branch to `to`: one short TNT, and PSB+ when it is due. */
  private tntFull(bits: number, to: number): void {
    const s = this.sink;
    s.room(1);
    // Six bits under the stop bit at bit 7; bit 0 = 0 says short TNT.
    s.buf[s.pos++] = 0x80 | (bits << 1);
    this.tntBits = 0;
    this.tntCount = 0;
    if (s.length >= this.nextPsbAt) this.psbPlus(to >>> 0);
  }

  /** Writes the pending TNT bits (fewer than a full packet's worth) as short TNTs. */
  private flushTnt(): void {
    if (this.tntCount === 0) return;
    writeShortTnts(this.sink, this.tntBits, this.tntCount);
    this.tntBits = 0;
    this.tntCount = 0;
  }

  /**
   * An IP packet with IP compression: 2 payload bytes when only IP[15:0] changed, else 4. `full`:
   * always 4, for the points where tracing starts, stops or can be picked up (TIP.PGE, TIP.PGD,
   * the FUPs of PSB+ and of a stop), so that each names its address outright.
   */
  private ipPacket(header: number, ip: number, full: boolean): void {
    const s = this.sink;
    s.room(5);
    const buf = s.buf;
    let p = s.pos;
    if (!full && (ip ^ this.lastIp) >>> 16 === 0) {
      buf[p++] = 0x20 | header;
      buf[p++] = ip & 0xff;
      buf[p++] = (ip >>> 8) & 0xff;
    } else {
      buf[p++] = 0x40 | header;
      buf[p++] = ip & 0xff;
      buf[p++] = (ip >>> 8) & 0xff;
      buf[p++] = (ip >>> 16) & 0xff;
      buf[p++] = ip >>> 24;
    }
    s.pos = p;
    this.lastIp = ip;
  }

  private checkPsb(ip: number): void {
    if (this.sink.length >= this.nextPsbAt) this.psbPlus(ip);
  }

  private psb(): void {
    this.nextPsbAt = this.sink.length + this.psbInterval;
    writePsb(this.sink);
    this.lastIp = 0;
    this.modeSent = false;
    // A decoder may start here with an empty return stack.
    this.retCount = 0;
  }

  private mode(): void {
    writeModeExec(this.sink, false, true);
    this.modeSent = true;
  }

  /** PSB+ while tracing: a decoder can start here, at `ip` (the next instruction). */
  private psbPlus(ip: number): void {
    this.flushTnt();
    this.psb();
    this.mode();
    this.ipPacket(PT.FUP, ip, true);
    writeExt(this.sink, PT.EXT_PSBEND);
  }
}

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}
