import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { BuiltImage, BuiltPartition } from './build';
import type { CorruptionEffect } from './corrupt';
import { encodeCp866 } from '../script/format';
import { attrFat } from './oracle';
import { type Node, PartitionModel } from './ref-model';
import {
  STATUS_NAMES,
  type StatusLine,
  type TranscriptCommand,
  parseStatus,
  parseTranscript,
} from './transcript';

/**
 * Checks every claim of a reference transcript against the real tools' view of the images and
 * the host trees they were built from — never against fasmcov's own kernel.
 */

export interface RefProblem {
  line: number;
  command: string;
  message: string;
}

export interface RefCheckContext {
  /** Built images by the name `disk_add` uses (e.g. `fat16.img`). */
  images: Record<string, BuiltImage>;
  /** Where `write70`'s host files are (the script's folder). */
  scriptDir?: string;
}

/** Images by `<recipe name>.img`, the names fixture scripts use. */
export function imagesByName(images: BuiltImage[]): Record<string, BuiltImage> {
  return Object.fromEntries(images.map((b) => [path.basename(b.image), b]));
}

type Resolved =
  | { kind: 'part'; model: PartitionModel; rel: string; lenient: boolean }
  | { kind: 'container'; names: string[] }
  | { kind: 'missing'; lenient: boolean }
  | { kind: 'unknown' };

interface Disk {
  name: string;
  built: BuiltImage;
  models: PartitionModel[];
}

/** A name as cp866 can show it: characters it lacks become '?'. */
function inCp866(name: string): string {
  return [...name.normalize('NFC')].map((ch) => (encodeCp866(ch) ? ch : '?')).join('');
}

/** The runner's ls count when the script gives none. */
const DEFAULT_LS_COUNT = 1000;

function mib(sectors: number): number {
  return Math.floor(sectors / 2048);
}

/** KolibriOS-style time: `2020.01.02 03:04:06`. */
function kosTime(unix: number): string {
  return new Date(unix * 1000).toISOString().replace(/-/g, '.').replace('T', ' ').slice(0, 19);
}

class Checker {
  readonly problems: RefProblem[] = [];
  private readonly disks = new Map<string, Disk>();
  private cwd: string | undefined;
  private cmd!: TranscriptCommand;

  constructor(private readonly ctx: RefCheckContext) {}

  private flag(message: string): void {
    this.problems.push({ line: this.cmd.line, command: this.cmd.text, message });
  }

  run(commands: TranscriptCommand[]): void {
    for (const c of commands) {
      this.cmd = c;
      this.command(c);
    }
  }

  private command(c: TranscriptCommand): void {
    const verb = c.name.replace(/(70|80)$/, '');
    switch (c.name === '' ? '' : verb) {
      case '':
        if (c.output.length > 0) this.flag('output without a command');
        return;
      case 'disk_add':
        return this.diskAdd(c);
      case 'disk_del':
        this.disks.delete(c.args[0]?.toLowerCase());
        return;
      case 'cd':
        // cd prints a status only when it fails, and then the folder stays as it was.
        if (c.output.length === 0) this.cd(c.args[0] ?? '/');
        return;
      case 'pwd':
        if (this.cwd === undefined) this.cwd = c.output[0];
        else if ((c.output[0] ?? '').replace(/\/$/, '') !== this.cwd.replace(/\/$/, ''))
          this.flag(`pwd printed ${c.output[0]}, expected ${this.cwd}`);
        return;
      case 'stat':
        return this.stat(c);
      case 'read':
        return this.read(c);
      case 'ls':
        return this.ls(c);
      case 'write':
        return this.write(c, Number(c.args[1] ?? 0), c.args[2]);
      case 'create':
        return this.write(c, 0, c.args[1], true);
      case 'setsize':
        return this.setSize(c);
      case 'rm':
        return this.rm(c);
      case 'mkdir':
        return this.mkdir(c);
      default:
        return;
    }
  }

  // ---- disks and paths -------------------------------------------------------------------

  private diskAdd(c: TranscriptCommand): void {
    const [file, name] = c.args;
    const built = this.ctx.images[file] ?? this.ctx.images[path.basename(file ?? '')];
    if (!built || !name) return this.flag(`unknown image ${file}`);
    const models = built.partitions.map((p) => new PartitionModel(built.image, p));
    this.disks.set(name.toLowerCase(), { name, built, models });
    const sectors = built.recipe.size / 512;
    const head = `/${name}: sector_size=512, capacity=${sectors} (${mib(sectors)} MiB), num_partitions=${models.length}`;
    if (c.output[0] !== head) this.flag(`disk line is "${c.output[0]}", expected "${head}"`);
    built.partitions.forEach((p, i) => this.partitionLine(c.output[i + 1], name, p));
    if (c.output.length > models.length + 1) this.flag(`unexpected line "${c.output[models.length + 1]}"`);
  }

  private partitionLine(line: string | undefined, disk: string, p: BuiltPartition): void {
    const m = /^\/(\S+)\/(\d+): fs=(\S+), start=(\d+) \((\d+) MiB\), length=(\d+) \((\d+) MiB\)$/.exec(
      line ?? '',
    );
    if (!m)
      return this.flag(
        `partition ${p.number}: line "${line}" is not /${disk}/N: fs=..., start=..., length=...`,
      );
    const unmountable = p.corruptions.some((e) => e.scope === 'partition');
    const fsOk = unmountable ? !['fat12', 'fat16', 'fat32', 'ext2'].includes(m[3]) : m[3] === p.fs;
    const want = [
      disk,
      String(p.number),
      String(p.start),
      String(mib(p.start)),
      String(p.sectors),
      String(mib(p.sectors)),
    ];
    const got = [m[1], m[2], m[4], m[5], m[6], m[7]];
    if (!fsOk || want.some((w, i) => w !== got[i]))
      this.flag(
        `partition line "${line}", expected /${disk}/${p.number}: fs=${unmountable ? '(not recognised)' : p.fs}, ` +
          `start=${p.start} (${mib(p.start)} MiB), length=${p.sectors} (${mib(p.sectors)} MiB)`,
      );
  }

  private absolute(p: string): string | undefined {
    if (p.startsWith('/')) return p;
    if (this.cwd === undefined) return undefined;
    return `${this.cwd.replace(/\/$/, '')}/${p}`;
  }

  private cd(p: string): void {
    const abs = this.absolute(p);
    this.cwd = abs === undefined ? undefined : `/${this.components(abs).parts.join('/')}`;
  }

  /** Path components with `.`/`..` applied; `lenient` when the path is unusual (empty components). */
  private components(abs: string): { parts: string[]; lenient: boolean } {
    const raw = abs.split('/').slice(1);
    const lenient = raw.slice(0, -1).some((s) => s === '') || (raw[raw.length - 1] === '' && raw.length > 1);
    const parts: string[] = [];
    let escaped = false;
    for (const s of raw) {
      if (s === '' || s === '.') continue;
      if (s === '..') escaped = parts.pop() === undefined || escaped;
      else parts.push(s);
    }
    return { parts, lenient: lenient || escaped };
  }

  private resolve(p: string): Resolved {
    const abs = this.absolute(p);
    if (abs === undefined) return { kind: 'unknown' };
    const { parts, lenient } = this.components(abs);
    if (parts.length === 0) return { kind: 'container', names: [...this.disks.values()].map((d) => d.name) };
    const disk = this.disks.get(parts[0].toLowerCase());
    if (!disk) return { kind: 'missing', lenient };
    if (parts.length === 1)
      return { kind: 'container', names: disk.models.map((m) => String(m.part.number)) };
    const model = /^\d+$/.test(parts[1]) ? disk.models[Number(parts[1]) - 1] : undefined;
    if (!model) return { kind: 'missing', lenient };
    return { kind: 'part', model, rel: parts.slice(2).join('/'), lenient };
  }

  /** The corruption that makes failures acceptable at this path, if any. */
  private corruption(r: Resolved): CorruptionEffect | undefined {
    if (r.kind !== 'part') return undefined;
    const key = r.model.key(r.rel);
    return r.model.part.corruptions.find(
      (e) =>
        e.scope === 'partition' ||
        key === r.model.key(e.path) ||
        key.startsWith(`${r.model.key(e.path)}/`) ||
        e.path === '',
    );
  }

  // ---- statuses -----------------------------------------------------------------------------

  private status(c: TranscriptCommand): StatusLine | undefined {
    const s = parseStatus(c.output[0]);
    if (!s) this.flag(`expected a status line, got "${c.output[0] ?? ''}"`);
    else if (STATUS_NAMES[s.code] !== s.name)
      this.flag(`status ${s.code} is named ${STATUS_NAMES[s.code]}, not ${s.name}`);
    return s;
  }

  /**
   * Statuses acceptable when the path does not lead to a usable entry; returns true when the
   * status was settled here (the caller then checks nothing more).
   */
  private settleFailure(s: StatusLine, r: Resolved, node: Node | null): boolean {
    const effect = this.corruption(r);
    if (effect?.scope === 'partition') {
      if (![2, 3, 9].includes(s.code))
        this.flag(`status ${s.code} on a partition whose file system is broken (expected 3 or 9)`);
      return true;
    }
    if (effect && s.code === 9) return true;
    if (r.kind === 'missing' || (r.kind === 'part' && node === null)) {
      if (s.code !== 5 && !(r.kind === 'part' && r.lenient))
        this.flag(`status ${s.code} for a path that does not exist (expected 5)`);
      return true;
    }
    if (r.kind === 'part' && r.lenient && s.code === 5) return true;
    return false;
  }

  private expectCode(s: StatusLine, allowed: number[], what: string): boolean {
    if (allowed.includes(s.code)) return true;
    this.flag(`status ${s.code} for ${what} (expected ${allowed.join(' or ')})`);
    return false;
  }

  // ---- read-only commands ---------------------------------------------------------------------

  private target(r: Resolved): Node | null {
    if (r.kind === 'container') return { type: 'folder', modified: false };
    return r.kind === 'part' ? r.model.lookup(r.rel) : null;
  }

  private stat(c: TranscriptCommand): void {
    const r = this.resolve(c.args[0] ?? '');
    if (r.kind === 'unknown') return;
    const s = this.status(c);
    if (!s) return;
    const node = this.target(r);
    if (this.settleFailure(s, r, node) || r.kind !== 'part') return;
    if (r.rel === '' && s.code === 2) return;
    if (!this.expectCode(s, [0], `stat of an existing ${node!.type}`)) return;
    const info = new Map(
      c.output.slice(1).map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 1).trim()]),
    );
    const attr = info.get('attr') ?? '';
    const folder = node!.type === 'folder';
    if (!/^[r-][h-][s-][v-][f-]$/.test(attr)) this.flag(`attr "${attr}" is not 5 characters rhsvf`);
    if ((attr[4] === 'f') !== folder) this.flag(`attr "${attr}": folder bit wrong for a ${node!.type}`);
    if (folder !== !info.has('size'))
      this.flag(folder ? 'size: shown for a folder' : 'size: missing for a file');
    if (node!.type === 'file') this.checkSize(Number(info.get('size')), node!.size, r);
    if (node!.type === 'symlink') this.checkSymlinkSize(Number(info.get('size')), r, node!.target);
    if (!('modified' in node! && node!.modified) && r.rel !== '') this.checkTimes(info, r.model);
    if (r.model.isFat && !('modified' in node! && node!.modified) && r.rel !== '')
      this.checkFatAttrs(attr, r.model, r.rel);
  }

  private checkSize(got: number, want: number, r: Resolved): void {
    const effect = this.corruption(r);
    const sizes = effect?.scope === 'path' ? [want, ...(effect.sizes ?? [])] : [want];
    if (!sizes.includes(got)) this.flag(`size ${got}, expected ${sizes.join(' or ')}`);
  }

  private checkSymlinkSize(got: number, r: Resolved & { kind: 'part' }, target: string): void {
    const followed = this.followed(r.model, r.rel, target);
    const sizes = [Buffer.byteLength(target), ...(followed?.type === 'file' ? [followed.size] : [])];
    if (!sizes.includes(got)) this.flag(`size ${got} of a symlink, expected ${sizes.join(' or ')}`);
  }

  private followed(model: PartitionModel, rel: string, target: string): Node | null {
    const dir = rel.includes('/') ? rel.slice(0, rel.lastIndexOf('/')) : '';
    const joined = target.startsWith('/') ? target : `${dir}/${target}`;
    const parts: string[] = [];
    for (const s of joined.split('/')) {
      if (s === '..') parts.pop();
      else if (s !== '' && s !== '.') parts.push(s);
    }
    return model.lookup(parts.join('/'));
  }

  private checkTimes(info: Map<string, string>, model: PartitionModel): void {
    const t = this.recipeTime(model);
    const fat = model.isFat;
    const even = fat ? t - (t % 2) : t;
    const want: Record<string, string> = {
      mtime: kosTime(even),
      ctime: kosTime(even),
      atime: fat ? `${kosTime(t).slice(0, 10)} 00:00:00` : kosTime(t),
    };
    for (const [field, value] of Object.entries(want))
      if (info.has(field) && info.get(field) !== value)
        this.flag(`${field}: ${info.get(field)}, expected ${value}`);
  }

  private recipeTime(model: PartitionModel): number {
    for (const d of this.disks.values()) if (d.models.includes(model)) return d.built.recipe.time;
    return 0;
  }

  private checkFatAttrs(attr: string, model: PartitionModel, rel: string): void {
    const letters = attrFat(model.image, model.part.offset, rel);
    const want = `${letters.includes('r') ? 'r' : '-'}${letters.includes('h') ? 'h' : '-'}${letters.includes('s') ? 's' : '-'}`;
    if (attr.slice(0, 3) !== want) this.flag(`attr "${attr}", mattrib says ${want}`);
  }

  private read(c: TranscriptCommand): void {
    const [p, offArg, countArg, mode] = c.args;
    const r = this.resolve(p ?? '');
    if (r.kind === 'unknown') return;
    const s = this.status(c);
    if (!s) return;
    const node = this.target(r);
    if (this.settleFailure(s, r, node) || r.kind !== 'part') {
      if (r.kind === 'container') this.expectCode(s, [10, 5, 2], 'a read of a disk or the root');
      return;
    }
    if (node!.type === 'folder') return void this.expectCode(s, [10], 'a read of a folder');
    const offset = BigInt(offArg ?? '0');
    const count = Number(countArg ?? 0);
    const candidates = node!.type === 'file' ? [node!.bytes()] : this.symlinkContents(r, node!.target);
    const data = c.output.slice(1).join('').trim();
    const ok = candidates.some((bytes) => this.readMatches(s, bytes, offset, count, mode, data, false));
    if (!ok) this.readMatches(s, candidates[0], offset, count, mode, data, true);
  }

  private symlinkContents(r: Resolved & { kind: 'part' }, target: string): Buffer[] {
    const followed = this.followed(r.model, r.rel, target);
    return [Buffer.from(target), ...(followed?.type === 'file' ? [followed.bytes()] : [])];
  }

  /** Whether a read's claims fit the file's bytes; with `report`, says why not. */
  private readMatches(
    s: StatusLine,
    bytes: Buffer,
    offset: bigint,
    count: number,
    mode: string | undefined,
    data: string,
    report: boolean,
  ): boolean {
    const size = BigInt(bytes.length);
    const avail = offset >= size ? 0 : Number(size - offset);
    const pastEof = offset + BigInt(count) > size;
    const wantCount = Math.min(count, avail);
    const wantCode = pastEof ? 6 : 0;
    const fail = (m: string): boolean => (report ? (this.flag(m), false) : false);
    if (s.code !== wantCode)
      return fail(`status ${s.code}, expected ${wantCode} (file size ${size}, read ${count} at ${offset})`);
    if (s.count !== wantCount) return fail(`count = ${s.count}, expected ${wantCount}`);
    const slice = bytes.subarray(
      Number(offset > size ? size : offset),
      Number(offset > size ? size : offset) + wantCount,
    );
    const want = mode === '-h' ? createHash('sha256').update(slice).digest('hex') : slice.toString('hex');
    if (mode !== '-h' && mode !== '-b') return true;
    if (data.toLowerCase() !== want) return fail(`data ${data.slice(0, 80)}, expected ${want.slice(0, 80)}`);
    return true;
  }

  private ls(c: TranscriptCommand): void {
    const [p, startArg, countArg] = c.args;
    const r = this.resolve(p ?? '');
    if (r.kind === 'unknown') return;
    const s = this.status(c);
    if (!s) return;
    const node = this.target(r);
    if (this.settleFailure(s, r, node)) return;
    if (node!.type !== 'folder') return void this.expectCode(s, [10, 5], `listing a ${node!.type}`);
    const listing =
      r.kind === 'container'
        ? { entries: r.names.map((name) => ({ name, folder: true })), ordered: true }
        : (r as Resolved & { kind: 'part' }).model.list((r as Resolved & { kind: 'part' }).rel);
    if (!listing) return void this.flag('the oracle cannot list this folder');
    this.checkListing(c, s, listing, Number(startArg ?? 0), Number(countArg ?? DEFAULT_LS_COUNT), r);
  }

  private checkListing(
    c: TranscriptCommand,
    s: StatusLine,
    listing: { entries: Array<{ name: string; folder: boolean }>; ordered: boolean },
    start: number,
    count: number,
    r: Resolved,
  ): void {
    const lines = c.output.slice(2).map((l) => ({ attr: l.slice(0, 5), name: l.slice(6).normalize('NFC') }));
    const labels = lines.filter(
      (l) => l.attr[3] === 'v' && r.kind === 'part' && r.model.isFat && r.rel === '',
    );
    const listed = lines.filter((l) => !labels.includes(l));
    const total = Number((/^total = (\d+)$/.exec(c.output[1] ?? '') ?? [])[1] ?? NaN);
    const n = listing.entries.length;
    const label = r.kind === 'part' && r.model.isFat && r.rel === '' && r.model.part.label ? 1 : 0;
    if (total !== n && !(label && total === n + 1))
      this.flag(`total = ${c.output[1]?.slice(8)}, expected ${n}`);
    const wantCount = Math.max(0, Math.min(count, total - start));
    const wantCode = start + count > total ? 6 : 0;
    if (s.code !== wantCode)
      this.flag(`status ${s.code}, expected ${wantCode} (${total} entries, asked ${count} from ${start})`);
    if (s.count !== wantCount || lines.length !== s.count)
      this.flag(`count = ${s.count} with ${lines.length} entries, expected ${wantCount}`);
    // ls70 shows names in cp866: what cp866 lacks is a '?'.
    const shown = (name: string) => (c.name.endsWith('70') ? inCp866(name) : name.normalize('NFC'));
    const byName = new Map(listing.entries.map((e) => [shown(e.name), e]));
    for (const l of listed) {
      const e = byName.get(l.name);
      if (!e)
        this.flag(
          `entry "${l.name}" is not in the folder (the oracle lists ${[...byName.keys()].slice(0, 8).join(', ')}...)`,
        );
      else if ((l.attr[4] === 'f') !== e.folder) this.flag(`entry "${l.name}": folder bit wrong`);
    }
    if (listing.ordered && total === n && start === 0 && count >= n) {
      const want = listing.entries.map((e) => shown(e.name)).join('\n');
      if (listed.map((l) => l.name).join('\n') !== want && listed.every((l) => byName.has(l.name)))
        this.flag('entries are not in on-disk order');
    }
    if (total === n && start === 0 && count >= n)
      for (const name of byName.keys())
        if (!listed.some((l) => l.name === name)) this.flag(`entry "${name}" is missing`);
  }

  // ---- writes --------------------------------------------------------------------------------

  private writable(
    c: TranscriptCommand,
  ): { r: Resolved & { kind: 'part' }; s: StatusLine; node: Node | null } | undefined {
    const r = this.resolve(c.args[0] ?? '');
    if (r.kind === 'unknown') return undefined;
    const s = this.status(c);
    if (!s) return undefined;
    if (r.kind !== 'part') {
      if (r.kind === 'missing') this.settleFailure(s, r, null);
      else this.expectCode(s, [10, 5, 2], 'a write to a disk or the root');
      return undefined;
    }
    const node = r.model.lookup(r.rel);
    const effect = this.corruption(r);
    if (effect?.scope === 'partition') return void this.settleFailure(s, r, node);
    return { r, s, node };
  }

  private parentExists(r: Resolved & { kind: 'part' }): boolean {
    const parent = r.rel.includes('/') ? r.rel.slice(0, r.rel.lastIndexOf('/')) : '';
    return r.model.lookup(parent)?.type === 'folder';
  }

  /** write (70.3, at an offset) and create (70.2, creates or replaces the whole file). */
  private write(c: TranscriptCommand, offset: number, file: string | undefined, create = false): void {
    const w = this.writable(c);
    if (!w) return;
    const { r, s, node } = w;
    const hostFile = path.resolve(this.ctx.scriptDir ?? '.', file ?? '');
    if (!fs.existsSync(hostFile)) return void this.flag(`host file ${file} not found (scriptDir)`);
    const data = fs.readFileSync(hostFile);
    if (s.code === 9 && this.corruption(r)) return;
    if (node?.type === 'folder') return void this.expectCode(s, [10], 'a write to a folder');
    if (node === null && !this.parentExists(r))
      return void this.expectCode(s, [5], 'a write in a missing folder');
    if (!this.expectCode(s, node === null ? [0, 5, 8] : [0, 8, 10], 'a write')) return;
    if (s.code === 5 || s.code === 10) return;
    const written = s.count ?? 0;
    if (s.code === 0 && written !== data.length) this.flag(`count = ${written}, expected ${data.length}`);
    if (written > data.length)
      return void this.flag(`count = ${written} is more than the ${data.length} bytes given`);
    const old = node?.type === 'file' && !create ? node.bytes() : Buffer.alloc(0);
    const size = Math.max(old.length, offset + written);
    const next = Buffer.alloc(size);
    old.copy(next);
    data.copy(next, offset, 0, written);
    r.model.writeFile(r.rel, next);
  }

  private setSize(c: TranscriptCommand): void {
    const w = this.writable(c);
    if (!w) return;
    const { r, s, node } = w;
    if (s.code === 9 && this.corruption(r)) return;
    if (node === null) return void this.expectCode(s, [5], 'setsize of a missing file');
    if (node.type !== 'file') return void this.expectCode(s, [10], `setsize of a ${node.type}`);
    const size = Number(c.args[1] ?? 0);
    if (!this.expectCode(s, size > node.size ? [0, 8] : [0], 'setsize') || s.code !== 0) return;
    const next = Buffer.alloc(size);
    node.bytes().copy(next, 0, 0, Math.min(size, node.size));
    r.model.writeFile(r.rel, next);
  }

  private rm(c: TranscriptCommand): void {
    const w = this.writable(c);
    if (!w) return;
    const { r, s, node } = w;
    if (s.code === 9 && this.corruption(r)) return;
    if (node === null) return void this.expectCode(s, [5], 'deleting a missing entry');
    const busy =
      node.type === 'folder' &&
      (r.model.list(r.rel)?.entries.filter((e) => e.name !== '.' && e.name !== '..').length ?? 0) > 0;
    if (r.rel === '') return void this.expectCode(s, [10, 2], 'deleting the root');
    if (!this.expectCode(s, busy ? [10] : [0], busy ? 'deleting a non-empty folder' : 'deleting')) return;
    if (s.code === 0) r.model.remove(r.rel);
  }

  private mkdir(c: TranscriptCommand): void {
    const w = this.writable(c);
    if (!w) return;
    const { r, s, node } = w;
    if (s.code === 9 && this.corruption(r)) return;
    if (node?.type === 'file') return void this.expectCode(s, [10, 5], 'mkdir over a file');
    if (node === null && !this.parentExists(r))
      return void this.expectCode(s, [5], 'mkdir in a missing folder');
    if (this.expectCode(s, node === null ? [0, 8] : [0], 'mkdir') && s.code === 0) r.model.makeFolder(r.rel);
  }

  /** What the transcript wrote, per image and partition number. */
  writes(): Array<{
    image: BuiltImage;
    partition: number;
    files: Map<string, Buffer>;
    folders: string[];
    removed: string[];
  }> {
    const out: ReturnType<Checker['writes']> = [];
    for (const d of this.disks.values())
      for (const m of d.models) {
        const w = m.writes();
        if (w.files.size + w.folders.length + w.removed.length > 0)
          out.push({ image: d.built, partition: m.part.number, ...w });
      }
    return out;
  }
}

export interface RefCheckResult {
  problems: RefProblem[];
  /** Files, folders and removals the transcript claims, to check on the written image afterwards. */
  writes: ReturnType<Checker['writes']>;
}

/** Checks a transcript fully; returns its problems and the writes it claims. */
export function checkReferenceLogDetailed(refLogText: string, context: RefCheckContext): RefCheckResult {
  const checker = new Checker(context);
  checker.run(parseTranscript(refLogText));
  return { problems: checker.problems, writes: checker.writes() };
}

/** Every claim of the transcript that the real tools and host trees contradict (empty = all verified). */
export function checkReferenceLog(refLogText: string, context: RefCheckContext): RefProblem[] {
  return checkReferenceLogDetailed(refLogText, context).problems;
}

/** One line per problem: `ref.log:12: read80 /hd0/1/a 0 16 -b: count = 3, expected 16`. */
export function formatProblems(problems: RefProblem[], file = 'ref.log'): string {
  return problems.map((p) => `${file}:${p.line}: ${p.command}: ${p.message}`).join('\n');
}
