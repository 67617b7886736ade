import * as path from 'node:path';
import type { FsWriter } from './populate';
import { type FsSpec, RecipeError } from './recipe';
import { runTool } from './tools';

/** mtools' name for a path inside the image file (`-i file ::/a/b`). */
export function mtoolsPath(rel: string): string {
  return `::/${rel}`;
}

/** Formats `file` (already the partition's size) with mkfs.fat; hidden sectors = the partition's start. */
export function formatFat(file: string, spec: FsSpec, hiddenSectors: number, time: number): void {
  const bits = spec.type.slice(3);
  // --invariant first: it fixes the label entry's time; the -i after it still sets our serial.
  const args = [
    '--invariant',
    '-F',
    bits,
    '-i',
    spec.volumeId ?? '1234abcd',
    '--mbr=n',
    '-h',
    String(hiddenSectors),
  ];
  if (spec.label) args.push('-n', spec.label);
  if (spec.clusterSectors) args.push('-s', String(spec.clusterSectors));
  if (spec.fats) args.push('-f', String(spec.fats));
  if (spec.rootEntries) args.push('-r', String(spec.rootEntries));
  runTool('mkfs.fat', [...args, file], { time });
}

function attrArgs(attrs: string, where: string): string[] {
  const known: Record<string, string> = { r: '+r', h: '+h', s: '+s', a: '+a' };
  return attrs
    .split('')
    .map((c) => known[c] ?? (c === '-' ? '' : fail(where, `unknown attribute ${c}`)))
    .filter((a) => a);
}

function fail(where: string, message: string): never {
  throw new RecipeError(`${where}: ${message}`);
}

/**
 * Writes entries with mtools, in order. Consecutive files of one folder go in one mcopy (a folder
 * of hundreds of files would otherwise take hundreds of processes); the order is kept.
 */
export class FatWriter implements FsWriter {
  private pending: { dir: string; hosts: string[]; rels: string[] } | undefined;
  private readonly attrs: Array<[string, string]> = [];

  constructor(
    private readonly image: string,
    private readonly time: number,
  ) {}

  private mtools(tool: string, args: string[]): void {
    runTool(tool, ['-i', this.image, ...args], { time: this.time });
  }

  private flush(): void {
    const p = this.pending;
    this.pending = undefined;
    if (p) {
      const target =
        p.hosts.length === 1 ? mtoolsPath(p.rels[0]) : mtoolsPath(p.dir === '' ? '' : `${p.dir}/`);
      this.mtools('mcopy', ['-m', '-o', ...p.hosts, target]);
    }
    for (const [rel, attrs] of this.attrs.splice(0))
      this.mtools('mattrib', [...attrArgs(attrs, rel), mtoolsPath(rel)]);
  }

  folder(rel: string, attrs?: string): void {
    this.flush();
    this.mtools('mmd', [mtoolsPath(rel)]);
    if (attrs) this.attrs.push([rel, attrs]);
  }

  file(rel: string, host: string, attrs?: string): void {
    const dir = path.posix.dirname(rel) === '.' ? '' : path.posix.dirname(rel);
    if (this.pending?.dir !== dir || this.pending.rels.includes(rel)) this.flush();
    this.pending ??= { dir, hosts: [], rels: [] };
    this.pending.hosts.push(host);
    this.pending.rels.push(rel);
    if (attrs) this.attrs.push([rel, attrs]);
  }

  append(rel: string, host: string): void {
    this.flush();
    // mcopy -o rewrites the file in place: it keeps the old clusters and takes free ones for the rest.
    this.mtools('mcopy', ['-m', '-o', host, mtoolsPath(rel)]);
  }

  symlink(rel: string): void {
    fail(rel, 'FAT has no symbolic links');
  }

  remove(rel: string, isFolder: boolean): void {
    this.flush();
    this.mtools(isFolder ? 'mdeltree' : 'mdel', [mtoolsPath(rel)]);
  }

  finish(): void {
    this.flush();
  }
}
