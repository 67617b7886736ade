import type { CodeRow, FasFile } from '@fasmcov/fas';
import type { ExecutablePredicate } from './code-sections';
import { invertJcc, isData, isInstruction, isLoopFamily, isPadding } from './mnemonics';
import { JCC_MACRO, LINE_MACRO, LOOP_MACRO } from './runtime';
import { firstWord, operands, splitLine, usesCurrentAddress, withoutStrings } from './source-line';

/** What to do with one source line: probe it as a plain line, or as a branch with two arms. */
export type LineAction =
  | { kind: 'line'; statement?: string }
  | { kind: 'jcc'; inverse: string; target: string }
  | { kind: 'loop'; insn: string; target: string };

/** A code-producing line left as it is, and why. */
export interface SkippedLine {
  /** Path relative to the source root (absolute for files outside it). */
  file: string;
  line: number;
  reason: string;
}

/** A source file and the lines to rewrite in it (fas file index → actions by 1-based line). */
export interface FilePlan {
  fasIndex: number;
  /** Absolute path of the original. */
  path: string;
  /** Path relative to the source root, `/`-separated. */
  rel: string;
  /** Whether the file is under the root (only those are copied) and selected by `--include`. */
  inTree: boolean;
  selected: boolean;
  lines: string[];
  actions: Map<number, LineAction>;
}

export interface Plan {
  files: FilePlan[];
  skipped: SkippedLine[];
  /** Code-producing lines recognised as data (db, rb, align...) and left alone. */
  dataLines: number;
}

type Verdict = { action: LineAction } | { skip: string } | { data: true };

const sizeKeyword = /^short\s+/i;

/** Decides how a line of text (one instruction, after its labels) is probed. */
export function classifyStatement(statement: string): Verdict {
  const code = withoutStrings(statement);
  const words = code.split(/[\s,]+/).filter((w) => w);
  const w = firstWord(statement);
  if (!w) return { skip: 'no statement on the line (code from elsewhere)' };
  if (isData(w) || isPadding(w) || (words.length > 1 && isData(words[1]))) return { data: true };
  if (/[{}]/.test(code)) return { skip: 'a block on one line' };
  if (w.toLowerCase() === 'times') {
    if (words.some(isData)) return { data: true };
    if (!words.some(isInstruction)) return { skip: `'times' of something that is not an instruction` };
  } else if (!isInstruction(w)) return { skip: `'${w}' is not an instruction fasmcov knows` };
  if (usesCurrentAddress(statement)) return { skip: 'uses $ (the current address moves when probes go in)' };
  const inverse = invertJcc(w);
  if (inverse) {
    const target = operands(statement).replace(sizeKeyword, '');
    return target
      ? { action: { kind: 'jcc', inverse, target } }
      : { skip: 'conditional jump without target' };
  }
  if (isLoopFamily(w)) {
    const target = operands(statement).replace(sizeKeyword, '');
    return target ? { action: { kind: 'loop', insn: w, target } } : { skip: `${w} without target` };
  }
  // Probes lengthen the code a short jump crosses: let fasm pick the size again.
  if (w.toLowerCase() === 'jmp' && sizeKeyword.test(operands(statement)))
    return { action: { kind: 'line', statement: `${w} ${operands(statement).replace(sizeKeyword, '')}` } };
  return { action: { kind: 'line' } };
}

/** The rewritten text of a line: same labels, the statement handed to a probe macro, same comment. */
export function rewriteLine(text: string, action: LineAction): string {
  const { head, statement, tail } = splitLine(text);
  if (action.kind === 'line') return `${head}${LINE_MACRO} ${action.statement ?? statement}${tail}`;
  if (action.kind === 'jcc') return `${head}${JCC_MACRO} ${action.inverse}, ${action.target}${tail}`;
  return `${head}${LOOP_MACRO} ${action.insn}, ${action.target}${tail}`;
}

/** Why the rows of one line (every assembled copy of it) cannot carry a probe, if they cannot. */
function rowsProblem(rows: CodeRow[]): string | undefined {
  if (rows.some((r) => r.virtual)) return 'also assembled inside virtual (a probe would change sizes there)';
  const odd = rows.find((r) => r.bits !== 32);
  if (odd) return `${odd.bits}-bit code (only use32 code is probed)`;
  return undefined;
}

/**
 * A line in the body of a macro that redefines its own instruction (`macro mov t, s { ... mov t, s
 * ... }`): there the name means the original instruction, but handed to a probe macro it would mean
 * the redefinition again.
 */
function redefinitionProblem(fas: FasFile, rows: CodeRow[], statement: string): string | undefined {
  const w = firstWord(statement)?.toLowerCase();
  if (!w) return undefined;
  const inOwnMacro = rows.some((r) => fas.locate(r.lineIndex).chain[0]?.macro.toLowerCase() === w);
  return inOwnMacro ? `'${w}' inside the macro that redefines it` : undefined;
}

/** Groups the byte-producing rows by the file line holding their text. */
function rowsByHome(fas: FasFile): Map<number, Map<number, CodeRow[]>> {
  const byFile = new Map<number, Map<number, CodeRow[]>>();
  for (const r of fas.codeRows()) {
    let lines = byFile.get(r.file);
    if (!lines) byFile.set(r.file, (lines = new Map()));
    const list = lines.get(r.line);
    if (list) list.push(r);
    else lines.set(r.line, [r]);
  }
  return byFile;
}

/**
 * Every line whose rows are executable code gets an action or a reason; lines whose rows are
 * all data or virtual are not code.
 */
export function planFiles(fas: FasFile, files: FilePlan[], isCode: ExecutablePredicate): Plan {
  const skipped: SkippedLine[] = [];
  let dataLines = 0;
  const byHome = rowsByHome(fas);
  for (const f of files) {
    const lines = byHome.get(f.fasIndex);
    if (!lines) continue;
    let unprobed = 0;
    for (const [line, rows] of [...lines].sort((a, b) => a[0] - b[0])) {
      if (!rows.some((r) => !r.virtual && isCode(r.section, r.address))) continue;
      if (!f.selected) {
        unprobed++;
        continue;
      }
      const statement = splitLine(f.lines[line - 1] ?? '').statement;
      const problem = rowsProblem(rows) ?? redefinitionProblem(fas, rows, statement);
      const verdict: Verdict = problem ? { skip: problem } : classifyStatement(statement);
      if ('data' in verdict) dataLines++;
      else if ('skip' in verdict) skipped.push({ file: f.rel, line, reason: verdict.skip });
      else f.actions.set(line, verdict.action);
    }
    if (unprobed)
      skipped.push({
        file: f.rel,
        line: 0,
        reason: `${unprobed} code line(s) not probed: ${f.inTree ? 'not selected by --include' : 'outside the source root'}`,
      });
  }
  return { files, skipped, dataLines };
}
