import { VECTOR } from './constants';
import { GuestFault, HOST_EIP } from './fault';

const PAGES = 1 << 20;
const MAPPED = 1;
const WRITABLE = 2;
/** The page holds decoded instructions: writes must invalidate them. */
const CODE = 4;
const RW = MAPPED | WRITABLE;

function pageFault(addr: number, write: boolean): GuestFault {
  return new GuestFault(VECTOR.PF, HOST_EIP, addr >>> 0, write ? 'writing' : 'reading');
}

/**
 * Sparse 4 GiB guest memory of 4 KiB pages. Each page has a byte view and aligned 16/32-bit views
 * (the host is little-endian like the guest), so aligned accesses are one typed-array load.
 */
export class Memory {
  // Page table: slot[page] indexes the dense view arrays (0 = unmapped). A zero-filled Int32Array
  // is cheap to create, unlike a million-entry JS array.
  private readonly slot = new Int32Array(PAGES);
  private readonly v8: Array<Uint8Array | null> = [null];
  private readonly v16: Array<Uint16Array | null> = [null];
  private readonly v32: Array<Int32Array | null> = [null];
  private readonly freeSlots: number[] = [];
  private readonly attr = new Uint8Array(PAGES);
  /**
   * Set by the CPU: called when bytes [addr, addr+len) of a page marked as holding code are
   * written. Returns true when the page still holds decoded code (the write missed it).
   */
  onCodeWrite: ((addr: number, len: number) => boolean) | undefined;

  map(base: number, size: number, opts?: { writable?: boolean }): void {
    const writable = opts?.writable ?? true;
    const first = base >>> 12;
    const last = (base + Math.max(size, 1) - 1) >>> 12;
    for (let p = first; p <= last && p < PAGES; p++) {
      if (this.slot[p] === 0) {
        const buf = new ArrayBuffer(4096);
        const s = this.freeSlots.pop() ?? this.v8.length;
        this.v8[s] = new Uint8Array(buf);
        this.v16[s] = new Uint16Array(buf);
        this.v32[s] = new Int32Array(buf);
        this.slot[p] = s;
      }
      this.attr[p] = (this.attr[p] & CODE) | (writable ? RW : MAPPED);
    }
  }

  unmap(base: number, size: number): void {
    const first = base >>> 12;
    const last = (base + Math.max(size, 1) - 1) >>> 12;
    for (let p = first; p <= last && p < PAGES; p++) {
      if (this.attr[p] & CODE) this.codeWritten(p, p << 12, 4096);
      const s = this.slot[p];
      if (s !== 0) {
        this.v8[s] = this.v16[s] = this.v32[s] = null;
        this.freeSlots.push(s);
        this.slot[p] = 0;
      }
      this.attr[p] = 0;
    }
  }

  isMapped(addr: number): boolean {
    return (this.attr[addr >>> 12] & MAPPED) !== 0;
  }

  isWritable(addr: number): boolean {
    return (this.attr[addr >>> 12] & RW) === RW;
  }

  /** Marks the page of `addr` as holding decoded code (writes to it will call onCodeWrite). */
  markCode(addr: number): void {
    this.attr[addr >>> 12] |= CODE;
  }

  private codeWritten(page: number, addr: number, len: number): void {
    if (!this.onCodeWrite || !this.onCodeWrite(addr, len)) this.attr[page] &= ~CODE;
  }

  read8(addr: number): number {
    const pg = this.v8[this.slot[addr >>> 12]];
    if (pg === null) throw pageFault(addr, false);
    return pg[addr & 4095];
  }

  read16(addr: number): number {
    if ((addr & 1) === 0) {
      const pg = this.v16[this.slot[addr >>> 12]];
      if (pg === null) throw pageFault(addr, false);
      return pg[(addr & 4095) >> 1];
    }
    return this.read8(addr) | (this.read8(addr + 1) << 8);
  }

  read32(addr: number): number {
    if ((addr & 3) === 0) {
      const pg = this.v32[this.slot[addr >>> 12]];
      if (pg === null) throw pageFault(addr, false);
      return pg[(addr & 4095) >> 2];
    }
    const off = addr & 4095;
    if (off <= 4092) {
      const pg = this.v8[this.slot[addr >>> 12]];
      if (pg === null) throw pageFault(addr, false);
      return pg[off] | (pg[off + 1] << 8) | (pg[off + 2] << 16) | (pg[off + 3] << 24);
    }
    // Page-crossing: check both pages before reading so the fault names the first missing byte.
    return (
      this.read8(addr) |
      (this.read8(addr + 1) << 8) |
      (this.read8(addr + 2) << 16) |
      (this.read8(addr + 3) << 24)
    );
  }

  /** Throws unless every byte of [addr, addr+len) may be written; handles code invalidation. */
  private checkWrite(addr: number, len: number): void {
    const first = addr >>> 12;
    const last = (addr + len - 1) >>> 12;
    for (let p = first; ; p = (p + 1) & (PAGES - 1)) {
      const a = this.attr[p];
      if ((a & RW) !== RW) throw pageFault(p === first ? addr : p << 12, true);
      if (p === last) break;
    }
    // Only after the whole access is known to succeed: tell the CPU about code bytes written.
    for (let p = first; ; p = (p + 1) & (PAGES - 1)) {
      if (this.attr[p] & CODE) this.codeWritten(p, addr, len);
      if (p === last) break;
    }
  }

  write8(addr: number, v: number): void {
    const p = addr >>> 12;
    if (this.attr[p] !== RW) this.checkWrite(addr, 1);
    (this.v8[this.slot[p]] as Uint8Array)[addr & 4095] = v;
  }

  write16(addr: number, v: number): void {
    const p = addr >>> 12;
    if ((addr & 1) === 0 && this.attr[p] === RW) {
      (this.v16[this.slot[p]] as Uint16Array)[(addr & 4095) >> 1] = v;
      return;
    }
    this.checkWrite(addr, 2);
    this.write8(addr, v);
    this.write8(addr + 1, v >> 8);
  }

  write32(addr: number, v: number): void {
    const p = addr >>> 12;
    if ((addr & 3) === 0 && this.attr[p] === RW) {
      (this.v32[this.slot[p]] as Int32Array)[(addr & 4095) >> 2] = v;
      return;
    }
    this.checkWrite(addr, 4);
    const off = addr & 4095;
    if (off <= 4092) {
      const pg = this.v8[this.slot[p]] as Uint8Array;
      pg[off] = v;
      pg[off + 1] = v >> 8;
      pg[off + 2] = v >> 16;
      pg[off + 3] = v >> 24;
      return;
    }
    this.write8(addr, v);
    this.write8(addr + 1, v >> 8);
    this.write8(addr + 2, v >> 16);
    this.write8(addr + 3, v >> 24);
  }

  // ---- bulk access for string instructions (one page at a time; faults are left to the callers'
  // one-by-one path, so they are raised exactly as single accesses raise them) ----

  /** Byte view of the page holding `addr`, or null when it is unmapped. */
  pageForRead(addr: number): Uint8Array | null {
    return this.v8[this.slot[addr >>> 12]];
  }

  /**
   * Byte view of the page holding [addr, addr+len) (which must not cross a page end) when all of
   * it may be written, or null. Decoded code on the page is invalidated as a write would do it.
   */
  pageForWrite(addr: number, len: number): Uint8Array | null {
    const p = addr >>> 12;
    const a = this.attr[p];
    if ((a & RW) !== RW) return null;
    if (a & CODE) this.codeWritten(p, addr, len);
    return this.v8[this.slot[p]];
  }

  /** 16-bit and 32-bit views of a mapped page (after pageForRead/pageForWrite said it is there). */
  pageWords(addr: number): Uint16Array {
    return this.v16[this.slot[addr >>> 12]] as Uint16Array;
  }
  pageDwords(addr: number): Int32Array {
    return this.v32[this.slot[addr >>> 12]] as Int32Array;
  }

  readBytes(addr: number, len: number): Uint8Array {
    const out = new Uint8Array(len);
    let i = 0;
    while (i < len) {
      const a = (addr + i) >>> 0;
      const pg = this.v8[this.slot[a >>> 12]];
      if (pg === null) throw pageFault(a, false);
      const off = a & 4095;
      const n = Math.min(4096 - off, len - i);
      out.set(pg.subarray(off, off + n), i);
      i += n;
    }
    return out;
  }

  /** Host write: ignores the read-only attribute (loaders fill read-only pages) but not unmapped pages. */
  writeBytes(addr: number, bytes: Uint8Array): void {
    let i = 0;
    while (i < bytes.length) {
      const a = (addr + i) >>> 0;
      const p = a >>> 12;
      const pg = this.v8[this.slot[p]];
      if (pg === null) throw pageFault(a, true);
      const off = a & 4095;
      const n = Math.min(4096 - off, bytes.length - i);
      if (this.attr[p] & CODE) this.codeWritten(p, a, n);
      pg.set(bytes.subarray(i, i + n), off);
      i += n;
    }
  }
}
