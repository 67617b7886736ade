import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { assemble } from '@fasmcov/fas';
import type { LinuxStdio } from '@fasmcov/tracer';

export const fixturesDir = path.resolve(__dirname, '../../../../fixtures/exec');
const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'fasmcov-exec-'));
afterAll(() => fs.rmSync(outDir, { recursive: true, force: true }));

/** Assembles fixtures/exec/<name>.asm with real fasm (optionally with -d defines); returns the path. */
export function buildFixture(name: string, defines: Array<[string, string]> = []): string {
  const tag = defines.map(([k, v]) => `${k}${v}`).join('-');
  const out = path.join(outDir, `${name}${tag ? `-${tag}` : ''}`);
  if (!fs.existsSync(out)) {
    assemble(path.join(fixturesDir, `${name}.asm`), { output: out, defines });
    fs.chmodSync(out, 0o755);
  }
  return out;
}

let qemuChecked: boolean | undefined;
/** Whether qemu-i386 can run 32-bit programs here (the oracle); prints why not once. */
export function haveQemu(): boolean {
  if (qemuChecked === undefined) {
    const r = spawnSync('qemu-i386', ['--version'], { encoding: 'utf8' });
    qemuChecked = !r.error && r.status === 0;
    if (!qemuChecked) process.stdout.write('qemu-i386 is not installed: oracle comparisons skipped\n');
  }
  return qemuChecked;
}

export interface NativeRun {
  status: number | null;
  signal: string | null;
  stdout: Buffer;
  stderr: Buffer;
}

/** Runs the executable under qemu-i386 (argv[0] = its path, environment exactly `env`). */
export function runQemu(
  exe: string,
  args: string[],
  opts: { input?: Buffer; env?: string[]; cwd?: string } = {},
) {
  const env = Object.fromEntries((opts.env ?? []).map((kv) => kv.split(/=(.*)/s).slice(0, 2)));
  const r = spawnSync('qemu-i386', [exe, ...args], { input: opts.input, env, cwd: opts.cwd });
  return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr } as NativeRun;
}

/** Captures guest stdout/stderr and feeds stdin from a buffer. */
export class CapturedStdio implements LinuxStdio {
  private readonly out: Buffer[] = [];
  private readonly err: Buffer[] = [];
  private pos = 0;
  constructor(private readonly input: Buffer = Buffer.alloc(0)) {}
  readStdin(buf: Uint8Array): number {
    const n = Math.min(buf.length, this.input.length - this.pos);
    buf.set(this.input.subarray(this.pos, this.pos + n));
    this.pos += n;
    return n;
  }
  write(fd: 1 | 2, bytes: Uint8Array): void {
    (fd === 1 ? this.out : this.err).push(Buffer.from(bytes));
  }
  get stdout(): Buffer {
    return Buffer.concat(this.out);
  }
  get stderr(): Buffer {
    return Buffer.concat(this.err);
  }
}
