import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { debugfsErrors } from './ext2-builder';
import { runTool } from './tools';

/**
 * Oracles: what the real tools (mtools, dosfstools, e2fsprogs) say about an image, independent of
 * fasmcov's kernel. Paths are relative to the partition root ('' is the root, '/' separated);
 * `offset` is the partition's byte offset in the image.
 */

export interface OracleEntry {
  name: string;
  folder: boolean;
}

export interface FsckResult {
  ok: boolean;
  output: string;
}

function rel(p: string): string {
  return p.split('/').filter(Boolean).join('/');
}

function mtoolsImage(image: string, offset: number): string {
  return offset === 0 ? image : `${image}@@${offset}`;
}

/** A folder's entries in on-disk order, `.` and `..` included where the folder has them; null if absent. */
export function listFat(image: string, offset: number, folder: string): OracleEntry[] | null {
  const r = rel(folder);
  const target = `::/${r}`;
  const out = runTool('mdir', ['-a', '-b', '-i', mtoolsImage(image, offset), target], { okStatus: [0, 1] });
  if (out.status !== 0) return null;
  const prefix = r === '' ? '::/' : `${target}/`;
  const entries = out.stdout
    .toString('utf8')
    .split('\n')
    .filter((l) => l.startsWith(prefix) && l.length > prefix.length)
    .map((l) => {
      const name = l.slice(prefix.length);
      return name.endsWith('/') ? { name: name.slice(0, -1), folder: true } : { name, folder: false };
    });
  // mdir -b leaves out the dot entries; every FAT subfolder starts with them.
  return r === '' ? entries : [{ name: '.', folder: true }, { name: '..', folder: true }, ...entries];
}

/**
 * 8.3 alias (upper case) → long name of a FAT folder's entries, from mdir's column listing; entries
 * without a long name are left out (their short name is their name).
 */
export function fatAliases(image: string, offset: number, folder: string): Map<string, string> {
  const out = new Map<string, string>();
  const r = runTool('mdir', ['-a', '-i', mtoolsImage(image, offset), `::/${rel(folder)}`], {
    okStatus: [0, 1],
  });
  if (r.status !== 0) return out;
  for (const line of r.stdout.toString('utf8').split('\n')) {
    const m = /^(.{8}) (.{3}) +(?:<DIR>|\d+) +\d{4}-\d\d-\d\d +\d+:\d\d {2}(.+)$/.exec(line);
    if (!m) continue;
    const ext = m[2].trim();
    out.set(`${m[1].trim()}${ext ? `.${ext}` : ''}`.toUpperCase(), m[3]);
  }
  return out;
}

/** A file's bytes as mtools reads them; null if mtools cannot read it. */
export function catFat(image: string, offset: number, file: string): Buffer | null {
  const out = runTool('mcopy', ['-n', '-i', mtoolsImage(image, offset), `::/${rel(file)}`, '-'], {
    okStatus: [0, 1],
  });
  return out.status === 0 ? out.stdout : null;
}

/** The attribute letters mattrib shows for an entry (a, r, s, h), lower-case. */
export function attrFat(image: string, offset: number, file: string): string {
  const out = runTool('mattrib', ['-i', mtoolsImage(image, offset), `::/${rel(file)}`]).stdout.toString(
    'utf8',
  );
  return out.slice(0, out.indexOf('::/')).replace(/\s+/g, '').toLowerCase();
}

const extracted = new Map<string, string>();
let cleanupHooked = false;

/**
 * debugfs, e2fsck and fsck.fat take no offset: a partition inside a disk is copied to a temporary
 * file first (once per image, offset and image modification time).
 */
export function partitionFile(image: string, offset: number, length?: number): string {
  if (offset === 0 && length === undefined) return image;
  const st = fs.statSync(image);
  const key = `${image}\0${offset}\0${length}\0${st.mtimeMs}\0${st.size}`;
  const known = extracted.get(key);
  if (known && fs.existsSync(known)) return known;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fasmcov-part-'));
  const file = path.join(dir, 'partition.img');
  const end = length === undefined ? st.size : offset + length;
  const src = fs.openSync(image, 'r');
  const dst = fs.openSync(file, 'w');
  try {
    const buf = Buffer.alloc(1 << 20);
    for (let pos = offset; pos < end;) {
      const n = fs.readSync(src, buf, 0, Math.min(buf.length, end - pos), pos);
      if (n <= 0) break;
      fs.writeSync(dst, buf, 0, n);
      pos += n;
    }
  } finally {
    fs.closeSync(src);
    fs.closeSync(dst);
  }
  extracted.set(key, file);
  if (!cleanupHooked) {
    cleanupHooked = true;
    process.on('exit', () =>
      extracted.forEach((f) => fs.rmSync(path.dirname(f), { recursive: true, force: true })),
    );
  }
  return file;
}

/** fsck.fat -n: ok when it found nothing to fix. */
export function fsckFat(image: string, offset: number, length?: number): FsckResult {
  const r = runTool('fsck.fat', ['-n', partitionFile(image, offset, length)], { okStatus: [0, 1, 2] });
  const output = `${r.stdout.toString('utf8')}${r.stderr}`;
  // fsck.fat -n exits 0 even for some findings it would fix; it then prints what it would do.
  const complained = /\n(?!fsck\.fat|.*: \d+ files, \d+\/\d+ clusters).+/.test(output.trimEnd());
  return { ok: r.status === 0 && !complained, output };
}

function debugfs(
  image: string,
  offset: number,
  command: string,
  length?: number,
): { out: Buffer; errors: string[] } {
  const r = runTool('debugfs', ['-R', command, partitionFile(image, offset, length)]);
  return { out: r.stdout, errors: debugfsErrors(r.stderr) };
}

function ext2Path(p: string): string {
  return `/${rel(p)}`;
}

export interface Ext2Entry extends OracleEntry {
  inode: number;
  mode: number;
  size: number;
}

/** A folder's entries in on-disk order (`ls -p`), or null when debugfs cannot list it. */
export function listExt2(image: string, offset: number, folder: string, length?: number): Ext2Entry[] | null {
  const { out, errors } = debugfs(image, offset, `ls -p ${JSON.stringify(ext2Path(folder))}`, length);
  if (errors.length > 0) return null;
  const entries: Ext2Entry[] = [];
  for (const line of out.toString('utf8').split('\n')) {
    const m = /^\/(\d+)\/(\d+)\/\d+\/\d+\/(.*)\/(\d*)\/$/.exec(line);
    if (!m || m[1] === '0') continue;
    const mode = parseInt(m[2], 8);
    entries.push({
      inode: Number(m[1]),
      mode,
      name: m[3],
      size: Number(m[4] || 0),
      folder: (mode & 0o170000) === 0o040000,
    });
  }
  return entries;
}

/** A file's bytes as debugfs reads them (holes as zeros); null when it cannot. */
export function catExt2(image: string, offset: number, file: string, length?: number): Buffer | null {
  const { out, errors } = debugfs(image, offset, `cat ${JSON.stringify(ext2Path(file))}`, length);
  return errors.length > 0 ? null : out;
}

export interface Ext2Stat {
  type: string;
  size: number;
  mode: number;
  links: number;
  mtime: number;
  atime: number;
  ctime: number;
  /** Blocks listed by debugfs (data and indirect), to see which paths a file takes. */
  blocks: string;
}

/** debugfs stat of a path; null when it does not exist. */
export function statExt2(image: string, offset: number, file: string, length?: number): Ext2Stat | null {
  const { out, errors } = debugfs(image, offset, `stat ${JSON.stringify(ext2Path(file))}`, length);
  if (errors.length > 0) return null;
  const text = out.toString('utf8');
  const num = (re: RegExp): number => Number((re.exec(text) ?? [])[1] ?? NaN);
  return {
    type: (/Type:\s*(\S+)/.exec(text) ?? [])[1] ?? '',
    size: num(/\bSize: (\d+)/),
    mode: parseInt((/Mode:\s*(\d+)/.exec(text) ?? [])[1] ?? '0', 8),
    links: num(/Links: (\d+)/),
    mtime: Number((/mtime: (0x[0-9a-f]+)/.exec(text) ?? [])[1] ?? NaN),
    atime: Number((/atime: (0x[0-9a-f]+)/.exec(text) ?? [])[1] ?? NaN),
    ctime: Number((/ctime: (0x[0-9a-f]+)/.exec(text) ?? [])[1] ?? NaN),
    blocks: (/BLOCKS:\n([\s\S]*?)\n(TOTAL|$)/.exec(text) ?? [])[1] ?? '',
  };
}

/** e2fsck -fn: ok when it found nothing wrong. */
export function fsckExt2(image: string, offset: number, length?: number): FsckResult {
  const r = runTool('e2fsck', ['-fn', partitionFile(image, offset, length)], {
    okStatus: [0, 1, 2, 4, 8, 12],
  });
  return { ok: r.status === 0, output: `${r.stdout.toString('utf8')}${r.stderr}` };
}
