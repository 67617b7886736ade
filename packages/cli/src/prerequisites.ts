import { spawnSync } from 'node:child_process';
import { findFasm } from '@fasmcov/fas';
import { CliError } from './errors';

/** A program a command runs, and the Debian package that installs it. */
export interface Tool {
  command: string;
  debianPackage: string;
}

/** What building the fixtures' disk images runs (packages/tracer/src/images). */
export const IMAGE_TOOLS: Tool[] = [
  { command: 'mkfs.fat', debianPackage: 'dosfstools' },
  { command: 'fsck.fat', debianPackage: 'dosfstools' },
  { command: 'mcopy', debianPackage: 'mtools' },
  { command: 'mmd', debianPackage: 'mtools' },
  { command: 'mattrib', debianPackage: 'mtools' },
  { command: 'mdir', debianPackage: 'mtools' },
  { command: 'mshowfat', debianPackage: 'mtools' },
  { command: 'mke2fs', debianPackage: 'e2fsprogs' },
  { command: 'debugfs', debianPackage: 'e2fsprogs' },
  { command: 'e2fsck', debianPackage: 'e2fsprogs' },
  { command: 'sfdisk', debianPackage: 'fdisk' },
  { command: 'sgdisk', debianPackage: 'gdisk' },
];

const onPath = (command: string) => spawnSync('sh', ['-c', `command -v '${command}'`]).status === 0;

const install = (pkg: string) =>
  `install the Debian package ${pkg} (apt-get install ${pkg}, or npm run setup)`;

/**
 * fasm must start: natively, or through qemu-i386 on kernels without 32-bit support. Names the
 * one thing missing: fasm itself, else qemu-i386 when fasm is there but cannot run alone.
 */
function checkFasm(): void {
  try {
    findFasm();
  } catch {
    if (!onPath('fasm')) throw new CliError(`fasm is missing: ${install('fasm')}`);
    if (!onPath('qemu-i386'))
      throw new CliError(
        `fasm cannot run on this kernel (no 32-bit support) and qemu-i386 is missing: ${install('qemu-user')}`,
      );
    throw new CliError('fasm does not run here, not even through qemu-i386');
  }
}

/** Throws one clear line for the first missing prerequisite, naming the tool and its package. */
export function checkPrerequisites(tools: Tool[] = IMAGE_TOOLS): void {
  checkFasm();
  const missing = tools.find((t) => !onPath(t.command));
  if (missing) throw new CliError(`${missing.command} is missing: ${install(missing.debianPackage)}`);
}
