import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { FatFolders } from './fat-folders';
import { writeQcow2 } from './qcow2-writer';

/**
 * The images UMKa's file-system tests read, described by what the tests can observe: disk size,
 * the one GPT partition (start and length as the tests' reference logs print them), the file
 * system and its folders. Folder `dir` holds `count` empty folders named `d%010u_` made one after
 * another, as UMKa's image script makes them.
 */
export interface UmkaImageSpec {
  name: string;
  /** Disk size in bytes. */
  size: number;
  start: number;
  sectors: number;
  fs: 'fat12' | 'fat16' | 'ext2' | 'ext4';
  folders: Array<{ dir: string; count: number }>;
  /** ext: inode count (-N). */
  inodes?: number;
}

const GiB = 2 ** 30;
const MiB = 2 ** 20;
/** The hash seed UMKa's script gives ext file systems (htree order depends on it). */
export const EXT_HASH_SEED = '01234567-abcd-abcd-abcd-001122334455';
const GENERATOR_VERSION = 1;

const range = (dirs: Array<[string, number]>) => dirs.map(([dir, count]) => ({ dir, count }));

export const UMKA_IMAGES: Record<string, UmkaImageSpec> = {
  'fat12_s05k.qcow2': {
    name: 'fat12_s05k.qcow2',
    size: 256 * MiB,
    start: 2048,
    sectors: 520192,
    fs: 'fat12',
    folders: range([
      ['dir_a', 3],
      ['dir_b', 10],
      ['dir_c', 100],
      ['dir_d', 1000],
      ['dir_e', 2000],
    ]),
  },
  'fat16_s05k.qcow2': {
    name: 'fat16_s05k.qcow2',
    size: 4 * GiB,
    start: 2048,
    sectors: 8384481,
    fs: 'fat16',
    folders: range([
      ['dir_a', 3],
      ['dir_b', 10],
      ['dir_c', 100],
      ['dir_d', 1000],
      ['dir_e', 10000],
      ['dir_f', 30000],
    ]),
  },
  'ext2_s05k.qcow2': {
    name: 'ext2_s05k.qcow2',
    size: 5 * GiB,
    start: 2048,
    sectors: 10481664,
    fs: 'ext2',
    inodes: 1200000,
    folders: range([
      ['dir_a', 3],
      ['dir_b', 10],
      ['dir_c', 100],
      ['dir_d', 1000],
      ['dir_e', 10000],
      ['dir_f', 64998],
    ]),
  },
  // The kernel does not mount this ext4 (every call answers unknown_fs), so its folders, which
  // would take a million inodes, cannot change a transcript and are left out.
  'ext4_s05k.qcow2': {
    name: 'ext4_s05k.qcow2',
    size: 5 * GiB,
    start: 2048,
    sectors: 10481664,
    fs: 'ext4',
    inodes: 1200000,
    folders: [],
  },
};

export class ImageToolError extends Error {}

function run(tool: string, args: string[], input?: string): void {
  const r = spawnSync(tool, args, { encoding: 'utf8', input, maxBuffer: 64 * MiB });
  if (r.error) throw new ImageToolError(`${tool}: ${r.error.message} (is it installed?)`);
  if (r.status !== 0) throw new ImageToolError(`${tool} ${args.join(' ')} failed: ${r.stderr.trim()}`);
}

export function folderName(n: number): string {
  return `d${String(n).padStart(10, '0')}_`;
}

function allFolders(spec: UmkaImageSpec): string[] {
  const out: string[] = [];
  for (const { dir, count } of spec.folders) {
    out.push(dir);
    for (let i = 0; i < count; i++) out.push(`${dir}/${folderName(i)}`);
  }
  return out;
}

function formatFat(part: string, spec: UmkaImageSpec): void {
  run('mkfs.fat', ['--invariant', '-F', spec.fs.slice(3), '-h', String(spec.start), '--mbr=n', part]);
  const fat = new FatFolders(part);
  for (const f of allFolders(spec)) fat.mkdir(f);
  fat.finish();
}

function formatExt(part: string, spec: UmkaImageSpec, scratch: string): void {
  const args = ['-q', '-F', '-t', spec.fs, '-U', '0f0a5c0f-0000-4000-8000-000000000001'];
  args.push('-E', `hash_seed=${EXT_HASH_SEED},root_owner=0:0`, '-N', String(spec.inodes ?? 0), part);
  run('mke2fs', args);
  if (!spec.folders.length) return;
  const script = path.join(scratch, 'mkdirs.debugfs');
  fs.writeFileSync(
    script,
    `${allFolders(spec)
      .map((f) => `mkdir ${f}`)
      .join('\n')}\n`,
  );
  run('debugfs', ['-w', '-f', script, part]);
}

function specKey(spec: UmkaImageSpec): string {
  return createHash('sha256')
    .update(`${GENERATOR_VERSION}\n${JSON.stringify(spec)}`)
    .digest('hex')
    .slice(0, 16);
}

/**
 * Makes `dir/<spec.name>` unless it is there from the same spec: a sparse raw disk with a GPT
 * (sgdisk), the file system formatted in a partition-sized file (mkfs.fat / mke2fs, folders by
 * FatFolders or debugfs), spliced in with dd, then stored as qcow2 (our writer) or raw.
 */
export function makeUmkaImage(spec: UmkaImageSpec, dir: string): { file: string; made: boolean } {
  const file = path.join(dir, spec.name);
  const stamp = `${file}.fasmcov`;
  const key = specKey(spec);
  if (fs.existsSync(file) && fs.existsSync(stamp) && fs.readFileSync(stamp, 'utf8') === key)
    return { file, made: false };
  fs.mkdirSync(dir, { recursive: true });
  const work = fs.mkdtempSync(path.join(dir, `.make-${spec.name}-`));
  try {
    const raw = path.join(work, 'disk.raw');
    const part = path.join(work, 'part.img');
    fs.writeFileSync(raw, '');
    fs.truncateSync(raw, spec.size);
    const end = spec.start + spec.sectors - 1;
    run('sgdisk', [
      '--clear',
      `--new=1:${spec.start}:${end}`,
      '--disk-guid=abcdefff-0123-4554-3210-ffeeddccbbaa',
      raw,
    ]);
    fs.writeFileSync(part, '');
    fs.truncateSync(part, spec.sectors * 512);
    if (spec.fs === 'fat12' || spec.fs === 'fat16') formatFat(part, spec);
    else formatExt(part, spec, work);
    run('dd', [
      `if=${part}`,
      `of=${raw}`,
      'bs=4K',
      `seek=${spec.start * 512}`,
      'oflag=seek_bytes',
      'conv=sparse,notrunc',
      'status=none',
    ]);
    fs.rmSync(stamp, { force: true });
    if (spec.name.endsWith('.qcow2')) writeQcow2(raw, file);
    else fs.renameSync(raw, file);
    fs.writeFileSync(stamp, key);
    return { file, made: true };
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}
