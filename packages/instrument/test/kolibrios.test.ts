import * as fs from 'node:fs';
import * as path from 'node:path';
import { instrument } from '@fasmcov/instrument';
import { tempDir } from './helpers';

// The real KolibriOS kernel (GPL, never in this repository): with KOLIBRIOS pointing at a checkout,
// its kernel/trunk/kernel.asm is copied to a temporary folder and instrumented. The whole kernel does
// not fit KolibriOS's memory map once every line carries a probe (kernel.asm asserts the size), so
// the file-system code developers test is probed: fs/fat.inc, in flag mode.

const root = process.env.KOLIBRIOS;
if (!root) process.stdout.write('KOLIBRIOS is not set: the KolibriOS kernel tests are skipped\n');
const maybe = root ? it : it.skip;

function copyTree(from: string, to: string): void {
  fs.mkdirSync(to, { recursive: true });
  for (const e of fs.readdirSync(from, { withFileTypes: true })) {
    if (e.isDirectory()) copyTree(path.join(from, e.name), path.join(to, e.name));
    else if (e.isFile()) fs.copyFileSync(path.join(from, e.name), path.join(to, e.name));
  }
}

maybe(
  'instruments the KolibriOS kernel (fs/fat.inc) and the result assembles',
  () => {
    const work = tempDir('kolibrios');
    const trunk = path.join(work, 'kernel/trunk');
    copyTree(path.join(root as string, 'kernel/trunk'), trunk);
    // The kernel includes a few files from programs/ by relative path.
    for (const f of ['macros.inc', 'proc32.inc', 'struct.inc', 'config.inc']) {
      const src = path.join(root as string, 'programs', f);
      if (fs.existsSync(src)) {
        fs.mkdirSync(path.join(work, 'programs'), { recursive: true });
        fs.copyFileSync(src, path.join(work, 'programs', f));
      }
    }
    fs.writeFileSync(path.join(trunk, 'lang.inc'), 'lang fix en_US\n');
    const r = instrument({
      main: path.join(trunk, 'kernel.asm'),
      outDir: path.join(work, 'out'),
      mode: 'flag',
      include: ['fs/fat.inc'],
      memoryKiB: 262144,
      cwd: trunk,
    });
    expect(r.map.count).toBeGreaterThan(1000);
    expect(r.map.probes.every((p) => p.file === 'fs/fat.inc')).toBe(true);
    expect(r.build.output.length).toBeGreaterThan(r.stats.plainCodeBytes);
    process.stdout.write(
      `KolibriOS kernel: ${r.map.count} probes in fs/fat.inc, code ${r.stats.plainCodeBytes} -> ` +
        `${r.stats.instrumentedCodeBytes} bytes, ${r.stats.milliseconds} ms\n`,
    );
  },
  600_000,
);

// UMKa (the KolibriOS kernel built as a user-space object) with the kernel's file-system code found
// through INCLUDE: the -I folder is copied and probed too. UMKa and KolibriOS must be of matching
// revisions (UMKa's makefile builds against $KOLIBRIOS).
const umka = process.env.UMKA;
if (!umka || !root) process.stdout.write('UMKA or KOLIBRIOS is not set: the UMKa build test is skipped\n');
const maybeUmka = umka && root ? it : it.skip;

maybeUmka(
  'instruments the UMKa build with the KolibriOS fs/ code it includes, and it assembles',
  () => {
    const r = instrument({
      main: path.join(umka as string, 'umka.asm'),
      outDir: tempDir('umka'),
      includeDirs: [
        path.join(root as string, 'kernel/trunk'),
        path.join(root as string, 'programs/develop/libraries/libcrash/hash'),
      ],
      defines: [
        ['UEFI', '1'],
        ['extended_primary_loader', '1'],
        ['UMKA', '1'],
        ['HOST', 'linux'],
        ['lang', 'en_US'],
      ],
      mode: 'count',
      include: ['fs/**'],
      memoryKiB: 2000000,
      cwd: umka,
    });
    expect(r.map.probes.some((p) => p.file === 'fs/fat.inc')).toBe(true);
    expect(r.map.probes.every((p) => p.file.startsWith('fs/'))).toBe(true);
    expect(r.map.count).toBeGreaterThan(5000);
    process.stdout.write(
      `UMKa: ${r.map.count} probes in fs/, code ${r.stats.plainCodeBytes} -> ${r.stats.instrumentedCodeBytes} bytes\n`,
    );
  },
  600_000,
);
