// Guest code for trace decoders: the sections a sideband file lists, read from their files.
import * as fs from 'node:fs';
import { readSideband, sidebandPath, TraceFormatError } from '@fasmcov/tracer';
import type { Sideband } from '@fasmcov/tracer';

/** Read of an address no section covers. */
export class ImageGapError extends Error {
  constructor(readonly address: number) {
    super(`no code image at 0x${(address >>> 0).toString(16).padStart(8, '0')}`);
    this.name = 'ImageGapError';
  }
}

interface Section {
  address: number;
  end: number;
  bytes: Uint8Array;
}

export class CodeImage {
  private readonly sections: Section[] = [];
  private last: Section | undefined;
  /** Bound reader for classifiers. */
  readonly read8: (addr: number) => number;

  constructor() {
    this.read8 = (addr) => this.byteAt(addr);
  }

  add(address: number, bytes: Uint8Array): void {
    this.sections.push({ address: address >>> 0, end: (address >>> 0) + bytes.length, bytes });
    this.sections.sort((a, b) => a.address - b.address);
  }

  byteAt(addr: number): number {
    addr >>>= 0;
    const l = this.last;
    if (l !== undefined && addr >= l.address && addr < l.end) return l.bytes[addr - l.address];
    for (const s of this.sections) {
      if (addr >= s.address && addr < s.end) {
        this.last = s;
        return s.bytes[addr - s.address];
      }
    }
    throw new ImageGapError(addr);
  }

  /** Loads every section of a sideband file (paths relative to it). */
  static fromSideband(sidebandFile: string, sb: Sideband = readSideband(sidebandFile)): CodeImage {
    const img = new CodeImage();
    for (const s of sb.sections) {
      const file = sidebandPath(sidebandFile, s.file);
      let data: Buffer;
      try {
        data = fs.readFileSync(file);
      } catch (e) {
        throw new TraceFormatError(`cannot read section file: ${(e as Error).message}`, file, s.offset);
      }
      if (s.offset + s.size > data.length)
        throw new TraceFormatError(
          `section of ${s.size} bytes runs past the end of the file`,
          file,
          s.offset,
        );
      img.add(s.address, new Uint8Array(data.subarray(s.offset, s.offset + s.size)));
    }
    return img;
  }
}
