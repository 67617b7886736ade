import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

export const repoRoot = path.resolve(__dirname, '../../../..');
const bin = path.join(repoRoot, 'packages/cli/dist/bin.js');

export interface CliResult {
  status: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs the built `fasmcov` binary (CLI tests exercise what users run). `npm test` builds
 * before jest; when running jest alone, run `npm run build` first.
 */
export function runCli(
  args: string[],
  opts: { cwd?: string; input?: string; env?: NodeJS.ProcessEnv } = {},
): CliResult {
  if (!fs.existsSync(bin)) throw new Error(`${bin} is missing: run \`npm run build\` first`);
  const r = spawnSync(process.execPath, [bin, ...args], {
    cwd: opts.cwd ?? repoRoot,
    input: opts.input,
    env: opts.env ?? process.env,
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
  });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}
