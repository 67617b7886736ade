/**
 * A GUID partition table for a disk too large to exist as a raw file (UMKa's 2 EiB test disk):
 * the protective MBR, the primary header and entry array, and their backups at the end of the
 * disk, as byte runs at their offsets. Written from the UEFI specification (chapter 5, GPT disk
 * layout); partitions are placed as `sgdisk --align-end --new=0:0:+<size>` places them.
 */

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** CRC-32 (IEEE 802.3, the GPT's checksum). */
export function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** A GUID in its on-disk form: the first three fields little-endian, the rest as written. */
export function guidBytes(guid: string): Buffer {
  const hex = guid.replace(/-/g, '');
  if (!/^[0-9a-fA-F]{32}$/.test(hex)) throw new Error(`not a GUID: ${guid}`);
  const b = Buffer.from(hex, 'hex');
  b.subarray(0, 4).reverse();
  b.subarray(4, 6).reverse();
  b.subarray(6, 8).reverse();
  return b;
}

/**
 * Partition n's unique GUID, derived from the disk's (the low half of the first field plus n),
 * so that the same recipe gives the same bytes, here and through sgdisk.
 */
export function partitionGuid(diskGuid: string, n: number): string {
  const first = parseInt(diskGuid.slice(0, 8), 16);
  const low = ((first & 0xffff) + n) & 0xffff;
  const field = ((first & 0xffff0000) >>> 0) + low;
  return field.toString(16).padStart(8, '0') + diskGuid.slice(8);
}

/** Linux file system data, sgdisk's default type (8300). */
const LINUX_DATA = '0FC63DAF-8483-4772-8E79-3D69D8477DE4';
const ENTRIES = 128;
const ENTRY_SIZE = 128;
/** Partitions start on 1 MiB boundaries and end just before one (--align-end). */
const ALIGN_BYTES = 1 << 20;

export interface GptDisk {
  /** Disk size in bytes (a multiple of the sector size). */
  size: number;
  sectorSize: number;
  diskGuid: string;
  /** Partition sizes in bytes, placed one after another from the first aligned sector. */
  partitions: number[];
}

const UNITS: Record<string, number> = {
  K: 2 ** 10,
  M: 2 ** 20,
  G: 2 ** 30,
  T: 2 ** 40,
  P: 2 ** 50,
  E: 2 ** 60,
};

/** The size of an sgdisk `--new` argument of the form `0:0:+<n><K|M|G|T|P|E>iB`. */
export function sgdiskSize(arg: string): number {
  const m = /^0:0:\+(\d+)([KMGTPE])iB$/.exec(arg);
  if (!m) throw new Error(`partition '${arg}': only 0:0:+<n><unit>iB is placed without sgdisk`);
  return Number(m[1]) * UNITS[m[2]];
}

/** Bytes at their offsets: everything of the disk that is not zero. */
export function gptChunks(d: GptDisk): Array<{ offset: number; bytes: Uint8Array }> {
  const ss = d.sectorSize;
  const last = d.size / ss - 1;
  const entrySectors = (ENTRIES * ENTRY_SIZE) / ss;
  const firstUsable = 2 + entrySectors;
  const lastUsable = last - 1 - entrySectors;
  const align = ALIGN_BYTES / ss;

  const entries = Buffer.alloc(ENTRIES * ENTRY_SIZE);
  let next = Math.ceil(firstUsable / align) * align;
  d.partitions.forEach((bytes, i) => {
    const start = next;
    const end = start + bytes / ss - 1;
    if (end > lastUsable) throw new Error(`partition ${i + 1} does not fit on the disk`);
    const e = entries.subarray(i * ENTRY_SIZE, (i + 1) * ENTRY_SIZE);
    guidBytes(LINUX_DATA).copy(e, 0);
    guidBytes(partitionGuid(d.diskGuid, i + 1)).copy(e, 16);
    e.writeBigUInt64LE(BigInt(start), 32);
    e.writeBigUInt64LE(BigInt(end), 40);
    next = Math.ceil((end + 1) / align) * align;
  });
  const entriesCrc = crc32(entries);

  const header = (current: number, backup: number, entriesAt: number): Buffer => {
    const h = Buffer.alloc(ss);
    h.write('EFI PART', 0, 'latin1');
    h.writeUInt32LE(0x00010000, 8);
    h.writeUInt32LE(92, 12);
    h.writeBigUInt64LE(BigInt(current), 24);
    h.writeBigUInt64LE(BigInt(backup), 32);
    h.writeBigUInt64LE(BigInt(firstUsable), 40);
    h.writeBigUInt64LE(BigInt(lastUsable), 48);
    guidBytes(d.diskGuid).copy(h, 56);
    h.writeBigUInt64LE(BigInt(entriesAt), 72);
    h.writeUInt32LE(ENTRIES, 80);
    h.writeUInt32LE(ENTRY_SIZE, 84);
    h.writeUInt32LE(entriesCrc, 88);
    h.writeUInt32LE(crc32(h.subarray(0, 92)), 16);
    return h;
  };

  const mbr = Buffer.alloc(ss);
  // One partition of type EE from LBA 1 over the whole disk (as much as 32 bits can say).
  mbr.writeUInt8(0x00, 446);
  mbr.writeUInt8(0x00, 447);
  mbr.writeUInt16LE(0x0002, 448);
  mbr.writeUInt8(0xee, 450);
  mbr.writeUInt8(0xff, 451);
  mbr.writeUInt16LE(0xffff, 452);
  mbr.writeUInt32LE(1, 454);
  mbr.writeUInt32LE(Math.min(last, 0xffffffff), 458);
  mbr.writeUInt16LE(0xaa55, 510);

  return [
    { offset: 0, bytes: mbr },
    { offset: ss, bytes: header(1, last, 2) },
    { offset: 2 * ss, bytes: entries },
    { offset: (last - entrySectors) * ss, bytes: entries },
    { offset: last * ss, bytes: header(last, 1, last - entrySectors) },
  ];
}
