import { TRACE_KINDS, type TraceKind } from '@fasmcov/tracer';
import { CliError } from '../errors';

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
