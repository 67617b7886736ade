import * as fs from 'node:fs';
import * as path from 'node:path';
import { FasFile } from '@fasmcov/fas';
import {
  buildUmka,
  DEFAULT_UMKA_LAYOUT,
  layoutFromSymbols,
  makeUmkaImage,
  parseElf,
  readSymbols,
  runUmkaScript,
  UMKA_EXTERNS,
  UMKA_IMAGES,
  UmkaSession,
} from '@fasmcov/tracer';

// The real KolibriOS kernel built as UMKa (GPL, never in this repository): with UMKA and
// KOLIBRIOS pointing at checkouts, umka.o is assembled, UMKa's test images are generated and
// UMKa's own tests run in the emulator; each transcript must equal the test's ref.log byte for
// byte. t062 (FAT12) runs by default; FASMCOV_UMKA_TESTS=t062,t063,t060,t061 picks others.

const umka = process.env.UMKA;
const kolibrios = process.env.KOLIBRIOS;
if (!umka || !kolibrios)
  process.stdout.write('UMKA and KOLIBRIOS are not both set: the UMKa kernel tests are skipped\n');
const maybe = umka && kolibrios ? describe : describe.skip;
const repoRoot = path.resolve(__dirname, '../../../..');
const cache = path.join(repoRoot, '.cache/umka');
const tests = (process.env.FASMCOV_UMKA_TESTS ?? 't062').split(',').filter((t) => t);

maybe('UMKa kernel (umka.o) in the emulator', () => {
  let object: Buffer;
  let fas: FasFile;
  beforeAll(() => {
    const b = buildUmka({
      umka: umka as string,
      kolibrios: kolibrios as string,
      outDir: path.join(cache, 'build'),
    });
    object = fs.readFileSync(b.object);
    fas = FasFile.read(b.fas);
  }, 300_000);

  it('needs only the externs fasmcov binds, and the structure layout it assumes', () => {
    const layout = layoutFromSymbols((n) => fas.symbol(n)?.address);
    expect(layout).toEqual(DEFAULT_UMKA_LAYOUT);
    const elf = parseElf('umka.o', object);
    const symtab = elf.sections.find((x) => x.type === 2)!;
    const undefinedNames = readSymbols(elf, symtab)
      .filter((x) => x.shndx === 0 && x.name)
      .map((x) => x.name);
    expect(undefinedNames.sort()).toEqual([...UMKA_EXTERNS].sort());
    const s = new UmkaSession(object, 'umka.o');
    expect(s.booted).toBe(false);
    s.boot();
    expect(s.booted).toBe(true);
    s.close();
  }, 120_000);

  it.each(tests)(
    '%s matches its ref.log byte for byte',
    (test) => {
      const dir = path.join(umka as string, 'test', test);
      const script = fs.readFileSync(path.join(dir, 'run.us'), 'latin1');
      for (const m of script.matchAll(/disk_add\s+(\S+)/g))
        makeUmkaImage(UMKA_IMAGES[path.basename(m[1])], path.join(cache, 'img'));
      const r = runUmkaScript({
        kernel: object,
        kernelFile: 'umka.o',
        script: path.join(dir, 'run.us'),
        scriptText: script,
        imageDir: path.join(cache, 'img'),
      });
      process.stdout.write(`${test}: ${r.instructions} instructions in ${r.seconds.toFixed(1)} s\n`);
      expect(r.transcript).toBe(fs.readFileSync(path.join(dir, 'ref.log'), 'latin1'));
    },
    900_000,
  );
});
