import * as fs from 'node:fs';
import * as path from 'node:path';
import { appendContent, writeContent } from './content';
import { type ContentSpec, RecipeError, type TreeEntry } from './recipe';

/**
 * Walks a partition's `tree` then `steps` in recipe order, staging each file on the host and
 * telling a file-system writer what to do. Order matters: it decides directory-entry order and,
 * on FAT, which clusters a file gets (that is how a recipe fragments a file).
 */

/** What a file-system builder does for each staged entry (paths are relative, '/'-separated). */
export interface FsWriter {
  folder(rel: string, attrs?: string): void;
  /** `host` holds the file's full current content (for `append`, the old bytes plus the new). */
  file(rel: string, host: string, attrs?: string): void;
  append(rel: string, host: string): void;
  symlink(rel: string, target: string): void;
  remove(rel: string, isFolder: boolean): void;
  /** Called once after the last entry, before the host tree loses deleted entries. */
  finish(): void;
}

export function normaliseRel(p: string, where: string): string {
  const parts = p.split('/').filter((s) => s !== '');
  if (parts.length === 0 || parts.some((s) => s === '.' || s === '..'))
    throw new RecipeError(`${where}: bad path ${p}`);
  return parts.join('/');
}

/** Sets the fixed time on a staged path (symlinks themselves, not their targets). */
function stamp(hostPath: string, time: number): void {
  fs.lutimesSync(hostPath, time, time);
}

class Stager {
  private readonly deleted: string[] = [];
  private readonly folders = new Set<string>();

  constructor(
    private readonly root: string,
    private readonly time: number,
    private readonly writer: FsWriter,
  ) {}

  /** Creates missing parent folders first, on the host and in the image, in path order. */
  private ensureParents(rel: string): void {
    const parts = rel.split('/');
    for (let i = 1; i < parts.length; i++) this.folder(parts.slice(0, i).join('/'));
  }

  folder(rel: string, attrs?: string): void {
    if (this.folders.has(rel)) return;
    this.ensureParents(rel);
    fs.mkdirSync(path.join(this.root, rel), { recursive: true });
    stamp(path.join(this.root, rel), this.time);
    this.folders.add(rel);
    this.writer.folder(rel, attrs);
  }

  file(rel: string, spec: ContentSpec, where: string, attrs?: string, index?: number): void {
    this.ensureParents(rel);
    const host = path.join(this.root, rel);
    writeContent(host, spec, where, index);
    stamp(host, this.time);
    this.writer.file(rel, host, attrs);
  }

  entry(e: TreeEntry, where: string): void {
    if ('folder' in e) this.folder(normaliseRel(e.folder, where), e.attrs);
    else if ('file' in e) this.file(normaliseRel(e.file, where), e, where, e.attrs);
    else if ('many' in e) this.many(e, where);
    else if ('symlink' in e) this.symlink(normaliseRel(e.symlink, where), e.target);
    else if ('append' in e) this.append(normaliseRel(e.append, where), e, where);
    else this.remove(normaliseRel(e.delete, where));
  }

  private many(e: { many: string; count: number; start?: number } & ContentSpec, where: string): void {
    if (!e.many.includes('{i}')) throw new RecipeError(`${where}: a 'many' name needs {i}`);
    const first = e.start ?? 0;
    for (let i = first; i < first + e.count; i++)
      this.file(normaliseRel(e.many.replace(/\{i\}/g, String(i)), where), e, where, undefined, i);
  }

  private symlink(rel: string, target: string): void {
    this.ensureParents(rel);
    const host = path.join(this.root, rel);
    fs.symlinkSync(target, host);
    stamp(host, this.time);
    this.writer.symlink(rel, target);
  }

  private append(rel: string, spec: ContentSpec, where: string): void {
    const host = path.join(this.root, rel);
    if (!fs.existsSync(host)) throw new RecipeError(`${where}: append to ${rel}, which does not exist`);
    appendContent(host, spec, where);
    stamp(host, this.time);
    this.writer.append(rel, host);
  }

  private remove(rel: string): void {
    const host = path.join(this.root, rel);
    const st = fs.lstatSync(host, { throwIfNoEntry: false });
    if (!st) throw new RecipeError(`delete ${rel}: no such entry`);
    this.writer.remove(rel, st.isDirectory());
    this.deleted.push(host);
    for (const f of [...this.folders]) if (f === rel || f.startsWith(`${rel}/`)) this.folders.delete(f);
  }

  /** Deleted entries leave the host tree only now, since a writer may read host files late. */
  done(): void {
    this.writer.finish();
    for (const host of this.deleted) fs.rmSync(host, { recursive: true, force: true });
    for (const rel of [...this.folders].sort((a, b) => b.length - a.length)) {
      const host = path.join(this.root, rel);
      if (fs.existsSync(host)) stamp(host, this.time);
    }
    stamp(this.root, this.time);
  }
}

/** Stages `entries` under `root` (created empty) and drives `writer`; `root` ends as the final tree. */
export function populate(
  root: string,
  entries: TreeEntry[],
  time: number,
  writer: FsWriter,
  where: string,
): void {
  fs.mkdirSync(root, { recursive: true });
  const stager = new Stager(root, time, writer);
  entries.forEach((e, i) => stager.entry(e, `${where}[${i}]`));
  stager.done();
}
