import { type Cpu, GuestFault, type Memory } from '../cpu';
import { ERRNO } from './errno';
import type { FileTable } from './files';

/** Thrown by exit / exit_group: unwinds `cpu.run` (at any call depth) with the status. */
export class GuestExit extends Error {
  constructor(readonly code: number) {
    super(`guest exited with status ${code}`);
    this.name = 'GuestExit';
  }
}

const PAGE = 4096;
const MAP_FIXED = 0x10;
const MAP_ANONYMOUS = 0x20;
const PROT_WRITE = 2;
/** Largest single read/write a syscall transfers at once (like Linux's MAX_RW_COUNT spirit). */
const MAX_IO = 1 << 24;

export interface SyscallOptions {
  /** First byte of the heap (page-aligned end of the image). */
  brkStart: number;
  /** Anonymous mappings are placed top-down below this address. */
  mmapTop: number;
  /** Value of time() (seconds since the epoch): fixed so that runs are reproducible. */
  time: number;
  pid: number;
  /** Receives one line per system call (strace-like), if set. */
  trace?: (line: string) => void;
}

type Handler = (a: number[]) => number;

/** The i386 Linux system calls fasmcov emulates (numbers from arch/x86/entry/syscalls/syscall_32.tbl). */
export class LinuxSyscalls {
  private brk: number;
  private mmapCursor: number;
  private readonly table: Record<number, [string, Handler]>;

  constructor(
    private readonly cpu: Cpu,
    private readonly files: FileTable,
    private readonly opts: SyscallOptions,
  ) {
    this.brk = opts.brkStart;
    this.mmapCursor = opts.mmapTop;
    this.table = {
      1: ['exit', (a) => this.exit(a[0])],
      3: ['read', (a) => this.read(a[0], a[1], a[2])],
      4: ['write', (a) => this.write(a[0], a[1], a[2])],
      5: ['open', (a) => this.open(a[0], a[1])],
      6: ['close', (a) => this.files.close(a[0])],
      13: ['time', (a) => this.time(a[0])],
      19: ['lseek', (a) => this.files.lseek(a[0], a[1] | 0, a[2])],
      20: ['getpid', () => opts.pid],
      45: ['brk', (a) => this.setBrk(a[0])],
      90: ['mmap', (a) => this.oldMmap(a[0])],
      91: ['munmap', (a) => this.munmap(a[0], a[1])],
      192: ['mmap2', (a) => this.mmap(a[0], a[1], a[2], a[3], a[4])],
      252: ['exit_group', (a) => this.exit(a[0])],
    };
  }

  private get memory(): Memory {
    return this.cpu.memory;
  }

  /** Handles `int 0x80`: number in eax, arguments in ebx, ecx, edx, esi, edi, ebp; result in eax. */
  syscall(): void {
    const r = this.cpu.regs;
    const nr = r[0] >>> 0;
    const args = [r[3] >>> 0, r[1] >>> 0, r[2] >>> 0, r[6] >>> 0, r[7] >>> 0, r[5] >>> 0];
    const entry = this.table[nr];
    let result: number;
    if (!entry) {
      result = -ERRNO.ENOSYS;
      this.opts.trace?.(`syscall ${nr}(${args.map(hex).join(', ')}) = -ENOSYS (not emulated)`);
    } else {
      if (this.opts.trace && (nr === 1 || nr === 252)) this.opts.trace(`${entry[0]}(${args[0] | 0})`);
      result = entry[1](args);
      this.opts.trace?.(
        `${entry[0]}(${args
          .slice(0, entry[1].length ? 3 : 0)
          .map(hex)
          .join(', ')}) = ${result}`,
      );
    }
    r[0] = result;
  }

  private exit(code: number): number {
    throw new GuestExit(code & 0xff);
  }

  /** Copies guest memory, or undefined if any byte is unmapped (→ EFAULT). */
  private guestBytes(addr: number, len: number): Uint8Array | undefined {
    try {
      return this.memory.readBytes(addr, len);
    } catch (e) {
      if (e instanceof GuestFault) return undefined;
      throw e;
    }
  }

  private writable(addr: number, len: number): boolean {
    for (let a = addr - (addr % PAGE); a < addr + len; a += PAGE)
      if (!this.memory.isWritable(a >>> 0)) return false;
    return addr + len <= 0x1_0000_0000;
  }

  private read(fd: number, buf: number, count: number): number {
    const len = Math.min(count, MAX_IO);
    if (!this.writable(buf, len)) return -ERRNO.EFAULT;
    const tmp = new Uint8Array(len);
    const n = this.files.read(fd, tmp);
    if (n <= 0) return n;
    try {
      this.memory.writeBytes(buf, tmp.subarray(0, n));
    } catch (e) {
      if (e instanceof GuestFault) return -ERRNO.EFAULT;
      throw e;
    }
    return n;
  }

  private write(fd: number, buf: number, count: number): number {
    const bytes = this.guestBytes(buf, Math.min(count, MAX_IO));
    return bytes ? this.files.write(fd, bytes) : -ERRNO.EFAULT;
  }

  private cString(addr: number): string | undefined {
    const out: number[] = [];
    for (let a = addr; out.length < 4096; a = (a + 1) >>> 0) {
      if (!this.memory.isMapped(a)) return undefined;
      const b = this.memory.read8(a);
      if (b === 0) return Buffer.from(out).toString('utf8');
      out.push(b);
    }
    return undefined;
  }

  private open(pathAddr: number, flags: number): number {
    const p = this.cString(pathAddr);
    return p === undefined ? -ERRNO.EFAULT : this.files.open(p, flags);
  }

  private time(tloc: number): number {
    if (tloc !== 0) {
      if (!this.writable(tloc, 4)) return -ERRNO.EFAULT;
      this.memory.write32(tloc, this.opts.time);
    }
    return this.opts.time;
  }

  /** brk: grows or shrinks the heap in whole pages; an impossible request returns the current break. */
  private setBrk(want: number): number {
    if (want < this.opts.brkStart || want >= this.mmapCursor) return this.brk;
    const oldEnd = pageUp(this.brk);
    const newEnd = pageUp(want);
    if (newEnd > oldEnd) this.memory.map(oldEnd, newEnd - oldEnd);
    else if (newEnd < oldEnd) this.memory.unmap(newEnd, oldEnd - newEnd);
    this.brk = want;
    return want;
  }

  private mmap(addr: number, len: number, prot: number, flags: number, _fd: number): number {
    if (len === 0 || addr % PAGE) return -ERRNO.EINVAL;
    if (!(flags & MAP_ANONYMOUS)) return -ERRNO.ENODEV; // only anonymous memory
    const size = pageUp(len);
    let base: number;
    if (flags & MAP_FIXED) {
      if (addr + size > 0x1_0000_0000) return -ERRNO.EINVAL;
      base = addr;
      this.memory.unmap(base, size); // a fixed mapping replaces whatever was there, zero-filled
    } else {
      if (this.mmapCursor - size < pageUp(this.brk)) return -ERRNO.ENOMEM;
      this.mmapCursor -= size;
      base = this.mmapCursor;
    }
    this.memory.map(base, size, { writable: (prot & PROT_WRITE) !== 0 });
    return base;
  }

  /** Old mmap (90): the six arguments are in a block in guest memory. */
  private oldMmap(block: number): number {
    const a = this.guestBytes(block, 24);
    if (!a) return -ERRNO.EFAULT;
    const v = new DataView(a.buffer);
    const offset = v.getUint32(20, true);
    if (offset % PAGE) return -ERRNO.EINVAL;
    return this.mmap(
      v.getUint32(0, true),
      v.getUint32(4, true),
      v.getUint32(8, true),
      v.getUint32(12, true),
      0,
    );
  }

  private munmap(addr: number, len: number): number {
    if (addr % PAGE || len === 0) return -ERRNO.EINVAL;
    this.memory.unmap(addr, pageUp(len));
    return 0;
  }
}

function pageUp(v: number): number {
  return Math.ceil(v / PAGE) * PAGE;
}

function hex(v: number): string {
  return `0x${v.toString(16)}`;
}
