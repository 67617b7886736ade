import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';

/**
 * Loop devices and mounts for building test images with the host kernel's own file-system
 * drivers (needs root and loop devices). Everything attached or mounted is released by
 * `release()`, also when a step fails, so a failed build leaves no mount behind.
 */
export class LoopError extends Error {}

function run(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', env: { ...process.env, TZ: 'UTC' } });
  if (r.error) throw new LoopError(`${cmd}: ${r.error.message} (is it installed?)`);
  if (r.status !== 0) {
    // The first line says what went wrong; mount's advice about dmesg that follows does not.
    const why = (r.stderr || r.stdout).trim().split('\n')[0];
    throw new LoopError(`${cmd} ${args.join(' ')} failed: ${why}`);
  }
  return r.stdout;
}

/** Why loop mounts cannot work here, or undefined when they can be tried. */
export function loopMountUnavailable(): string | undefined {
  if (typeof process.getuid === 'function' && process.getuid() !== 0)
    return 'building this image mounts it through a loop device, which needs root';
  if (!fs.existsSync('/dev/loop-control')) return 'this machine has no loop devices (/dev/loop-control)';
  return undefined;
}

export class LoopSession {
  private readonly devices: string[] = [];
  private readonly mounts: string[] = [];

  /** Attaches bytes [offset, offset+size) of `file` with the given logical sector size. */
  attach(file: string, o: { offset?: number; size?: number; sectorSize?: number } = {}): string {
    const args = ['--show', '-f'];
    if (o.offset) args.push('-o', String(o.offset));
    if (o.size) args.push('--sizelimit', String(o.size));
    if (o.sectorSize && o.sectorSize !== 512) args.push('-b', String(o.sectorSize));
    const dev = run('losetup', [...args, file]).trim();
    this.devices.push(dev);
    return dev;
  }

  detach(dev: string): void {
    run('losetup', ['-d', dev]);
    this.devices.splice(this.devices.indexOf(dev), 1);
  }

  mount(dev: string, dir: string, type: string, options?: string): void {
    const args = ['-t', type];
    if (options) args.push('-o', options);
    try {
      run('mount', [...args, dev, dir]);
    } catch (e) {
      // Drop the temporary device and folder names: they say nothing to the reader.
      const why = (e as Error).message
        .replace(/^.*? failed: /, '')
        .replace(/^mount: [^:]*: /, '')
        .replace(/\.$/, '');
      throw new LoopError(
        `mount -t ${type} failed (${why}); the host kernel cannot mount this ${type} file system`,
      );
    }
    this.mounts.push(dir);
  }

  /** Unmounts (writing everything back) — the image is complete only after this. */
  unmount(dir: string): void {
    run('umount', [dir]);
    this.mounts.splice(this.mounts.indexOf(dir), 1);
  }

  /** Undoes whatever is still mounted or attached (after a failure). */
  release(): void {
    for (const m of this.mounts.splice(0).reverse()) spawnSync('umount', ['-l', m]);
    for (const d of this.devices.splice(0).reverse()) spawnSync('losetup', ['-d', d]);
  }
}
