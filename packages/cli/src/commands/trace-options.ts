import type { Command } from 'commander';
import { lbrSelectFor, LbrSelectError, TRACE_KINDS, type TraceKind } from '@fasmcov/tracer';
import { CliError } from '../errors';
import { positiveInteger } from './option-values';

/** `--trace edges,pt --trace lbr` → ['edges', 'pt', 'lbr']; `none` records nothing. */
export function parseTraceKinds(values: string[]): TraceKind[] {
  const out: TraceKind[] = [];
  for (const v of values.flatMap((x) => x.split(','))) {
    const k = v.trim();
    if (k === 'none' || k === '') continue;
    if (!(TRACE_KINDS as readonly string[]).includes(k)) {
      throw new CliError(`--trace: unknown trace kind '${k}' (have: ${TRACE_KINDS.join(', ')}, none)`);
    }
    if (!out.includes(k as TraceKind)) out.push(k as TraceKind);
  }
  return out;
}

export interface LbrOptionValues {
  lbrDepth: number;
  lbrSelect?: string;
  lbrCallstack?: boolean;
}

/** The LBR options `run` and `exec` share. */
export function addLbrOptions(cmd: Command): Command {
  return cmd
    .option('--lbr-depth <n>', 'entries in the LBR ring', positiveInteger('--lbr-depth'), 32)
    .option(
      '--lbr-select <kinds>',
      'branch kinds the LBR records: jcc, call, icall, ret, jmp, ijmp, far, or calls, returns, jumps, all ' +
        '(comma-separated), or a raw MSR_LBR_SELECT value 0x...',
    )
    .option('--lbr-callstack', 'LBR call-stack mode: calls push, returns pop, leaving the live call chain');
}

/** The MSR_LBR_SELECT value the options ask for. */
export function lbrSelectOption(opts: LbrOptionValues): number {
  try {
    return lbrSelectFor(opts.lbrSelect, opts.lbrCallstack === true);
  } catch (e) {
    if (e instanceof LbrSelectError) throw new CliError(e.message);
    throw e;
  }
}
