import * as fs from 'node:fs';

export const SECTOR = 512;

/** A disk image file served to the kernel as a block device (512-byte sectors, read-write). */
export class HostDisk {
  private fd: number | undefined;
  readonly sectors: bigint;
  readonly readOnly: boolean;
  /** Sectors read and written by the kernel, for statistics. */
  sectorsRead = 0;
  sectorsWritten = 0;

  constructor(readonly file: string) {
    let readOnly = false;
    try {
      this.fd = fs.openSync(file, 'r+');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EACCES' && (e as NodeJS.ErrnoException).code !== 'EROFS')
        throw e;
      this.fd = fs.openSync(file, 'r');
      readOnly = true;
    }
    this.readOnly = readOnly;
    this.sectors = BigInt(fs.fstatSync(this.fd).size) / BigInt(SECTOR);
  }

  /** Reads up to `count` sectors from `start`; returns the bytes (whole sectors) actually read. */
  read(start: bigint, count: number): Uint8Array {
    const avail =
      start >= this.sectors
        ? 0
        : Number(this.sectors - start < BigInt(count) ? this.sectors - start : BigInt(count));
    const buf = Buffer.alloc(avail * SECTOR);
    if (avail) fs.readSync(this.handle(), buf, 0, buf.length, Number(start) * SECTOR);
    this.sectorsRead += avail;
    return buf;
  }

  /** Writes whole sectors at `start`; returns the number of sectors written. */
  write(start: bigint, data: Uint8Array): number {
    if (this.readOnly) return 0;
    const count = data.length / SECTOR;
    const avail =
      start >= this.sectors
        ? 0
        : Number(this.sectors - start < BigInt(count) ? this.sectors - start : BigInt(count));
    if (avail) fs.writeSync(this.handle(), data, 0, avail * SECTOR, Number(start) * SECTOR);
    this.sectorsWritten += avail;
    return avail;
  }

  close(): void {
    if (this.fd !== undefined) fs.closeSync(this.fd);
    this.fd = undefined;
  }

  private handle(): number {
    if (this.fd === undefined) throw new Error(`${this.file}: image already closed`);
    return this.fd;
  }
}
