import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { assemble } from '@fasmcov/fas';

export interface UmkaBuildOptions {
  /** UMKa checkout (holds umka.asm). */
  umka: string;
  /** KolibriOS checkout (holds kernel/trunk). */
  kolibrios: string;
  /** Where umka.o, umka.fas and the stamp go. */
  outDir: string;
}

export interface UmkaBuild {
  object: string;
  fas: string;
  /** True when an earlier build of the same sources was reused. */
  cached: boolean;
  key: string;
}

/** fasm's options in UMKa's makefile for a Linux host. */
export const UMKA_DEFINES: Array<[string, string]> = [
  ['UEFI', '1'],
  ['extended_primary_loader', '1'],
  ['UMKA', '1'],
  ['HOST', 'linux'],
  ['lang', 'en_US'],
];
/** fasm's memory for umka.asm (UMKa's makefile gives it -m 2000000). */
export const UMKA_FASM_MEMORY_KIB = 2000000;

function sourcesUnder(dir: string, recursive: boolean): string[] {
  if (!fs.existsSync(dir)) return [];
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, e.name);
    if (e.isDirectory() && recursive) out.push(...sourcesUnder(full, true));
    else if (e.isFile() && /\.(asm|inc|mac)$/i.test(e.name)) out.push(full);
  }
  return out.sort();
}

/** The INCLUDE folders umka.asm is assembled with. */
export function umkaIncludeDirs(o: Pick<UmkaBuildOptions, 'kolibrios'>): string[] {
  return [
    path.join(o.kolibrios, 'kernel/trunk'),
    path.join(o.kolibrios, 'programs/develop/libraries/libcrash/hash'),
  ];
}

/** A hash of every source fasm may read (UMKa's top folder, kernel/trunk, libcrash's hash). */
export function umkaBuildKey(o: UmkaBuildOptions): string {
  const hash = createHash('sha256');
  hash.update(JSON.stringify(UMKA_DEFINES));
  const [kernel, libcrash] = umkaIncludeDirs(o);
  const files = [
    ...sourcesUnder(o.umka, false),
    ...sourcesUnder(kernel, true),
    ...sourcesUnder(libcrash, true),
    ...sourcesUnder(path.join(o.kolibrios, 'programs'), false),
  ];
  for (const f of files) hash.update(f).update('\0').update(fs.readFileSync(f));
  return hash.digest('hex').slice(0, 16);
}

/**
 * Assembles umka.asm into `<outDir>/umka.o` + `umka.fas` as UMKa's makefile does, reusing the
 * previous build while no source changed.
 */
export function buildUmka(o: UmkaBuildOptions): UmkaBuild {
  const umka = path.resolve(o.umka);
  const abs = { umka, kolibrios: path.resolve(o.kolibrios), outDir: path.resolve(o.outDir) };
  if (!fs.existsSync(path.join(umka, 'umka.asm')))
    throw new Error(`${umka}: no umka.asm (not a UMKa checkout)`);
  if (!fs.existsSync(path.join(abs.kolibrios, 'kernel/trunk/kernel.asm')))
    throw new Error(`${abs.kolibrios}: no kernel/trunk/kernel.asm (not a KolibriOS checkout)`);
  const key = umkaBuildKey(abs);
  const object = path.join(abs.outDir, 'umka.o');
  const fas = path.join(abs.outDir, 'umka.fas');
  const stamp = path.join(abs.outDir, 'umka.hash');
  const fresh = [object, fas, stamp].every((f) => fs.existsSync(f));
  if (fresh && fs.readFileSync(stamp, 'utf8') === key) return { object, fas, cached: true, key };
  fs.mkdirSync(abs.outDir, { recursive: true });
  fs.rmSync(stamp, { force: true });
  assemble(path.join(umka, 'umka.asm'), {
    output: object,
    symbols: fas,
    includeDirs: umkaIncludeDirs(abs),
    defines: UMKA_DEFINES,
    memoryKiB: UMKA_FASM_MEMORY_KIB,
    cwd: umka,
  });
  fs.writeFileSync(stamp, key);
  return { object, fas, cached: false, key };
}
