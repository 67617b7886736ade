import * as fs from 'node:fs';
import * as zlib from 'node:zlib';
import { QCOW2_MAGIC } from './qcow2';

const COPIED = 1n << 63n;
const COMPRESSED = 1n << 62n;

/** What a qcow2 is written from: the guest disk's size and its clusters that hold data. */
export interface GuestSource {
  /** Guest disk size in bytes. */
  size: number;
  /** Indexes of the clusters (of `clusterSize` bytes) that may hold a nonzero byte, ascending. */
  dataClusters(clusterSize: number): number[];
  /** Cluster `c`'s bytes into `buf` (zeros where the source has none). */
  readCluster(c: number, buf: Buffer): void;
}

/** A raw image file: every cluster is read to find those that are not all zeros. */
export function rawSource(fd: number): GuestSource {
  const size = fs.fstatSync(fd).size;
  const readCluster = (c: number, buf: Buffer): void => {
    buf.fill(0);
    fs.readSync(fd, buf, 0, buf.length, c * buf.length);
  };
  return {
    size,
    readCluster,
    dataClusters(clusterSize) {
      const out: number[] = [];
      const buf = Buffer.alloc(clusterSize);
      const zero = Buffer.alloc(clusterSize);
      for (let c = 0; c * clusterSize < size; c++) {
        readCluster(c, buf);
        if (!buf.equals(zero)) out.push(c);
      }
      return out;
    },
  };
}

/** A disk given as a few byte runs at their offsets, zeros elsewhere (disks too large to hold raw). */
export function chunkSource(size: number, chunks: Array<{ offset: number; bytes: Uint8Array }>): GuestSource {
  return {
    size,
    dataClusters(clusterSize) {
      const set = new Set<number>();
      for (const ch of chunks)
        for (let c = Math.floor(ch.offset / clusterSize); c * clusterSize < ch.offset + ch.bytes.length; c++)
          set.add(c);
      return [...set].sort((a, b) => a - b);
    },
    readCluster(c, buf) {
      buf.fill(0);
      const start = c * buf.length;
      for (const ch of chunks) {
        const from = Math.max(start, ch.offset);
        const to = Math.min(start + buf.length, ch.offset + ch.bytes.length);
        if (from < to) buf.set(ch.bytes.subarray(from - ch.offset, to - ch.offset), from - start);
      }
    },
  };
}

/** Cluster geometry: 16-bit refcounts (refcount_order 4, the qemu default). */
interface Geometry {
  bits: number;
  cluster: number;
  entries: number;
  refcountsPerBlock: number;
}

function geometry(bits: number): Geometry {
  const cluster = 2 ** bits;
  return { bits, cluster, entries: cluster / 8, refcountsPerBlock: cluster / 2 };
}

interface Layout {
  l1Clusters: number;
  tableClusters: number;
  blocks: number;
  l2Tables: number[];
  /** Clusters kept as they are, then deflated blobs packed byte after byte. */
  stored: number[];
  packed: Array<{ cluster: number; bytes: Buffer }>;
  packedBytes: number;
}

/** Deflates every data cluster that shrinks by at least a sector; keeps the others as they are. */
function compressClusters(
  src: GuestSource,
  g: Geometry,
  clusters: number[],
): Pick<Layout, 'stored' | 'packed' | 'packedBytes'> {
  const stored: number[] = [];
  const packed: Layout['packed'] = [];
  let packedBytes = 0;
  const buf = Buffer.alloc(g.cluster);
  for (const c of clusters) {
    src.readCluster(c, buf);
    const bytes = zlib.deflateRawSync(buf, { level: 6 });
    if (bytes.length <= g.cluster - 512) {
      packed.push({ cluster: c, bytes });
      packedBytes += bytes.length;
    } else stored.push(c);
  }
  return { stored, packed, packedBytes };
}

/** Sizes the metadata so that the refcount blocks also count themselves. */
function planLayout(
  g: Geometry,
  guestClusters: number,
  data: number[],
  d: Pick<Layout, 'stored' | 'packed' | 'packedBytes'>,
): Layout {
  const l1Size = Math.max(1, Math.ceil(guestClusters / g.entries));
  const l2Tables = [...new Set(data.map((c) => Math.floor(c / g.entries)))];
  const l1Clusters = Math.ceil((l1Size * 8) / g.cluster);
  const dataClusters = d.stored.length + Math.ceil(d.packedBytes / g.cluster) + 1;
  let blocks = 1;
  let tableClusters = 1;
  for (;;) {
    const total = 1 + l1Clusters + tableClusters + blocks + l2Tables.length + dataClusters;
    const needBlocks = Math.ceil(total / g.refcountsPerBlock);
    const needTable = Math.ceil((needBlocks * 8) / g.cluster);
    if (needBlocks === blocks && needTable === tableClusters)
      return { l1Clusters, tableClusters, blocks, l2Tables, ...d };
    blocks = needBlocks;
    tableClusters = needTable;
  }
}

/**
 * Writes `raw` as a qcow2 (version 3, 64 KiB clusters, deflate-compressed clusters where that
 * helps, no backing file): all-zero clusters stay unallocated. The layout: header, L1 table,
 * refcount table and blocks, L2 tables, stored clusters, then the compressed ones packed.
 */
export function writeQcow2(raw: string, out: string): void {
  const fd = fs.openSync(raw, 'r');
  try {
    writeQcow2From(rawSource(fd), out);
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Writes the guest disk `src` as a qcow2 with clusters of 2^clusterBits bytes (64 KiB by
 * default; larger clusters keep the L1 table of an exabyte disk small).
 */
export function writeQcow2From(src: GuestSource, out: string, clusterBits = 16): void {
  const g = geometry(clusterBits);
  const CLUSTER = g.cluster;
  const ENTRIES = g.entries;
  const size = src.size;
  const data = src.dataClusters(CLUSTER);
  const guestClusters = Math.ceil(size / CLUSTER);
  const l = planLayout(g, guestClusters, data, compressClusters(src, g, data));
  const l1At = 1;
  const tableAt = l1At + l.l1Clusters;
  const blocksAt = tableAt + l.tableClusters;
  const l2At = blocksAt + l.blocks;
  const storedAt = l2At + l.l2Tables.length;
  const packedAt = (storedAt + l.stored.length) * CLUSTER;
  const end = packedAt + l.packedBytes;
  const refcounts = Buffer.alloc(l.blocks * CLUSTER);
  for (let c = 0; c < storedAt + l.stored.length; c++) refcounts.writeUInt16BE(1, 2 * c);
  const l1 = Buffer.alloc(l.l1Clusters * CLUSTER);
  const l2 = l.l2Tables.map(() => Buffer.alloc(CLUSTER));
  l.l2Tables.forEach((t, i) => l1.writeBigUInt64BE(BigInt((l2At + i) * CLUSTER) | COPIED, 8 * t));
  const tableIndex = new Map(l.l2Tables.map((t, i) => [t, i]));
  const setEntry = (c: number, v: bigint) =>
    l2[tableIndex.get(Math.floor(c / ENTRIES))!].writeBigUInt64BE(v, 8 * (c % ENTRIES));
  l.stored.forEach((c, i) => setEntry(c, BigInt((storedAt + i) * CLUSTER) | COPIED));
  const shift = BigInt(62 - (clusterBits - 8));
  let at = packedAt;
  for (const p of l.packed) {
    const extra = Math.floor((at + p.bytes.length - 1) / 512) - Math.floor(at / 512);
    setEntry(p.cluster, COMPRESSED | (BigInt(extra) << shift) | BigInt(at));
    for (let h = Math.floor(at / CLUSTER); h <= Math.floor((at + p.bytes.length - 1) / CLUSTER); h++)
      refcounts.writeUInt16BE(refcounts.readUInt16BE(2 * h) + 1, 2 * h);
    at += p.bytes.length;
  }
  // Written beside `out` and renamed when complete: never a partial image under its name.
  const part = `${out}.part`;
  const dst = fs.openSync(part, 'w');
  try {
    const header = Buffer.alloc(CLUSTER);
    header.writeUInt32BE(QCOW2_MAGIC, 0);
    header.writeUInt32BE(3, 4);
    header.writeUInt32BE(clusterBits, 20);
    header.writeBigUInt64BE(BigInt(size), 24);
    header.writeUInt32BE(Math.max(1, Math.ceil(guestClusters / ENTRIES)), 36);
    header.writeBigUInt64BE(BigInt(l1At * CLUSTER), 40);
    header.writeBigUInt64BE(BigInt(tableAt * CLUSTER), 48);
    header.writeUInt32BE(l.tableClusters, 56);
    header.writeUInt32BE(4, 96);
    header.writeUInt32BE(104, 100);
    fs.writeSync(dst, header, 0, CLUSTER, 0);
    fs.writeSync(dst, l1, 0, l1.length, l1At * CLUSTER);
    const table = Buffer.alloc(l.tableClusters * CLUSTER);
    for (let b = 0; b < l.blocks; b++) table.writeBigUInt64BE(BigInt((blocksAt + b) * CLUSTER), 8 * b);
    fs.writeSync(dst, table, 0, table.length, tableAt * CLUSTER);
    fs.writeSync(dst, refcounts, 0, refcounts.length, blocksAt * CLUSTER);
    l2.forEach((t, i) => fs.writeSync(dst, t, 0, CLUSTER, (l2At + i) * CLUSTER));
    const buf = Buffer.alloc(CLUSTER);
    l.stored.forEach((c, i) => {
      src.readCluster(c, buf);
      fs.writeSync(dst, buf, 0, CLUSTER, (storedAt + i) * CLUSTER);
    });
    const blob = Buffer.concat(l.packed.map((p) => p.bytes));
    fs.writeSync(dst, blob, 0, blob.length, packedAt);
    // The last sector of a compressed cluster is read whole: keep the file sector-aligned.
    fs.ftruncateSync(dst, Math.ceil(end / 512) * 512);
  } catch (e) {
    fs.closeSync(dst);
    fs.rmSync(part, { force: true });
    throw e;
  }
  fs.closeSync(dst);
  fs.renameSync(part, out);
}
