import * as fs from 'node:fs';
import * as zlib from 'node:zlib';

/** 'QFI\xfb', the first four bytes of every qcow2 file. */
export const QCOW2_MAGIC = 0x514649fb;
const L2_CACHE_LIMIT = 64;

export class Qcow2Error extends Error {
  constructor(file: string, message: string) {
    super(`${file}: ${message}`);
    this.name = 'Qcow2Error';
  }
}

export interface Qcow2Header {
  version: number;
  clusterBits: number;
  /** Guest disk size in bytes. */
  size: bigint;
  l1Size: number;
  l1Offset: number;
  /** 0 = deflate (zlib), 1 = zstd (not supported here). */
  compressionType: number;
}

/** Reads a qcow2 header (version 2 or 3, big-endian fields); throws on what this reader does not support. */
export function readQcow2Header(file: string, head: Buffer): Qcow2Header {
  if (head.length < 72 || head.readUInt32BE(0) !== QCOW2_MAGIC)
    throw new Qcow2Error(file, 'not a qcow2 file');
  const version = head.readUInt32BE(4);
  if (version !== 2 && version !== 3) throw new Qcow2Error(file, `qcow2 version ${version} is not supported`);
  if (head.readBigUInt64BE(8) !== 0n) throw new Qcow2Error(file, 'backing files are not supported');
  if (head.readUInt32BE(32) !== 0) throw new Qcow2Error(file, 'encrypted images are not supported');
  let compressionType = 0;
  if (version === 3) {
    const incompatible = head.readBigUInt64BE(72);
    // Bit 3: compression type field present; bit 4: extended L2 entries (not supported).
    if (incompatible & ~0b1000n)
      throw new Qcow2Error(file, `incompatible features 0x${incompatible.toString(16)}`);
    const headerLength = head.readUInt32BE(100);
    if (headerLength > 104) compressionType = head.readUInt8(104);
  }
  if (compressionType !== 0) throw new Qcow2Error(file, 'only deflate-compressed clusters are supported');
  return {
    version,
    clusterBits: head.readUInt32BE(20),
    size: head.readBigUInt64BE(24),
    l1Size: head.readUInt32BE(36),
    l1Offset: Number(head.readBigUInt64BE(40)),
    compressionType,
  };
}

const OFFSET_MASK = 0x00fffffffffffe00n;
const COMPRESSED = 1n << 62n;
const ZERO_FLAG = 1n;

/**
 * A read-only qcow2 image (written from the format specification): L1/L2 tables, standard,
 * zero and deflate-compressed clusters, no backing file. Unallocated clusters read as zeros.
 */
export class Qcow2Image {
  readonly header: Qcow2Header;
  readonly clusterSize: number;
  private readonly fd: number;
  private readonly l1: BigUint64Array;
  private readonly l2Cache = new Map<number, BigUint64Array>();
  private cachedCluster: { index: number; data: Buffer } | undefined;

  constructor(readonly file: string) {
    this.fd = fs.openSync(file, 'r');
    try {
      const head = Buffer.alloc(112);
      fs.readSync(this.fd, head, 0, head.length, 0);
      this.header = readQcow2Header(file, head);
      this.clusterSize = 2 ** this.header.clusterBits;
      const l1 = this.readAt(this.header.l1Offset, this.header.l1Size * 8);
      this.l1 = new BigUint64Array(this.header.l1Size);
      for (let i = 0; i < this.header.l1Size; i++) this.l1[i] = l1.readBigUInt64BE(i * 8);
    } catch (e) {
      fs.closeSync(this.fd);
      throw e;
    }
  }

  get size(): bigint {
    return this.header.size;
  }

  /** Guest bytes [offset, offset+length); beyond the end reads as zeros. */
  read(offset: number, length: number): Buffer {
    const out = Buffer.alloc(length);
    let done = 0;
    while (done < length) {
      const at = offset + done;
      const index = Math.floor(at / this.clusterSize);
      const inside = at - index * this.clusterSize;
      const n = Math.min(length - done, this.clusterSize - inside);
      const cluster = this.cluster(index);
      if (cluster) cluster.copy(out, done, inside, inside + n);
      done += n;
    }
    return out;
  }

  close(): void {
    fs.closeSync(this.fd);
  }

  private readAt(position: number, length: number): Buffer {
    const b = Buffer.alloc(length);
    const got = fs.readSync(this.fd, b, 0, length, position);
    if (got !== length) throw new Qcow2Error(this.file, `short read at ${position}`);
    return b;
  }

  private l2Table(l1Index: number): BigUint64Array | undefined {
    if (l1Index >= this.l1.length) return undefined;
    const offset = Number(this.l1[l1Index] & OFFSET_MASK);
    if (offset === 0) return undefined;
    let table = this.l2Cache.get(offset);
    if (!table) {
      const raw = this.readAt(offset, this.clusterSize);
      table = new BigUint64Array(this.clusterSize / 8);
      for (let i = 0; i < table.length; i++) table[i] = raw.readBigUInt64BE(i * 8);
      if (this.l2Cache.size >= L2_CACHE_LIMIT)
        this.l2Cache.delete(this.l2Cache.keys().next().value as number);
      this.l2Cache.set(offset, table);
    }
    return table;
  }

  /** The guest cluster's bytes, or undefined when it reads as zeros. */
  private cluster(index: number): Buffer | undefined {
    if (this.cachedCluster?.index === index) return this.cachedCluster.data;
    const perTable = this.clusterSize / 8;
    const table = this.l2Table(Math.floor(index / perTable));
    const entry = table ? table[index % perTable] : 0n;
    let data: Buffer | undefined;
    if (entry & COMPRESSED) data = this.inflate(entry);
    else if (!(entry & ZERO_FLAG) && (entry & OFFSET_MASK) !== 0n)
      data = this.readAt(Number(entry & OFFSET_MASK), this.clusterSize);
    if (data) this.cachedCluster = { index, data };
    return data;
  }

  private inflate(entry: bigint): Buffer {
    const x = 62n - BigInt(this.header.clusterBits - 8);
    const offset = Number(entry & ((1n << x) - 1n));
    const sectors = Number((entry >> x) & ((1n << (62n - x)) - 1n)) + 1;
    const length = sectors * 512 - (offset % 512);
    const compressed = Buffer.alloc(length);
    fs.readSync(this.fd, compressed, 0, length, offset); // the last cluster may end before `length`
    const data = zlib.inflateRawSync(compressed, { finishFlush: zlib.constants.Z_SYNC_FLUSH });
    if (data.length >= this.clusterSize) return data.subarray(0, this.clusterSize);
    const full = Buffer.alloc(this.clusterSize);
    data.copy(full);
    return full;
  }
}
