import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { type CorruptionEffect, applyCorruptions } from './corrupt';
import { Ext2Writer, formatExt2 } from './ext2-builder';
import { FatWriter, formatFat } from './fat-builder';
import { kernelOrder, writePartitionTable } from './partition-table';
import { populate } from './populate';
import { type FsType, type PartitionSpec, type Recipe, loadRecipe } from './recipe';

/** Bump when a change here changes the bytes an unchanged recipe builds to (invalidates caches). */
export const BUILDER_VERSION = 1;

export interface BuiltPartition {
  /** The number the kernel gives it: /hdN/<number>. */
  number: number;
  /** First sector and length in sectors. */
  start: number;
  sectors: number;
  /** Byte offset in the image (for mtools' `-i image@@offset`). */
  offset: number;
  fs: FsType;
  label?: string;
  /** The host folder the partition was built from (its final state, after steps). */
  hostTree: string;
  corruptions: CorruptionEffect[];
}

export interface BuiltImage {
  /** The image file: `<cacheDir>/<recipe name>.img`. */
  image: string;
  /** Host folder holding one sub-folder per partition, named by its number. */
  hostTree: string;
  partitions: BuiltPartition[];
  recipe: Recipe;
  sha256: string;
}

/** `<repo>/.cache/images`, found from this file's place in packages/tracer/{src,dist}/images. */
export function defaultImageCache(): string {
  return path.resolve(__dirname, '../../../../.cache/images');
}

function recipeKey(text: string): string {
  return createHash('sha256').update(`fasmcov-images ${BUILDER_VERSION}\n${text}`).digest('hex');
}

export function sha256File(file: string): string {
  const hash = createHash('sha256');
  const fd = fs.openSync(file, 'r');
  try {
    const buf = Buffer.alloc(1 << 20);
    for (let n; (n = fs.readSync(fd, buf, 0, buf.length, null)) > 0;) hash.update(buf.subarray(0, n));
  } finally {
    fs.closeSync(fd);
  }
  return hash.digest('hex');
}

/** Copies a partition file into the image at `offset`, skipping zero blocks so the image stays sparse. */
function copyInto(image: string, offset: number, partFile: string): void {
  const src = fs.openSync(partFile, 'r');
  const dst = fs.openSync(image, 'r+');
  try {
    const buf = Buffer.alloc(1 << 16);
    const zero = Buffer.alloc(1 << 16);
    for (let pos = 0, n; (n = fs.readSync(src, buf, 0, buf.length, pos)) > 0; pos += n) {
      if (!buf.subarray(0, n).equals(zero.subarray(0, n))) fs.writeSync(dst, buf, 0, n, offset + pos);
    }
  } finally {
    fs.closeSync(src);
    fs.closeSync(dst);
  }
}

function buildFileSystem(
  file: string,
  p: PartitionSpec,
  recipe: Recipe,
  hostDir: string,
  scratch: string,
): void {
  const fsSpec = p.fs!;
  const where = `${recipe.name}: partition at ${p.start}`;
  if (fsSpec.type === 'ext2') {
    formatExt2(file, fsSpec, recipe.time);
    const writer = new Ext2Writer(file, recipe.time, fsSpec.inodeSize ?? 128, scratch);
    populate(hostDir, [...p.tree, ...p.steps], recipe.time, writer, where);
  } else {
    formatFat(file, fsSpec, p.start, recipe.time);
    populate(hostDir, [...p.tree, ...p.steps], recipe.time, new FatWriter(file, recipe.time), where);
  }
}

/** Builds every partition into `work` (image.img, host/<n>/); returns partition info with work paths. */
function buildInto(work: string, recipe: Recipe): BuiltPartition[] {
  const image = path.join(work, 'image.img');
  fs.writeFileSync(image, '');
  fs.truncateSync(image, recipe.size);
  writePartitionTable(image, recipe);
  return kernelOrder(recipe).map((p, i) => {
    const number = i + 1;
    const hostDir = path.join(work, 'host', String(number));
    const partFile = recipe.table === 'none' ? image : path.join(work, `part${number}.img`);
    if (partFile !== image) {
      fs.writeFileSync(partFile, '');
      fs.truncateSync(partFile, p.sectors * 512);
    }
    buildFileSystem(partFile, p, recipe, hostDir, work);
    const corruptions = applyCorruptions(partFile, p.fs!, p.corrupt);
    if (partFile !== image) {
      copyInto(image, p.start * 512, partFile);
      fs.rmSync(partFile);
    }
    return {
      number,
      start: p.start,
      sectors: p.sectors,
      offset: p.start * 512,
      fs: p.fs!.type,
      label: p.fs!.label,
      hostTree: hostDir,
      corruptions,
    };
  });
}

interface CacheRecord {
  key: string;
  sha256: string;
  partitions: BuiltPartition[];
}

function readCache(metaFile: string, key: string, image: string): CacheRecord | undefined {
  try {
    const rec = JSON.parse(fs.readFileSync(metaFile, 'utf8')) as CacheRecord;
    if (rec.key === key && fs.existsSync(image) && rec.partitions.every((p) => fs.existsSync(p.hostTree)))
      return rec;
  } catch {
    // No record, or a damaged one: build again.
  }
  return undefined;
}

/**
 * Builds the image a recipe describes (or returns the cached one): `<cacheDir>/<name>.img`, its host
 * trees in `<cacheDir>/<name>.host/<n>/` and a record `<name>.build.json`. Everything is built in a
 * temporary folder and renamed into place, so an interrupted build never leaves a partial image.
 */
export function buildImage(recipePath: string, cacheDir: string = defaultImageCache()): BuiltImage {
  const { recipe, text } = loadRecipe(recipePath);
  const key = recipeKey(text);
  const image = path.join(cacheDir, `${recipe.name}.img`);
  const hostTree = path.join(cacheDir, `${recipe.name}.host`);
  const metaFile = path.join(cacheDir, `${recipe.name}.build.json`);
  const cached = readCache(metaFile, key, image);
  if (cached) return { image, hostTree, partitions: cached.partitions, recipe, sha256: cached.sha256 };

  fs.mkdirSync(cacheDir, { recursive: true });
  const work = fs.mkdtempSync(path.join(cacheDir, `.build-${recipe.name}-`));
  try {
    const built = buildInto(work, recipe);
    const sha256 = sha256File(path.join(work, 'image.img'));
    const partitions = built.map((p) => ({ ...p, hostTree: path.join(hostTree, String(p.number)) }));
    fs.rmSync(metaFile, { force: true });
    fs.rmSync(hostTree, { recursive: true, force: true });
    fs.renameSync(path.join(work, 'host'), hostTree);
    fs.renameSync(path.join(work, 'image.img'), image);
    const record: CacheRecord = { key, sha256, partitions };
    fs.writeFileSync(`${metaFile}.tmp`, JSON.stringify(record, null, 2));
    fs.renameSync(`${metaFile}.tmp`, metaFile);
    return { image, hostTree, partitions, recipe, sha256 };
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}
