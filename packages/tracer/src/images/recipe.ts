import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * Disk-image recipes, format version 1 (fixtures/images/README.md describes it for people).
 * Parsing checks every field so that a typo fails with the recipe's name instead of a tool's
 * obscure complaint half-way through a build.
 */

export const RECIPE_VERSION = 1;

export type FsType = 'fat12' | 'fat16' | 'fat32' | 'ext2';
export type TableType = 'none' | 'mbr' | 'gpt';

/** Where a file's bytes come from: exactly one of these keys is set. */
export interface ContentSpec {
  /** Literal UTF-8 text; `{i}` is replaced in `many` entries. */
  text?: string;
  /** Repeat the text this many times. */
  repeat?: number;
  /** This many seeded pseudo-random bytes. */
  random?: number | string;
  seed?: number;
  /** Each aligned u8/u16/u32 holds (the low bits of) its own byte offset, little-endian. */
  pattern?: 'u8' | 'u16le' | 'u32le';
  /** Size for `pattern`, or the total (sparse) size for `chunks`. */
  size?: number | string;
  /** Data placed at offsets of an otherwise empty file of `size` (holes on ext2). */
  chunks?: Array<ContentSpec & { at: number | string }>;
}

export type TreeEntry =
  | { folder: string; attrs?: string }
  | ({ file: string; attrs?: string } & ContentSpec)
  | { symlink: string; target: string }
  | ({ many: string; count: number; start?: number } & ContentSpec)
  | ({ append: string } & ContentSpec)
  | { delete: string };

export interface FsSpec {
  type: FsType;
  label?: string;
  /** FAT: volume serial number, 8 hex digits. */
  volumeId?: string;
  /** FAT: sectors per cluster. */
  clusterSectors?: number;
  fats?: number;
  rootEntries?: number;
  /** ext2: 1024, 2048 or 4096. */
  blockSize?: number;
  inodeSize?: number;
  inodes?: number;
  uuid?: string;
}

export type CorruptionSpec =
  | { kind: 'fat-cycle'; path: string }
  | { kind: 'fat-entry'; path: string; value: number }
  | { kind: 'fat-dirent'; path: string; field: 'size' | 'cluster'; value: number }
  | { kind: 'fat-bpb'; field: 'bytesPerSector' | 'sectorsPerCluster' | 'fats' | 'signature'; value: number }
  | { kind: 'ext2-super'; field: string; value: number | string }
  | { kind: 'ext2-inode'; path: string; field: string; value: number | string }
  | { kind: 'ext2-dirent'; path: string; field: 'rec_len' | 'inode' | 'name_len'; value: number }
  | { kind: 'raw'; offset: number; hex: string; affects: 'partition' | string[] };

export interface PartitionSpec {
  /** First sector (absolute); 0 and ignored for `table: none`. */
  start: number;
  sectors: number;
  /** MBR: hex type byte ("0c", "83", "05" extended); GPT: sgdisk code ("0700", "8300") or a GUID. */
  type: string;
  /** MBR: a logical partition inside the extended one. */
  logical?: boolean;
  /** GPT: the partition's unique GUID and name. */
  guid?: string;
  name?: string;
  /** Absent for an extended partition (a container only). */
  fs?: FsSpec;
  tree: TreeEntry[];
  /** Applied in order after `tree` (FAT: mtools steps, e.g. to fragment a file). */
  steps: TreeEntry[];
  corrupt: CorruptionSpec[];
}

export interface Recipe {
  version: 1;
  name: string;
  description: string;
  /** Image size in bytes. */
  size: number;
  table: TableType;
  /** MBR disk signature (hex) or GPT disk GUID. */
  diskId?: string;
  /** Every staged file and folder gets this time (UTC); FAT keeps even seconds only. */
  time: number;
  partitions: PartitionSpec[];
}

/** A recipe that cannot be built as written. */
export class RecipeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RecipeError';
  }
}

const SIZE_UNITS: Record<string, number> = {
  '': 1,
  K: 1024,
  KIB: 1024,
  M: 1 << 20,
  MIB: 1 << 20,
  G: 1 << 30,
  GIB: 1 << 30,
};

/** `123`, `"64MiB"`, `"1440KiB"`, `"0x100"` -> bytes. */
export function parseSize(value: number | string, what: string): number {
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return value;
  if (typeof value === 'string') {
    const m = /^\s*(0x[0-9a-f]+|\d+)\s*([a-z]*)\s*$/i.exec(value);
    const unit = m ? SIZE_UNITS[m[2].toUpperCase()] : undefined;
    if (m && unit !== undefined) return Number(m[1]) * unit;
  }
  throw new RecipeError(`${what}: not a size: ${JSON.stringify(value)}`);
}

/** An MBR entry type that only holds logical partitions. */
export function isExtendedType(type: string): boolean {
  return /^(0?5|0?f|85)$/i.test(type);
}

function fail(where: string, message: string): never {
  throw new RecipeError(`${where}: ${message}`);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const FS_TYPES: FsType[] = ['fat12', 'fat16', 'fat32', 'ext2'];

function parseFs(v: unknown, where: string): FsSpec {
  if (!isObject(v)) fail(where, 'fs must be an object');
  if (!FS_TYPES.includes(v.type as FsType)) fail(where, `fs.type must be one of ${FS_TYPES.join(', ')}`);
  return v as unknown as FsSpec;
}

function parseEntries(v: unknown, where: string): TreeEntry[] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) fail(where, 'must be an array');
  const keys = ['folder', 'file', 'symlink', 'many', 'append', 'delete'];
  v.forEach((e, i) => {
    if (!isObject(e) || keys.filter((k) => k in e).length !== 1)
      fail(`${where}[${i}]`, `needs exactly one of ${keys.join(', ')}`);
  });
  return v as TreeEntry[];
}

function parsePartition(v: unknown, where: string, table: TableType, diskSectors: number): PartitionSpec {
  if (!isObject(v)) fail(where, 'must be an object');
  const start = table === 'none' ? 0 : Number(v.start);
  const sectors = table === 'none' ? diskSectors : Number(v.sectors);
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(sectors) || sectors <= 0)
    fail(where, 'start and sectors must be integers');
  if (start + sectors > diskSectors) fail(where, 'ends past the end of the image');
  const type = table === 'none' ? '' : String(v.type ?? '');
  if (table !== 'none' && !type) fail(where, 'type is required');
  const extended = table === 'mbr' && isExtendedType(type);
  if (!extended && v.fs === undefined) fail(where, 'fs is required');
  return {
    start,
    sectors,
    type,
    logical: v.logical === true,
    guid: v.guid as string | undefined,
    name: v.name as string | undefined,
    fs: v.fs === undefined ? undefined : parseFs(v.fs, `${where}.fs`),
    tree: parseEntries(v.tree, `${where}.tree`),
    steps: parseEntries(v.steps, `${where}.steps`),
    corrupt: (v.corrupt ?? []) as CorruptionSpec[],
  };
}

/** Validates a parsed recipe; `name` defaults to the file's base name. */
export function parseRecipe(json: unknown, name: string): Recipe {
  if (!isObject(json)) fail(name, 'a recipe is a JSON object');
  if (json.version !== RECIPE_VERSION) fail(name, `version must be ${RECIPE_VERSION}`);
  const size = parseSize(json.size as number | string, `${name}.size`);
  if (size % 512 !== 0) fail(name, 'size must be a multiple of 512');
  const table = (json.table ?? 'none') as TableType;
  if (!['none', 'mbr', 'gpt'].includes(table)) fail(name, 'table must be none, mbr or gpt');
  const time =
    json.time === undefined ? Date.UTC(2020, 0, 2, 3, 4, 6) / 1000 : Date.parse(String(json.time)) / 1000;
  if (!Number.isFinite(time)) fail(name, 'time must be an ISO date');
  if (!Array.isArray(json.partitions) || json.partitions.length === 0)
    fail(name, 'partitions must be a non-empty array');
  if (table === 'none' && json.partitions.length !== 1)
    fail(name, 'table none holds exactly one file system');
  const partitions = json.partitions.map((p, i) =>
    parsePartition(p, `${name}.partitions[${i}]`, table, size / 512),
  );
  return {
    version: RECIPE_VERSION,
    name: (json.name as string | undefined) ?? name,
    description: String(json.description ?? ''),
    size,
    table,
    diskId: json.diskId as string | undefined,
    time,
    partitions,
  };
}

/** Reads and validates a recipe file. */
export function loadRecipe(recipePath: string): { recipe: Recipe; text: string } {
  const text = fs.readFileSync(recipePath, 'utf8');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new RecipeError(`${recipePath}: ${(e as Error).message}`);
  }
  return { recipe: parseRecipe(json, path.basename(recipePath, '.json')), text };
}
