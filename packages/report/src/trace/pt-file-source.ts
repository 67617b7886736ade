// Packets straight from a trace file, read through a sliding window, so a trace of any size can
// be decoded without loading it. Same interface and offsets (file offsets) as PtPacketDecoder.
import * as fs from 'node:fs';
import { PSB_SIZE, PtDecodeError, decodePacket, findPsb } from '@fasmcov/tracer';
import type { PacketAt, PacketSource } from './pt-packet-decoder';

/** No packet we decode is longer (CYC is capped at 10 bytes, PSB is 16). */
const MAX_PACKET = 32;

export class PtFileSource implements PacketSource {
  private buf = new Uint8Array(0);
  /** File offset of buf[0]. */
  private base = 0;
  private eof = false;
  private readonly fd: number;
  offset = 0;

  constructor(
    readonly file: string,
    private readonly chunkSize = 1 << 24,
  ) {
    this.fd = fs.openSync(file, 'r');
  }

  close(): void {
    fs.closeSync(this.fd);
  }

  /** Makes bytes [offset, offset + n) available unless the file ends first. */
  private ensure(n: number): void {
    if (this.offset + n <= this.base + this.buf.length || this.eof) return;
    const start = this.offset;
    const keepFrom = start - this.base;
    const keep = keepFrom < this.buf.length ? this.buf.subarray(keepFrom) : new Uint8Array(0);
    const next = new Uint8Array(keep.length + Math.max(this.chunkSize, n));
    next.set(keep);
    let filled = keep.length;
    const readAt = start + keep.length;
    while (filled < next.length) {
      const got = fs.readSync(this.fd, next, filled, next.length - filled, readAt + filled - keep.length);
      if (got === 0) {
        this.eof = true;
        break;
      }
      filled += got;
    }
    this.base = this.offset;
    this.buf = next.subarray(0, filled);
  }

  syncForward(): boolean {
    for (;;) {
      this.ensure(PSB_SIZE);
      const at = findPsb(this.buf, this.offset - this.base);
      if (at >= 0) {
        this.offset = this.base + at;
        return true;
      }
      if (this.eof) {
        this.offset = this.base + this.buf.length;
        return false;
      }
      // Keep the last bytes: a PSB may straddle the window's end.
      this.offset = Math.max(this.offset, this.base + this.buf.length - (PSB_SIZE - 1));
      this.ensure(this.base + this.buf.length - this.offset + 1);
    }
  }

  resyncAfter(offset: number): boolean {
    this.offset = offset + 1;
    return this.syncForward();
  }

  next(): PacketAt | undefined {
    this.ensure(MAX_PACKET);
    if (this.offset >= this.base + this.buf.length) return undefined;
    const offset = this.offset;
    try {
      const { packet, size } = decodePacket(this.buf, offset - this.base);
      this.offset += size;
      return { offset, size, packet };
    } catch (e) {
      if (!(e instanceof PtDecodeError)) throw e;
      throw new PtDecodeError(e.code, offset, e.message.replace(/ at trace offset \d+$/, ''));
    }
  }
}
