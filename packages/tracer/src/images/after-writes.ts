import * as fs from 'node:fs';
import * as path from 'node:path';
import type { BuiltImage, BuiltPartition } from './build';
import { catExt2, catFat, fsckExt2, fsckFat, listExt2, listFat } from './oracle';

/** What a script claims to have written to one partition (see checkReferenceLogDetailed). */
export interface ExpectedWrites {
  partition: number;
  files: Map<string, Buffer>;
  folders: string[];
  removed: string[];
}

function cat(image: string, p: BuiltPartition, rel: string): Buffer | null {
  return p.fs === 'ext2' ? catExt2(image, p.offset, rel, p.sectors * 512) : catFat(image, p.offset, rel);
}

function list(image: string, p: BuiltPartition, rel: string): unknown[] | null {
  return p.fs === 'ext2' ? listExt2(image, p.offset, rel, p.sectors * 512) : listFat(image, p.offset, rel);
}

/** Host files (relative paths) of a partition, small ones only: reading them all back must stay cheap. */
function hostFiles(root: string, rel = '', out: string[] = []): string[] {
  for (const e of fs.readdirSync(path.join(root, rel), { withFileTypes: true })) {
    const r = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) hostFiles(root, r, out);
    else if (e.isFile() && fs.statSync(path.join(root, r)).size <= 1 << 20) out.push(r);
  }
  return out;
}

function sameKey(p: BuiltPartition, a: string, b: string): boolean {
  return p.fs === 'ext2' ? a === b : a.toUpperCase() === b.toUpperCase();
}

/**
 * After a script wrote to a copy of an image: fsck (-n) finds nothing wrong, the written files
 * read back (mtools / debugfs) as the transcript claims, created folders exist, removed entries
 * are gone, and the files nobody touched still hold their original bytes. Returns the problems.
 */
export function checkImageAfterWrites(
  image: string,
  built: BuiltImage,
  expected: ExpectedWrites[],
): string[] {
  const problems: string[] = [];
  for (const p of built.partitions) {
    const where = `${path.basename(image)} partition ${p.number}`;
    if (p.corruptions.length > 0) continue;
    const fsck =
      p.fs === 'ext2'
        ? fsckExt2(image, p.offset, p.sectors * 512)
        : fsckFat(image, p.offset, p.sectors * 512);
    if (!fsck.ok) problems.push(`${where}: fsck found problems:\n${fsck.output.trim()}`);
    const exp = expected.find((e) => e.partition === p.number) ?? {
      files: new Map(),
      folders: [],
      removed: [],
    };
    for (const [rel, bytes] of exp.files) {
      const got = cat(image, p, rel);
      if (!got) problems.push(`${where}: ${rel} cannot be read back`);
      else if (!got.equals(bytes))
        problems.push(
          `${where}: ${rel} reads back ${got.length} bytes that differ from the ${bytes.length} written`,
        );
    }
    for (const rel of exp.folders)
      if (list(image, p, rel) === null) problems.push(`${where}: folder ${rel} is missing`);
    for (const rel of exp.removed)
      if (cat(image, p, rel) !== null) problems.push(`${where}: ${rel} still exists`);
    const touched = [...exp.files.keys(), ...exp.removed];
    for (const rel of hostFiles(p.hostTree)) {
      if (touched.some((t) => sameKey(p, t, rel) || sameKey(p, rel.slice(0, t.length + 1), `${t}/`)))
        continue;
      const got = cat(image, p, rel);
      if (!got || !got.equals(fs.readFileSync(path.join(p.hostTree, rel))))
        problems.push(`${where}: untouched ${rel} changed`);
    }
  }
  return problems;
}
