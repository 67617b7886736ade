// Intel PT encoder for 32-bit code, fed by the CPU's branch hook. It writes what a processor with
// an address filter would write: PSB+ at a byte interval, TNT for conditional branches, TIP for
// indirect branches, TIP.PGD/TIP.PGE where control leaves/enters the traced ranges, FUP+TIP for
// faults, FUP+TIP.PGD where tracing stops between two instructions (host calls, end of run).
import { BRANCH } from '../cpu/constants';
import type { ByteSink } from './byte-sink';
import { LastIp } from './last-ip';
import { PT, SHORT_TNT_MAX, LONG_TNT_MAX, writeExt, writeIpPacket, writeModeExec, writePsb } from './packets';
import { TntCache } from './tnt-cache';

/** A traced address range, [start, end). */
export interface AddressRange {
  start: number;
  end: number;
}

export interface PtEncoderOptions {
  /** Write PSB+ whenever this many bytes have been written since the last PSB (default 4096). */
  psbInterval?: number;
  /** Only code in these ranges is traced, like the IA32_RTIT_ADDRn filters. Default: all. */
  ranges?: AddressRange[];
  /** Only short TNT packets (one byte, up to 6 bits); default false (long TNT up to 47 bits). */
  shortTntOnly?: boolean;
  /**
   * Return compression (off by default): a `ret` to the address its call pushed becomes one taken
   * TNT bit instead of a TIP. Needs the length of the call instruction at an address.
   */
  retCompression?: { insnLength: (address: number) => number };
}

/** Depth of the return-address stack, as libipt's (it keeps the newest 64). */
const RET_STACK = 64;

export class PtEncoder {
  private readonly tnt: TntCache;
  private readonly lastIp = new LastIp();
  private readonly psbInterval: number;
  private readonly ranges: AddressRange[] | undefined;
  private lastPsbAt = -Infinity;
  private started = false;
  private readonly insnLength: ((address: number) => number) | undefined;
  /** Lengths of the call instructions seen (code does not change under a trace). */
  private readonly callLength = new Map<number, number>();
  private readonly retStack = new Uint32Array(RET_STACK);
  private retTop = 0;
  private retCount = 0;
  /** Tracing is on and the current IP is inside the traced ranges. */
  enabled = false;
  /** Taken/not-taken bits, TIPs and so on, for the producer's statistics. */
  branches = 0;

  /** Bound branch hook for `Cpu.branchHook`. */
  readonly hook: (from: number, to: number, kind: number) => void;

  constructor(
    private readonly sink: ByteSink,
    opts: PtEncoderOptions = {},
  ) {
    this.psbInterval = opts.psbInterval ?? 4096;
    this.ranges = opts.ranges?.map((r) => ({ start: r.start >>> 0, end: r.end >>> 0 }));
    this.tnt = new TntCache(sink, opts.shortTntOnly ? SHORT_TNT_MAX : LONG_TNT_MAX);
    this.insnLength = opts.retCompression?.insnLength;
    this.hook = (from, to, kind) => this.branch(from, to, kind);
  }

  inRange(ip: number): boolean {
    const rs = this.ranges;
    if (rs === undefined) return true;
    for (let i = 0; i < rs.length; i++) if (ip >= rs[i].start && ip < rs[i].end) return true;
    return false;
  }

  /** Tracing starts (or resumes after a host call) with the instruction at `ip`. */
  enable(ip: number): void {
    ip >>>= 0;
    if (this.enabled || !this.inRange(ip)) return;
    if (!this.started) {
      this.started = true;
      this.lastPsbAt = this.sink.length;
      writePsb(this.sink);
      this.lastIp.reset();
      writeExt(this.sink, PT.EXT_PSBEND);
    }
    writeModeExec(this.sink, false, true);
    this.ip(PT.TIP_PGE, ip, 2);
    this.enabled = true;
  }

  /**
   * Tracing stops before the instruction at `ip` executes (a host call, the end of the run):
   * FUP(ip) + TIP.PGD with the IP suppressed, an asynchronous disable in libipt's terms.
   */
  disable(ip: number): void {
    if (!this.enabled) return;
    this.tnt.flush();
    this.ip(PT.FUP, ip >>> 0, 2);
    writeIpPacket(this.sink, PT.TIP_PGD, 0, 0);
    this.enabled = false;
  }

  /** Control went from the instruction at `from` to `to`; `kind` is a BRANCH value. */
  branch(from: number, to: number, kind: number): void {
    to >>>= 0;
    this.branches++;
    if (!this.enabled) {
      // Entering the traced ranges (a return from a filtered-out routine, an interrupt handler).
      if (this.inRange(to) && this.started) this.enable(to);
      return;
    }
    if (this.insnLength !== undefined && (kind === BRANCH.CALL || kind === BRANCH.CALL_INDIRECT)) {
      // Every call the decoder sees pushes, also one that leaves the traced ranges; pops happen
      // only for compressed returns, so encoder and decoder stacks stay the same.
      this.retTop = (this.retTop + 1) % RET_STACK;
      let len = this.callLength.get(from);
      if (len === undefined) this.callLength.set(from, (len = this.insnLength(from)));
      this.retStack[this.retTop] = (from + len) >>> 0;
      if (this.retCount < RET_STACK) this.retCount++;
    }
    if (!this.inRange(to)) {
      this.tnt.flush();
      if (kind === BRANCH.FAULT) this.ip(PT.FUP, from >>> 0, 1);
      this.ip(PT.TIP_PGD, to, 2);
      this.enabled = false;
      return;
    }
    switch (kind) {
      case BRANCH.COND_TAKEN:
        this.tnt.add(true);
        break;
      case BRANCH.COND_NOT_TAKEN:
        this.tnt.add(false);
        break;
      case BRANCH.JMP:
      case BRANCH.CALL:
        break;
      case BRANCH.RET:
        if (this.retCount > 0 && this.retStack[this.retTop] === to) {
          this.retTop = (this.retTop + RET_STACK - 1) % RET_STACK;
          this.retCount--;
          this.tnt.add(true);
          break;
        }
        this.tnt.flush();
        this.ip(PT.TIP, to, 1);
        break;
      case BRANCH.FAULT:
        this.tnt.flush();
        this.ip(PT.FUP, from >>> 0, 1);
        this.ip(PT.TIP, to, 1);
        break;
      default:
        // Indirect jumps and calls, returns, int n, iret: the target is not in the code.
        this.tnt.flush();
        this.ip(PT.TIP, to, 1);
    }
    if (this.sink.length - this.lastPsbAt >= this.psbInterval) this.psbPlus(to);
  }

  /** Ends the trace: stops tracing before `nextIp` and flushes pending TNT bits. */
  finish(nextIp: number): void {
    this.disable(nextIp);
    this.tnt.flush();
  }

  /** PSB+ while tracing: a decoder can start here, at `ip` (the next instruction). */
  private psbPlus(ip: number): void {
    this.tnt.flush();
    this.lastPsbAt = this.sink.length;
    writePsb(this.sink);
    this.lastIp.reset();
    // A decoder may start here with an empty return stack.
    this.retCount = 0;
    writeModeExec(this.sink, false, true);
    this.ip(PT.FUP, ip, 2);
    writeExt(this.sink, PT.EXT_PSBEND);
  }

  /** An IP packet with last-IP compression; `minIpBytes` 2 keeps enable/disable/sync points 32-bit. */
  private ip(header: number, ip: number, minIpBytes: number): void {
    const ipBytes = this.lastIp.compress(ip, 0, minIpBytes);
    writeIpPacket(this.sink, header, ipBytes, ip);
  }
}
