import * as fs from 'node:fs';

/**
 * Adds folders to a freshly formatted FAT12/16/32 file system (a partition-sized file), the way a
 * host that creates them one after another lays them out: each new entry (long-name slots, then
 * the 8.3 entry) goes after the last one of its folder, each folder gets the next free cluster.
 * mtools does the same but checks 8.3 name clashes in quadratic time, far too slow for the tens
 * of thousands of folders UMKa's images hold.
 */
export class FatFolders {
  private readonly fd: number;
  private readonly bytesPerSector: number;
  private readonly clusterBytes: number;
  private readonly firstDataSector: number;
  private readonly fatSectors: number;
  private readonly fatCount: number;
  private readonly reserved: number;
  private readonly rootEntries: number;
  private readonly clusterCount: number;
  readonly bits: 12 | 16 | 32;
  private readonly fat: Uint32Array;
  private nextFree = 2;
  private readonly folders = new Map<string, Folder>();
  /** DOS time and date stamped on every entry. */
  private readonly stamp: { time: number; date: number };

  constructor(
    readonly file: string,
    time: Date = new Date(Date.UTC(2020, 0, 1)),
  ) {
    this.fd = fs.openSync(file, 'r+');
    const boot = Buffer.alloc(512);
    fs.readSync(this.fd, boot, 0, 512, 0);
    this.bytesPerSector = boot.readUInt16LE(11);
    this.clusterBytes = boot.readUInt8(13) * this.bytesPerSector;
    this.reserved = boot.readUInt16LE(14);
    this.fatCount = boot.readUInt8(16);
    this.rootEntries = boot.readUInt16LE(17);
    const totalSectors = boot.readUInt16LE(19) || boot.readUInt32LE(32);
    this.fatSectors = boot.readUInt16LE(22) || boot.readUInt32LE(36);
    const rootSectors = Math.ceil((this.rootEntries * 32) / this.bytesPerSector);
    this.firstDataSector = this.reserved + this.fatCount * this.fatSectors + rootSectors;
    this.clusterCount = Math.floor((totalSectors - this.firstDataSector) / boot.readUInt8(13));
    this.bits = this.clusterCount < 4085 ? 12 : this.clusterCount < 65525 ? 16 : 32;
    this.fat = this.readFat();
    this.stamp = dosStamp(time);
    const root: Folder = {
      cluster: this.bits === 32 ? boot.readUInt32LE(44) : 0,
      entries: [],
      names: new Set(),
      tails: 0,
    };
    if (this.bits === 32) root.entries.push(...this.folderEntries(root.cluster).filter((e) => e[0] !== 0));
    this.folders.set('', root);
    while (this.nextFree < this.clusterCount + 2 && this.fat[this.nextFree] !== 0) this.nextFree++;
  }

  /** Creates folder `path` ('a/b/c'); its parent must exist. */
  mkdir(path: string): void {
    const slash = path.lastIndexOf('/');
    const parentPath = slash < 0 ? '' : path.slice(0, slash);
    const name = path.slice(slash + 1);
    const parent = this.folders.get(parentPath);
    if (!parent) throw new Error(`${this.file}: no folder '${parentPath}' to hold '${name}'`);
    const cluster = this.allocate();
    const folder: Folder = { cluster, entries: [], names: new Set(), tails: 0 };
    folder.entries.push(
      this.entry(Buffer.from('.          ', 'latin1'), 0x10, cluster),
      this.entry(
        Buffer.from('..         ', 'latin1'),
        0x10,
        parent.cluster === this.rootCluster() ? 0 : parent.cluster,
      ),
    );
    this.folders.set(path, folder);
    this.addEntry(parent, name, 0x10, cluster);
  }

  /** Writes the folders and the FAT copies. */
  finish(): void {
    for (const folder of this.folders.values()) this.writeFolder(folder);
    this.writeFat();
    fs.closeSync(this.fd);
  }

  private rootCluster(): number {
    return this.folders.get('')!.cluster;
  }

  private allocate(): number {
    const c = this.nextFree;
    if (c >= this.clusterCount + 2) throw new Error(`${this.file}: file system full`);
    this.fat[c] = this.endOfChain();
    do this.nextFree++;
    while (this.nextFree < this.clusterCount + 2 && this.fat[this.nextFree] !== 0);
    return c;
  }

  private endOfChain(): number {
    return this.bits === 12 ? 0xfff : this.bits === 16 ? 0xffff : 0x0fffffff;
  }

  private addEntry(folder: Folder, name: string, attr: number, cluster: number): void {
    const short = this.shortName(folder, name);
    const checksum = shortChecksum(short);
    const units = Buffer.from(name, 'utf16le');
    const slots = Math.ceil(units.length / 26);
    for (let n = slots; n >= 1; n--) folder.entries.push(longSlot(units, n, n === slots, checksum));
    folder.entries.push(this.entry(short, attr, cluster));
  }

  /** A unique 8.3 name `BASE~N` (the long name is what the kernel shows). */
  private shortName(folder: Folder, name: string): Buffer {
    const base = name.toUpperCase().replace(/[^A-Z0-9]/g, '') || 'F';
    // Numbered per folder (not per base) so that a folder of 30000 names stays linear.
    for (;;) {
      const tail = `~${++folder.tails}`;
      const text = `${base.slice(0, 8 - tail.length)}${tail}`.padEnd(11, ' ');
      if (!folder.names.has(text)) {
        folder.names.add(text);
        return Buffer.from(text, 'latin1');
      }
    }
  }

  private entry(name: Buffer, attr: number, cluster: number): Buffer {
    const e = Buffer.alloc(32);
    name.copy(e, 0, 0, 11);
    e[11] = attr;
    for (const [t, d] of [
      [14, 16],
      [22, 24],
    ]) {
      e.writeUInt16LE(this.stamp.time, t);
      e.writeUInt16LE(this.stamp.date, d);
    }
    e.writeUInt16LE(this.stamp.date, 18);
    e.writeUInt16LE(cluster >>> 16, 20);
    e.writeUInt16LE(cluster & 0xffff, 26);
    return e;
  }

  private clusterOffset(cluster: number): number {
    return (
      (this.firstDataSector + (cluster - 2) * (this.clusterBytes / this.bytesPerSector)) * this.bytesPerSector
    );
  }

  private chain(cluster: number): number[] {
    const out: number[] = [];
    for (
      let c = cluster;
      c >= 2 && c < this.clusterCount + 2 && out.length <= this.clusterCount;
      c = this.fat[c]
    )
      out.push(c);
    return out;
  }

  private folderEntries(cluster: number): Buffer[] {
    const out: Buffer[] = [];
    for (const c of this.chain(cluster)) {
      const b = Buffer.alloc(this.clusterBytes);
      fs.readSync(this.fd, b, 0, b.length, this.clusterOffset(c));
      for (let i = 0; i < b.length; i += 32) out.push(b.subarray(i, i + 32));
    }
    return out;
  }

  private writeFolder(folder: Folder): void {
    const data = Buffer.concat(folder.entries);
    if (folder.cluster === 0) {
      if (data.length > this.rootEntries * 32) throw new Error(`${this.file}: root folder full`);
      const at = (this.reserved + this.fatCount * this.fatSectors) * this.bytesPerSector;
      fs.writeSync(this.fd, data, 0, data.length, at);
      return;
    }
    const clusters = this.chain(folder.cluster);
    while (clusters.length * this.clusterBytes < data.length) {
      const c = this.allocate();
      this.fat[clusters[clusters.length - 1]] = c;
      clusters.push(c);
    }
    // Only the entries: the rest of a fresh file system's clusters is zero (and stays sparse).
    clusters.forEach((c, i) => {
      const part = data.subarray(i * this.clusterBytes, (i + 1) * this.clusterBytes);
      if (part.length) fs.writeSync(this.fd, part, 0, part.length, this.clusterOffset(c));
    });
  }

  private readFat(): Uint32Array {
    const raw = Buffer.alloc(this.fatSectors * this.bytesPerSector);
    fs.readSync(this.fd, raw, 0, raw.length, this.reserved * this.bytesPerSector);
    const fat = new Uint32Array(this.clusterCount + 2);
    for (let c = 0; c < fat.length; c++) fat[c] = fatGet(raw, this.bits, c);
    return fat;
  }

  private writeFat(): void {
    const raw = Buffer.alloc(this.fatSectors * this.bytesPerSector);
    fs.readSync(this.fd, raw, 0, raw.length, this.reserved * this.bytesPerSector);
    for (let c = 2; c < this.fat.length; c++) fatSet(raw, this.bits, c, this.fat[c]);
    for (let i = 0; i < this.fatCount; i++)
      fs.writeSync(this.fd, raw, 0, raw.length, (this.reserved + i * this.fatSectors) * this.bytesPerSector);
  }
}

interface Folder {
  /** First cluster; 0 for a FAT12/16 root folder. */
  cluster: number;
  entries: Buffer[];
  names: Set<string>;
  tails: number;
}

function fatGet(raw: Buffer, bits: number, c: number): number {
  if (bits === 16) return raw.readUInt16LE(2 * c);
  if (bits === 32) return raw.readUInt32LE(4 * c) & 0x0fffffff;
  const v = raw.readUInt16LE(Math.floor((3 * c) / 2));
  return c & 1 ? v >> 4 : v & 0xfff;
}

function fatSet(raw: Buffer, bits: number, c: number, value: number): void {
  if (bits === 16) raw.writeUInt16LE(value, 2 * c);
  else if (bits === 32) raw.writeUInt32LE((raw.readUInt32LE(4 * c) & 0xf0000000) | value, 4 * c);
  else {
    const at = Math.floor((3 * c) / 2);
    const v = raw.readUInt16LE(at);
    raw.writeUInt16LE(c & 1 ? (v & 0x000f) | (value << 4) : (v & 0xf000) | value, at);
  }
}

/** The checksum of an 8.3 name that every long-name slot carries. */
function shortChecksum(name: Buffer): number {
  let sum = 0;
  for (let i = 0; i < 11; i++) sum = (((sum & 1) << 7) + (sum >> 1) + name[i]) & 0xff;
  return sum;
}

/** Long-name slot `n` (1-based) of a UTF-16LE name: 13 units, NUL-terminated, 0xFFFF-padded. */
function longSlot(units: Buffer, n: number, last: boolean, checksum: number): Buffer {
  const e = Buffer.alloc(32);
  e[0] = n | (last ? 0x40 : 0);
  e[11] = 0x0f;
  e[13] = checksum;
  const places = [1, 3, 5, 7, 9, 14, 16, 18, 20, 22, 24, 28, 30];
  const total = units.length / 2;
  places.forEach((at, k) => {
    const i = (n - 1) * 13 + k;
    e.writeUInt16LE(i < total ? units.readUInt16LE(2 * i) : i === total ? 0 : 0xffff, at);
  });
  return e;
}

function dosStamp(d: Date): { time: number; date: number } {
  return {
    time: (d.getUTCHours() << 11) | (d.getUTCMinutes() << 5) | (d.getUTCSeconds() >> 1),
    date: ((d.getUTCFullYear() - 1980) << 9) | ((d.getUTCMonth() + 1) << 5) | d.getUTCDate(),
  };
}
