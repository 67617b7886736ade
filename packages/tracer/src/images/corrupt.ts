import * as fs from 'node:fs';
import * as path from 'node:path';
import { debugfsErrors } from './ext2-builder';
import { mtoolsPath } from './fat-builder';
import { type CorruptionSpec, type FsSpec, RecipeError } from './recipe';
import { runTool } from './tools';

/**
 * Corruption patches, applied to a built partition file. Symbolic ones are turned into byte
 * offsets by reading the built file system (BPB, FAT, directory entries; ext2 superblock and
 * directory blocks), or are done by `debugfs -w` (sif/ssv) where it can express them.
 */

/** What a corruption breaks, for the reference-log checker. */
export type CorruptionEffect =
  /** The file system should not be recognised any more: every access fails. */
  | { scope: 'partition'; kind: string }
  /** Accesses to this path (and below it) may fail with fs_error; `sizes` are sizes a stat may show. */
  | { scope: 'path'; kind: string; path: string; sizes?: number[] };

interface Bpb {
  bytesPerSector: number;
  sectorsPerCluster: number;
  reserved: number;
  fats: number;
  rootEntries: number;
  fatSectors: number;
  rootCluster: number;
}

function readBpb(file: string): Bpb {
  const b = readAt(file, 0, 512);
  const fat16Size = b.readUInt16LE(22);
  return {
    bytesPerSector: b.readUInt16LE(11),
    sectorsPerCluster: b[13],
    reserved: b.readUInt16LE(14),
    fats: b[16],
    rootEntries: b.readUInt16LE(17),
    fatSectors: fat16Size !== 0 ? fat16Size : b.readUInt32LE(36),
    rootCluster: fat16Size !== 0 ? 0 : b.readUInt32LE(44),
  };
}

function readAt(file: string, offset: number, length: number): Buffer {
  const fd = fs.openSync(file, 'r');
  try {
    const buf = Buffer.alloc(length);
    fs.readSync(fd, buf, 0, length, offset);
    return buf;
  } finally {
    fs.closeSync(fd);
  }
}

function writeAt(file: string, offset: number, bytes: Buffer): void {
  const fd = fs.openSync(file, 'r+');
  try {
    fs.writeSync(fd, bytes, 0, bytes.length, offset);
  } finally {
    fs.closeSync(fd);
  }
}

function uint(value: number, size: number): Buffer {
  const b = Buffer.alloc(size);
  b.writeUIntLE(value >>> 0 === value ? value : value & (2 ** (8 * size) - 1), 0, size);
  return b;
}

/** Clusters of a file or folder, as mshowfat prints them (`<2-4> <9>`). */
export function fatClusters(file: string, rel: string): number[] {
  const out = runTool('mshowfat', ['-i', file, mtoolsPath(rel)]).stdout.toString('utf8');
  const clusters: number[] = [];
  for (const m of out.matchAll(/<(\d+)(?:-(\d+))?>/g)) {
    const last = Number(m[2] ?? m[1]);
    for (let c = Number(m[1]); c <= last; c++) clusters.push(c);
  }
  if (clusters.length === 0) throw new RecipeError(`${rel} has no clusters (empty files cannot be patched)`);
  return clusters;
}

function fatBits(fsType: string): number {
  return fsType === 'fat12' ? 12 : fsType === 'fat16' ? 16 : 32;
}

/** Sets FAT entry `cluster` in every FAT copy (so only the chain is wrong, not the copies' agreement). */
function setFatEntry(file: string, bpb: Bpb, bits: number, cluster: number, value: number): void {
  for (let n = 0; n < bpb.fats; n++) {
    const fatStart = (bpb.reserved + n * bpb.fatSectors) * bpb.bytesPerSector;
    if (bits === 12) {
      const off = fatStart + Math.floor((cluster * 3) / 2);
      const old = readAt(file, off, 2).readUInt16LE(0);
      const v = value & 0xfff;
      const next = cluster & 1 ? (old & 0x000f) | (v << 4) : (old & 0xf000) | v;
      writeAt(file, off, uint(next, 2));
    } else if (bits === 16) {
      writeAt(file, fatStart + cluster * 2, uint(value & 0xffff, 2));
    } else {
      const off = fatStart + cluster * 4;
      const old = readAt(file, off, 4).readUInt32LE(0);
      writeAt(file, off, uint(((old & 0xf0000000) | (value & 0x0fffffff)) >>> 0, 4));
    }
  }
}

/** Byte ranges of a folder's entries: the fixed root of FAT12/16, or its clusters. */
function folderRegions(file: string, bpb: Bpb, rel: string): Array<[number, number]> {
  const clusterBytes = bpb.sectorsPerCluster * bpb.bytesPerSector;
  const rootStart = (bpb.reserved + bpb.fats * bpb.fatSectors) * bpb.bytesPerSector;
  const dataStart = rootStart + bpb.rootEntries * 32;
  if (rel === '' && bpb.rootCluster === 0) return [[rootStart, bpb.rootEntries * 32]];
  const clusters = rel === '' ? fatClusters(file, '') : fatClusters(file, rel);
  return clusters.map((c) => [dataStart + (c - 2) * clusterBytes, clusterBytes]);
}

/** Offset of the short directory entry of `rel`, found by its first cluster (unique to it). */
function fatDirentOffset(file: string, bpb: Bpb, rel: string): number {
  const first = fatClusters(file, rel)[0];
  const parent = path.posix.dirname(rel) === '.' ? '' : path.posix.dirname(rel);
  for (const [start, length] of folderRegions(file, bpb, parent)) {
    const buf = readAt(file, start, length);
    for (let off = 0; off < length; off += 32) {
      const used = buf[off] !== 0 && buf[off] !== 0xe5 && (buf[off + 11] & 0x3f) !== 0x0f;
      const cluster = (buf.readUInt16LE(off + 20) << 16) | buf.readUInt16LE(off + 26);
      if (used && cluster === first && buf[off] !== 0x2e) return start + off;
    }
  }
  throw new RecipeError(`no directory entry found for ${rel}`);
}

const BPB_FIELDS: Record<string, [number, number]> = {
  bytesPerSector: [11, 2],
  sectorsPerCluster: [13, 1],
  fats: [16, 1],
  signature: [510, 2],
};

function corruptFat(file: string, fsSpec: FsSpec, c: CorruptionSpec): CorruptionEffect {
  const bpb = readBpb(file);
  const bits = fatBits(fsSpec.type);
  switch (c.kind) {
    case 'fat-cycle': {
      const first = fatClusters(file, c.path)[0];
      setFatEntry(file, bpb, bits, first, first);
      return { scope: 'path', kind: c.kind, path: c.path };
    }
    case 'fat-entry':
      setFatEntry(file, bpb, bits, fatClusters(file, c.path)[0], c.value);
      return { scope: 'path', kind: c.kind, path: c.path };
    case 'fat-dirent': {
      const off = fatDirentOffset(file, bpb, c.path);
      if (c.field === 'size') {
        writeAt(file, off + 28, uint(c.value, 4));
      } else {
        writeAt(file, off + 26, uint(c.value & 0xffff, 2));
        writeAt(file, off + 20, uint(c.value >>> 16, 2));
      }
      return {
        scope: 'path',
        kind: c.kind,
        path: c.path,
        sizes: c.field === 'size' ? [c.value >>> 0] : undefined,
      };
    }
    case 'fat-bpb': {
      const [off, size] = BPB_FIELDS[c.field] ?? fail(`unknown BPB field ${c.field}`);
      writeAt(file, off, uint(c.value, size));
      return { scope: 'partition', kind: c.kind };
    }
    default:
      return fail(`${c.kind} does not apply to ${fsSpec.type}`);
  }
}

function fail(message: string): never {
  throw new RecipeError(message);
}

function debugfsWrite(file: string, command: string): void {
  const r = runTool('debugfs', ['-w', '-R', command, file]);
  const errors = debugfsErrors(r.stderr);
  if (errors.length > 0) fail(`debugfs ${command}: ${errors.join('; ')}`);
}

function ext2Path(p: string): string {
  return /^<\d+>$/.test(p) ? p : `/${p.replace(/^\/+/, '')}`;
}

/** Offset of the directory entry `name` in folder `dir` (walking its blocks as debugfs lists them). */
function ext2DirentOffset(file: string, dir: string, name: string): number {
  const blockSize = 1024 << readAt(file, 1024 + 24, 4).readUInt32LE(0);
  const r = runTool('debugfs', ['-R', `blocks ${ext2Path(dir)}`, file]);
  const blocks = r.stdout.toString('utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  const wanted = Buffer.from(name, 'utf8');
  for (const block of blocks) {
    const buf = readAt(file, block * blockSize, blockSize);
    for (let off = 0; off + 8 <= blockSize;) {
      const recLen = buf.readUInt16LE(off + 4);
      const nameLen = buf[off + 6];
      if (buf.readUInt32LE(off) !== 0 && buf.subarray(off + 8, off + 8 + nameLen).equals(wanted))
        return block * blockSize + off;
      if (recLen < 8) break;
      off += recLen;
    }
  }
  return fail(`no directory entry ${name} in ${dir}`);
}

const DIRENT_FIELDS: Record<string, [number, number]> = { inode: [0, 4], rec_len: [4, 2], name_len: [6, 1] };

function corruptExt2(file: string, c: CorruptionSpec): CorruptionEffect {
  switch (c.kind) {
    case 'ext2-super':
      // debugfs will not touch the magic (it could not open the result again): patch it directly.
      if (c.field === 'magic') writeAt(file, 1024 + 56, uint(Number(c.value), 2));
      else debugfsWrite(file, `ssv ${c.field} ${c.value}`);
      return { scope: 'partition', kind: c.kind };
    case 'ext2-inode':
      debugfsWrite(file, `sif ${ext2Path(c.path)} ${c.field} ${c.value}`);
      return { scope: 'path', kind: c.kind, path: c.path };
    case 'ext2-dirent': {
      const dir = path.posix.dirname(c.path) === '.' ? '' : path.posix.dirname(c.path);
      const off = ext2DirentOffset(file, dir, path.posix.basename(c.path));
      const [at, size] = DIRENT_FIELDS[c.field] ?? fail(`unknown directory entry field ${c.field}`);
      writeAt(file, off + at, uint(c.value, size));
      // A broken entry stops the walk of its whole folder.
      return { scope: 'path', kind: c.kind, path: dir };
    }
    default:
      return fail(`${c.kind} does not apply to ext2`);
  }
}

/** Applies a partition's corruptions in order; returns what each one breaks. */
export function applyCorruptions(file: string, fsSpec: FsSpec, list: CorruptionSpec[]): CorruptionEffect[] {
  return list.flatMap((c): CorruptionEffect[] => {
    if (c.kind === 'raw') {
      writeAt(file, c.offset, Buffer.from(c.hex.replace(/\s+/g, ''), 'hex'));
      if (c.affects === 'partition') return [{ scope: 'partition', kind: 'raw' }];
      return c.affects.map((p) => ({ scope: 'path', kind: 'raw', path: p }));
    }
    return [fsSpec.type === 'ext2' ? corruptExt2(file, c) : corruptFat(file, fsSpec, c)];
  });
}
