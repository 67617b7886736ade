import { FasFormatError } from '../errors';

/**
 * Bounds-checked little-endian reads from the whole `.fas` buffer. Every read names the field it
 * reads so that a failure becomes one `FasFormatError` with file, offset and field.
 */
export class Bytes {
  readonly length: number;

  constructor(
    readonly file: string,
    readonly buf: Uint8Array,
  ) {
    this.length = buf.length;
  }

  fail(offset: number, field: string, problem: string): never {
    throw new FasFormatError(this.file, offset, field, problem);
  }

  /** Checks that `[offset, offset + size)` lies inside `[lo, hi)` (the whole file by default). */
  check(offset: number, size: number, field: string, lo = 0, hi = this.length): void {
    if (offset < lo || offset + size > hi || size < 0) {
      this.fail(
        offset,
        field,
        `${size} byte(s) at 0x${offset.toString(16)} lie outside 0x${lo.toString(16)}..0x${hi.toString(16)}`,
      );
    }
  }

  u8(offset: number, field: string): number {
    this.check(offset, 1, field);
    return this.buf[offset];
  }

  u16(offset: number, field: string): number {
    this.check(offset, 2, field);
    return this.buf[offset] | (this.buf[offset + 1] << 8);
  }

  u32(offset: number, field: string): number {
    this.check(offset, 4, field);
    return u32At(this.buf, offset);
  }

  /** A zero-terminated string that must end before `hi`. */
  cstring(offset: number, field: string, lo = 0, hi = this.length): string {
    this.check(offset, 1, field, lo, hi);
    const end = this.buf.indexOf(0, offset);
    if (end < 0 || end >= hi) this.fail(offset, field, 'string is not zero-terminated inside its table');
    return latin1(this.buf, offset, end);
  }

  /** A pascal-style string (length byte, then the bytes) inside `[lo, hi)`. */
  pstring(offset: number, field: string, lo = 0, hi = this.length): string {
    this.check(offset, 1, field, lo, hi);
    const n = this.buf[offset];
    this.check(offset + 1, n, field, lo, hi);
    return latin1(this.buf, offset + 1, offset + 1 + n);
  }
}

/** Unchecked read for hot loops whose bounds were checked beforehand. */
export function u32At(buf: Uint8Array, offset: number): number {
  return (buf[offset] | (buf[offset + 1] << 8) | (buf[offset + 2] << 16) | (buf[offset + 3] << 24)) >>> 0;
}

/** fasm works on bytes; file names and symbols are decoded byte for byte (latin1 round-trips). */
export function latin1(buf: Uint8Array, start: number, end: number): string {
  // Short strings (symbol names) are much cheaper without a Buffer view per call.
  if (end - start <= 64)
    return String.fromCharCode.apply(null, buf.subarray(start, end) as unknown as number[]);
  return Buffer.from(buf.buffer, buf.byteOffset + start, end - start).toString('latin1');
}
