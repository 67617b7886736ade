import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { assemble, FasFile, FasmError, type FasmErrorSite, type SourceFile } from '@fasmcov/fas';
import { executablePredicate, type ExecutablePredicate } from './code-sections';
import { matchesAny } from './glob';
import { planFiles, rewriteLine, type FilePlan, type SkippedLine } from './plan';
import { buildProbeMap, relativeName, type ProbeMap } from './probe-map';
import {
  outputFormat,
  RUNTIME_FILE,
  runtimeInclude,
  storageText,
  type OutputFormat,
  type ProbeKind,
  type ProbeMode,
} from './runtime';
import { splitLine } from './source-line';

export interface InstrumentOptions {
  /** The main source file fasm is given. */
  main: string;
  /** Where the instrumented tree and probes.json go (created; files in it are overwritten). */
  outDir: string;
  /** fasm INCLUDE directories (`-I`). */
  includeDirs?: string[];
  /** `-d NAME=VALUE` definitions. */
  defines?: Array<[string, string]>;
  mode?: ProbeMode;
  /** Globs (relative to the main file's folder) of the files to probe; default all. */
  include?: string[];
  /** Folder relative paths are resolved against and fasm runs in (default: process.cwd()). */
  cwd?: string;
  /** fasm's memory limit in KiB (`-m`; large trees such as KolibriOS's kernel need more). */
  memoryKiB?: number;
}

export interface InstrumentStats {
  /** Source files copied into the tree, and those rewritten. */
  files: number;
  rewrittenFiles: number;
  rewrittenLines: number;
  probes: Record<ProbeKind, number>;
  /** Output bytes of executable code, plain and instrumented. */
  plainCodeBytes: number;
  instrumentedCodeBytes: number;
  milliseconds: number;
}

export interface InstrumentResult {
  map: ProbeMap;
  /** Code lines left without probe, with the reason (file:line; line 0 for a whole file). */
  skipped: SkippedLine[];
  stats: InstrumentStats;
  /** The instrumented main file and the INCLUDE directories to assemble it with. */
  main: string;
  includeDirs: string[];
  /** The instrumented build (output, .fas) fasmcov made to check the tree and read the probes. */
  build: { output: Buffer; fas: FasFile };
}

/** fasm rejected the instrumented tree; `sites` name the original files. */
export class InstrumentError extends Error {
  constructor(
    message: string,
    readonly sites: FasmErrorSite[] = [],
  ) {
    super(message);
    this.name = 'InstrumentError';
  }
}

interface Build {
  fas: FasFile;
  output: Buffer;
}

interface BuildOptions {
  includeDirs: string[];
  defines: Array<[string, string]>;
  cwd: string;
  memoryKiB?: number;
}

function build(main: string, dir: string, opts: BuildOptions): Build {
  fs.mkdirSync(dir, { recursive: true });
  const output = path.join(dir, 'out.bin');
  const symbols = path.join(dir, 'out.fas');
  assemble(main, {
    output,
    symbols,
    includeDirs: opts.includeDirs,
    defines: opts.defines,
    cwd: opts.cwd,
    memoryKiB: opts.memoryKiB,
  });
  const fas = FasFile.read(symbols, { cwd: opts.cwd, includeDirs: opts.includeDirs });
  return { fas, output: fs.readFileSync(output) };
}

const isUnder = (dir: string, p: string) => p.startsWith(dir + path.sep);

/**
 * Where sources live and where their instrumented copies go: the main file's folder (copied to the
 * output folder) and each `-I` folder outside it (copied to `<out>/__fcov_include<k>/`, and given to
 * fasm in its place), so that code found through INCLUDE — a KolibriOS tree under UMKa — is
 * probed too. Names in probes.json are relative to the root holding the file.
 */
interface SourceRoot {
  src: string;
  out: string;
}

function sourceRoots(root: string, outDir: string, includeDirs: string[]): SourceRoot[] {
  const roots: SourceRoot[] = [{ src: root, out: outDir }];
  includeDirs.forEach((d, k) => {
    if (d !== root && !isUnder(root, d) && !roots.some((r) => r.src === d))
      roots.push({ src: d, out: path.join(outDir, `__fcov_include${k}`) });
  });
  return roots;
}

/** The root holding `file` (original or copy) and its name relative to that root. */
function locateIn(
  roots: SourceRoot[],
  file: string,
  copies: boolean,
): { root: SourceRoot; rel: string } | undefined {
  // Deeper roots first: an include folder's copy lies inside the output folder.
  const sorted = [...roots].sort((a, b) =>
    copies ? b.out.length - a.out.length : b.src.length - a.src.length,
  );
  for (const r of sorted) {
    const dir = copies ? r.out : r.src;
    if (isUnder(dir, file)) return { root: r, rel: relativeName(dir, file) };
  }
  return undefined;
}

/** The output format from the `format` directive (binary when there is none). */
function detectFormat(fas: FasFile): OutputFormat {
  for (let i = 0; i < fas.rowCount; i++) {
    const m = /^format\s+(.*)$/i.exec(fas.lineText(fas.row(i).lineIndex));
    if (m) return outputFormat(m[1]);
  }
  return 'binary';
}

/** Code bytes of a build: rows in executable sections, outside virtual. */
function codeBytes(fas: FasFile, isCode: ExecutablePredicate): number {
  let n = 0;
  for (const r of fas.codeRows())
    if (!r.virtual && !r.notInOutput && isCode(r.section, r.address)) n += r.length;
  return n;
}

function filePlans(fas: FasFile, roots: SourceRoot[], globs: string[]): FilePlan[] {
  return fas.files
    .filter((f) => f.exists)
    .map((f) => {
      const at = locateIn(roots, f.path, false);
      const inTree = at !== undefined;
      const rel = at ? at.rel : f.path;
      return {
        fasIndex: f.index,
        path: f.path,
        rel,
        inTree,
        selected: inTree && rel !== RUNTIME_FILE && matchesAny(rel, globs),
        lines: fs.readFileSync(f.path, 'latin1').split('\n'),
        actions: new Map(),
      };
    });
}

/**
 * The line of the main file that takes the `include` of the probe macros: the first one holding
 * nothing or a comment, so that every line keeps its number. Probes on main-file lines before it
 * are dropped (and reported); an include before it is an error, the macros would come too late.
 */
function injectionLine(main: FilePlan, skipped: SkippedLine[]): number {
  for (let i = 0; i < main.lines.length; i++) {
    const { head, statement } = splitLine(main.lines[i]);
    if (head.trim() === '' && statement === '') {
      for (const line of [...main.actions.keys()].filter((l) => l <= i)) {
        main.actions.delete(line);
        skipped.push({
          file: main.rel,
          line,
          reason: 'before the first blank or comment line (probe macros)',
        });
      }
      return i + 1;
    }
    if (/^include\b/i.test(statement))
      throw new InstrumentError(
        `${main.path}:${i + 1}: no blank or comment line before this include for fasmcov's probe macros`,
      );
  }
  throw new InstrumentError(`${main.path}: no blank or comment line for fasmcov's probe macros`);
}

/** The text of a file in the instrumented tree. */
function instrumentedText(f: FilePlan, main: { line: number; storage: string } | undefined): string {
  const lines = f.lines.map((text, i) => {
    const action = f.actions.get(i + 1);
    return action ? rewriteLine(text, action) : text;
  });
  if (!main) return lines.join('\n');
  lines[main.line - 1] = `include '${RUNTIME_FILE}' ${lines[main.line - 1]}`.trimEnd();
  const text = lines.join('\n');
  return `${text}${text.endsWith('\n') ? '' : '\n'}${main.storage}`;
}

/**
 * Files pulled in with `file 'name'` (binary data): next to the file naming them, or — as fasm also
 * searches — in an INCLUDE folder (each source root).
 */
function dataFiles(f: FilePlan, roots: SourceRoot[]): string[] {
  const out: string[] = [];
  for (const text of f.lines) {
    const m = /(?:^|[\s:])file\s+(['"])([^'"]+)\1/i.exec(splitLine(text).statement);
    if (!m) continue;
    for (const dir of [path.dirname(f.path), ...roots.map((r) => r.src)]) out.push(path.resolve(dir, m[2]));
  }
  return out;
}

function writeTree(files: FilePlan[], roots: SourceRoot[], main: { line: number; storage: string }) {
  for (const [i, f] of files.entries()) {
    const at = locateIn(roots, f.path, false);
    if (!f.inTree || !at) continue;
    const dest = path.join(at.root.out, path.relative(at.root.src, f.path));
    fs.mkdirSync(path.dirname(dest), { recursive: true });
    fs.writeFileSync(dest, instrumentedText(f, i === 0 ? main : undefined), 'latin1');
    for (const data of dataFiles(f, roots)) {
      const d = locateIn(roots, data, false);
      if (d && fs.existsSync(data)) {
        const to = path.join(d.root.out, path.relative(d.root.src, data));
        fs.mkdirSync(path.dirname(to), { recursive: true });
        fs.copyFileSync(data, to);
      }
    }
  }
}

/** Re-throws fasm's complaint about the instrumented tree against the original files. */
function mapBuildError(e: unknown, roots: SourceRoot[], cwd: string): never {
  if (!(e instanceof FasmError)) throw e;
  const sites = e.sites.map((s) => {
    const p = path.resolve(cwd, s.file);
    const at = path.basename(p) !== RUNTIME_FILE ? locateIn(roots, p, true) : undefined;
    return at ? { ...s, file: path.join(at.root.src, path.relative(at.root.out, p)) } : s;
  });
  // fasm lists the sites outermost first: the innermost one outside the generated include is
  // the line that was rewritten.
  const site = [...sites].reverse().find((s) => path.basename(s.file) !== RUNTIME_FILE);
  const msg = e.message.replace(/^.*?: (?=[^:]*$)/, '');
  throw new InstrumentError(`${site ? `${site.file}:${site.line}: ` : ''}instrumented: ${msg}`, sites);
}

function countKinds(map: ProbeMap): Record<ProbeKind, number> {
  const n: Record<ProbeKind, number> = {
    line: 0,
    'branch-taken': 0,
    'branch-not-taken': 0,
    'function-entry': 0,
  };
  for (const p of map.probes) n[p.kind]++;
  return n;
}

/**
 * Writes an instrumented copy of the source tree fasm reads for `main` (every file under the main
 * file's folder, same layout, same line numbers) and `probes.json`; assembles the copy to check it
 * and to read where each probe landed.
 */
export function instrument(opts: InstrumentOptions): InstrumentResult {
  const started = Date.now();
  const cwd = path.resolve(opts.cwd ?? process.cwd());
  const main = path.resolve(cwd, opts.main);
  const root = path.dirname(main);
  const outDir = path.resolve(cwd, opts.outDir);
  if (outDir === root || isUnder(outDir, root))
    throw new InstrumentError(`output folder ${outDir} must not hold the sources`);
  const mode = opts.mode ?? 'count';
  const includeDirs = (opts.includeDirs ?? []).map((d) => path.resolve(cwd, d));
  const defines = opts.defines ?? [];
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'fasmcov-instrument-'));
  try {
    const plain = build(main, path.join(work, 'plain'), {
      includeDirs,
      defines,
      cwd,
      memoryKiB: opts.memoryKiB,
    });
    const format = detectFormat(plain.fas);
    const isCode = executablePredicate(plain.fas, format, plain.output);
    const roots = sourceRoots(root, outDir, includeDirs);
    const plan = planFiles(plain.fas, filePlans(plain.fas, roots, opts.include ?? []), isCode);
    const runtime = runtimeInclude(mode);
    const line = injectionLine(plan.files[0], plan.skipped);
    fs.mkdirSync(outDir, { recursive: true });
    writeTree(plan.files, roots, { line, storage: storageText(format, mode) });
    fs.writeFileSync(path.join(outDir, RUNTIME_FILE), runtime.text);

    const outMain = path.join(outDir, path.basename(main));
    const outIncludes = includeDirs.map((d) => {
      if (isUnder(root, d)) return path.join(outDir, path.relative(root, d));
      return roots.find((r) => r.src === d)?.out ?? d;
    });
    let probed: Build;
    try {
      probed = build(outMain, path.join(work, 'instrumented'), {
        includeDirs: outIncludes,
        defines,
        cwd,
        memoryKiB: opts.memoryKiB,
      });
    } catch (e) {
      mapBuildError(e, roots, cwd);
    }
    const runtimeIndex =
      probed.fas.files.find((f) => f.path === path.join(outDir, RUNTIME_FILE))?.index ?? -1;
    const map = buildProbeMap({
      plain: plain.fas,
      instrumented: probed.fas,
      instrumentedOutput: probed.output,
      runtimeIndex,
      probeLines: runtime.probeLines,
      mode,
      format,
      main: path.basename(main),
      plainName: (f: SourceFile) => locateIn(roots, f.path, false)?.rel ?? f.path,
      instrumentedName: (f: SourceFile) => locateIn(roots, f.path, true)?.rel ?? f.path,
    });
    fs.writeFileSync(path.join(outDir, 'probes.json'), `${JSON.stringify(map, null, 1)}\n`);
    const rewritten = plan.files.filter((f) => f.actions.size > 0);
    return {
      map,
      skipped: plan.skipped,
      main: outMain,
      includeDirs: outIncludes,
      build: probed,
      stats: {
        files: plan.files.filter((f) => f.inTree).length,
        rewrittenFiles: rewritten.length,
        rewrittenLines: rewritten.reduce((n, f) => n + f.actions.size, 0),
        probes: countKinds(map),
        plainCodeBytes: codeBytes(plain.fas, isCode),
        instrumentedCodeBytes: codeBytes(probed.fas, executablePredicate(probed.fas, format, probed.output)),
        milliseconds: Date.now() - started,
      },
    };
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}
