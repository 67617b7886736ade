import * as fs from 'node:fs';
import * as path from 'node:path';
import type { BuiltImage } from '../images';
import { parseScript } from './commands';
import { runScript, ScriptRunError } from './run-script';

/** One image the fuzzer corrupts: its pristine build and how much of its start holds metadata. */
export interface FuzzImage {
  built: BuiltImage;
  /** Bytes from the start of partition 1 where corruptions land (boot sector, FAT, inodes, dirs). */
  metadataBytes: number;
}

export interface FuzzCase {
  image: string;
  seed: number;
  /** Byte offsets in the image and the values written there. */
  patches: Array<[number, number]>;
}

export interface FuzzFailure extends FuzzCase {
  message: string;
}

/** xorshift32: a small deterministic generator, so every case can be replayed from its seed. */
export function xorshift32(seed: number): () => number {
  let s = seed >>> 0 || 0x9e3779b9;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s;
  };
}

/** Every file and folder of a host tree (relative paths, folders first, sorted), to depth 3. */
function walk(root: string, rel = '', depth = 0, out: Array<{ rel: string; folder: boolean }> = []) {
  for (const name of fs.readdirSync(path.join(root, rel)).sort()) {
    const r = rel ? `${rel}/${name}` : name;
    const st = fs.lstatSync(path.join(root, r));
    out.push({ rel: r, folder: st.isDirectory() });
    if (st.isDirectory() && depth < 3) walk(root, r, depth + 1, out);
  }
  return out;
}

/**
 * The script each corrupted image gets: list every folder, stat and hash-read every file, and on
 * FAT also write (create, mkdir, delete) — every path through metadata the kernel must survive.
 */
export function fuzzScript(built: BuiltImage, imageName: string): string {
  const p = built.partitions[0];
  const q = (rel: string) => JSON.stringify(`/hd0/1/${rel}`);
  const lines = [`disk_add ${imageName} hd0 -c 4096`, 'ls80 /hd0/1'];
  for (const e of walk(p.hostTree)) {
    if (e.folder) lines.push(`ls80 ${q(e.rel)}`, `stat80 ${q(e.rel)}`);
    else
      lines.push(`stat80 ${q(e.rel)}`, `read80 ${q(e.rel)} 0 1048576 -h`, `read80 ${q(e.rel)} 4000 100 -b`);
  }
  if (p.fs !== 'ext2')
    lines.push(
      'mkdir80 /hd0/1/fuzz-dir',
      'create80 /hd0/1/fuzz-dir/new.txt fuzz-data.bin',
      'write80 /hd0/1/fuzz-dir/new.txt 9000 fuzz-data.bin',
      'setsize80 /hd0/1/fuzz-dir/new.txt 100',
      'ls80 /hd0/1/fuzz-dir',
      'rm80 /hd0/1/fuzz-dir/new.txt',
      'rm80 /hd0/1/fuzz-dir',
    );
  lines.push('disk_del hd0');
  return `${lines.join('\n')}\n`;
}

/** A case's corruptions: 1..8 random bytes (or bit flips) in the metadata area. */
export function fuzzCase(image: FuzzImage, seed: number): FuzzCase {
  const rnd = xorshift32(seed);
  const start = image.built.partitions[0].offset;
  const n = 1 + (rnd() % 8);
  const original = fs.readFileSync(image.built.image);
  const patches: Array<[number, number]> = [];
  for (let i = 0; i < n; i++) {
    const at = start + (rnd() % image.metadataBytes);
    const value = rnd() % 2 ? rnd() & 0xff : original[at] ^ (1 << (rnd() % 8));
    patches.push([at, value]);
  }
  return { image: path.basename(image.built.image), seed, patches };
}

/**
 * Runs the fuzz script on `count` corrupted copies of each image. A status is always fine; a guest
 * fault, an exhausted budget (a hang) or a host error is a failure, returned with its seed.
 */
export function fuzzKernel(o: {
  kernel: Uint8Array;
  kernelFile: string;
  images: FuzzImage[];
  count: number;
  seed: number;
  workDir: string;
  maxInstructions?: number;
  onCase?: (c: FuzzCase, failure?: FuzzFailure) => void;
}): FuzzFailure[] {
  const failures: FuzzFailure[] = [];
  fs.mkdirSync(o.workDir, { recursive: true });
  fs.writeFileSync(path.join(o.workDir, 'fuzz-data.bin'), Buffer.alloc(5000, 0x5a));
  for (const image of o.images) {
    const name = path.basename(image.built.image);
    const scriptFile = path.join(o.workDir, `${name}.us`);
    fs.writeFileSync(scriptFile, fuzzScript(image.built, name));
    const lines = parseScript(fs.readFileSync(scriptFile, 'utf8'), scriptFile);
    const pristine = fs.readFileSync(image.built.image);
    for (let i = 0; i < o.count; i++) {
      const c = fuzzCase(image, o.seed + i);
      const bytes = Buffer.from(pristine);
      for (const [at, v] of c.patches) bytes[at] = v;
      fs.writeFileSync(path.join(o.workDir, name), bytes);
      let failure: FuzzFailure | undefined;
      try {
        runScript({
          kernel: o.kernel,
          kernelFile: o.kernelFile,
          lines,
          script: scriptFile,
          imageDir: o.workDir,
          maxInstructions: o.maxInstructions ?? 5e8,
        });
      } catch (e) {
        failure = { ...c, message: e instanceof ScriptRunError ? e.message : String(e) };
        failures.push(failure);
      }
      o.onCase?.(c, failure);
    }
  }
  return failures;
}
