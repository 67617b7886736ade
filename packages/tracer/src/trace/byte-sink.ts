import * as fs from 'node:fs';

/** Where trace encoders put their bytes, one at a time (the encoder's hot path). */
export interface ByteSink {
  writeByte(b: number): void;
  /** Bytes written so far. */
  readonly length: number;
}

/** Keeps everything in memory; for tests and short traces. */
export class BufferSink implements ByteSink {
  private buf = new Uint8Array(4096);
  length = 0;

  writeByte(b: number): void {
    if (this.length === this.buf.length) {
      const bigger = new Uint8Array(this.buf.length * 2);
      bigger.set(this.buf);
      this.buf = bigger;
    }
    this.buf[this.length++] = b;
  }

  /** A copy of the bytes written. */
  toBytes(): Uint8Array {
    return this.buf.slice(0, this.length);
  }
}

/**
 * Streams to a file in fixed-size chunks, so a trace of billions of branches never sits in
 * memory. `close()` writes the last partial chunk.
 */
export class FileSink implements ByteSink {
  private readonly chunk: Uint8Array;
  private fill = 0;
  private fd: number | undefined;
  private flushed = 0;

  constructor(
    readonly file: string,
    chunkSize = 1 << 20,
  ) {
    this.chunk = new Uint8Array(chunkSize);
    this.fd = fs.openSync(file, 'w');
  }

  get length(): number {
    return this.flushed + this.fill;
  }

  writeByte(b: number): void {
    this.chunk[this.fill++] = b;
    if (this.fill === this.chunk.length) this.flush();
  }

  flush(): void {
    if (this.fd === undefined) throw new Error(`trace sink ${this.file} is closed`);
    let off = 0;
    while (off < this.fill) off += fs.writeSync(this.fd, this.chunk, off, this.fill - off);
    this.flushed += this.fill;
    this.fill = 0;
  }

  close(): void {
    if (this.fd === undefined) return;
    this.flush();
    fs.closeSync(this.fd);
    this.fd = undefined;
  }
}
