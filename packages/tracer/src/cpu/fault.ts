import { VECTOR } from './constants';

const NAMES: Record<number, string> = {
  [VECTOR.DE]: 'divide error (#DE)',
  [VECTOR.DB]: 'debug exception (#DB)',
  [VECTOR.BP]: 'breakpoint (#BP)',
  [VECTOR.OF]: 'overflow (#OF)',
  [VECTOR.UD]: 'invalid opcode (#UD)',
  [VECTOR.GP]: 'general protection fault (#GP)',
  [VECTOR.PF]: 'page fault (#PF)',
};

function hex(v: number): string {
  return '0x' + (v >>> 0).toString(16).padStart(8, '0');
}

/** eip value of faults raised by host-side memory accesses (outside `Cpu.run`). */
export const HOST_EIP = -1;

/** A CPU exception the guest raised and nothing handled. */
export class GuestFault extends Error {
  constructor(
    readonly vector: number,
    readonly eip: number,
    readonly address?: number,
    /** 'reading' / 'writing' for #PF, or a short description (the instruction for #GP/#UD). */
    readonly detail?: string,
  ) {
    super(GuestFault.describe(vector, eip, address, detail));
    this.name = 'GuestFault';
  }

  static describe(vector: number, eip: number, address?: number, detail?: string): string {
    const name = NAMES[vector] ?? `exception ${vector}`;
    const where = eip === HOST_EIP ? 'in a host access' : `at eip ${hex(eip)}`;
    if (vector === VECTOR.PF) return `${name} ${detail ?? 'accessing'} ${hex(address ?? 0)} ${where}`;
    return `${name}${detail ? ` (${detail})` : ''} ${where}`;
  }

  /** The same fault attributed to the instruction at `eip`. */
  at(eip: number): GuestFault {
    return new GuestFault(this.vector, eip, this.address, this.detail);
  }
}
