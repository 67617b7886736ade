import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { assemble } from '@fasmcov/fas';

export const fixtureDir = path.resolve(__dirname, '../../../../fixtures/fas');
export const envDir = path.join(fixtureDir, 'envdir');

export interface Built {
  output: string;
  fas: string;
}

let outDir: string | undefined;
const built = new Map<string, Built>();

/** Assembles `fixtures/fas/<name>.asm` once per test file, with fasm running in the fixture dir. */
export function build(name: string): Built {
  const hit = built.get(name);
  if (hit) return hit;
  outDir ??= fs.mkdtempSync(path.join(os.tmpdir(), 'fasmcov-fas-'));
  const b = { output: path.join(outDir, `${name}.out`), fas: path.join(outDir, `${name}.fas`) };
  assemble(`${name}.asm`, { output: b.output, symbols: b.fas, includeDirs: [envDir], cwd: fixtureDir });
  built.set(name, b);
  return b;
}

export function cleanup(): void {
  if (outDir) fs.rmSync(outDir, { recursive: true, force: true });
}

/** Line `n` (1-based) of a source file, read from disk: the independent view of the text. */
export function sourceLine(file: string, n: number): string {
  return fs.readFileSync(file, 'latin1').split(/\r?\n/)[n - 1] ?? '';
}

export interface Insn {
  address: number;
  length: number;
  mnemonic: string;
  text: string;
}

/** Instructions as objdump decodes them (intel syntax), by address. */
export function objdump(args: string[]): Map<number, Insn> {
  const r = spawnSync('objdump', ['-M', 'intel', ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`objdump failed: ${r.stderr}`);
  const out = new Map<number, Insn>();
  let last: Insn | undefined;
  for (const line of r.stdout.split('\n')) {
    const m = /^\s*([0-9a-f]+):\t((?:[0-9a-f]{2} )+)\s*(?:\t(.*))?$/.exec(line);
    if (!m) continue;
    const n = m[2].trim().split(' ').length;
    if (m[3] === undefined) {
      // objdump wraps long encodings: a line of bytes only continues the previous instruction.
      if (last) last.length += n;
      continue;
    }
    last = {
      address: parseInt(m[1], 16),
      length: n,
      mnemonic: m[3].trim().split(/\s+/)[0],
      text: m[3].trim(),
    };
    out.set(last.address, last);
  }
  return out;
}

const ALIASES: Record<string, string> = { jnz: 'jne', jz: 'je', int3: 'int3' };

/** The mnemonic of a source line, or undefined for labels-only, data and directives. */
export function sourceMnemonic(text: string): string | undefined {
  const t = text
    .replace(/;.*/, '')
    .replace(/^\s*[\w.@?]+:/, '')
    .trim();
  const m = /^([a-z][a-z0-9]*)\b/i.exec(t);
  if (!m) return undefined;
  const w = m[1].toLowerCase();
  const insns = [
    'xor',
    'mov',
    'jmp',
    'push',
    'pop',
    'nop',
    'dec',
    'inc',
    'jnz',
    'jb',
    'cmp',
    'add',
    'ret',
    'call',
    'int',
    'int3',
  ];
  return insns.includes(w) ? (ALIASES[w] ?? w) : undefined;
}
