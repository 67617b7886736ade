import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

/** How fasm is started on this machine: the command and the arguments that precede fasm's own. */
export interface FasmCommand {
  command: string;
  prefix: string[];
}

/** One place in fasm's error report: `file [line]`, outermost (the line fasm was reading) first. */
export interface FasmErrorSite {
  file: string;
  line: number;
  /** Name of the macro whose definition holds this line, for the inner sites of a macro chain. */
  macro?: string;
}

/** fasm rejected a source: the message and the chain of places it names, as fasm printed them. */
export class FasmError extends Error {
  constructor(
    message: string,
    readonly sites: FasmErrorSite[],
    readonly output: string,
  ) {
    super(message);
    this.name = 'FasmError';
  }
}

export interface AssembleOptions {
  /** Output file (fasm's second argument). */
  output: string;
  /** Write the symbolic information (`-s`) here. */
  symbols?: string;
  /** Directories for fasm's INCLUDE environment variable. */
  includeDirs?: string[];
  /** `-d NAME=VALUE` definitions, in order. */
  defines?: Array<[string, string]>;
  /** Memory limit for fasm in KiB (`-m`). */
  memoryKiB?: number;
  /** Maximum passes (`-p`). */
  passes?: number;
  /** Working directory; defaults to the source's directory's parent process cwd. */
  cwd?: string;
}

export interface AssembleResult {
  passes: number;
  bytes: number;
  stdout: string;
}

let cached: FasmCommand | undefined;

function runsFasm(cmd: FasmCommand): boolean {
  const r = spawnSync(cmd.command, cmd.prefix, { encoding: 'utf8' });
  return !r.error && /flat assembler/.test(`${r.stdout}${r.stderr}`);
}

function which(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const p = path.join(dir, name);
    if (dir && fs.existsSync(p)) return p;
  }
  return undefined;
}

/**
 * Finds a working fasm: `$FASM` if set, else `fasm` on PATH, else (on kernels without IA-32
 * emulation, where Debian's 32-bit fasm cannot start) `qemu-i386 <path of fasm>`.
 */
export function findFasm(): FasmCommand {
  if (cached) return cached;
  const candidates: FasmCommand[] = [];
  if (process.env.FASM) candidates.push({ command: process.env.FASM, prefix: [] });
  const onPath = which('fasm');
  if (onPath) candidates.push({ command: onPath, prefix: [] });
  const qemu = which('qemu-i386');
  if (onPath && qemu) candidates.push({ command: qemu, prefix: [onPath] });
  for (const c of candidates) {
    if (runsFasm(c)) return (cached = c);
  }
  throw new FasmError('fasm not found or cannot run here (run `npm run setup`)', [], '');
}

/** Parses fasm's error report (stderr) into its message and sites. */
export function parseFasmError(stderr: string): { message: string; sites: FasmErrorSite[] } {
  const sites: FasmErrorSite[] = [];
  let message = 'fasm failed';
  for (const line of stderr.split('\n')) {
    const m = /^(.+?) \[(\d+)\](?: (\S+) \[\d+\])?:$/.exec(line.trimEnd());
    if (m) {
      sites.push({ file: m[1], line: Number(m[2]) });
      // A site like `e.asm [1] m [0]:` says the line is in the definition of macro `m`.
      if (m[3] !== undefined) sites[sites.length - 1].macro = m[3];
      continue;
    }
    const e = /^error: (.*)$/.exec(line.trim());
    if (e) message = e[1];
  }
  return { message, sites };
}

/** Assembles `source` with fasm. Throws `FasmError` (message and sites) when fasm rejects it. */
export function assemble(source: string, opts: AssembleOptions): AssembleResult {
  const fasm = findFasm();
  const args = [...fasm.prefix, source, opts.output];
  if (opts.memoryKiB) args.push('-m', String(opts.memoryKiB));
  if (opts.passes) args.push('-p', String(opts.passes));
  for (const [k, v] of opts.defines ?? []) args.push('-d', `${k}=${v}`);
  if (opts.symbols) args.push('-s', opts.symbols);
  const env = { ...process.env };
  if (opts.includeDirs?.length) env.INCLUDE = opts.includeDirs.join(';');
  const r = spawnSync(fasm.command, args, {
    cwd: opts.cwd,
    env,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.error) throw new FasmError(`cannot start fasm: ${r.error.message}`, [], '');
  const output = `${r.stdout}${r.stderr}`;
  if (r.status !== 0) {
    const { message, sites } = parseFasmError(r.stderr);
    const where = sites.length ? `${sites[0].file}:${sites[0].line}: ` : `${source}: `;
    throw new FasmError(`${where}${message}`, sites, output);
  }
  const m = /(\d+) passes?, (?:[\d.]+ seconds?, )?(\d+) bytes/.exec(r.stdout);
  return { passes: m ? Number(m[1]) : 0, bytes: m ? Number(m[2]) : 0, stdout: r.stdout };
}
