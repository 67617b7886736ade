// The fasm text the instrumenter adds: the probe macros (one include, pulled in on a line that held
// only a comment or nothing) and the probe storage (appended after the main file's last line, so no
// line number moves).

export type ProbeMode = 'flag' | 'count';

/** Output formats, as far as the storage and the section flags are concerned. */
export type OutputFormat = 'elf-object' | 'elf-executable' | 'coff-object' | 'pe' | 'binary';

export type ProbeKind = 'line' | 'branch-taken' | 'branch-not-taken' | 'function-entry';

/** Name of the generated include, written next to the main file. */
export const RUNTIME_FILE = '__fcov.inc';
/** Public label of the probe area. */
export const PROBES_SYMBOL = '__fcov_probes';

/** The macro whose expansion is one probe of each kind (function entries are line probes). */
export const HIT_MACRO: Record<Exclude<ProbeKind, 'function-entry'>, string> = {
  line: '__fcov_hit_line',
  'branch-taken': '__fcov_hit_taken',
  'branch-not-taken': '__fcov_hit_not_taken',
};

export const LINE_MACRO = '__fcov_line';
export const JCC_MACRO = '__fcov_jcc';
export const LOOP_MACRO = '__fcov_loop';

/** Bytes per probe slot. */
export function slotSize(mode: ProbeMode): number {
  return mode === 'flag' ? 1 : 4;
}

/**
 * The instructions of one probe; the slot is `..fcov_n`, a counter the assembler advances at each
 * probe, so every assembled copy of a line (macro expansions, `repeat`) gets a slot of its own.
 * Neither form touches flags, registers or the stack: `mov` writes a byte; the count is swapped
 * into eax, incremented by `lea` (which sets no flags) and swapped back (`xchg` with memory sets
 * no flags either). Cost of the count form: only the same probe interrupted between its two xchg
 * and re-entered (an interrupt handler or a second CPU running the same line) mixes up values.
 */
function probeBody(mode: ProbeMode): string[] {
  const slot = mode === 'flag' ? `${PROBES_SYMBOL} + ..fcov_n` : `${PROBES_SYMBOL} + ..fcov_n * 4`;
  // Written as bytes: a program may redefine mov/xchg/lea with macros (UMKa redefines mov), which
  // would otherwise intercept the probe. C6 05 d32 01 = mov byte [d32], 1; 87 05 d32 = xchg eax,
  // [d32]; 8D 40 01 = lea eax, [eax + 1].
  const body =
    mode === 'flag'
      ? [' db 0C6h, 05h', ` dd ${slot}`, ' db 1']
      : [' db 87h, 05h', ` dd ${slot}`, ' db 8Dh, 40h, 01h, 87h, 05h', ` dd ${slot}`];
  return [...body, ' ..fcov_n = ..fcov_n + 1'];
}

export interface RuntimeText {
  text: string;
  /** 1-based line numbers (in the include) of the first instruction of each hit macro. */
  probeLines: Set<number>;
}

/** The include with every macro the rewritten lines use. */
export function runtimeInclude(mode: ProbeMode): RuntimeText {
  const lines: string[] = [
    `; fasmcov probes (generated; --mode ${mode}). Each rewritten line keeps its line number.`,
    '..fcov_n = 0',
  ];
  const probeLines = new Set<number>();
  for (const name of Object.values(HIT_MACRO)) {
    lines.push(`macro ${name} {`);
    probeLines.add(lines.length + 1);
    lines.push(...probeBody(mode), '}');
  }
  lines.push(
    // `insn&` takes the rest of the line, commas included.
    `macro ${LINE_MACRO} insn& {`,
    ` ${HIT_MACRO.line}`,
    ' insn',
    '}',
    // `..` names never open a scope for `.local` labels, and no `@@` is added.
    `macro ${JCC_MACRO} inverse, target& {`,
    ' local ..not_taken',
    ' inverse ..not_taken',
    ` ${HIT_MACRO['branch-taken']}`,
    ' jmp target',
    ' ..not_taken:',
    ` ${HIT_MACRO['branch-not-taken']}`,
    '}',
    // loop/jecxz reach only rel8: branch to a trampoline next to them.
    `macro ${LOOP_MACRO} insn, target& {`,
    ' local ..taken, ..done',
    ' insn ..taken',
    ` ${HIT_MACRO['branch-not-taken']}`,
    ' jmp ..done',
    ' ..taken:',
    ` ${HIT_MACRO['branch-taken']}`,
    ' jmp target',
    ' ..done:',
    '}',
  );
  return { text: `${lines.join('\n')}\n`, probeLines };
}

/** Lines appended to the main file: the probe area, sized by the final value of the counter. */
export function storageText(format: OutputFormat, mode: ProbeMode): string {
  const size = `..fcov_n * ${slotSize(mode)}`;
  // A plain label: a sized one (`x rb n`) would clash with the dword operands of the count form.
  const area = `${PROBES_SYMBOL}: rb ${size}`;
  const lines = ['', '; fasmcov probe area (generated)'];
  if (format === 'elf-object')
    lines.push(`section '.fcov' writeable align 4`, `public ${PROBES_SYMBOL}`, area);
  else if (format === 'coff-object')
    lines.push(`section '.fcov' data readable writeable align 4`, `public ${PROBES_SYMBOL}`, area);
  else if (format === 'elf-executable') lines.push('segment readable writeable', area);
  else if (format === 'pe') lines.push(`section '.fcov' data readable writeable`, area);
  else lines.push('align 4', area);
  return `${lines.join('\n')}\n`;
}

/** The output format named by a `format` directive's operands. */
export function outputFormat(operands: string): OutputFormat {
  const w = operands.toLowerCase().split(/\s+/);
  if (w[0] === 'elf' || w[0] === 'elf64') return w[1] === 'executable' ? 'elf-executable' : 'elf-object';
  if (w[0] === 'ms' || w[0] === 'ms64' || w[0] === 'coff') return 'coff-object';
  if (w[0] === 'pe' || w[0] === 'pe64') return 'pe';
  return 'binary';
}
