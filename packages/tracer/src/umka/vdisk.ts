import * as fs from 'node:fs';
import { Qcow2Image } from './qcow2';

/** KolibriOS status codes the block-device callbacks return. */
export const DISK_SUCCESS = 0;
export const DISK_UNSUPPORTED = 2;

/**
 * An image file served to the kernel as a block device, as UMKa's vdisk layer does: the format
 * comes from the name's suffix (.raw/.iso raw, .qcow2 qcow2), the sector size from a `s4k`/`s2k`
 * (or `s4096`/`s2048`) marker in the name, 512 otherwise. Writes never reach the file: UMKa opens
 * raw images read-only (the write "succeeds" and is lost) and refuses qcow2 writes.
 */
export class VirtualDisk {
  readonly sectorSize: number;
  readonly sectors: bigint;
  readonly format: 'raw' | 'qcow2';
  private readonly fd?: number;
  private readonly qcow2?: Qcow2Image;
  /** Sectors the kernel read, for statistics. */
  sectorsRead = 0;

  constructor(
    readonly file: string,
    /** What adjust_cache_size answers (`-c`); undefined keeps the kernel's suggestion. */
    readonly cacheSize?: number,
    /** The name as the script wrote it: UMKa takes format and sector size from it. */
    readonly name = file,
  ) {
    this.sectorSize = sectorSizeOf(name);
    const format = formatOf(name);
    if (!format) throw new Error(`${file}: unknown image format (expected .raw, .iso or .qcow2)`);
    this.format = format;
    if (format === 'qcow2') {
      this.qcow2 = new Qcow2Image(file);
      this.sectors = this.qcow2.size / BigInt(this.sectorSize);
    } else {
      this.fd = fs.openSync(file, 'r');
      this.sectors = BigInt(fs.fstatSync(this.fd).size) / BigInt(this.sectorSize);
    }
  }

  /** `count` sectors from `start`; bytes past the end of the image read as zeros. */
  read(start: bigint, count: number): Buffer {
    const length = count * this.sectorSize;
    const offset = Number(start) * this.sectorSize;
    this.sectorsRead += count;
    if (this.qcow2) return this.qcow2.read(offset, length);
    const b = Buffer.alloc(length);
    if (this.fd !== undefined) fs.readSync(this.fd, b, 0, length, offset);
    return b;
  }

  /** The status UMKa's write callback returns for this format. */
  writeStatus(): number {
    return this.format === 'qcow2' ? DISK_UNSUPPORTED : DISK_SUCCESS;
  }

  close(): void {
    this.qcow2?.close();
    if (this.fd !== undefined) fs.closeSync(this.fd);
  }
}

export function formatOf(file: string): 'raw' | 'qcow2' | undefined {
  if (/.\.(raw|iso)$/.test(file)) return 'raw';
  if (/.\.qcow2$/.test(file)) return 'qcow2';
  return undefined;
}

export function sectorSizeOf(file: string): number {
  if (file.includes('s4096') || file.includes('s4k')) return 4096;
  if (file.includes('s2048') || file.includes('s2k')) return 2048;
  return 512;
}
