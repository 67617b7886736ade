import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/** A disk tool (mkfs.fat, mcopy, sfdisk, debugfs...) failed: which one, how, and what it said. */
export class ImageToolError extends Error {
  constructor(
    readonly tool: string,
    readonly args: string[],
    readonly stderr: string,
    message: string,
  ) {
    super(message);
    this.name = 'ImageToolError';
  }
}

export interface ToolResult {
  stdout: Buffer;
  stderr: string;
  status: number;
}

let mtoolsrc: string | undefined;

/** mtools reads its settings from a file only: one of our own, so a user's ~/.mtoolsrc changes nothing. */
function mtoolsConfig(): string {
  if (mtoolsrc && fs.existsSync(mtoolsrc)) return mtoolsrc;
  mtoolsrc = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'fasmcov-mtools-')), 'mtoolsrc');
  // cp866 is what KolibriOS uses for short names, so Cyrillic 8.3 names come out as it reads them.
  fs.writeFileSync(mtoolsrc, 'mtools_skip_check=1\ndefault_codepage=866\n');
  return mtoolsrc;
}

/** Fixed environment: UTC, UTF-8 names, fixed "now" for e2fsprogs and anything honouring SOURCE_DATE_EPOCH. */
export function toolEnv(time = 0): NodeJS.ProcessEnv {
  return {
    PATH: `${process.env.PATH ?? ''}:/usr/sbin:/sbin`,
    TZ: 'UTC',
    LC_ALL: 'C.UTF-8',
    LANG: 'C.UTF-8',
    MTOOLSRC: mtoolsConfig(),
    MTOOLS_SKIP_CHECK: '1',
    E2FSPROGS_FAKE_TIME: String(time),
    SOURCE_DATE_EPOCH: String(time),
    TMPDIR: os.tmpdir(),
  };
}

export interface RunOptions {
  input?: string | Buffer;
  time?: number;
  /** Exit statuses that are not failures (fsck's "errors found" is an answer, not a failure). */
  okStatus?: number[];
  cwd?: string;
}

/** Runs a tool; throws ImageToolError (naming the tool and quoting its stderr) when it fails. */
export function runTool(tool: string, args: string[], options: RunOptions = {}): ToolResult {
  const r = spawnSync(tool, args, {
    env: toolEnv(options.time),
    input: options.input,
    cwd: options.cwd,
    maxBuffer: 1 << 30,
  });
  const stderr = r.stderr ? r.stderr.toString('utf8') : '';
  if (r.error) {
    const missing = (r.error as NodeJS.ErrnoException).code === 'ENOENT';
    throw new ImageToolError(
      tool,
      args,
      stderr,
      missing
        ? `${tool} is not installed (scripts/debian-packages.txt lists it)`
        : `${tool}: ${r.error.message}`,
    );
  }
  const status = r.status ?? -1;
  if (!(options.okStatus ?? [0]).includes(status)) {
    const said = stderr.trim() || r.stdout.toString('utf8').trim();
    throw new ImageToolError(
      tool,
      args,
      stderr,
      `${tool} ${args.join(' ')} failed (exit ${status}): ${said}`,
    );
  }
  return { stdout: r.stdout, stderr, status };
}

/** Whether every tool the image builder needs is on this machine. */
export function missingImageTools(): string[] {
  const tools = [
    'mkfs.fat',
    'fsck.fat',
    'mcopy',
    'mdir',
    'mshowfat',
    'mke2fs',
    'debugfs',
    'e2fsck',
    'sfdisk',
    'sgdisk',
  ];
  return tools.filter((t) => spawnSync('sh', ['-c', `command -v ${t}`], { env: toolEnv() }).status !== 0);
}
