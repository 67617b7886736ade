// Instruction-flow decoder for Intel PT over a code image (what libipt's pt_insn decoder does):
// from each TIP.PGE it walks the code, takes conditional branches as TNT bits say and indirect
// ones where TIPs say, counts instructions and collects the same edge counts as the edges
// recorder. Damage is reported with its trace offset and packet, and decoding resumes at the
// next PSB; nothing here loops without consuming input or a bounded number of steps.
import { BRANCH, EdgeRecorder, LastIp, PtDecodeError, TntQueue } from '@fasmcov/tracer';
import type { PtErrorCode, PtPacket, PtPacketType } from '@fasmcov/tracer';
import { cachedClassifier } from './classifier';
import type { BranchInfo, Classifier } from './classifier';
import { ImageGapError } from './code-image';
import { PtPacketDecoder } from './pt-packet-decoder';
import type { PacketSource } from './pt-packet-decoder';

export interface FlowDecodeOptions {
  classify: Classifier;
  read8: (addr: number) => number;
  /** Most instructions walked without meeting a branch before giving up (default 1,000,000). */
  maxStraightLine?: number;
  /** Collect into this recorder (to merge several traces); default a new one. */
  edges?: EdgeRecorder;
}

export interface FlowError {
  code: PtErrorCode;
  /** Byte offset of the packet being processed. */
  offset: number;
  packet?: PtPacketType;
  /** Instruction address the walk had reached, when known. */
  ip?: number;
  message: string;
}

export interface FlowResult {
  instructions: number;
  edges: EdgeRecorder;
  errors: FlowError[];
  packets: number;
}

const hex = (v: number): string => '0x' + (v >>> 0).toString(16).padStart(8, '0');

/** Inconsistency between the trace and the code; carries the libipt-style code. */
class FlowFault extends Error {
  constructor(
    readonly code: PtErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** Return addresses of the calls walked, for compressed returns (newest 64, as libipt). */
class RetStack {
  private readonly stack = new Uint32Array(64);
  private top = 0;
  private count = 0;
  push(ip: number): void {
    this.top = (this.top + 1) & 63;
    this.stack[this.top] = ip;
    if (this.count < 64) this.count++;
  }
  pop(): number | undefined {
    if (this.count === 0) return undefined;
    const ip = this.stack[this.top];
    this.top = (this.top + 63) & 63;
    this.count--;
    return ip;
  }
  clear(): void {
    this.count = 0;
  }
}

class FlowWalker {
  ip = 0;
  instructions = 0;
  readonly retStack = new RetStack();
  private readonly info: (ip: number) => BranchInfo;

  constructor(
    private readonly opts: FlowDecodeOptions,
    readonly edges: EdgeRecorder,
    private readonly tnt: TntQueue,
  ) {
    const inner = cachedClassifier(opts.classify, opts.read8);
    this.info = (ip) => {
      try {
        return inner(ip);
      } catch (e) {
        if (e instanceof ImageGapError) throw new FlowFault('nomap', e.message);
        throw new FlowFault(
          'bad-insn',
          `cannot decode the instruction at ${hex(ip)}: ${(e as Error).message}`,
        );
      }
    };
  }

  /**
   * Walks straight-line code and direct jumps/calls from `ip` to the next instruction that needs
   * trace data (a conditional or indirect branch) and returns it, not yet executed. `bindTarget`:
   * a direct jump/call to that address stops the walk too (a TIP.PGD binds to it).
   */
  private walkToBranch(bindTarget?: number): BranchInfo {
    const limit = this.opts.maxStraightLine ?? 1_000_000;
    for (let steps = 0; steps < limit; steps++) {
      const b = this.info(this.ip);
      if (b.kind === 0) {
        this.instructions++;
        this.ip = (this.ip + b.length) >>> 0;
      } else if (b.conditional || b.target === undefined || b.target === bindTarget) {
        return b;
      } else {
        this.follow(b, b.target >>> 0);
      }
    }
    throw new FlowFault('no-branch', `no branch within ${limit} instructions of ${hex(this.ip)}`);
  }

  /** Executes the (unconditional) branch at `ip` to `to`. */
  private follow(b: BranchInfo, to: number): void {
    this.instructions++;
    const next = (this.ip + b.length) >>> 0;
    // As libipt and the hardware: `call $+5` (reading EIP) is no call for return compression.
    if (b.kind === BRANCH.CALL_INDIRECT || (b.kind === BRANCH.CALL && to !== next)) this.retStack.push(next);
    this.edges.add(this.ip, to, b.kind, 1);
    this.ip = to;
  }

  /** A return sent as a taken TNT bit: it goes where the matching call came from. */
  private compressedRet(b: BranchInfo): void {
    const taken = this.tnt.shift();
    const to = this.retStack.pop();
    if (!taken || to === undefined)
      throw new FlowFault(
        'bad-query',
        `TNT bit at the ${b.mnemonic} at ${hex(this.ip)} is not a compressed return`,
      );
    this.follow(b, to);
  }

  private takeCond(b: BranchInfo, taken: boolean): void {
    this.instructions++;
    const next = taken ? b.target! >>> 0 : (this.ip + b.length) >>> 0;
    this.edges.add(this.ip, next, taken ? BRANCH.COND_TAKEN : BRANCH.COND_NOT_TAKEN, 1);
    this.ip = next;
  }

  /** Uses up the queued TNT bits, one conditional branch each. */
  drainTnt(): void {
    while (this.tnt.size > 0) {
      const b = this.walkToBranch();
      if (b.conditional) this.takeCond(b, this.tnt.shift()!);
      else if (b.kind === BRANCH.RET) this.compressedRet(b);
      else throw new FlowFault('bad-query', `TNT where the ${b.mnemonic} at ${hex(this.ip)} needs a TIP`);
    }
  }

  /** A TIP: the next indirect branch goes to `target`. */
  indirect(target: number): void {
    const b = this.walkToBranch();
    if (b.conditional)
      throw new FlowFault('bad-query', `TIP where the ${b.mnemonic} at ${hex(this.ip)} needs a TNT bit`);
    this.follow(b, target);
  }

  /** Executes up to (not including) the instruction at `at`, using queued TNT bits on the way. */
  advanceTo(at: number): void {
    const limit = this.opts.maxStraightLine ?? 1_000_000;
    for (let steps = 0; this.ip !== at; steps++) {
      if (steps >= limit) throw new FlowFault('no-branch', `did not reach ${hex(at)} from ${hex(this.ip)}`);
      const b = this.info(this.ip);
      if (b.kind === 0) {
        this.instructions++;
        this.ip = (this.ip + b.length) >>> 0;
      } else if (b.conditional) {
        const bit = this.tnt.shift();
        if (bit === undefined)
          throw new FlowFault(
            'bad-query',
            `the ${b.mnemonic} at ${hex(this.ip)} needs a TNT bit before ${hex(at)}`,
          );
        this.takeCond(b, bit);
      } else if (b.target !== undefined) {
        this.follow(b, b.target >>> 0);
      } else if (b.kind === BRANCH.RET && this.tnt.size > 0) {
        this.compressedRet(b);
      } else {
        throw new FlowFault(
          'bad-query',
          `the ${b.mnemonic} at ${hex(this.ip)} needs a TIP before ${hex(at)}`,
        );
      }
    }
  }

  /** A TIP.PGD with an address: the next branch leaves the traced code for `target`. */
  leave(target: number): void {
    const b = this.walkToBranch(target);
    let kind = b.kind;
    if (b.conditional) {
      const fall = (this.ip + b.length) >>> 0;
      if (target === b.target) kind = BRANCH.COND_TAKEN;
      else if (target === fall) kind = BRANCH.COND_NOT_TAKEN;
      else
        throw new FlowFault('bad-query', `the ${b.mnemonic} at ${hex(this.ip)} cannot go to ${hex(target)}`);
    }
    this.follow({ ...b, kind }, target);
  }
}

/** Decodes a whole PT stream (bytes, or a PtFileSource for big files) over a code image. */
export function decodeFlow(trace: Uint8Array | PacketSource, opts: FlowDecodeOptions): FlowResult {
  const edges = opts.edges ?? new EdgeRecorder();
  const tnt = new TntQueue();
  const w = new FlowWalker(opts, edges, tnt);
  const lastIp = new LastIp();
  const dec = trace instanceof Uint8Array ? new PtPacketDecoder(trace) : trace;
  const errors: FlowError[] = [];
  let packets = 0;
  let enabled = false;
  let inPsb = false;
  let psbFup: number | undefined;
  let pendingFup: number | undefined;

  const ipOf = (p: Extract<PtPacket, { ipBytes: number }>): number | undefined =>
    lastIp.update(p.ipBytes, p.ipLow, p.ipHigh) ? lastIp.low : undefined;
  const needIp = (ip: number | undefined, what: string): number => {
    if (ip === undefined) throw new FlowFault('bad-query', `${what} without an IP`);
    return ip;
  };
  const needEnabled = (what: string): void => {
    if (!enabled) throw new FlowFault('bad-query', `${what} while tracing is disabled`);
  };

  const apply = (p: PtPacket): void => {
    switch (p.type) {
      case 'psb':
        if (tnt.size > 0) throw new FlowFault('bad-query', `${tnt.size} TNT bits left over at a PSB`);
        inPsb = true;
        psbFup = undefined;
        lastIp.reset();
        w.retStack.clear();
        return;
      case 'psbend':
        inPsb = false;
        // Synchronising (start or after damage): the PSB+'s FUP says where execution is.
        if (!enabled && psbFup !== undefined) {
          enabled = true;
          w.ip = psbFup;
          edges.start(psbFup);
        }
        return;
      case 'mode-exec':
        if (p.csl || !p.csd) throw new FlowFault('bad-mode', 'MODE.Exec says the code is not 32-bit');
        return;
      case 'tnt':
        needEnabled('TNT');
        tnt.push(p.bits, p.count);
        w.drainTnt();
        return;
      case 'tip-pge':
        if (enabled) throw new FlowFault('bad-query', 'TIP.PGE while tracing is enabled');
        w.ip = needIp(ipOf(p), 'TIP.PGE');
        enabled = true;
        edges.start(w.ip);
        return;
      case 'fup': {
        const at = ipOf(p);
        if (inPsb) {
          psbFup = at;
          return;
        }
        needEnabled('FUP');
        w.advanceTo(needIp(at, 'FUP'));
        pendingFup = w.ip;
        return;
      }
      case 'tip': {
        needEnabled('TIP');
        const to = needIp(ipOf(p), 'TIP');
        if (pendingFup !== undefined) {
          // A fault or interrupt before the FUP's instruction executed: control went to `to`.
          edges.add(pendingFup, to, BRANCH.FAULT, 1);
          w.ip = to;
          pendingFup = undefined;
        } else {
          w.indirect(to);
        }
        return;
      }
      case 'tip-pgd': {
        needEnabled('TIP.PGD');
        const to = ipOf(p);
        if (pendingFup !== undefined) {
          // Asynchronous: tracing stopped before the FUP's instruction, or a fault left the code.
          if (to === undefined) edges.stop(pendingFup);
          else edges.add(pendingFup, to, BRANCH.FAULT, 1);
          pendingFup = undefined;
        } else {
          w.leave(needIp(to, 'TIP.PGD'));
        }
        enabled = false;
        return;
      }
      case 'ovf':
        throw new FlowFault('overflow', 'the trace lost data (OVF)');
      case 'tracestop':
        enabled = false;
        return;
      default:
        // Timing and identification packets do not change the flow.
        return;
    }
  };

  if (!dec.syncForward()) errors.push({ code: 'nosync', offset: 0, message: 'no PSB in the trace' });
  for (;;) {
    let offset = dec.offset;
    let type: PtPacketType | undefined;
    try {
      const at = dec.next();
      if (!at) break;
      packets++;
      offset = at.offset;
      type = at.packet.type;
      // A FUP must be followed directly by the TIP or TIP.PGD it belongs to.
      if (pendingFup !== undefined && type !== 'tip' && type !== 'tip-pgd' && type !== 'pad')
        throw new FlowFault('bad-query', 'FUP without a following TIP or TIP.PGD');
      apply(at.packet);
    } catch (e) {
      if (!(e instanceof FlowFault || e instanceof PtDecodeError)) throw e;
      const where = enabled ? ` (ip ${hex(w.ip)})` : '';
      errors.push({
        code: e.code,
        offset,
        packet: type,
        ip: enabled ? w.ip : undefined,
        message: `${e instanceof PtDecodeError ? e.message : `${e.message} at trace offset ${offset}`}${where}`,
      });
      enabled = false;
      inPsb = false;
      pendingFup = undefined;
      tnt.clear();
      if (!dec.resyncAfter(offset)) break;
    }
  }
  return { instructions: w.instructions, edges, errors, packets };
}
