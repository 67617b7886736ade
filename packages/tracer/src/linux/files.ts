import * as fs from 'node:fs';
import * as path from 'node:path';
import { ERRNO, errnoOf } from './errno';

/** How guest fds 0-2 reach the host (the CLI passes its own stdio; tests capture). */
export interface LinuxStdio {
  /** Reads up to `buf.length` bytes of stdin; 0 at end of file. */
  readStdin(buf: Uint8Array): number;
  write(fd: 1 | 2, bytes: Uint8Array): void;
}

function sleep(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** The process's own stdio, synchronously (retrying while a non-blocking stdin has no data). */
export const processStdio: LinuxStdio = {
  readStdin(buf) {
    for (;;) {
      try {
        return fs.readSync(0, buf, 0, buf.length, null);
      } catch (e) {
        const code = (e as { code?: string }).code;
        if (code === 'EAGAIN') sleep(5);
        else if (code === 'EOF') return 0;
        else throw e;
      }
    }
  },
  write(fd, bytes) {
    let done = 0;
    while (done < bytes.length) {
      try {
        done += fs.writeSync(fd, bytes, done, bytes.length - done);
      } catch (e) {
        if ((e as { code?: string }).code === 'EAGAIN') sleep(5);
        else throw e;
      }
    }
  },
};

interface OpenFile {
  hostFd: number;
  position: number;
}

/** Guest file descriptors: 0-2 are stdio, others are host files opened read-only. */
export class FileTable {
  private readonly files = new Map<number, OpenFile | 'std'>([
    [0, 'std'],
    [1, 'std'],
    [2, 'std'],
  ]);

  constructor(
    private readonly stdio: LinuxStdio,
    private readonly cwd: string,
  ) {}

  open(guestPath: string, flags: number): number {
    // O_ACCMODE: only read-only access to host files is offered.
    if ((flags & 3) !== 0) return -ERRNO.EACCES;
    let hostFd: number;
    try {
      hostFd = fs.openSync(path.resolve(this.cwd, guestPath), 'r');
    } catch (e) {
      return -errnoOf(e);
    }
    let fd = 3;
    while (this.files.has(fd)) fd++;
    this.files.set(fd, { hostFd, position: 0 });
    return fd;
  }

  close(fd: number): number {
    const f = this.files.get(fd);
    if (!f) return -ERRNO.EBADF;
    this.files.delete(fd);
    if (f !== 'std') fs.closeSync(f.hostFd);
    return 0;
  }

  read(fd: number, buf: Uint8Array): number {
    const f = this.files.get(fd);
    if (!f) return -ERRNO.EBADF;
    try {
      if (f === 'std') return fd === 0 ? this.stdio.readStdin(buf) : -ERRNO.EBADF;
      const n = fs.readSync(f.hostFd, buf, 0, buf.length, f.position);
      f.position += n;
      return n;
    } catch (e) {
      return -errnoOf(e);
    }
  }

  write(fd: number, bytes: Uint8Array): number {
    const f = this.files.get(fd);
    if (!f) return -ERRNO.EBADF;
    if (f !== 'std' || fd === 0) return -ERRNO.EBADF; // files are read-only
    try {
      this.stdio.write(fd as 1 | 2, bytes);
    } catch (e) {
      return -errnoOf(e); // e.g. EPIPE when the reader went away: the guest sees the error
    }
    return bytes.length;
  }

  lseek(fd: number, offset: number, whence: number): number {
    const f = this.files.get(fd);
    if (!f) return -ERRNO.EBADF;
    if (f === 'std') return -ERRNO.ESPIPE;
    let base: number;
    if (whence === 0) base = 0;
    else if (whence === 1) base = f.position;
    else if (whence === 2) base = fs.fstatSync(f.hostFd).size;
    else return -ERRNO.EINVAL;
    if (base + offset < 0) return -ERRNO.EINVAL;
    f.position = base + offset;
    return f.position;
  }

  closeAll(): void {
    for (const fd of [...this.files.keys()]) this.close(fd);
  }
}
