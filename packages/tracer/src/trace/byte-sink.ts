import * as fs from 'node:fs';

/** Where trace encoders put their bytes. */
export interface ByteSink {
  writeByte(b: number): void;
  /** Bytes written so far. */
  readonly length: number;
}

/**
 * A sink whose unwritten bytes sit in `buf[0..pos)`. Writers that know a packet's size (the PT
 * encoder's hot path) call `room(n)` once and store straight into `buf`: no call per byte.
 */
export abstract class ChunkSink implements ByteSink {
  buf: Uint8Array;
  pos = 0;
  /** Bytes handed on before buf[0]. */
  protected base = 0;

  constructor(size: number) {
    this.buf = new Uint8Array(size);
  }

  get length(): number {
    return this.base + this.pos;
  }

  writeByte(b: number): void {
    if (this.pos === this.buf.length) this.makeRoom(1);
    this.buf[this.pos++] = b;
  }

  /** Makes sure `n` more bytes fit in `buf` (n ≤ 64). */
  room(n: number): void {
    if (this.pos + n > this.buf.length) this.makeRoom(n);
  }

  /** Grows `buf` or hands its bytes on, so that `n` more bytes fit. */
  protected abstract makeRoom(n: number): void;
}

/** Keeps everything in memory; for tests and short traces. */
export class BufferSink extends ChunkSink {
  constructor() {
    super(4096);
  }

  protected makeRoom(n: number): void {
    const bigger = new Uint8Array(Math.max(this.buf.length * 2, this.pos + n));
    bigger.set(this.buf.subarray(0, this.pos));
    this.buf = bigger;
  }

  /** A copy of the bytes written. */
  toBytes(): Uint8Array {
    return this.buf.slice(0, this.pos);
  }
}

/**
 * Streams to a file in fixed-size chunks, so a trace of billions of branches never sits in
 * memory. `close()` writes the last partial chunk.
 */
export class FileSink extends ChunkSink {
  private fd: number | undefined;

  constructor(
    readonly file: string,
    chunkSize = 1 << 20,
  ) {
    // Room for the longest packet group the encoder writes at once, even with tiny test chunks.
    super(Math.max(chunkSize, 64));
    this.fd = fs.openSync(file, 'w');
  }

  protected makeRoom(): void {
    this.flush();
  }

  flush(): void {
    if (this.fd === undefined) throw new Error(`trace sink ${this.file} is closed`);
    let off = 0;
    while (off < this.pos) off += fs.writeSync(this.fd, this.buf, off, this.pos - off);
    this.base += this.pos;
    this.pos = 0;
  }

  close(): void {
    if (this.fd === undefined) return;
    this.flush();
    fs.closeSync(this.fd);
    this.fd = undefined;
  }
}
