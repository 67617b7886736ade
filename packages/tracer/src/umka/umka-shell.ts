import { createHash } from 'node:crypto';
import * as path from 'node:path';
import {
  ATTR_FOLDER,
  STATUS_END_OF_FILE,
  STATUS_SUCCESS,
  attrLetters,
  exactUnits,
  hexLines,
  lastDir,
  localTimeText,
  parseCNumber,
  statusLine,
  strtoul,
} from './shell-format';
import type { UmkaSession } from './umka-session';
import { VirtualDisk } from './vdisk';

/** Directory entries one ls call asks for (the shell's batch size). */
const MAX_DIRENTS = 100;
/** BDFE record sizes: cp866 names, and UTF-16/UTF-8 names. */
const BDFE_CP866 = 304;
const BDFE_UNICODE = 560;
const BDFE_HEADER = 40;
const FOLDER_HEADER = 32;
const ENCODINGS: Record<string, number> = { default: 0, cp866: 1, utf16: 2, utf8: 3 };
const INVALID_ENCODING = 4;
const UTF8 = 3;
const PATH_MAX = 4096;

export interface UmkaShellOptions {
  /** Relative image paths resolve here (umka_shell runs inside the test's folder). */
  cwd: string;
  /** When set, images are looked up here by base name (generated images live apart from tests). */
  imageDir?: string;
  /** `-r`: stat prints times only when asked (-a/-m/-c). UMKa's tests run reproducible. */
  reproducible?: boolean;
  /** Receives the transcript, a latin1 byte string at a time. */
  out: (text: string) => void;
}

type Command = (argv: string[]) => void;

/** The umka_shell commands fasmcov's shell serves: the file-system part of UMKa's test language. */
export const UMKA_SHELL_COMMANDS = [
  'umka_boot',
  'disk_add',
  'disk_del',
  'ls70',
  'ls80',
  'stat70',
  'stat80',
  'read70',
  'read80',
  'cd',
  'set_cwd',
  'pwd',
] as const;

export type UmkaShellCommand = (typeof UMKA_SHELL_COMMANDS)[number];

/**
 * Commands a script uses that UmkaShell does not serve, each once in order of first use, read
 * the way runLine reads lines (comments, empty lines and what follows `X`/`q` are not commands).
 */
export function unservedCommands(script: string): string[] {
  const served = new Set<string>(UMKA_SHELL_COMMANDS);
  const out = new Set<string>();
  for (const line of script.split('\n')) {
    if (line === 'X' || line === 'q') break;
    if (line === '' || line[0] === '#' || line[0] === '\r') continue;
    const word = line.split(/[ \t\n\r]+/).find((w) => w !== '');
    if (word !== undefined && !served.has(word)) out.add(word);
  }
  return [...out];
}

/**
 * umka_shell's command interpreter over a UmkaSession: echoes each line after its prompt, stops
 * at an empty line, `X` or `q`, skips comments, and runs the file-system commands UMKa's tests
 * use, printing what umka_shell prints. Words and output are latin1 byte strings.
 */
export class UmkaShell {
  private cwdChanged = true;
  private shownDir = '/';
  private readonly commands: Record<UmkaShellCommand, Command>;

  constructor(
    private readonly session: UmkaSession,
    private readonly opts: UmkaShellOptions,
  ) {
    this.commands = {
      umka_boot: (a) => this.umkaBoot(a),
      disk_add: (a) => this.diskAdd(a),
      disk_del: (a) => this.diskDel(a),
      ls70: (a) => this.ls(a, 70),
      ls80: (a) => this.ls(a, 80),
      stat70: (a) => this.stat(a, 70),
      stat80: (a) => this.stat(a, 80),
      read70: (a) => this.read(a, 70),
      read80: (a) => this.read(a, 80),
      cd: (a) => this.cd(a),
      set_cwd: (a) => this.cd(a),
      pwd: (a) => this.pwd(a),
    };
  }

  /** Names of the commands this interpreter serves. */
  get commandNames(): string[] {
    return Object.keys(this.commands);
  }

  /** Runs a whole script (latin1 text); returns false when it stopped before the end. */
  runScript(text: string, onLine?: (line: string) => void): boolean {
    const lines = text.split('\n');
    if (lines[lines.length - 1] === '') lines.pop();
    for (const line of lines) {
      onLine?.(line);
      if (!this.runLine(line)) return false;
    }
    return true;
  }

  /**
   * One input line; false when the shell stops reading (X or q). An empty line is echoed and
   * skipped: umka_shell's line reader hands it over as no line at all, not as an empty one.
   */
  runLine(line: string): boolean {
    this.out(`${this.prompt()}${line}\n`);
    if (line === 'X' || line === 'q') return false;
    if (line === '' || line[0] === '#' || line[0] === '\r') return true;
    const argv = line.split(/[ \t\n\r]+/).filter((w) => w !== '');
    if (!argv.length) return true;
    // Own keys only: a script word like `toString` is an unknown command, not Object's method.
    const name = argv[0];
    if (Object.hasOwn(this.commands, name)) this.commands[name as UmkaShellCommand](argv);
    else this.out(`unknown command: ${argv[0]}\n`);
    return true;
  }

  private out(text: string): void {
    this.opts.out(text);
  }

  private prompt(): string {
    if (this.cwdChanged) {
      if (this.session.booted) this.shownDir = lastDir(this.currentDir());
      this.cwdChanged = false;
    }
    return `${this.shownDir}> `;
  }

  private usage(argv: string[], text: string): void {
    this.out(`usage: ${argv[0]} ${text}\n`);
  }

  /** Guest memory holding `bytes` followed by a NUL (reused between calls). */
  private guestString(text: string): number {
    const bytes = Buffer.from(`${text}\0`, 'latin1');
    const at = this.scratch(bytes.length, 'path');
    this.session.memory.writeBytes(at, bytes);
    return at;
  }

  private readonly areas = new Map<string, { at: number; size: number }>();

  /** A reusable guest area of at least `size` bytes per purpose (grows, never shrinks). */
  private scratch(size: number, purpose: string): number {
    const a = this.areas.get(purpose);
    if (a && a.size >= size) return a.at;
    const grown = Math.max(size, 2 * (a?.size ?? 2048));
    const at = this.session.umka.alloc(grown);
    this.areas.set(purpose, { at, size: grown });
    return at;
  }

  private currentDir(): string {
    const at = this.scratch(PATH_MAX, 'cwd');
    this.session.getCwd(at, PATH_MAX);
    return this.session.cString(at, PATH_MAX);
  }

  private umkaBoot(argv: string[]): void {
    if (argv.length !== 1) return this.usage(argv, '');
    this.session.boot();
  }

  private diskAdd(argv: string[]): void {
    if (argv.length < 3) return this.usage(argv, '<file> <name> [-c <cache size>]');
    const [, file, name] = argv;
    const opts = parseOptions(argv.slice(3), 'c');
    if (!opts) return this.usage(argv, '<file> <name> [-c <cache size>]');
    const cache = opts.get('c');
    let disk: VirtualDisk | undefined;
    try {
      disk = new VirtualDisk(this.imagePath(file), cache === undefined ? undefined : strtoul(cache), file);
    } catch {
      disk = undefined;
    }
    const handle = disk ? this.session.addDisk(name, disk) : 0;
    if (!handle) {
      this.out(`umka: can't add file '${file}' as disk '${name}'\n`);
      return;
    }
    this.listPartitions(handle);
  }

  private imagePath(file: string): string {
    const dir = this.opts.imageDir;
    return dir === undefined ? path.resolve(this.opts.cwd, file) : path.join(dir, path.basename(file));
  }

  private listPartitions(handle: number): void {
    const d = this.session.diskInfo(handle);
    const size = BigInt(d.sectorSize);
    this.out(
      `/${d.name}: sector_size=${d.sectorSize}, capacity=${d.capacity} (${exactUnits(size * d.capacity)}), ` +
        `num_partitions=${d.partitions.length}\n`,
    );
    d.partitions.forEach((p, i) => {
      this.out(
        `/${d.name}/${i + 1}: fs=${p.fs}, start=${p.firstSector} (${exactUnits(size * p.firstSector)}), ` +
          `length=${p.length} (${exactUnits(size * p.length)})\n`,
      );
    });
  }

  private diskDel(argv: string[]): void {
    if (argv.length !== 2) return this.usage(argv, '<name>');
    const handle = this.session.findDisk(argv[1]);
    if (handle === undefined) this.out(`umka: can't find disk '${argv[1]}'\n`);
    else this.session.removeDisk(handle);
  }

  private cd(argv: string[]): void {
    if (argv.length !== 2) return this.usage(argv, '<path>');
    this.session.setCwd(this.guestString(argv[1]));
    this.cwdChanged = true;
  }

  private pwd(argv: string[]): void {
    if (argv.length !== 1) return this.usage(argv, '');
    this.out(`${this.currentDir()}\n`);
  }

  /**
   * Writes a file-call block (sysfunction 70 or 80 layout: subfunction, three dwords, buffer,
   * then a zero byte + path pointer for 70, or path encoding + path pointer for 80).
   */
  private fileBlock(
    fn: 70 | 80,
    words: [number, number, number, number],
    buffer: number,
    pathText: string,
    pathEncoding = UTF8,
  ): number {
    const mem = this.session.memory;
    const pathAt = this.guestString(pathText);
    const at = this.scratch(32, 'block');
    words.forEach((w, i) => mem.write32(at + 4 * i, w));
    mem.write32(at + 16, buffer);
    if (fn === 70) {
      mem.write8(at + 20, 0);
      mem.write32(at + 21, pathAt);
    } else {
      mem.write32(at + 20, pathEncoding);
      mem.write32(at + 24, pathAt);
    }
    return at;
  }

  private ls(argv: string[], fn: 70 | 80): void {
    const usage = '[dir] [-f <first>] [-c <count>] [-e cp866|utf16|utf8]';
    let rest = argv.slice(1);
    let dir = '.';
    if (rest.length && rest[0][0] !== '-') [dir, ...rest] = rest;
    const opts = parseOptions(rest, fn === 70 ? 'fce' : 'fcep');
    if (!opts) return this.usage(argv, usage);
    const from = opts.has('f') ? strtoul(opts.get('f')!) : 0;
    const count = opts.has('c') ? strtoul(opts.get('c')!) : MAX_DIRENTS;
    const encoding = opts.has('e') ? encodingOf(opts.get('e')!) : UTF8;
    const pathEncoding = opts.has('p') ? encodingOf(opts.get('p')!) : UTF8;
    const buffer = this.scratch(FOLDER_HEADER + BDFE_UNICODE * MAX_DIRENTS, 'dir');
    const listing = { fn, dir, pathEncoding, encoding, buffer, offset: from };
    if (count !== MAX_DIRENTS) this.lsRange(listing, count);
    else this.lsAll(listing);
  }

  private lsCall(l: Listing, size: number): { status: number; count: number; cnt: number; total: number } {
    const block = this.fileBlock(l.fn, [1, l.offset, l.encoding, size], l.buffer, l.dir, l.pathEncoding);
    const r = this.session.lfn(l.fn, block);
    const mem = this.session.memory;
    return { ...r, cnt: mem.read32(l.buffer + 4) >>> 0, total: mem.read32(l.buffer + 8) | 0 };
  }

  /** A batch is printed only when the kernel's answer is consistent (the shell's check). */
  private batchOk(r: { status: number; count: number; cnt: number }, size: number): boolean {
    return (
      r.count <= size &&
      r.cnt === r.count &&
      ((r.status === STATUS_SUCCESS && r.count === size) ||
        (r.status === STATUS_END_OF_FILE && r.count < size))
    );
  }

  private printEntries(l: Listing, n: number): void {
    const stride = l.encoding === 1 ? BDFE_CP866 : BDFE_UNICODE;
    const mem = this.session.memory;
    for (let i = 0; i < n; i++) {
      const at = l.buffer + FOLDER_HEADER + i * stride;
      this.out(`${attrLetters(mem.read32(at))} ${this.session.cString(at + BDFE_HEADER, 0x10000)}\n`);
    }
  }

  private lsAll(l: Listing): void {
    for (;;) {
      const r = this.lsCall(l, MAX_DIRENTS);
      this.out(statusLine(r.status, r.count));
      l.offset += r.cnt;
      if (!this.batchOk(r, MAX_DIRENTS)) return;
      this.out(`total = ${r.total}\n`);
      this.printEntries(l, r.cnt);
      if (r.status === STATUS_END_OF_FILE) return;
    }
  }

  private lsRange(l: Listing, requested: number): void {
    let size = Math.min(requested, MAX_DIRENTS);
    for (let left = requested; left; left -= size) {
      size = Math.min(size, left);
      const r = this.lsCall(l, size);
      l.offset += size;
      this.out(statusLine(r.status, r.count));
      if (!this.batchOk(r, size)) return;
      this.printEntries(l, r.cnt);
      if (r.status === STATUS_END_OF_FILE) return;
    }
  }

  private stat(argv: string[], fn: 70 | 80): void {
    if (argv.length < 2) return this.usage(argv, '<file> [-c] [-m] [-a]');
    const bdfe = this.scratch(BDFE_HEADER + BDFE_UNICODE, 'bdfe');
    const block = this.fileBlock(fn, [5, 0, 0, 0], bdfe, argv[1]);
    const r = this.session.lfn(fn, block);
    this.out(statusLine(r.status));
    if (r.status !== STATUS_SUCCESS) return;
    const mem = this.session.memory;
    const attr = mem.read32(bdfe);
    this.out(`attr: ${attrLetters(attr)}\n`);
    if (!(attr & ATTR_FOLDER)) this.out(`size: ${this.session.read64(bdfe + 32)}\n`);
    const opts = parseOptions(argv.slice(2), 'cma');
    if (!opts) return this.usage(argv, '<file> [-c] [-m] [-a]');
    const all = !(this.opts.reproducible ?? true);
    // BDFE times: ctime at 8, atime at 16, mtime at 24 (each a time dword and a date dword).
    if (all || opts.has('a')) this.out(`atime: ${localTimeText(this.session.timeToEpoch(bdfe + 16))}\n`);
    if (all || opts.has('m')) this.out(`mtime: ${localTimeText(this.session.timeToEpoch(bdfe + 24))}\n`);
    if (all || opts.has('c')) this.out(`ctime: ${localTimeText(this.session.timeToEpoch(bdfe + 8))}\n`);
  }

  private read(argv: string[], fn: 70 | 80): void {
    if (argv.length < 3) return this.usage(argv, '<file> <offset> <length> [-b] [-h]');
    const file = argv[1];
    const offset = this.number(argv[2], 64);
    if (offset === undefined || argv.length < 4) return;
    const length = this.number(argv[3], 32);
    if (length === undefined) return;
    let bytes = false;
    let hash = false;
    for (const word of argv.slice(4)) {
      if (word === '-b') bytes = true;
      else if (word === '-h') hash = true;
      else if (word === '-e') {
        if (fn === 70) return this.out("f70 doesn't accept encoding parameter, use f80\n");
      } else return this.out(`invalid option: '${word}'\n`);
    }
    const n = Number(length);
    const buffer = this.scratch(n, 'data');
    const block = this.fileBlock(
      fn,
      [0, Number(offset & 0xffffffffn), Number(offset >> 32n), n],
      buffer,
      file,
    );
    const r = this.session.lfn(fn, block);
    this.out(statusLine(r.status, r.count));
    if (r.status !== STATUS_SUCCESS && r.status !== STATUS_END_OF_FILE) return;
    const data = this.session.memory.readBytes(buffer, r.count);
    if (bytes) this.out(hexLines(data));
    if (hash) this.out(`${createHash('sha3-256').update(data).digest('hex')}\n`);
  }

  private number(word: string, bits: 32 | 64): bigint | undefined {
    const v = parseCNumber(word);
    if (v === undefined || v >= 1n << BigInt(bits)) {
      this.out(`invalid number: ${word}\n`);
      return undefined;
    }
    return v;
  }
}

interface Listing {
  fn: 70 | 80;
  dir: string;
  pathEncoding: number;
  encoding: number;
  buffer: number;
  offset: number;
}

function encodingOf(name: string): number {
  return ENCODINGS[name] ?? INVALID_ENCODING;
}

/**
 * getopt-style options: `letters` take a value (`-cVALUE` or `-c VALUE`), except for stat's flag
 * letters `cma`, which take none. Undefined on an unknown option or a missing value.
 */
function parseOptions(words: string[], letters: string): Map<string, string> | undefined {
  const flagsOnly = letters === 'cma';
  const out = new Map<string, string>();
  for (let i = 0; i < words.length; i++) {
    const w = words[i];
    if (w === '--') break;
    if (w[0] !== '-' || w.length < 2) break;
    for (let j = 1; j < w.length; j++) {
      const letter = w[j];
      if (!letters.includes(letter)) return undefined;
      if (flagsOnly) {
        out.set(letter, '');
        continue;
      }
      const value = j + 1 < w.length ? w.slice(j + 1) : words[++i];
      if (value === undefined) return undefined;
      out.set(letter, value);
      break;
    }
  }
  return out;
}
