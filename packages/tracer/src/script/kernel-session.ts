import { GuestMachine } from '../host';
import { HostDisk, SECTOR } from './host-disk';

/** Where the host keeps its own guest-visible data (DISKFUNC table, query results). */
const HOST_AREA = 0x3ff00000;
const HOST_AREA_SIZE = 0x10000;
const DISKFUNC_AT = HOST_AREA;
const QUERY_AT = HOST_AREA + 0x100;
const LOG_LIMIT = 4096;
/** Per-call I/O area: the FILEINFO block, the path, then the data buffer. */
const INFO_AT = 0x40000000;
const PATH_AT = INFO_AT + 0x100;
const PATH_LIMIT = 0x10000 - 0x100 - 1;
const BUFFER_AT = INFO_AT + 0x10000;
const HEAP_AT = 0x10000000;

/** DISKFUNC field order of the kernel's const.inc. */
const DISKFUNC_FIELDS = ['close', 'closemedia', 'querymedia', 'read', 'write', 'flush', 'adjust_cache_size'];

/** The kernel clock unless told otherwise: 2020-01-01 00:00 UTC (FAT cannot store 1970). */
export const DEFAULT_KERNEL_TIME = 1577836800;

export interface KernelSessionOptions {
  /** What host_time returns (Unix seconds); default DEFAULT_KERNEL_TIME. */
  time?: number;
  /** Instruction budget of the whole session. */
  maxInstructions: number;
  /** Bytes of guest heap handed to kernel_init. */
  heapSize?: number;
  /** Kernel log lines (host_log). */
  log?: (line: string) => void;
}

/** What the kernel reports about a disk or one of its partitions (DISKQUERY). */
export interface DiskQuery {
  sectorSize: number;
  capacity: bigint;
  firstSector: bigint;
  partitions: number;
  fs: string;
}

export interface FileCall {
  subfunction: number;
  /** Dwords at +4 and +8 of the FILEINFO block (a qword offset, or first entry and encoding). */
  param1: number;
  param2: number;
  count: number;
  /** Bytes of guest buffer the call may use (mapped before the call). */
  bufferSize: number;
  /** Written to the buffer before the call. */
  input?: Uint8Array;
}

export interface FileResult {
  status: number;
  count: number;
  buffer: number;
}

/**
 * The bundled kernel (or any kernel with the same entry points) loaded into the emulator with its
 * host services: the log, the clock, and block devices backed by image files.
 */
export class KernelSession {
  readonly machine = new GuestMachine();
  private readonly disks = new Map<number, { disk: HostDisk; cacheBytes?: number }>();
  private nextDiskId = 1;
  private bufferMapped = 0;
  private used = 0;
  /** Called with the target address before each call into the kernel (the tracer resumes there). */
  beforeCall: ((address: number) => void) | undefined;

  constructor(
    kernel: Uint8Array,
    file: string,
    private readonly opts: KernelSessionOptions,
  ) {
    const m = this.machine;
    const memory = m.memory;
    m.bind('host_log', {
      args: 1,
      convention: 'stdcall',
      fn: (ctx) => opts.log?.(this.readCString(ctx.arg(0))),
    });
    m.bind('host_time', {
      args: 0,
      convention: 'stdcall',
      fn: () => (opts.time ?? DEFAULT_KERNEL_TIME) >>> 0,
    });
    const callbacks = this.bindDiskCallbacks();
    m.loadObject(kernel, file);
    memory.map(HOST_AREA, HOST_AREA_SIZE);
    memory.write32(DISKFUNC_AT, 4 * (DISKFUNC_FIELDS.length + 1));
    DISKFUNC_FIELDS.forEach((f, i) => memory.write32(DISKFUNC_AT + 4 + 4 * i, callbacks.get(f) ?? 0));
    memory.map(INFO_AT, 0x10000);
    const heap = opts.heapSize ?? 64 << 20;
    memory.map(HEAP_AT, heap);
    const status = this.call('kernel_init', [HEAP_AT, heap]) & 0xffffffffn;
    if (status !== 0n) throw new Error(`${file}: kernel_init failed with status ${status}`);
  }

  /** Instructions the kernel has run so far. */
  get instructions(): number {
    return this.used;
  }

  /** Calls a public kernel procedure (stdcall), inside the session's instruction budget. */
  call(symbol: string, args: number[]): bigint {
    const address = this.machine.symbol(symbol);
    if (address === undefined) throw new Error(`the kernel has no public '${symbol}'`);
    this.beforeCall?.(address);
    const cpu = this.machine.cpu;
    const before = cpu.instructionsRetired;
    try {
      return this.machine.callGuest64(address, args, {
        convention: 'stdcall',
        maxInstructions: Math.max(1, this.opts.maxInstructions - this.used),
      });
    } finally {
      this.used += cpu.instructionsRetired - before;
    }
  }

  /** Registers an image as a disk; returns the kernel's DISK pointer (0 when refused). */
  addDisk(name: string, disk: HostDisk, cacheBytes?: number): number {
    const id = this.nextDiskId++;
    this.disks.set(id, { disk, cacheBytes });
    const nameAt = QUERY_AT + 0x80;
    this.machine.memory.writeBytes(nameAt, Buffer.from(`${name}\0`, 'latin1'));
    const handle = Number(this.call('disk_add', [DISKFUNC_AT, nameAt, id, 0]) & 0xffffffffn);
    if (handle === 0) {
      this.disks.delete(id);
      disk.close();
    }
    return handle;
  }

  removeDisk(handle: number): void {
    this.call('disk_del', [handle]);
  }

  /** disk_query: number 0 is the disk, 1.. its partitions. */
  query(handle: number, number: number): DiskQuery | undefined {
    if ((this.call('disk_query', [handle, number, QUERY_AT]) & 0xffffffffn) !== 0n) return undefined;
    const mem = this.machine.memory;
    const q64 = (a: number): bigint => (BigInt(mem.read32(a + 4) >>> 0) << 32n) | BigInt(mem.read32(a) >>> 0);
    return {
      sectorSize: mem.read32(QUERY_AT) >>> 0,
      capacity: q64(QUERY_AT + 4),
      firstSector: q64(QUERY_AT + 12),
      partitions: mem.read32(QUERY_AT + 20) >>> 0,
      fs: this.readCString(QUERY_AT + 24),
    };
  }

  /** One sysfunction 70/80 call with the path as raw bytes (cp866 for 70, UTF-8 for 80). */
  fileCall(fn: 70 | 80, path: Uint8Array, c: FileCall): FileResult {
    if (path.length > PATH_LIMIT) throw new Error(`path longer than ${PATH_LIMIT} bytes`);
    const mem = this.machine.memory;
    this.mapBuffer(c.bufferSize);
    mem.writeBytes(PATH_AT, path);
    mem.write8(PATH_AT + path.length, 0);
    mem.write32(INFO_AT, c.subfunction);
    mem.write32(INFO_AT + 4, c.param1 | 0);
    mem.write32(INFO_AT + 8, c.param2 | 0);
    mem.write32(INFO_AT + 12, c.count | 0);
    mem.write32(INFO_AT + 16, BUFFER_AT);
    mem.write8(INFO_AT + 20, 0);
    mem.write32(INFO_AT + 21, PATH_AT);
    if (c.input) mem.writeBytes(BUFFER_AT, c.input);
    const r = this.call(fn === 70 ? 'kos_fn70' : 'kos_fn80', [INFO_AT]);
    return { status: Number(r & 0xffffffffn), count: Number((r >> 32n) & 0xffffffffn), buffer: BUFFER_AT };
  }

  setCwd(path: string): number {
    const bytes = Buffer.from(`${path}\0`, 'utf8');
    this.mapBuffer(bytes.length);
    this.machine.memory.writeBytes(BUFFER_AT, bytes);
    return Number(this.call('kos_set_cwd', [BUFFER_AT]) & 0xffffffffn);
  }

  getCwd(): string {
    const size = 4096;
    this.mapBuffer(size);
    const len = Number(this.call('kos_get_cwd', [BUFFER_AT, size]) & 0xffffffffn);
    return Buffer.from(this.machine.memory.readBytes(BUFFER_AT, Math.min(len, size))).toString('utf8');
  }

  read(address: number, length: number): Uint8Array {
    return this.machine.memory.readBytes(address, length);
  }

  close(): void {
    for (const { disk } of this.disks.values()) disk.close();
    this.disks.clear();
  }

  private mapBuffer(bytes: number): void {
    if (bytes > this.bufferMapped) {
      this.machine.memory.map(BUFFER_AT, bytes);
      this.bufferMapped = Math.ceil(bytes / 4096) * 4096;
    }
  }

  private readCString(address: number): string {
    const mem = this.machine.memory;
    const bytes: number[] = [];
    for (let a = address; bytes.length < LOG_LIMIT; a++) {
      const b = mem.read8(a);
      if (b === 0) break;
      bytes.push(b);
    }
    return Buffer.from(bytes).toString('utf8');
  }

  private diskOf(id: number): HostDisk | undefined {
    return this.disks.get(id)?.disk;
  }

  /** Host functions the DISKFUNC table points at; the userdata argument names the disk. */
  private bindDiskCallbacks(): Map<string, number> {
    const m = this.machine;
    const mem = m.memory;
    const ERROR_DEVICE = 11;
    const out = new Map<string, number>();
    out.set(
      'close',
      m.bind('fasmcov_disk_close', {
        args: 1,
        convention: 'stdcall',
        fn: (ctx) => {
          this.diskOf(ctx.arg(0))?.close();
          this.disks.delete(ctx.arg(0));
        },
      }),
    );
    out.set(
      'querymedia',
      m.bind('fasmcov_disk_querymedia', {
        args: 2,
        convention: 'stdcall',
        fn: (ctx) => {
          const disk = this.diskOf(ctx.arg(0));
          if (!disk) return ERROR_DEVICE;
          const info = ctx.arg(1);
          mem.write32(info, 0);
          mem.write32(info + 4, SECTOR);
          mem.write32(info + 8, Number(disk.sectors & 0xffffffffn));
          mem.write32(info + 12, Number(disk.sectors >> 32n));
          return 0;
        },
      }),
    );
    const transfer = (write: boolean) => ({
      args: 5,
      convention: 'stdcall' as const,
      fn: (ctx: import('../host').HostCallContext): number => {
        const disk = this.diskOf(ctx.arg(0));
        const countAt = ctx.arg(4);
        const wanted = mem.read32(countAt) >>> 0;
        if (!disk) {
          mem.write32(countAt, 0);
          return ERROR_DEVICE;
        }
        const start = ctx.arg64(2);
        let done: number;
        if (write) done = disk.write(start, mem.readBytes(ctx.arg(1), wanted * SECTOR));
        else {
          const data = disk.read(start, wanted);
          mem.writeBytes(ctx.arg(1), data);
          done = data.length / SECTOR;
        }
        mem.write32(countAt, done);
        return done === wanted ? 0 : ERROR_DEVICE;
      },
    });
    out.set('read', m.bind('fasmcov_disk_read', transfer(false)));
    out.set('write', m.bind('fasmcov_disk_write', transfer(true)));
    out.set('flush', m.bind('fasmcov_disk_flush', { args: 1, convention: 'stdcall', fn: () => 0 }));
    out.set(
      'adjust_cache_size',
      m.bind('fasmcov_disk_adjust_cache_size', {
        args: 2,
        convention: 'stdcall',
        fn: (ctx) => this.disks.get(ctx.arg(0))?.cacheBytes ?? ctx.arg(1),
      }),
    );
    return out;
  }
}
