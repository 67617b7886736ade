import * as fs from 'node:fs';
import * as path from 'node:path';
import type { FsWriter } from './populate';
import { type FsSpec, RecipeError } from './recipe';
import { runTool } from './tools';

const DEFAULT_UUID = '0f0a5c0f-0000-4000-8000-000000000001';
/** Pinned so that a machine's /etc/mke2fs.conf cannot change the image. */
const FEATURES = 'none,filetype,sparse_super,large_file,ext_attr,resize_inode,dir_index';

/** Formats `file` (already the partition's size) as ext2 with fixed UUID, hash seed and times. */
export function formatExt2(file: string, spec: FsSpec, time: number): void {
  const uuid = spec.uuid ?? DEFAULT_UUID;
  const args = ['-q', '-F', '-t', 'ext2', '-O', FEATURES, '-m', '0', '-U', uuid];
  args.push('-b', String(spec.blockSize ?? 1024), '-I', String(spec.inodeSize ?? 128));
  args.push('-E', `hash_seed=${uuid},root_owner=0:0,lazy_itable_init=0`);
  if (spec.label) args.push('-L', spec.label);
  if (spec.inodes) args.push('-N', String(spec.inodes));
  runTool('mke2fs', [...args, file], { time, okStatus: [0] });
}

/** debugfs's argument syntax: double quotes group words; names with quotes are refused. */
function quote(p: string): string {
  if (/["\n]/.test(p)) throw new RecipeError(`ext2 names cannot hold quotes or newlines: ${p}`);
  return `"${p}"`;
}

function utcStamp(time: number): string {
  return new Date(time * 1000).toISOString().replace(/[-:T]/g, '').slice(0, 14);
}

/**
 * Populates with one debugfs script (`write` keeps holes), in recipe order, which fixes the
 * directory-entry order (mke2fs -d would follow the host's readdir order, which varies between
 * machines). Modes, owners and every time are then set explicitly.
 */
export class Ext2Writer implements FsWriter {
  private readonly script: string[] = [];
  private readonly stamped = new Map<string, string>();

  constructor(
    private readonly image: string,
    private readonly time: number,
    private readonly inodeSize: number,
    private readonly scratch: string,
  ) {
    this.stamped.set('/', '040755');
  }

  private inDir(rel: string, command: (name: string) => string): void {
    const dir = path.posix.dirname(rel);
    this.script.push(`cd ${quote(dir === '.' ? '/' : `/${dir}`)}`, command(path.posix.basename(rel)));
  }

  folder(rel: string): void {
    this.inDir(rel, (name) => `mkdir ${quote(name)}`);
    this.stamped.set(`/${rel}`, '040755');
  }

  file(rel: string, host: string): void {
    this.inDir(rel, (name) => `write ${quote(host)} ${quote(name)}`);
    this.stamped.set(`/${rel}`, '0100644');
  }

  append(rel: string, host: string): void {
    this.inDir(rel, (name) => `rm ${quote(name)}`);
    this.file(rel, host);
  }

  symlink(rel: string, target: string): void {
    this.inDir(rel, (name) => `symlink ${quote(name)} ${quote(target)}`);
    this.stamped.set(`/${rel}`, '0120777');
  }

  remove(rel: string, isFolder: boolean): void {
    for (const p of [...this.stamped.keys()])
      if (p.startsWith(`/${rel}/`) || p === `/${rel}`) this.stamped.delete(p);
    this.inDir(rel, (name) => `${isFolder ? 'rmdir' : 'rm'} ${quote(name)}`);
  }

  private fixups(): string[] {
    const t = utcStamp(this.time);
    const fields = ['atime', 'mtime', 'ctime', ...(this.inodeSize >= 256 ? ['crtime'] : [])];
    const out: string[] = ['cd /'];
    for (const [p, mode] of [...this.stamped, ['/lost+found', '040700'] as [string, string]]) {
      out.push(`sif ${quote(p)} mode ${mode}`, `sif ${quote(p)} uid 0`, `sif ${quote(p)} gid 0`);
      for (const f of fields) out.push(`sif ${quote(p)} ${f} ${t}`);
    }
    return out;
  }

  finish(): void {
    const file = path.join(this.scratch, 'populate.debugfs');
    fs.writeFileSync(file, [...this.script, ...this.fixups(), ''].join('\n'));
    const r = runTool('debugfs', ['-w', '-f', file, this.image], { time: this.time });
    const errors = debugfsErrors(r.stderr);
    if (errors.length > 0) throw new RecipeError(`debugfs populating ${this.image}: ${errors.join('; ')}`);
  }
}

/** debugfs exits 0 whatever happens; its complaints are the stderr lines other than its banner. */
export function debugfsErrors(stderr: string): string[] {
  return stderr
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !/^debugfs \d/.test(l));
}
