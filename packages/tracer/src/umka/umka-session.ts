import type { HostCallContext, HostFunction } from '../host';
import { UmkaMachine, type UmkaMachineOptions } from './umka-machine';
import type { VirtualDisk } from './vdisk';

/**
 * Offsets of the kernel structures the shell reads (blkdev/disk.inc). `layoutFromFas` reads them
 * from the build's .fas; these defaults are the values of the revision fasmcov was tested with.
 */
export interface UmkaLayout {
  diskNext: number;
  diskName: number;
  diskMediaInfo: number;
  diskNumPartitions: number;
  diskPartitions: number;
  mediaSectorSize: number;
  mediaCapacity: number;
  partitionFirstSector: number;
  partitionLength: number;
  partitionFsFunctions: number;
  diskfuncSize: number;
}

export const DEFAULT_UMKA_LAYOUT: UmkaLayout = {
  diskNext: 0,
  diskName: 12,
  diskMediaInfo: 48,
  diskNumPartitions: 68,
  diskPartitions: 72,
  mediaSectorSize: 4,
  mediaCapacity: 8,
  partitionFirstSector: 0,
  partitionLength: 8,
  partitionFsFunctions: 20,
  diskfuncSize: 36,
};

/** fasm struct-field names of each layout entry. */
export const UMKA_LAYOUT_SYMBOLS: Record<keyof UmkaLayout, string> = {
  diskNext: 'DISK.Next',
  diskName: 'DISK.Name',
  diskMediaInfo: 'DISK.MediaInfo',
  diskNumPartitions: 'DISK.NumPartitions',
  diskPartitions: 'DISK.Partitions',
  mediaSectorSize: 'DISKMEDIAINFO.SectorSize',
  mediaCapacity: 'DISKMEDIAINFO.Capacity',
  partitionFirstSector: 'PARTITION.FirstSector',
  partitionLength: 'PARTITION.Length',
  partitionFsFunctions: 'PARTITION.FSUserFunctions',
  diskfuncSize: 'sizeof.DISKFUNC',
};

/** Reads the layout from a .fas symbol lookup; missing names keep their defaults. */
export function layoutFromSymbols(lookup: (name: string) => number | undefined): UmkaLayout {
  const out = { ...DEFAULT_UMKA_LAYOUT };
  for (const key of Object.keys(UMKA_LAYOUT_SYMBOLS) as Array<keyof UmkaLayout>) {
    const v = lookup(UMKA_LAYOUT_SYMBOLS[key]);
    if (v !== undefined) out[key] = v;
  }
  return out;
}

/** File systems the shell names in disk_add's partition lines, by their user-functions table. */
const FS_TABLES: Array<[string, string]> = [
  ['xfs_user_functions', 'xfs'],
  ['ext_user_functions', 'ext'],
  ['fat_user_functions', 'fat'],
  ['exfat_user_functions', 'exfat'],
  ['ntfs_user_functions', 'ntfs'],
  ['iso9660_user_functions', 'iso9660'],
];

export interface PartitionInfo {
  firstSector: bigint;
  length: bigint;
  fs: string;
}

export interface DiskInfo {
  name: string;
  sectorSize: number;
  capacity: bigint;
  partitions: PartitionInfo[];
}

export interface LfnResult {
  /** eax, signed. */
  status: number;
  /** ebx, unsigned. */
  count: number;
}

export interface UmkaSessionOptions extends UmkaMachineOptions {
  layout?: UmkaLayout;
  /** Instruction budget of the whole run. */
  maxInstructions?: number;
}

const DISK_ERROR_DEVICE = 11;
/** DISKMEDIAINFO is Flags, SectorSize, Capacity (qword). */
const MEDIA_INFO_SIZE = 16;

/**
 * The kernel calls behind umka_shell's commands, on one UmkaMachine: boot, disk_add with vdisk
 * callbacks, disk_del, sysfunctions through i40 (70/80 file calls, 30 current folder).
 */
export class UmkaSession {
  readonly umka: UmkaMachine;
  readonly layout: UmkaLayout;
  private readonly disks = new Map<number, VirtualDisk>();
  private nextDiskId = 1;
  private readonly scratch: number;
  private readonly context: number;
  private used = 0;
  private readonly budget: number;
  /** Called with the target address before each call into the kernel (a tracer resumes there). */
  beforeCall: ((address: number) => void) | undefined;

  constructor(object: Uint8Array, file: string, opts: UmkaSessionOptions = {}) {
    this.umka = new UmkaMachine(object, file, opts);
    this.layout = opts.layout ?? DEFAULT_UMKA_LAYOUT;
    this.budget = opts.maxInstructions ?? 50e9;
    this.scratch = this.umka.alloc(4096);
    // umka_init returns the umka_ctx (booted, running) the shell reads.
    this.context = Number(this.call('umka_init', [0]) & 0xffffffffn);
  }

  get memory() {
    return this.umka.machine.memory;
  }

  /** Instructions the kernel ran in calls from this session. */
  get instructions(): number {
    return this.used;
  }

  get booted(): boolean {
    return this.memory.read32(this.context) !== 0;
  }

  /** Calls a public kernel function; cdecl unless told. */
  call(
    symbol: string | number,
    args: Array<number | bigint>,
    convention: 'cdecl' | 'stdcall' = 'cdecl',
  ): bigint {
    const address = typeof symbol === 'number' ? symbol : this.umka.symbol(symbol);
    this.beforeCall?.(address);
    const cpu = this.umka.machine.cpu;
    const before = cpu.instructionsRetired;
    try {
      return this.umka.machine.callGuest64(address, args, {
        convention,
        maxInstructions: Math.max(1, this.budget - this.used),
      });
    } finally {
      this.used += cpu.instructionsRetired - before;
    }
  }

  boot(): void {
    this.call('umka_boot', []);
  }

  /** `int 0x40` with eax..edx as given (through umka.o's i40_asm); returns eax and ebx. */
  i40(eax: number, ebx: number, ecx = 0, edx = 0): { eax: number; ebx: number } {
    const out = this.scratch;
    this.call('i40_asm', [eax, ebx, ecx, edx, 0, 0, 0, out, out + 4]);
    return { eax: this.memory.read32(out) >>> 0, ebx: this.memory.read32(out + 4) >>> 0 };
  }

  /** sysfunction 70 or 80 on an argument block already in guest memory. */
  lfn(fn: 70 | 80, block: number): LfnResult {
    const r = this.i40(fn, block);
    return { status: r.eax | 0, count: r.ebx };
  }

  setCwd(pathAt: number): void {
    this.i40(30, 1, pathAt);
  }

  getCwd(bufferAt: number, length: number): void {
    this.i40(30, 2, bufferAt, length);
  }

  /** kos_time_to_epoch on a BDFE time+date pair at `at`; Unix seconds. */
  timeToEpoch(at: number): bigint {
    return BigInt.asIntN(64, this.call('kos_time_to_epoch', [at]));
  }

  /** disk_add then disk_media_changed(disk, 1), as the shell does; the DISK pointer or 0. */
  addDisk(name: string, disk: VirtualDisk): number {
    const id = this.nextDiskId++;
    this.disks.set(id, disk);
    const functions = this.diskFunctions();
    const nameAt = this.umka.alloc(name.length + 1);
    this.memory.writeBytes(nameAt, Buffer.from(`${name}\0`, 'latin1'));
    const handle = Number(this.call('disk_add', [functions, nameAt, id, 0], 'stdcall') & 0xffffffffn);
    if (handle === 0) {
      this.disks.delete(id);
      disk.close();
      return 0;
    }
    this.call('disk_media_changed', [handle, 1], 'stdcall');
    return handle;
  }

  removeDisk(handle: number): void {
    this.call('disk_del', [handle], 'stdcall');
  }

  /** Walks the kernel's disk_list for a disk of this name (the shell's disk_del lookup). */
  findDisk(name: string): number | undefined {
    const head = this.umka.symbol('disk_list');
    const mem = this.memory;
    for (let d = mem.read32(head + this.layout.diskNext) >>> 0; d !== head && d !== 0;) {
      if (this.cString(mem.read32(d + this.layout.diskName) >>> 0) === name) return d;
      d = mem.read32(d + this.layout.diskNext) >>> 0;
    }
    return undefined;
  }

  diskInfo(handle: number): DiskInfo {
    const mem = this.memory;
    const L = this.layout;
    const media = handle + L.diskMediaInfo;
    const count = mem.read32(handle + L.diskNumPartitions) >>> 0;
    const list = mem.read32(handle + L.diskPartitions) >>> 0;
    const tables = new Map<number, string>();
    for (const [sym, fs] of FS_TABLES) {
      const a = this.umka.image.symbols.get(sym);
      if (a !== undefined) tables.set(a, fs);
    }
    const partitions: PartitionInfo[] = [];
    for (let i = 0; i < count; i++) {
      const p = mem.read32(list + 4 * i) >>> 0;
      partitions.push({
        firstSector: this.read64(p + L.partitionFirstSector),
        length: this.read64(p + L.partitionLength),
        fs: tables.get(mem.read32(p + L.partitionFsFunctions) >>> 0) ?? '???',
      });
    }
    return {
      name: this.cString(mem.read32(handle + L.diskName) >>> 0),
      sectorSize: mem.read32(media + L.mediaSectorSize) >>> 0,
      capacity: this.read64(media + L.mediaCapacity),
      partitions,
    };
  }

  read64(at: number): bigint {
    return (BigInt(this.memory.read32(at + 4) >>> 0) << 32n) | BigInt(this.memory.read32(at) >>> 0);
  }

  cString(at: number, limit = 4096): string {
    const bytes: number[] = [];
    for (let a = at; bytes.length < limit; a++) {
      const b = this.memory.read8(a);
      if (b === 0) break;
      bytes.push(b);
    }
    return Buffer.from(bytes).toString('latin1');
  }

  close(): void {
    for (const d of this.disks.values()) d.close();
    this.disks.clear();
  }

  private diskFunctionsAt: number | undefined;

  /** The DISKFUNC table UMKa's vdisk layer fills: no closemedia, flush or loadtray. */
  private diskFunctions(): number {
    if (this.diskFunctionsAt !== undefined) return this.diskFunctionsAt;
    const m = this.umka.machine;
    const bind = (name: string, args: number, fn: HostFunction['fn']): number =>
      m.bind(`umka_vdisk_${name}`, { args, convention: 'stdcall', fn });
    const slots = [
      bind('close', 1, (ctx) => this.closeDisk(ctx.arg(0))),
      0,
      bind('querymedia', 2, (ctx) => this.queryMedia(ctx)),
      bind('read', 5, (ctx) => this.readSectors(ctx)),
      bind('write', 5, (ctx) => this.disks.get(ctx.arg(0))?.writeStatus() ?? DISK_ERROR_DEVICE),
      0,
      bind('adjust_cache_size', 2, (ctx) => this.disks.get(ctx.arg(0))?.cacheSize ?? ctx.arg(1)),
      0,
    ];
    const at = this.umka.alloc(this.layout.diskfuncSize);
    this.memory.write32(at, this.layout.diskfuncSize);
    slots.forEach((v, i) => this.memory.write32(at + 4 + 4 * i, v));
    this.diskFunctionsAt = at;
    return at;
  }

  private closeDisk(id: number): void {
    this.disks.get(id)?.close();
    this.disks.delete(id);
  }

  private queryMedia(ctx: HostCallContext): number {
    const disk = this.disks.get(ctx.arg(0));
    if (!disk) return DISK_ERROR_DEVICE;
    const info = ctx.arg(1);
    const mem = this.memory;
    mem.writeBytes(info, new Uint8Array(MEDIA_INFO_SIZE));
    mem.write32(info + this.layout.mediaSectorSize, disk.sectorSize);
    mem.write32(info + this.layout.mediaCapacity, Number(disk.sectors & 0xffffffffn));
    mem.write32(info + this.layout.mediaCapacity + 4, Number(disk.sectors >> 32n));
    return 0;
  }

  private readSectors(ctx: HostCallContext): number {
    const disk = this.disks.get(ctx.arg(0));
    if (!disk) return DISK_ERROR_DEVICE;
    const count = this.memory.read32(ctx.arg(4)) >>> 0;
    this.memory.writeBytes(ctx.arg(1), disk.read(ctx.arg64(2), count));
    return 0;
  }
}
