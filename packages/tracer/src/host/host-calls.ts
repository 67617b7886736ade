import type { Cpu } from '../cpu';
import { BudgetExhaustedError, HostCallError } from './errors';

export type CallingConvention = 'cdecl' | 'stdcall';

/** What a host function sees: its guest arguments and the machine. */
export interface HostCallContext {
  readonly cpu: Cpu;
  /** Argument slot `i` (32-bit, unsigned). A 64-bit argument occupies two slots, low dword first. */
  arg(i: number): number;
  /** Argument slot `i` as a signed int32. */
  argSigned(i: number): number;
  /** Slots `i`, `i+1` as an unsigned 64-bit value. */
  arg64(i: number): bigint;
}

/**
 * A TypeScript function callable from the guest. Its result goes to eax (number) or edx:eax (bigint);
 * `void` leaves eax alone.
 */
export interface HostFunction {
  /** Number of 32-bit argument slots (needed for stdcall's `ret 4*n`). */
  args: number;
  convention?: CallingConvention;
  fn: (ctx: HostCallContext) => number | bigint | void;
}

export interface CallGuestOptions {
  convention?: CallingConvention;
  /** Instruction budget for this call (default: the table's `defaultBudget`). */
  maxInstructions?: number;
}

/** Thrown by the return-to-host stub to unwind `cpu.run` back to `callGuest`. */
class ReturnToHost {
  constructor(readonly depth: number) {}
}

const STUB_SIZE = 8;
const PAGE = 4096;
/** Host-call id of the return-to-host stub. */
const RETURN_ID = 0;

/**
 * Host-call stubs in a read-only trampoline area: each is `0F FF <id16>` then `ret` (cdecl) or
 * `ret 4*n` (stdcall), so an extrn bound to a host function resolves to its stub address.
 */
export class HostCallTable {
  private readonly handlers: Array<(id: number) => void> = [];
  private readonly stubs: number[] = [];
  private readonly byName = new Map<string, number>();
  private depth = 0;
  /** Default instruction budget of one `callGuest`. */
  defaultBudget = 1e9;

  constructor(
    readonly cpu: Cpu,
    /** First address of the trampoline area (page-aligned; mapped here, read-only). */
    readonly base = 0x7ffe0000,
    readonly maxPages = 16,
  ) {
    cpu.hostCall = (id) => this.dispatch(id);
    this.addStub(() => {
      throw new ReturnToHost(this.depth);
    }, []);
  }

  private dispatch(id: number): void {
    const h = this.handlers[id];
    if (!h) throw new HostCallError(`unknown host call id ${id} at eip 0x${this.cpu.eip.toString(16)}`);
    h(id);
  }

  private addStub(handler: (id: number) => void, tail: number[]): number {
    const id = this.handlers.length;
    if (id > 0xffff || (id + 1) * STUB_SIZE > this.maxPages * PAGE)
      throw new HostCallError(
        `too many host calls (limit ${Math.min(0x10000, (this.maxPages * PAGE) / STUB_SIZE)})`,
      );
    const addr = this.base + id * STUB_SIZE;
    const mem = this.cpu.memory;
    const page = addr - (addr % PAGE);
    mem.map(page, PAGE, { writable: true });
    mem.writeBytes(addr, Uint8Array.from([0x0f, 0xff, id & 0xff, id >> 8, ...tail]));
    mem.map(page, PAGE, { writable: false });
    this.handlers.push(handler);
    this.stubs.push(addr);
    return addr;
  }

  /** Binds `name` to a host function; returns its stub address (what the extrn resolves to). */
  bind(name: string, f: HostFunction): number {
    if (this.byName.has(name)) throw new HostCallError(`host function '${name}' is already bound`);
    const stdcall = f.convention === 'stdcall' && f.args > 0;
    const bytes = 4 * f.args;
    const tail = stdcall ? [0xc2, bytes & 0xff, bytes >> 8] : [0xc3];
    const cpu = this.cpu;
    const ctx: HostCallContext = {
      cpu,
      arg: (i) => cpu.memory.read32((cpu.regs[4] + 4 + 4 * i) | 0) >>> 0,
      argSigned: (i) => cpu.memory.read32((cpu.regs[4] + 4 + 4 * i) | 0),
      arg64: (i) => (BigInt(ctx.arg(i + 1)) << 32n) | BigInt(ctx.arg(i)),
    };
    const addr = this.addStub(() => {
      const r = f.fn(ctx);
      if (typeof r === 'number') cpu.regs[0] = r;
      else if (typeof r === 'bigint') {
        cpu.regs[0] = Number(BigInt.asUintN(32, r));
        cpu.regs[2] = Number(BigInt.asUintN(32, r >> 32n));
      }
    }, tail);
    this.byName.set(name, addr);
    return addr;
  }

  /** Stub address of a bound name (an `ExternResolver` for the loaders). */
  resolve = (name: string): number | undefined => this.byName.get(name);

  /** Address of the stub that returns from the guest to `callGuest`. */
  get returnAddress(): number {
    return this.stubs[RETURN_ID];
  }

  /**
   * Calls the guest function at `address` with 32-bit (number) or 64-bit (bigint) arguments and returns
   * edx:eax. Re-entrant: a host function may call back into the guest. All registers, eip and
   * eflags are restored afterwards, whatever happens (return, fault, budget, exception).
   */
  callGuest(address: number, args: ReadonlyArray<number | bigint>, opts: CallGuestOptions = {}): bigint {
    const cpu = this.cpu;
    const saved = Int32Array.from(cpu.regs);
    const savedEip = cpu.eip;
    const savedFlags = cpu.getEflags();
    const depth = ++this.depth;
    const budget = opts.maxInstructions ?? this.defaultBudget;
    try {
      const slots: number[] = [];
      for (const a of args) {
        if (typeof a === 'bigint')
          slots.push(Number(BigInt.asUintN(32, a)), Number(BigInt.asUintN(32, a >> 32n)));
        else slots.push(a);
      }
      for (let i = slots.length - 1; i >= 0; i--) this.push(slots[i]);
      const argsTop = cpu.regs[4];
      this.push(this.returnAddress);
      cpu.eip = address >>> 0;
      const started = cpu.instructionsRetired;
      let reason: string;
      try {
        reason = cpu.run(budget);
      } catch (e) {
        if (!(e instanceof ReturnToHost) || e.depth !== depth) throw e;
        const expected = opts.convention === 'stdcall' ? argsTop + 4 * slots.length : argsTop;
        if (cpu.regs[4] !== (expected | 0))
          throw new HostCallError(
            `stack imbalance after ${opts.convention ?? 'cdecl'} call to 0x${(address >>> 0).toString(16)}: ` +
              `esp is 0x${(cpu.regs[4] >>> 0).toString(16)}, expected 0x${(expected >>> 0).toString(16)}`,
            address,
          );
        return (BigInt(cpu.regs[2] >>> 0) << 32n) | BigInt(cpu.regs[0] >>> 0);
      }
      if (reason === 'budget') throw new BudgetExhaustedError(cpu.instructionsRetired - started, cpu.eip);
      throw new HostCallError(
        `guest ${reason === 'halt' ? 'halted' : 'stopped'} inside a call from the host`,
        address,
      );
    } finally {
      this.depth--;
      cpu.regs.set(saved);
      cpu.eip = savedEip;
      cpu.setEflags(savedFlags);
    }
  }

  private push(v: number): void {
    const sp = (this.cpu.regs[4] - 4) | 0;
    this.cpu.memory.write32(sp, v);
    this.cpu.regs[4] = sp;
  }
}
