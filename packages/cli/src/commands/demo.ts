import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Command } from 'commander';
import { FasFile } from '@fasmcov/fas';
import { instrument, type InstrumentResult, type ProbeMap } from '@fasmcov/instrument';
import {
  buildKernel,
  classifyInstruction,
  fixtureScript,
  KernelSession,
  listFixtures,
  prepareFixture,
  runScript,
  ScriptRunner,
  unifiedDiff,
  type PreparedFixture,
} from '@fasmcov/tracer';
import {
  flameTreeFromFolded,
  mapCoverage,
  mergeCoverage,
  mergeExpansions,
  mergeFolded,
  profileFromRunDir,
  summarize,
  writeAsmHtml,
  writeReports,
  type CoverageDocument,
  type MacroExpansions,
} from '@fasmcov/report';
import { CliError } from '../errors';
import { checkPrerequisites } from '../prerequisites';
import { Progress } from '../progress';
import { edgesAgainstPt, probeDifferences } from '../three-way';

const repo = path.resolve(__dirname, '../../../..');
const MAX_INSTRUCTIONS = 2e10;

interface DemoOptions {
  output: string;
  fixtures: string;
}

/** The two builds of the kernel: plain (traced) and instrumented (probes count in guest memory). */
interface Kernels {
  object: string;
  bytes: Buffer;
  fas: FasFile;
  probed: InstrumentResult;
}

/** What one script gave: its coverage from edges, and the three-way check's findings. */
interface ScriptOutcome {
  name: string;
  transcriptOk: boolean;
  instructions: number;
  document: CoverageDocument;
  expansions: MacroExpansions;
  folded: Map<string, number>;
  mismatches: string[];
}

function buildKernels(progress: Progress, work: string): Kernels {
  progress.start('assembling kernel/kernel.asm');
  const k = buildKernel(path.join(repo, 'kernel'), path.join(repo, '.cache/kernel'));
  const fas = FasFile.read(k.fas, { cwd: path.join(repo, 'kernel') });
  progress.start('instrumenting kernel/ (probes counting lines, branch arms, function entries)');
  const probed = instrument({
    main: path.join(repo, 'kernel/kernel.asm'),
    outDir: path.join(work, 'instrumented'),
    mode: 'count',
    cwd: path.join(repo, 'kernel'),
  });
  return { object: k.object, bytes: fs.readFileSync(k.object), fas, probed };
}

/** Builds (or reuses) each script's disk images, twice copied: the runs write to them. */
function prepareAll(
  progress: Progress,
  fixtures: string,
  names: string[],
  work: string,
): Array<{ plain: PreparedFixture; probed: PreparedFixture }> {
  progress.start('building disk images', names.length);
  return names.map((name) => {
    const prep = (tag: string) =>
      prepareFixture(
        path.join(fixtures, name),
        path.join(repo, 'fixtures/images'),
        path.join(work, name, tag),
      );
    const pair = { plain: prep('plain'), probed: prep('probed') };
    progress.tick(name);
    return pair;
  });
}

/** The instrumented kernel runs the script; returns its transcript and probe slots. */
function runProbed(f: PreparedFixture, probed: InstrumentResult): { transcript: string; slots: Uint32Array } {
  const session = new KernelSession(probed.build.output, 'kernel-instrumented.o', {
    maxInstructions: MAX_INSTRUCTIONS,
  });
  try {
    const area = session.machine.images[0].sections.find((s) => s.name === probed.map.section);
    if (!area) throw new CliError(`the instrumented kernel has no ${probed.map.section} section`);
    // kernel_init ran in the constructor, before the plain run's trace starts: count from here on.
    session.machine.memory.writeBytes(area.base, new Uint8Array(area.size));
    const lines: string[] = [];
    const where = { script: f.script, imageDir: f.imageDir, fileDir: f.fileDir };
    new ScriptRunner(session, where, (l) => lines.push(l)).runAll(f.lines);
    const slots = new Uint32Array(probed.map.count);
    for (let i = 0; i < slots.length; i++) slots[i] = session.machine.memory.read32(area.base + 4 * i);
    return { transcript: lines.length ? `${lines.join('\n')}\n` : '', slots };
  } finally {
    session.close();
  }
}

/** Runs one script on both kernels and reads its coverage from edges, PT and probes. */
function runOne(
  pair: { plain: PreparedFixture; probed: PreparedFixture },
  kernels: Kernels,
  work: string,
): ScriptOutcome {
  const name = pair.plain.name;
  const runDir = path.join(work, `${name}.run`);
  const r = runScript({
    kernel: kernels.bytes,
    kernelFile: kernels.object,
    ...fixtureScript(pair.plain),
    maxInstructions: MAX_INSTRUCTIONS,
    // Edges give the counts; PT, decoded afterwards, is checked against them and gives the call stacks.
    traces: ['edges', 'pt'],
    runDir,
    test: name,
  });
  const ref = fs.existsSync(pair.plain.ref) ? fs.readFileSync(pair.plain.ref, 'utf8') : undefined;
  const transcriptOk = ref !== undefined && !unifiedDiff(ref, r.transcript, 'ref.log', 'transcript');
  const probed = runProbed(pair.probed, kernels.probed);

  const { info, image, edges, mismatches: traceMismatches } = edgesAgainstPt(runDir);
  const mismatches = [
    ...(probed.transcript === r.transcript ? [] : ['the instrumented kernel printed another transcript']),
    ...traceMismatches,
    ...probeDifferences(kernels.probed.map, probed.slots, edges, info),
  ].map((m) => `${name}: ${m}`);
  const mapped = mapCoverage(edges, {
    fas: kernels.fas,
    sections: info.sections.map((s) => ({ ...s, base: s.address })),
    read8: image.read8,
    classify: classifyInstruction,
    root: repo,
    test: name,
  });
  return {
    name,
    transcriptOk,
    instructions: r.instructions,
    document: mapped.document,
    expansions: mapped.expansions,
    folded: profileFromRunDir(runDir, kernels.fas),
    mismatches,
  };
}

function probeKinds(map: ProbeMap): string {
  const n = (kinds: string[]) => map.probes.filter((p) => p.address && kinds.includes(p.kind)).length;
  return (
    `${n(['line'])} line, ${n(['branch-taken', 'branch-not-taken'])} branch-arm and ` +
    `${n(['function-entry'])} function-entry probes`
  );
}

function writeAll(progress: Progress, outcomes: ScriptOutcome[], out: string): void {
  progress.start(`writing reports to ${path.relative(process.cwd(), out) || '.'}`);
  const docs = outcomes.map((o) => o.document);
  const title = 'fasmcov demo: the bundled kernel';
  progress.clear();
  writeReports(docs, {
    root: repo,
    outDir: out,
    reporters: ['lcov', 'html', 'json-summary', 'text-summary'],
    title,
  });
  writeAsmHtml(docs, {
    root: repo,
    outDir: path.join(out, 'asm-html'),
    title,
    profile: flameTreeFromFolded(outcomes.reduce((acc, o) => mergeFolded(acc, o.folded), new Map())),
    expansions: mergeExpansions(outcomes.map((o) => o.expansions)),
  });
}

function demo(opts: DemoOptions): void {
  const started = Date.now();
  const progress = new Progress('fasmcov demo');
  checkPrerequisites();
  const names = listFixtures(opts.fixtures);
  if (!names.length) throw new CliError(`no script tests (*/run.us) under ${opts.fixtures}`);
  const work = path.join(repo, '.cache/demo');
  fs.rmSync(work, { recursive: true, force: true });
  fs.mkdirSync(work, { recursive: true });

  const kernels = buildKernels(progress, work);
  const pairs = prepareAll(progress, opts.fixtures, names, work);
  progress.start('running scripts (plain kernel traced with edges + PT, instrumented kernel)', names.length);
  const outcomes = pairs.map((pair) => {
    const o = runOne(pair, kernels, work);
    progress.tick(`${o.transcriptOk ? 'ok' : 'FAIL'} ${o.name} (${o.instructions} instructions)`);
    return o;
  });
  writeAll(progress, outcomes, opts.output);

  const failed = outcomes.filter((o) => !o.transcriptOk).map((o) => o.name);
  const mismatches = outcomes.flatMap((o) => o.mismatches);
  const s = summarize(mergeCoverage(outcomes.map((o) => o.document)));
  const instructions = outcomes.reduce((n, o) => n + o.instructions, 0);
  progress.log(
    mismatches.length
      ? `three-way check FAILED: ${mismatches.length} disagreement(s) between probes, edges and PT`
      : `three-way check: probes = edges = PT on all ${names.length} scripts ` +
          `(${probeKinds(kernels.probed.map)}; every instruction count and branch arm)`,
  );
  progress.log(
    `${names.length - failed.length}/${names.length} scripts match their reference logs, ` +
      `${instructions} kernel instructions, ${((Date.now() - started) / 1000).toFixed(1)} s: ` +
      `lines ${s.lines.pct}%, branches ${s.branches.pct}%, functions ${s.functions.pct}%`,
  );
  progress.log(
    `open ${path.join(opts.output, 'asm-html/index.html')} (lcov: ${path.join(opts.output, 'lcov.info')})`,
  );
  if (failed.length) throw new CliError(`transcripts differ from ref.log: ${failed.join(', ')}`);
  if (mismatches.length)
    throw new CliError(
      `probes, edges and PT disagree: ${mismatches[0]}`,
      1,
      `${mismatches.slice(1, 10).join('\n')}\n`,
    );
}

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description(
      'assemble and instrument the bundled kernel, run its file-system scripts in the emulator (images built ' +
        'by mkfs/mtools/mke2fs) traced and probed, check transcripts and that probes = edges = PT, write coverage/',
    )
    .option('-o, --output <dir>', 'report directory', path.join(repo, 'coverage'))
    .option('--fixtures <dir>', 'script tests to run', path.join(repo, 'fixtures/fs'))
    .action((opts: DemoOptions) => demo(opts));
}
