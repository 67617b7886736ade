import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { type FileFn, type ScriptCommand, type ScriptLine, ScriptError } from './commands';
import {
  ATTR_FOLDER,
  attrText,
  bdfeTimeText,
  decodeCp866,
  decodeUtf16z,
  decodeUtf8z,
  encodeCp866,
  hexBytes,
  sectorsText,
  statusText,
} from './format';
import { HostDisk } from './host-disk';
import type { KernelSession } from './kernel-session';

/** BDFE layout (the kernel's const.inc). */
const BDFE_HEADER = 40;
const FOLDER_HEADER = 32;
const ENC_CP866 = 1;
const ENC_UTF8 = 3;

export interface ScriptContext {
  /** The script's file name, for messages. */
  script: string;
  /** Relative image names resolve here. */
  imageDir: string;
  /** Relative host files of write/create resolve here. */
  fileDir: string;
}

/**
 * Runs parsed script lines against a kernel session, handing each transcript line to `emit`.
 * Script-level problems (a missing image or host file, a path cp866 cannot encode) throw a
 * ScriptError naming the line; kernel statuses are results and go into the transcript.
 */
export class ScriptRunner {
  private readonly disks = new Map<string, number>();

  constructor(
    private readonly session: KernelSession,
    private readonly ctx: ScriptContext,
    private readonly emit: (line: string) => void,
  ) {}

  runAll(lines: ScriptLine[]): void {
    for (const l of lines) this.runLine(l);
  }

  runLine(l: ScriptLine): void {
    if (l.command.kind === 'blank') {
      this.emit('');
      return;
    }
    this.emit(`/> ${l.text.trim()}`);
    const fail = (what: string): never => {
      throw new ScriptError(this.ctx.script, l.line, what);
    };
    this.run(l.command, fail);
  }

  private run(c: ScriptCommand, fail: (what: string) => never): void {
    switch (c.kind) {
      case 'comment':
      case 'blank':
        return;
      case 'disk_add':
        return this.diskAdd(c.image, c.name, c.cacheBytes, fail);
      case 'disk_del': {
        const handle = this.disks.get(c.name);
        if (handle === undefined) fail(`disk_del: no disk named '${c.name}'`);
        this.session.removeDisk(handle as number);
        this.disks.delete(c.name);
        return;
      }
      case 'stat':
        return this.stat(c.fn, this.pathBytes(c.fn, c.path, fail));
      case 'read':
        return this.read(c.fn, this.pathBytes(c.fn, c.path, fail), c.offset, c.length, c.dump);
      case 'ls':
        return this.list(c.fn, this.pathBytes(c.fn, c.path, fail), c.from, c.count);
      case 'write':
      case 'create': {
        const data = this.hostFile(c.file, fail);
        const offset = c.kind === 'write' ? c.offset : 0n;
        const r = this.session.fileCall(c.fn, this.pathBytes(c.fn, c.path, fail), {
          subfunction: c.kind === 'write' ? 3 : 2,
          param1: Number(offset & 0xffffffffn),
          param2: Number(offset >> 32n),
          count: data.length,
          bufferSize: Math.max(data.length, 1),
          input: data,
        });
        this.emit(`${statusText(r.status)}, count = ${r.count}`);
        return;
      }
      case 'setsize': {
        const r = this.simple(c.fn, c.path, 4, fail, c.size);
        this.emit(statusText(r));
        return;
      }
      case 'rm':
        this.emit(statusText(this.simple(c.fn, c.path, 8, fail)));
        return;
      case 'mkdir':
        this.emit(statusText(this.simple(c.fn, c.path, 9, fail)));
        return;
      case 'cd': {
        const status = this.session.setCwd(c.path);
        if (status !== 0) this.emit(statusText(status));
        return;
      }
      case 'pwd':
        this.emit(this.session.getCwd());
        return;
    }
  }

  private diskAdd(
    image: string,
    name: string,
    cacheBytes: number | undefined,
    fail: (w: string) => never,
  ): void {
    if (this.disks.has(name)) fail(`disk_add: a disk named '${name}' exists already`);
    const file = path.resolve(this.ctx.imageDir, image);
    let disk: HostDisk;
    try {
      disk = new HostDisk(file);
    } catch (e) {
      fail(
        `disk_add: cannot open image ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
      );
    }
    const handle = this.session.addDisk(name, disk!, cacheBytes);
    if (handle === 0) {
      this.emit(`/${name}: the kernel refused the disk`);
      return;
    }
    this.disks.set(name, handle);
    const d = this.session.query(handle, 0);
    if (!d) return;
    this.emit(
      `/${name}: sector_size=${d.sectorSize}, capacity=${sectorsText(d.capacity)}, num_partitions=${d.partitions}`,
    );
    for (let i = 1; i <= d.partitions; i++) {
      const p = this.session.query(handle, i);
      if (!p) continue;
      this.emit(
        `/${name}/${i}: fs=${p.fs || 'unknown'}, start=${sectorsText(p.firstSector)}, length=${sectorsText(p.capacity)}`,
      );
    }
  }

  private pathBytes(fn: FileFn, p: string, fail: (w: string) => never): Uint8Array {
    if (fn === 80) return Buffer.from(p, 'utf8');
    const bytes = encodeCp866(p);
    if (!bytes) fail(`path '${p}' has characters cp866 cannot encode (use the 80 form)`);
    return bytes as Uint8Array;
  }

  private hostFile(file: string, fail: (w: string) => never): Uint8Array {
    const full = path.resolve(this.ctx.fileDir, file);
    try {
      return fs.readFileSync(full);
    } catch (e) {
      fail(`cannot read host file ${full}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
  }

  private simple(fn: FileFn, p: string, subfunction: number, fail: (w: string) => never, value = 0n): number {
    return this.session.fileCall(fn, this.pathBytes(fn, p, fail), {
      subfunction,
      param1: Number(value & 0xffffffffn),
      param2: Number(value >> 32n),
      count: 0,
      bufferSize: 0,
    }).status;
  }

  private stat(fn: FileFn, p: Uint8Array): void {
    const r = this.session.fileCall(fn, p, {
      subfunction: 5,
      param1: 0,
      param2: 0,
      count: 0,
      bufferSize: 560,
    });
    this.emit(statusText(r.status));
    if (r.status !== 0) return;
    const b = Buffer.from(this.session.read(r.buffer, BDFE_HEADER));
    const attributes = b.readUInt32LE(0);
    this.emit(`attr: ${attrText(attributes)}`);
    if (!(attributes & ATTR_FOLDER)) this.emit(`size: ${b.readBigUInt64LE(32)}`);
    this.emit(`ctime: ${bdfeTimeText(b.readUInt32LE(8), b.readUInt32LE(12))}`);
    this.emit(`atime: ${bdfeTimeText(b.readUInt32LE(16), b.readUInt32LE(20))}`);
    this.emit(`mtime: ${bdfeTimeText(b.readUInt32LE(24), b.readUInt32LE(28))}`);
  }

  private read(fn: FileFn, p: Uint8Array, offset: bigint, length: number, dump?: 'bytes' | 'hash'): void {
    const r = this.session.fileCall(fn, p, {
      subfunction: 0,
      param1: Number(offset & 0xffffffffn),
      param2: Number(offset >> 32n),
      count: length,
      bufferSize: Math.max(length, 1),
    });
    this.emit(`${statusText(r.status)}, count = ${r.count}`);
    // A count above the request would be a kernel bug; show only what was asked for.
    const data = this.session.read(r.buffer, Math.min(r.count, length));
    if (dump === 'bytes') this.emit(hexBytes(data));
    if (dump === 'hash') this.emit(createHash('sha256').update(data).digest('hex'));
  }

  private list(fn: FileFn, p: Uint8Array, from: number, count: number): void {
    const encoding = fn === 70 ? ENC_CP866 : ENC_UTF8;
    const entrySize = encoding === ENC_CP866 ? 304 : 560;
    const r = this.session.fileCall(fn, p, {
      subfunction: 1,
      param1: from,
      param2: encoding,
      count,
      bufferSize: FOLDER_HEADER + count * entrySize,
    });
    this.emit(`${statusText(r.status)}, count = ${r.count}`);
    if (r.status !== 0 && r.status !== 6) return;
    const header = Buffer.from(this.session.read(r.buffer, FOLDER_HEADER));
    this.emit(`total = ${header.readUInt32LE(8)}`);
    const n = Math.min(header.readUInt32LE(4), count);
    for (let i = 0; i < n; i++) {
      const at = r.buffer + FOLDER_HEADER + i * entrySize;
      const e = this.session.read(at, entrySize);
      const attributes = Buffer.from(e).readUInt32LE(0);
      const name = e.subarray(BDFE_HEADER);
      const text =
        e[4] === ENC_CP866 ? decodeCp866(name) : e[4] === 2 ? decodeUtf16z(name) : decodeUtf8z(name);
      this.emit(`${attrText(attributes)} ${text}`);
    }
  }
}
