import * as path from 'node:path';
import type { FasFile, MacroStep, SourceFile } from '@fasmcov/fas';
import {
  HIT_MACRO,
  PROBES_SYMBOL,
  slotSize,
  type OutputFormat,
  type ProbeKind,
  type ProbeMode,
} from './runtime';

/** One step of a macro chain in probes.json. */
export interface ProbeChainStep {
  file: string;
  line: number;
  macro: string;
}

/** Where a probe's instruction is in the uninstrumented build. */
export interface ProbeAddress {
  /** 0: absolute (executables, binaries); else the 1-based object-file section. */
  section: number;
  sectionName?: string;
  offset: number;
}

export interface Probe {
  /** Slot index in the probe area. */
  id: number;
  kind: ProbeKind;
  /** Source file (relative to the source root, `/`-separated) and 1-based line of the instruction. */
  file: string;
  line: number;
  /** Macro invocations that produced the line, innermost first (empty for a plain line). */
  chain: ProbeChainStep[];
  /** The guarded instruction in the uninstrumented build. */
  address?: ProbeAddress;
  /** The label a function-entry probe guards. */
  function?: string;
}

/** The probe map, `probes.json` (version 1, docs/INSTRUMENT.md). */
export interface ProbeMap {
  version: 1;
  mode: ProbeMode;
  format: OutputFormat;
  /** Main file, relative to the source root. */
  main: string;
  /** Label of the probe area (public in object files) and its section in the instrumented build. */
  symbol: string;
  section?: string;
  /** Bytes per slot: 1 (flag: 0 or 1) or 4 (count: little-endian uint32). */
  slotSize: number;
  count: number;
  probes: Probe[];
}

/** Names files in probes.json: relative to the root they were copied from. */
export type FileNamer = (file: SourceFile) => string;

const HIT_KIND = new Map<string, ProbeKind>(
  Object.entries(HIT_MACRO).map(([kind, macro]) => [macro, kind as ProbeKind]),
);

const chainKey = (file: string, line: number, chain: ProbeChainStep[]) =>
  [`${file}:${line}`, ...chain.map((c) => `${c.file}:${c.line}:${c.macro}`)].join('|');

function steps(chain: MacroStep[], name: FileNamer): ProbeChainStep[] {
  return chain.map((c) => ({ file: name(c.file), line: c.line, macro: c.macro }));
}

/** A probe found in the instrumented build, before it is matched to the plain build. */
interface FoundProbe {
  slot: number;
  kind: ProbeKind;
  file: string;
  line: number;
  chain: ProbeChainStep[];
}

/**
 * Finds every probe of the instrumented build: the first instruction of a hit macro's expansion.
 * Its slot is read back from the displacement fasm encoded (`mov byte [d32], 1` is C6 05 d32 01,
 * `xchg eax, [d32]` is 87 05 d32), so no assumption about assembly order is needed; the line it
 * guards is the invocation of the rewriting macro, outside the runtime include.
 */
function findProbes(
  fas: FasFile,
  output: Buffer,
  runtimeIndex: number,
  probeLines: Set<number>,
  mode: ProbeMode,
  name: FileNamer,
): FoundProbe[] {
  const base = fas.symbol(PROBES_SYMBOL);
  if (!base) throw new Error(`instrumented build has no ${PROBES_SYMBOL}`);
  const opcode = mode === 'flag' ? 0xc6 : 0x87;
  const found: FoundProbe[] = [];
  for (const r of fas.codeRows()) {
    if (r.virtual || r.file !== runtimeIndex || !probeLines.has(r.line)) continue;
    const loc = fas.locate(r.lineIndex);
    const kind = HIT_KIND.get(loc.chain[0]?.macro ?? '');
    const site = loc.chain.findIndex((c) => c.file.index !== runtimeIndex);
    if (!kind || site < 0) throw new Error(`probe row ${r.row} has no source line`);
    if (output[r.outputOffset] !== opcode || output[r.outputOffset + 1] !== 0x05)
      throw new Error(`probe row ${r.row}: unexpected encoding`);
    const disp = output.readUInt32LE(r.outputOffset + 2);
    const slot = (disp - base.address) / slotSize(mode);
    const s = loc.chain[site];
    found.push({
      slot,
      kind,
      file: name(s.file),
      line: s.line,
      chain: steps(loc.chain.slice(site + 1), name),
    });
  }
  return found;
}

/** Instructions of the plain build by (file, line, chain), in assembly order. */
function plainRows(fas: FasFile, name: FileNamer): Map<string, ProbeAddress[]> {
  const out = new Map<string, ProbeAddress[]>();
  for (const r of fas.codeRows()) {
    if (r.virtual) continue;
    const loc = fas.locate(r.lineIndex);
    const key = chainKey(name(loc.file), loc.line, steps(loc.chain, name));
    const a: ProbeAddress = { section: r.section, offset: r.address };
    if (r.section > 0) a.sectionName = fas.sections[r.section - 1];
    const list = out.get(key);
    if (list) list.push(a);
    else out.set(key, [a]);
  }
  return out;
}

/** Global code labels (no dot, no generated `?` names) by section and address. */
function globalLabels(fas: FasFile): Map<string, string> {
  const out = new Map<string, string>();
  for (const s of fas.symbols) {
    if (!s.defined || s.assemblyVariable || !s.name || /[.?]/.test(s.name) || s.external) continue;
    const key = `${s.section}:${s.address}`;
    if (!out.has(key)) out.set(key, s.name);
  }
  return out;
}

export interface ProbeMapInput {
  plain: FasFile;
  instrumented: FasFile;
  instrumentedOutput: Buffer;
  runtimeIndex: number;
  probeLines: Set<number>;
  mode: ProbeMode;
  format: OutputFormat;
  main: string;
  plainName: FileNamer;
  instrumentedName: FileNamer;
}

/**
 * Builds probes.json: each probe of the instrumented build, matched to the n-th assembled copy of
 * the same line (same file, line and macro chain) in the plain build; a line probe on a global
 * label becomes a function-entry probe.
 */
export function buildProbeMap(input: ProbeMapInput): ProbeMap {
  const { instrumented: fas, mode } = input;
  const found = findProbes(
    fas,
    input.instrumentedOutput,
    input.runtimeIndex,
    input.probeLines,
    mode,
    input.instrumentedName,
  ).sort((a, b) => a.slot - b.slot);
  const rows = plainRows(input.plain, input.plainName);
  const labels = globalLabels(input.plain);
  const seen = new Map<string, number>();
  const probes = found.map((p, i): Probe => {
    if (p.slot !== i) throw new Error(`probe slots are not contiguous at ${i} (${p.file}:${p.line})`);
    const key = chainKey(p.file, p.line, p.chain);
    const n = seen.get(`${key}#${p.kind}`) ?? 0;
    seen.set(`${key}#${p.kind}`, n + 1);
    const probe: Probe = { id: p.slot, kind: p.kind, file: p.file, line: p.line, chain: p.chain };
    const address = rows.get(key)?.[n];
    if (address) probe.address = address;
    const fn = address && p.kind === 'line' ? labels.get(`${address.section}:${address.offset}`) : undefined;
    if (fn) Object.assign(probe, { kind: 'function-entry', function: fn });
    return probe;
  });
  const base = fas.symbol(PROBES_SYMBOL);
  const map: ProbeMap = {
    version: 1,
    mode,
    format: input.format,
    main: input.main,
    symbol: PROBES_SYMBOL,
    slotSize: slotSize(mode),
    count: probes.length,
    probes,
  };
  if (base?.sectionName) map.section = base.sectionName;
  return map;
}

/** `/`-separated path of `file` relative to `root` (absolute when outside it). */
export function relativeName(root: string, file: string): string {
  const rel = path.relative(root, file);
  return rel.startsWith('..') || path.isAbsolute(rel) ? file : rel.split(path.sep).join('/');
}
