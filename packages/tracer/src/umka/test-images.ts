import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { FatFolders } from './fat-folders';
import type { UmkaFsSpec, UmkaImageSpec } from './image-recipes';
import { LoopSession, loopMountUnavailable } from './loop-device';
import { populate, rangeDirName, type PopulateOp } from './populate';
import { gptChunks, partitionGuid, sgdiskSize } from './gpt-writer';
import { chunkSource, writeQcow2, writeQcow2From } from './qcow2-writer';

export { UMKA_IMAGES, EXT_HASH_SEED } from './image-recipes';
export type { UmkaImageSpec, UmkaFsSpec } from './image-recipes';

/** Bumped whenever a change here changes the images made from the same recipe. */
const GENERATOR_VERSION = 2;
const MiB = 2 ** 20;
/** The disk GUID UMKa's images have. */
const DISK_GUID = 'abcdefff-0123-4554-3210-ffeeddccbbaa';

export class UmkaImageError extends Error {}

function run(tool: string, args: string[]): string {
  const r = spawnSync(tool, args, {
    encoding: 'utf8',
    maxBuffer: 64 * MiB,
    env: { ...process.env, TZ: 'UTC' },
  });
  if (r.error) throw new UmkaImageError(`${tool}: ${r.error.message} (is it installed?)`);
  if (r.status !== 0)
    throw new UmkaImageError(`${tool} ${args.join(' ')} failed: ${(r.stderr || r.stdout).trim()}`);
  return r.stdout;
}

/** The name of folder n in UMKa's plain folder ranges (no padding x's). */
export function folderName(n: number): string {
  return rangeDirName(n, 0, 1);
}

/** Why this machine cannot build `spec`, or undefined when it can try. */
export function imageUnbuildable(spec: UmkaImageSpec): string | undefined {
  const t = spec.fs.type;
  const mounts = t === 'ext2' || t === 'ext4' || t === 'xfs' || t === 'exfat';
  const loops = mounts || t === 'xfs-empty' || spec.sectorSize === 4096;
  return loops ? loopMountUnavailable() : undefined;
}

interface Partition {
  /** First byte and length in bytes. */
  offset: number;
  size: number;
  /** First sector, in the disk's sectors. */
  start: number;
}

/** Partition 1 as sgdisk reports it. */
function firstPartition(disk: string, sectorSize: number): Partition {
  const info = run('sgdisk', ['-i', '1', disk]);
  const first = /First sector: (\d+)/.exec(info);
  const last = /Last sector: (\d+)/.exec(info);
  if (!first || !last) throw new UmkaImageError(`sgdisk -i 1 ${disk}: no partition 1`);
  const start = Number(first[1]);
  return { offset: start * sectorSize, size: (Number(last[1]) - start + 1) * sectorSize, start };
}

function partition(spec: UmkaImageSpec, raw: string, loops: LoopSession): Partition | undefined {
  if (spec.partitions === 'none') return undefined;
  const ss = spec.sectorSize ?? 512;
  const news = (spec.partitions ?? ['0:0:0']).map((p) => `--new=${p}`);
  // A 4 KiB-sector disk is partitioned through a loop device that has those sectors.
  const target = ss === 512 ? raw : loops.attach(raw, { sectorSize: ss });
  // --clear first: sgdisk applies its options in order, and the fixed GUIDs make the table
  // the same bytes on every run.
  const guids = news.map((_, i) => `--partition-guid=${i + 1}:${partitionGuid(DISK_GUID, i + 1)}`);
  run('sgdisk', ['--clear', '--align-end', `--disk-guid=${DISK_GUID}`, ...news, ...guids, target]);
  const p = firstPartition(target, ss);
  if (target !== raw) loops.detach(target);
  return p;
}

/** Only folders: what FatFolders can write. */
function folderPaths(ops: PopulateOp[]): string[] {
  const out: string[] = [];
  for (const o of ops) {
    if (o.op === 'mkdir') out.push(o.path);
    else if (o.op === 'dirRange')
      for (let n = o.begin; n < o.end; n++) out.push(`${o.dir}/${rangeDirName(n, o.patMin, o.patMax)}`);
    else throw new UmkaImageError(`FAT images are written without a mount: '${o.op}' is not supported there`);
  }
  return out;
}

/** The file system in its partition of `raw` (FAT in a partition-sized file spliced in). */
function buildFat(
  spec: UmkaImageSpec,
  fsSpec: Extract<UmkaFsSpec, { type: 'fat12' | 'fat16' }>,
  raw: string,
  p: Partition,
  work: string,
): void {
  const part = path.join(work, 'part.img');
  fs.writeFileSync(part, '');
  fs.truncateSync(part, p.size);
  run('mkfs.fat', ['--invariant', ...fsSpec.mkfs, '-h', String(p.start), '--mbr=n', part]);
  const fat = new FatFolders(part);
  for (const f of folderPaths(spec.populate)) fat.mkdir(f);
  fat.finish();
  run('dd', [
    `if=${part}`,
    `of=${raw}`,
    'bs=1M',
    `seek=${p.offset}`,
    'oflag=seek_bytes',
    'conv=sparse,notrunc',
    'status=none',
  ]);
}

function mkfsCommand(t: UmkaFsSpec['type']): string {
  switch (t) {
    case 'ext2':
    case 'ext4':
      return 'mke2fs';
    case 'xfs':
    case 'xfs-empty':
      return 'mkfs.xfs';
    case 'exfat':
      return 'mkfs.exfat';
    default:
      throw new UmkaImageError(`no mkfs for ${t}`);
  }
}

/** Formats the partition on a loop device and, for mounted kinds, fills it through a mount. */
function buildOnLoop(
  spec: UmkaImageSpec,
  raw: string,
  p: Partition | undefined,
  work: string,
  loops: LoopSession,
): void {
  const f = spec.fs;
  if (f.type === 'none' || f.type === 'iso9660' || f.type === 'fat12' || f.type === 'fat16') return;
  const dev = loops.attach(raw, { offset: p?.offset, size: p?.size, sectorSize: spec.sectorSize });
  run(mkfsCommand(f.type), [...f.mkfs, dev]);
  if (f.type === 'ext2' || f.type === 'ext4' || f.type === 'xfs' || f.type === 'exfat')
    mountAndFill(spec, f, dev, work, loops);
  else loops.detach(dev);
}

function mountAndFill(
  spec: UmkaImageSpec,
  f: Extract<UmkaFsSpec, { mountTypes?: string[] }>,
  dev: string,
  work: string,
  loops: LoopSession,
): void {
  const mnt = path.join(work, 'mnt');
  fs.mkdirSync(mnt);
  const types = f.mountTypes ?? [f.type];
  let mounted = false;
  const errors: string[] = [];
  for (const type of types) {
    try {
      loops.mount(dev, mnt, type, f.mountOptions);
      mounted = true;
      break;
    } catch (e) {
      errors.push((e as Error).message);
    }
  }
  if (!mounted)
    throw new UmkaImageError(`${spec.name}: ${errors.join('; ')}${f.needs ? ` (it needs ${f.needs})` : ''}`);
  populate(mnt, spec.populate);
  loops.unmount(mnt);
  loops.detach(dev);
}

function buildIso(
  spec: UmkaImageSpec,
  f: Extract<UmkaFsSpec, { type: 'iso9660' }>,
  raw: string,
  work: string,
): void {
  const tree = path.join(work, 'tree');
  fs.mkdirSync(tree);
  populate(tree, spec.populate);
  run('genisoimage', [...f.mkisofs, '-o', raw, tree]);
}

/** A disk that is only a partition table, too large for a raw file: GPT chunks into a qcow2. */
function writeLargeDisk(
  spec: UmkaImageSpec,
  file: string,
  stamp: string,
  key: string,
): { file: string; made: boolean } {
  if (spec.fs.type !== 'none' || !Array.isArray(spec.partitions) || !spec.name.endsWith('.qcow2'))
    throw new UmkaImageError(
      `${spec.name}: only an empty partitioned qcow2 disk can be written without sgdisk`,
    );
  const chunks = gptChunks({
    size: spec.size,
    sectorSize: spec.sectorSize ?? 512,
    diskGuid: DISK_GUID,
    partitions: spec.partitions.map(sgdiskSize),
  });
  fs.rmSync(stamp, { force: true });
  writeQcow2From(chunkSource(spec.size, chunks), file, 21);
  fs.writeFileSync(stamp, key);
  return { file, made: true };
}

function specKey(spec: UmkaImageSpec): string {
  return createHash('sha256')
    .update(`${GENERATOR_VERSION}\n${JSON.stringify(spec)}`)
    .digest('hex')
    .slice(0, 16);
}

/**
 * Makes `dir/<spec.name>` unless it is there from the same recipe: a sparse raw disk with a GPT
 * (sgdisk), the file system formatted by its own mkfs and filled — FAT12/16 by FatFolders,
 * ext2/ext4/XFS/exFAT through a loop mount of the host kernel, ISO 9660 by genisoimage over a
 * host folder — then stored as qcow2 (our writer) or raw. Nothing partial is left under the name.
 */
export function makeUmkaImage(spec: UmkaImageSpec, dir: string): { file: string; made: boolean } {
  const file = path.join(dir, spec.name);
  const stamp = `${file}.fasmcov`;
  const key = specKey(spec);
  if (fs.existsSync(file) && fs.existsSync(stamp) && fs.readFileSync(stamp, 'utf8') === key)
    return { file, made: false };
  const why = imageUnbuildable(spec);
  if (why) throw new UmkaImageError(`${spec.name}: ${why}`);
  fs.mkdirSync(dir, { recursive: true });
  const work = fs.mkdtempSync(path.join(dir, `.make-${spec.name}-`));
  const loops = new LoopSession();
  try {
    const raw = path.join(work, 'disk.raw');
    if (spec.partitionTable === 'fasmcov') return writeLargeDisk(spec, file, stamp, key);
    if (spec.fs.type === 'iso9660') buildIso(spec, spec.fs, raw, work);
    else {
      fs.writeFileSync(raw, '');
      fs.truncateSync(raw, spec.size);
      const p = partition(spec, raw, loops);
      if (spec.fs.type === 'fat12' || spec.fs.type === 'fat16') {
        if (!p) throw new UmkaImageError(`${spec.name}: a FAT image needs a partition`);
        buildFat(spec, spec.fs, raw, p, work);
      } else buildOnLoop(spec, raw, p, work, loops);
    }
    fs.rmSync(stamp, { force: true });
    if (spec.name.endsWith('.qcow2')) writeQcow2(raw, file);
    else fs.renameSync(raw, file);
    fs.writeFileSync(stamp, key);
    return { file, made: true };
  } finally {
    loops.release();
    fs.rmSync(work, { recursive: true, force: true });
  }
}
