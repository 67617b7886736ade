import { Cpu, Memory, type StopReason } from '../cpu';
import {
  type BinaryLoadOptions,
  type LoadedImage,
  type ObjectLoadOptions,
  loadBinary,
  loadElfExecutable,
  loadElfObject,
  sectionAt,
} from '../loaders';
import { BudgetExhaustedError, HostCallError } from './errors';
import { type CallGuestOptions, HostCallTable, type HostFunction } from './host-calls';

export interface GuestMachineOptions {
  /** First address above the stack (esp starts here). Default 0xc0000000. */
  stackTop?: number;
  /** Stack size in bytes (page multiple); one unmapped guard page lies below. Default 1 MiB. */
  stackSize?: number;
  /** Base of the host-call trampoline area. */
  trampolineBase?: number;
}

/**
 * A guest: memory, CPU, loaded images, host-function bindings and a stack with an unmapped guard
 * page below it. Used by `fasmcov exec` and the script runner.
 */
export class GuestMachine {
  readonly memory = new Memory();
  readonly cpu: Cpu;
  readonly host: HostCallTable;
  readonly images: LoadedImage[] = [];
  readonly stackTop: number;
  readonly stackBottom: number;

  constructor(opts: GuestMachineOptions = {}) {
    this.cpu = new Cpu(this.memory);
    this.host = new HostCallTable(this.cpu, opts.trampolineBase);
    this.stackTop = opts.stackTop ?? 0xc0000000;
    const size = opts.stackSize ?? 1 << 20;
    if (size % 4096 || this.stackTop % 4096)
      throw new HostCallError('stack top and size must be page multiples');
    this.stackBottom = this.stackTop - size;
    this.memory.map(this.stackBottom, size);
    this.cpu.regs[4] = this.stackTop;
  }

  /** Makes `name` available to extrns of objects loaded afterwards; returns its stub address. */
  bind(name: string, f: HostFunction): number {
    return this.host.bind(name, f);
  }

  /** Loads a relocatable object; extrns resolve to host bindings, then to earlier images' symbols. */
  loadObject(bytes: Uint8Array, file: string, opts: ObjectLoadOptions = {}): LoadedImage {
    const extra = opts.resolve;
    const resolve = (name: string): number | undefined =>
      this.host.resolve(name) ??
      this.symbol(name) ??
      (typeof extra === 'function' ? extra(name) : extra?.get(name));
    const base = opts.base ?? this.nextBase();
    return this.add(loadElfObject(this.memory, bytes, file, { ...opts, base, resolve }));
  }

  loadExecutable(bytes: Uint8Array, file: string): LoadedImage {
    return this.add(loadElfExecutable(this.memory, bytes, file));
  }

  loadBinary(bytes: Uint8Array, file: string, opts: BinaryLoadOptions): LoadedImage {
    return this.add(loadBinary(this.memory, bytes, file, opts));
  }

  private add(image: LoadedImage): LoadedImage {
    this.images.push(image);
    return image;
  }

  /** Objects are laid out one after the other from 0x00400000. */
  private nextBase(): number {
    const objs = this.images.filter((i) => i.format === 'elf-object');
    return objs.length ? objs[objs.length - 1].end : 0x00400000;
  }

  /** Address of a symbol of any loaded image (the first image defining it wins). */
  symbol(name: string): number | undefined {
    for (const image of this.images) {
      const a = image.symbols.get(name);
      if (a !== undefined) return a;
    }
    return undefined;
  }

  /** `symbol+0xoff` for the closest symbol at or below `address` in the same section, if any. */
  symbolize(address: number): string | undefined {
    for (const image of this.images) {
      const at = sectionAt(image, address);
      if (!at) continue;
      let best: [string, number] | undefined;
      for (const [name, a] of image.symbols) {
        if (a <= address && a >= at.section.base && (!best || a > best[1])) best = [name, a];
      }
      if (best) return address === best[1] ? best[0] : `${best[0]}+0x${(address - best[1]).toString(16)}`;
      return `${at.section.name}+0x${at.offset.toString(16)}`;
    }
    return undefined;
  }

  /** Calls a guest function by symbol or address; returns eax (unsigned). */
  callGuest(
    target: string | number,
    args: ReadonlyArray<number | bigint> = [],
    opts: CallGuestOptions = {},
  ): number {
    return Number(this.callGuest64(target, args, opts) & 0xffffffffn);
  }

  /** Like `callGuest`, returning edx:eax. */
  callGuest64(
    target: string | number,
    args: ReadonlyArray<number | bigint> = [],
    opts: CallGuestOptions = {},
  ): bigint {
    const address = typeof target === 'number' ? target : this.symbol(target);
    if (address === undefined) throw new HostCallError(`no guest symbol '${String(target)}'`);
    return this.host.callGuest(address, args, opts);
  }

  /** Runs from the current eip; a budget run-out becomes `BudgetExhaustedError`. */
  run(maxInstructions: number): Exclude<StopReason, 'budget'> {
    const reason = this.cpu.run(maxInstructions);
    if (reason === 'budget')
      throw new BudgetExhaustedError(maxInstructions, this.cpu.eip, this.symbolize(this.cpu.eip));
    return reason;
  }
}
