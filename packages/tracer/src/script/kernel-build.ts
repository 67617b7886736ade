import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { assemble, FasFile } from '@fasmcov/fas';
import type { LoadedImage } from '../loaders';

export interface KernelBuild {
  object: string;
  fas: string;
  /** True when the cached build was reused. */
  cached: boolean;
}

function sourcesOf(dir: string): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...sourcesOf(full));
    else if (/\.(asm|inc)$/.test(e.name)) out.push(full);
  }
  return out.sort();
}

/**
 * Assembles `<kernelDir>/kernel.asm` into `<outDir>/kernel.o` + `kernel.fas`, reusing the previous
 * build while no source under `kernelDir` changed (a hash of every .asm/.inc names the build).
 */
export function buildKernel(kernelDirArg: string, outDirArg: string): KernelBuild {
  // fasm runs inside the kernel folder (its includes are relative), so every path must be absolute.
  const kernelDir = path.resolve(kernelDirArg);
  const outDir = path.resolve(outDirArg);
  const hash = createHash('sha256');
  for (const f of sourcesOf(kernelDir))
    hash.update(path.relative(kernelDir, f)).update('\0').update(fs.readFileSync(f));
  const key = hash.digest('hex').slice(0, 16);
  const object = path.join(outDir, 'kernel.o');
  const fas = path.join(outDir, 'kernel.fas');
  const stamp = path.join(outDir, 'kernel.hash');
  if (
    fs.existsSync(object) &&
    fs.existsSync(fas) &&
    fs.existsSync(stamp) &&
    fs.readFileSync(stamp, 'utf8') === key
  )
    return { object, fas, cached: true };
  fs.mkdirSync(outDir, { recursive: true });
  fs.rmSync(stamp, { force: true });
  assemble(path.join(kernelDir, 'kernel.asm'), { output: object, symbols: fas, cwd: kernelDir });
  fs.writeFileSync(stamp, key);
  return { object, fas, cached: false };
}

/**
 * Absolute address of any label of a loaded object (public or not), from its .fas: the label's
 * section offset plus where the loader put that section.
 */
export function labelAddress(fas: FasFile, image: LoadedImage, name: string): number | undefined {
  const s = fas.symbol(name);
  if (!s || !s.defined || s.section === 0) return undefined;
  const section = image.sections.find((x) => x.fasSection === s.section);
  return section ? (section.base + s.address) >>> 0 : undefined;
}
