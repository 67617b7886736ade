import { GuestMachine, HostCallError } from '../host';
import type { LoadedImage } from '../loaders';
import { linkUmkaObject } from './link';

/** Where umka.o is linked: low enough that its ~600 MiB of sections stay below the host areas. */
export const UMKA_BASE = 0x01000000;
/** Host-owned guest memory (C-side buffers of the shell: FILEINFO blocks, paths, read buffers). */
export const HOST_HEAP = 0x60000000;
export const HOST_HEAP_SIZE = 0x20000000;

/**
 * The extrns umka.o needs from UMKa's C runtime and what a single-threaded run does for each.
 * `pause` (the idle thread's wait) and `system_shutdown` cannot be reached by a run that never
 * schedules; calling them is an error rather than a silent hang.
 */
export const UMKA_EXTERNS = [
  'get_fake_if',
  'pause',
  'pci_read',
  'reset_procmask',
  'system_shutdown',
] as const;

export class UmkaCallError extends HostCallError {}

export interface UmkaMachineOptions {
  base?: number;
}

/**
 * umka.o linked into a GuestMachine with its extrns bound to host services, plus a bump
 * allocator over a host heap for the buffers the shell passes to the kernel.
 */
export class UmkaMachine {
  readonly machine = new GuestMachine({ stackSize: 4 << 20 });
  readonly image: LoadedImage;
  private heapTop = HOST_HEAP;

  constructor(object: Uint8Array, file: string, opts: UmkaMachineOptions = {}) {
    this.bindExterns();
    const m = this.machine;
    this.image = linkUmkaObject(m.memory, object, file, {
      base: opts.base ?? UMKA_BASE,
      resolve: (name) => m.host.resolve(name),
    });
    m.images.push(this.image);
  }

  private bindExterns(): void {
    const m = this.machine;
    const unreachable = (name: string) => (): never => {
      throw new UmkaCallError(`the kernel called ${name}, which a single-threaded UMKa run does not serve`);
    };
    m.bind('pause', { args: 0, fn: unreachable('pause') });
    m.bind('system_shutdown', { args: 0, fn: unreachable('system_shutdown') });
    // No timer signal is ever delivered, so there is no signal mask to reset.
    m.bind('reset_procmask', { args: 0, fn: () => undefined });
    // irq0's context is a signal frame; with no timer there is none: report interrupts enabled.
    m.bind('get_fake_if', { args: 1, fn: () => 1 });
    // No PCI configuration space is served (UMKa reads sysfs files; absent ones read as all ones).
    m.bind('pci_read', { args: 5, convention: 'stdcall', fn: () => 0xffffffff });
  }

  symbol(name: string): number {
    const a = this.image.symbols.get(name);
    if (a === undefined) throw new UmkaCallError(`umka.o has no public symbol '${name}'`);
    return a;
  }

  /** Reserves `size` bytes of host heap (never freed: a run is short-lived). */
  alloc(size: number): number {
    const at = this.heapTop;
    const end = at + Math.ceil(Math.max(size, 1) / 4096) * 4096;
    if (end > HOST_HEAP + HOST_HEAP_SIZE) throw new UmkaCallError('host heap exhausted');
    this.machine.memory.map(at, end - at);
    this.heapTop = end;
    return at;
  }
}
