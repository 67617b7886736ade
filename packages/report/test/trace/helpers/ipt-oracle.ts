// Builds the libipt oracle (test/oracle/ipt-oracle.c) with gcc into a temporary directory and runs it.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

let built: string | undefined;
let reason: string | undefined;

/** Path of the oracle binary, or undefined (with `oracleMissing()` saying why) when it cannot be built. */
export function buildOracle(): string | undefined {
  if (built || reason) return built;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ipt-oracle-'));
  const out = path.join(dir, 'ipt-oracle');
  const src = path.join(__dirname, '..', '..', 'oracle', 'ipt-oracle.c');
  const r = spawnSync('gcc', ['-O1', '-o', out, src, '-lipt'], { encoding: 'utf8' });
  if (r.error || r.status !== 0) {
    reason = `cannot build the libipt oracle (needs gcc and Debian's libipt-dev): ${r.error?.message ?? r.stderr}`;
    return undefined;
  }
  return (built = out);
}

export function oracleMissing(): string | undefined {
  return reason;
}

export function runOracle(args: string[]): string {
  const bin = buildOracle();
  if (!bin) throw new Error(oracleMissing());
  const r = spawnSync(bin, args, { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  if (r.error || r.status !== 0) throw new Error(`ipt-oracle failed: ${r.error?.message ?? r.stderr}`);
  return r.stdout;
}

export interface OracleFlow {
  instructions: number;
  perIp: Map<number, number>;
  edges: Map<string, number>;
  errors: string[];
}

export function oracleFlow(trace: string, sections: string[]): OracleFlow {
  const res: OracleFlow = { instructions: -1, perIp: new Map(), edges: new Map(), errors: [] };
  for (const line of runOracle(['insn', trace, ...sections]).split('\n')) {
    const f = line.split(' ');
    if (f[0] === 'I') res.perIp.set(parseInt(f[1], 16), Number(f[2]));
    else if (f[0] === 'E') res.edges.set(`${parseInt(f[1], 16)}>${parseInt(f[2], 16)}`, Number(f[3]));
    else if (f[0] === 'X') res.errors.push(line);
    else if (f[0] === 'N') res.instructions = Number(f[1]);
  }
  return res;
}
