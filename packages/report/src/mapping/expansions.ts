/**
 * Macro-expansion detail: a line that invokes a macro counts as one statement (the line whose
 * code it is), and this records what its expansion did line by line — the drill-down of the
 * annotated source view. Lines inside macro definitions get no entry of their own.
 */

/** One code-producing line of a macro expansion, counted on its own. */
export interface ExpandedLine {
  /** Where the text comes from: the innermost macro body's file and 1-based line. */
  file: string;
  line: number;
  /** The line as fasm's preprocessor produced it (arguments substituted). */
  text: string;
  /** Times the line's first instruction ran. */
  hits: number;
  instructions: number;
  /** Arms of each conditional jump on the line, in address order. */
  branches: Array<{ taken: number; notTaken: number }>;
}

/** Per source file (as the coverage document names it), per invoking line: its expansion in assembly order. */
export type MacroExpansions = Map<string, Map<number, ExpandedLine[]>>;

const sameSource = (a: ExpandedLine, b: ExpandedLine) => a.file === b.file && a.line === b.line;

function addInto(into: ExpandedLine[], more: ExpandedLine[]): ExpandedLine[] {
  // Matched by body location and occurrence, not by position alone: runs of builds whose macro
  // bodies changed still add up where they agree.
  const used = new Set<number>();
  for (const m of more) {
    const i = into.findIndex((x, k) => !used.has(k) && sameSource(x, m));
    if (i < 0) {
      into.push({ ...m, branches: m.branches.map((b) => ({ ...b })) });
      used.add(into.length - 1);
      continue;
    }
    used.add(i);
    const x = into[i];
    x.hits += m.hits;
    x.instructions += m.instructions;
    m.branches.forEach((b, k) => {
      if (x.branches[k]) {
        x.branches[k].taken += b.taken;
        x.branches[k].notTaken += b.notTaken;
      } else x.branches.push({ ...b });
    });
  }
  return into;
}

/** Adds the expansions of several runs up (hits, instructions and arms per expanded line). */
export function mergeExpansions(list: MacroExpansions[]): MacroExpansions {
  const out: MacroExpansions = new Map();
  for (const e of list) {
    for (const [file, lines] of e) {
      let perLine = out.get(file);
      if (!perLine) out.set(file, (perLine = new Map()));
      for (const [line, expanded] of lines) perLine.set(line, addInto(perLine.get(line) ?? [], expanded));
    }
  }
  return out;
}
