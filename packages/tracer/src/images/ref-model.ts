import * as fs from 'node:fs';
import * as path from 'node:path';
import type { BuiltPartition } from './build';
import { type OracleEntry, fatAliases, listExt2, listFat } from './oracle';

/**
 * What a partition holds according to its host tree (the files it was built from), plus the
 * writes a transcript claims to have made (an overlay), for the reference-log checker.
 */

export type Node =
  | { type: 'file'; size: number; bytes: () => Buffer; modified: boolean }
  | { type: 'folder'; modified: boolean }
  | { type: 'symlink'; target: string };

export class PartitionModel {
  /** Written or created files (full content), by canonical path. */
  private readonly files = new Map<string, { rel: string; bytes: Buffer }>();
  private readonly folders = new Map<string, string>();
  private readonly removed = new Set<string>();
  /** Folders whose entries changed: their listing order is no longer known. */
  private readonly touched = new Set<string>();
  private readonly listings = new Map<string, OracleEntry[] | null>();

  constructor(
    readonly image: string,
    readonly part: BuiltPartition,
  ) {}

  get isFat(): boolean {
    return this.part.fs !== 'ext2';
  }

  /** FAT compares names case-insensitively; ext2 byte for byte. */
  key(rel: string): string {
    const n = rel.normalize('NFC');
    return this.isFat ? n.toUpperCase() : n;
  }

  private hostName(dir: string, name: string): string | undefined {
    const names = fs.existsSync(dir) && fs.lstatSync(dir).isDirectory() ? fs.readdirSync(dir) : [];
    return names.find((n) => this.key(n) === this.key(name));
  }

  /**
   * The host path of `rel` (with the host's spelling), or undefined. On FAT a component may also be
   * an entry's 8.3 alias, which mtools resolves on the image.
   */
  private hostPath(rel: string): string | undefined {
    let dir = this.part.hostTree;
    const done: string[] = [];
    for (const name of rel.split('/').filter(Boolean)) {
      let found = this.hostName(dir, name);
      if (found === undefined && this.isFat) {
        const long = fatAliases(this.image, this.part.offset, done.join('/')).get(name.toUpperCase());
        if (long !== undefined) found = this.hostName(dir, long);
      }
      if (found === undefined) return undefined;
      done.push(found);
      dir = path.join(dir, found);
    }
    return dir;
  }

  /** Entries the file-system tools create themselves (not in the host tree): ext2's lost+found. */
  private madeByMkfs(k: string): boolean {
    return !this.isFat && k === 'lost+found';
  }

  /** The entry at `rel` ('' = root) after the transcript's writes so far; null if there is none. */
  lookup(rel: string): Node | null {
    const k = this.key(rel);
    for (let p = k; p !== ''; p = p.includes('/') ? p.slice(0, p.lastIndexOf('/')) : '')
      if (this.removed.has(p)) return null;
    const written = this.files.get(k);
    if (written)
      return { type: 'file', size: written.bytes.length, bytes: () => written.bytes, modified: true };
    if (this.folders.has(k)) return { type: 'folder', modified: true };
    if (this.madeByMkfs(k)) return { type: 'folder', modified: false };
    const host = this.hostPath(rel);
    if (host === undefined) return null;
    const st = fs.lstatSync(host);
    if (st.isSymbolicLink()) return { type: 'symlink', target: fs.readlinkSync(host) };
    if (st.isDirectory()) return { type: 'folder', modified: this.touched.has(k) };
    return { type: 'file', size: st.size, bytes: () => fs.readFileSync(host), modified: false };
  }

  /** Host spelling of the last component (FAT lookups may use another case). */
  spelling(rel: string): string {
    const host = this.hostPath(rel);
    return host === undefined ? path.posix.basename(rel) : path.basename(host);
  }

  /** A folder's entries: the oracle's listing of the image, adjusted for the writes; null if none. */
  list(rel: string): { entries: OracleEntry[]; ordered: boolean } | null {
    const k = this.key(rel);
    let base = this.listings.get(k);
    if (base === undefined) {
      base = this.isFat
        ? listFat(this.image, this.part.offset, rel)
        : listExt2(this.image, this.part.offset, rel);
      this.listings.set(k, base);
    }
    const node = this.lookup(rel);
    if (node?.type !== 'folder') return null;
    const prefix = k === '' ? '' : `${k}/`;
    const entries = (this.folders.has(k) && !base ? this.emptyFolder(rel) : (base ?? [])).filter(
      (e) => e.name === '.' || e.name === '..' || this.lookup(rel ? `${rel}/${e.name}` : e.name) !== null,
    );
    const known = new Set(entries.map((e) => this.key(e.name)));
    const added = [...this.files.keys(), ...this.folders.keys()]
      .filter((p) => p.startsWith(prefix) && !p.slice(prefix.length).includes('/') && p !== k)
      .map((p) => this.displayName(p))
      .filter((e) => !known.has(this.key(e.name)));
    return { entries: [...entries, ...added], ordered: !this.touched.has(k) };
  }

  private emptyFolder(rel: string): OracleEntry[] {
    return rel === ''
      ? []
      : [
          { name: '.', folder: true },
          { name: '..', folder: true },
        ];
  }

  private displayName(k: string): OracleEntry {
    const file = this.files.get(k);
    const rel = file ? file.rel : (this.folders.get(k) ?? k);
    return { name: path.posix.basename(rel), folder: !file };
  }

  private touchParent(rel: string): void {
    this.touched.add(this.key(rel.includes('/') ? rel.slice(0, rel.lastIndexOf('/')) : ''));
  }

  writeFile(rel: string, bytes: Buffer): void {
    const k = this.key(rel);
    if (this.lookup(rel) === null) this.touchParent(rel);
    this.removed.delete(k);
    this.files.set(k, { rel, bytes });
  }

  makeFolder(rel: string): void {
    const k = this.key(rel);
    if (this.lookup(rel) !== null) return;
    this.touchParent(rel);
    this.removed.delete(k);
    this.folders.set(k, rel);
  }

  remove(rel: string): void {
    const k = this.key(rel);
    this.touchParent(rel);
    this.files.delete(k);
    this.folders.delete(k);
    this.removed.add(k);
  }

  /** Files and folders the transcript wrote, for checking the image after the run. */
  writes(): { files: Map<string, Buffer>; folders: string[]; removed: string[] } {
    const files = new Map<string, Buffer>();
    for (const { rel, bytes } of this.files.values()) if (this.lookup(rel) !== null) files.set(rel, bytes);
    const folders = [...this.folders.values()].filter((rel) => this.lookup(rel) !== null);
    return { files, folders, removed: [...this.removed] };
  }
}
