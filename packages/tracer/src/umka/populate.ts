import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * What goes into a test image's file system once it is formatted, described the way UMKa's
 * image set-up builds it (folder ranges, pattern files, holes), so that a mounted file system
 * or a host folder can be filled the same way. Paths are relative to the file system's root.
 */
export type PopulateOp =
  /** A folder (parents included). */
  | { op: 'mkdir'; path: string }
  /** Folders `d%010u_` + 'x' × (patMin + n % patMax) for n in [begin, end), one after another. */
  | { op: 'dirRange'; dir: string; begin: number; end: number; patMin: number; patMax: number }
  /** For n in [0, count): folder `<prefix>%010u` holding a folder of the same name. */
  | { op: 'doubleDirs'; dir: string; prefix: string; count: number }
  /** Bytes [offset, offset+length) of `file` set to the position pattern (see positionPattern). */
  | { op: 'pattern'; file: string; offset: number; length: number }
  /**
   * fallocate(1) on `file`: allocate (the file grows), punch a hole, insert a range (the data
   * after it moves up) or zero a range; `times` repeats the op and the next one as a pair, which
   * is how many-extent files are made (insert then zero at the start, again and again).
   */
  | {
      op: 'fallocate';
      file: string;
      mode: 'allocate' | 'punch' | 'insert' | 'zero';
      offset: number;
      length: number;
    }
  | { op: 'repeat'; times: number; ops: PopulateOp[] }
  /** Access and/or modification time, as touch -a/-m -t [[CC]YY]MMDDhhmm[.ss] in UTC. */
  | { op: 'touch'; path: string; atime?: string; mtime?: string }
  /** A file with these bytes (UTF-8 text). */
  | { op: 'write'; path: string; text: string }
  /** An extended attribute (setfattr -n name -v value). */
  | { op: 'xattr'; path: string; name: string; value: string };

export class PopulateError extends Error {}

/** Name of folder n of a dirRange. */
export function rangeDirName(n: number, patMin: number, patMax: number): string {
  return `d${String(n >>> 0).padStart(10, '0')}_${'x'.repeat(patMin + (n % patMax))}`;
}

/** Name of folder n of a doubleDirs op. */
export function doubleDirName(prefix: string, n: number): string {
  return `${prefix}${String(n >>> 0).padStart(10, '0')}`;
}

/** Granularity of the pattern writer: each 16-byte piece starts its units afresh. */
const PATTERN_PIECE = 16;

/**
 * The position pattern of bytes [offset, offset+length): written in 16-byte pieces from
 * `offset`; within a piece, a unit at position p holds p itself, little-endian, as one byte
 * below 0x100, two below 0x10000, four below 2^32 and eight above; a unit that runs past the
 * end of its piece is cut there.
 */
export function positionPattern(offset: number, length: number): Buffer {
  const out = Buffer.alloc(length);
  const unit = Buffer.alloc(PATTERN_PIECE + 8);
  for (let pos = offset; pos < offset + length; pos += PATTERN_PIECE) {
    const count = Math.min(PATTERN_PIECE, offset + length - pos);
    let off = 0;
    while (off < count) {
      const p = pos + off;
      if (p < 0x100) unit[off++] = p;
      else if (p < 0x10000) {
        unit.writeUInt16LE(p, off);
        off += 2;
      } else if (p < 0x100000000) {
        unit.writeUInt32LE(p, off);
        off += 4;
      } else {
        unit.writeBigUInt64LE(BigInt(p), off);
        off += 8;
      }
    }
    unit.copy(out, pos - offset, 0, count);
  }
  return out;
}

function tool(name: string, args: string[]): void {
  const r = spawnSync(name, args, { encoding: 'utf8', env: { ...process.env, TZ: 'UTC' } });
  if (r.error) throw new PopulateError(`${name}: ${r.error.message} (is it installed?)`);
  if (r.status !== 0) throw new PopulateError(`${name} ${args.join(' ')} failed: ${r.stderr.trim()}`);
}

function mkdirOne(full: string): void {
  try {
    fs.mkdirSync(full, { mode: 0o755 });
  } catch (e) {
    throw new PopulateError(`cannot make folder ${full}: ${(e as Error).message}`);
  }
}

/** Applies `ops` under `root` (a mounted file system or a host folder), in order. */
export function populate(root: string, ops: PopulateOp[]): void {
  const at = (p: string) => path.join(root, p);
  for (const o of ops) {
    switch (o.op) {
      case 'mkdir':
        fs.mkdirSync(at(o.path), { recursive: true, mode: 0o755 });
        break;
      case 'dirRange':
        for (let n = o.begin; n < o.end; n++)
          mkdirOne(path.join(at(o.dir), rangeDirName(n, o.patMin, o.patMax)));
        break;
      case 'doubleDirs':
        for (let n = 0; n < o.count; n++) {
          const d = path.join(at(o.dir), doubleDirName(o.prefix, n));
          mkdirOne(d);
          mkdirOne(path.join(d, doubleDirName(o.prefix, n)));
        }
        break;
      case 'pattern': {
        const fd = fs.openSync(at(o.file), fs.constants.O_CREAT | fs.constants.O_WRONLY, 0o644);
        try {
          // 1 MiB at a time: the files reach 16 MiB and sit past 4 GiB.
          for (let done = 0; done < o.length; done += 1 << 20) {
            const n = Math.min(1 << 20, o.length - done);
            fs.writeSync(fd, positionPattern(o.offset + done, n), 0, n, o.offset + done);
          }
        } finally {
          fs.closeSync(fd);
        }
        break;
      }
      case 'fallocate': {
        const mode = { allocate: [], punch: ['-p'], insert: ['-i'], zero: ['-z'] }[o.mode];
        tool('fallocate', [...mode, '-o', String(o.offset), '-l', String(o.length), at(o.file)]);
        break;
      }
      case 'repeat':
        for (let i = 0; i < o.times; i++) populate(root, o.ops);
        break;
      case 'touch':
        if (o.atime) tool('touch', ['-a', '-t', o.atime, at(o.path)]);
        if (o.mtime) tool('touch', ['-m', '-t', o.mtime, at(o.path)]);
        break;
      case 'write':
        fs.writeFileSync(at(o.path), o.text, { mode: 0o644 });
        break;
      case 'xattr':
        tool('setfattr', ['-n', o.name, '-v', o.value, at(o.path)]);
        break;
    }
  }
}
