/**
 * The run directory (`fasmcov-run@1`): what one traced run leaves for the report stage.
 *
 *     run.json              this file's description of the run (below)
 *     image.bin             the loaded sections' bytes as they were when the run started
 *     edges.json            fasmcov-edges@1, when edges were recorded
 *     trace.pt              Intel PT packets, with trace.sideband.json, when PT was recorded
 *     lbr.json / lbr.txt    the LBR ring at the end of the run (or at the fault), newest first
 *     transcript.txt        the script transcript, for script runs
 */
export const RUN_SCHEMA = 'fasmcov-run@1';
export const RUN_FILE = 'run.json';
export const IMAGE_FILE = 'image.bin';
export const EDGES_FILE = 'edges.json';
export const LBR_FILE = 'lbr.json';

export type TraceKind = 'edges' | 'pt' | 'lbr';
export const TRACE_KINDS: readonly TraceKind[] = ['edges', 'pt', 'lbr'];

export interface RunSection {
  /** Section (or segment) name as the loader gave it. */
  name: string;
  /** The file it was loaded from. */
  source: string;
  /** 1-based section index in that file's .fas (objects only; matches by name otherwise). */
  fasSection?: number;
  address: number;
  size: number;
  /** ELF SHF_* flags (SHF_EXECINSTR = 4 marks code). */
  flags: number;
  /** Where its bytes are in image.bin. */
  offset: number;
}

export interface RunInfo {
  schema: typeof RUN_SCHEMA;
  /** Name of the test (script or program) the run executed. */
  test: string;
  traces: TraceKind[];
  sections: RunSection[];
  /** Traced address ranges (the loaded code). */
  ranges: Array<{ start: number; end: number }>;
  /** Instructions retired in all. */
  instructions: number;
  /** Instructions retired while tracing was on (a PT decoder must count exactly these). */
  tracedInstructions: number;
  /** How the run ended. */
  end: { kind: 'exit'; status: number } | { kind: 'fault'; message: string } | { kind: 'budget' };
}
