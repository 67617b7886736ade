import * as fs from 'node:fs';
import * as path from 'node:path';
import type { InstrumentResult, ProbeMode } from '@fasmcov/instrument';
import { BRANCH, buildImage, KernelSession, parseScript, ScriptRunner } from '@fasmcov/tracer';
import { build, instrumentInto, repoRoot, tempDir } from './helpers';

const kernelMain = path.join(repoRoot, 'kernel/kernel.asm');

// Reads, listings, a folder and a file created: enough to run mount, lookup, read and write paths.
const SCRIPT = `disk_add fat12-floppy.img hd0 -c 0
ls80 /hd0/1
stat80 /hd0/1/AUTOEXEC.BAT
read80 /hd0/1/DATA.BIN 1000 5000 -h
read70 /hd0/1/SYS/CONFIG.SYS 0 100 -b
ls70 /hd0/1/SYS
stat80 /hd0/1/no/such/file
mkdir80 /hd0/1/NEWDIR
create80 /hd0/1/NEWDIR/hello.txt hello.txt
read80 /hd0/1/NEWDIR/hello.txt 0 64 -b
disk_del hd0
`;

interface KernelRun {
  transcript: string;
  instructions: number;
  /** Conditional branch outcomes by section-relative address of `.text`. */
  taken: Map<number, number>;
  notTaken: Map<number, number>;
  slots: number[];
}

/** Runs SCRIPT against a kernel object on a fresh copy of the image; reads the probe area if asked. */
function runKernel(object: string, probes?: InstrumentResult): KernelRun {
  const dir = tempDir('script');
  fs.copyFileSync(
    buildImage(path.join(repoRoot, 'fixtures/images/fat12-floppy.json')).image,
    path.join(dir, 'fat12-floppy.img'),
  );
  fs.writeFileSync(path.join(dir, 'hello.txt'), 'hello from the instrumented kernel test\n');
  const script = path.join(dir, 'run.us');
  const session = new KernelSession(fs.readFileSync(object), object, {
    maxInstructions: 1e9,
  });
  const text = session.machine.images[0].sections.find((s) => s.name === '.text')!;
  // The session ran kernel_init before the branch hook could be set: both counts start from here.
  const area = probes && session.machine.images[0].sections.find((s) => s.name === probes.map.section)!;
  if (area) session.machine.memory.writeBytes(area.base, new Uint8Array(area.size));
  const run: KernelRun = {
    transcript: '',
    instructions: 0,
    taken: new Map(),
    notTaken: new Map(),
    slots: [],
  };
  session.machine.cpu.branchHook = (from, _to, kind) => {
    const m =
      kind === BRANCH.COND_TAKEN ? run.taken : kind === BRANCH.COND_NOT_TAKEN ? run.notTaken : undefined;
    m?.set(from - text.base, (m.get(from - text.base) ?? 0) + 1);
  };
  const lines: string[] = [];
  const runner = new ScriptRunner(session, { script, imageDir: dir, fileDir: dir }, (l) => lines.push(l));
  try {
    runner.runAll(parseScript(SCRIPT, script));
    if (probes && area) {
      run.slots = Array.from({ length: probes.map.count }, (_, i) =>
        probes.map.slotSize === 1
          ? session.machine.memory.read8(area.base + i)
          : session.machine.memory.read32(area.base + 4 * i) >>> 0,
      );
    }
  } finally {
    session.close();
  }
  run.transcript = lines.join('\n');
  run.instructions = session.instructions;
  return run;
}

let plain: KernelRun | undefined;
const plainRun = () => (plain ??= runKernel(build(kernelMain).exe));

describe.each<ProbeMode>(['count', 'flag'])('the bundled kernel, --mode %s', (mode) => {
  let result: InstrumentResult;
  let probed: KernelRun;
  beforeAll(() => {
    result = instrumentInto(`kernel-${mode}`, { main: kernelMain, mode });
    probed = runKernel(build(result.main).exe, result);
  });

  test('instruments every code line and assembles', () => {
    expect(result.skipped).toEqual([]);
    expect(result.map.format).toBe('elf-object');
    expect(result.map.section).toBe('.fcov');
    expect(result.stats.probes['function-entry']).toBeGreaterThan(100);
    expect(result.map.probes.every((p) => p.address?.sectionName === '.text')).toBe(true);
    const s = result.stats;
    process.stdout.write(
      `kernel --mode ${mode}: ${result.map.count} probes on ${s.rewrittenLines} lines, .text ${s.plainCodeBytes} -> ` +
        `${s.instrumentedCodeBytes} bytes (x${(s.instrumentedCodeBytes / s.plainCodeBytes).toFixed(2)}), ` +
        `instrumented in ${s.milliseconds} ms\n`,
    );
  });

  test('a script gives the same transcript; branch probes equal the emulator counts', () => {
    const reference = plainRun();
    expect(probed.transcript).toBe(reference.transcript);
    expect(reference.transcript).toContain('hello from the instrumented kernel test'.slice(0, 4));
    const branches = result.map.probes.filter((p) => p.kind.startsWith('branch'));
    const got = branches.map((p) => ({
      id: p.id,
      at: `${p.file}:${p.line}`,
      kind: p.kind,
      n: probed.slots[p.id],
    }));
    const want = branches.map((p) => {
      const m = p.kind === 'branch-taken' ? reference.taken : reference.notTaken;
      const n = m.get(p.address!.offset) ?? 0;
      return { id: p.id, at: `${p.file}:${p.line}`, kind: p.kind, n: mode === 'flag' ? Number(n > 0) : n };
    });
    expect(got).toEqual(want);
    expect(want.filter((w) => w.n > 0).length).toBeGreaterThan(100);
    // Line probes: a function the script calls ran, one it never needs (ext2) did not.
    const entry = (name: string) => probed.slots[result.map.probes.find((p) => p.function === name)!.id];
    expect(entry('disk_add')).toBeGreaterThan(0);
    expect(entry('ext2_read_folder')).toBe(0);
    process.stdout.write(
      `kernel --mode ${mode}: script ran ${reference.instructions} -> ${probed.instructions} instructions ` +
        `(x${(probed.instructions / reference.instructions).toFixed(2)})\n`,
    );
  });
});
