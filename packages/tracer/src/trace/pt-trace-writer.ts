// A traced run's output directory: `trace.pt` streamed to disk through a FileSink, and the
// sideband file describing the image, written when the run ends.
import * as path from 'node:path';
import { FileSink } from './byte-sink';
import { PtEncoder } from './pt-encoder';
import type { AddressRange, PtEncoderOptions } from './pt-encoder';
import { SIDEBAND_SCHEMA, writeSideband } from './sideband';
import type { SidebandSection } from './sideband';

export const TRACE_FILE = 'trace.pt';
export const SIDEBAND_FILE = 'trace.sideband.json';

export interface PtTraceWriterOptions {
  /** The loaded image; `file` paths are relative to `dir` or absolute. */
  sections: SidebandSection[];
  ranges?: AddressRange[];
  psbInterval?: number;
  /** Return compression (see PtEncoderOptions); real PT has it on unless DisRETC is set. */
  retCompression?: PtEncoderOptions['retCompression'];
  /** Bytes buffered before each write (default 1 MiB). */
  chunkSize?: number;
}

export class PtTraceWriter {
  readonly encoder: PtEncoder;
  private readonly sink: FileSink;
  readonly tracePath: string;
  readonly sidebandPath: string;

  constructor(
    readonly dir: string,
    private readonly opts: PtTraceWriterOptions,
  ) {
    this.tracePath = path.join(dir, TRACE_FILE);
    this.sidebandPath = path.join(dir, SIDEBAND_FILE);
    this.sink = new FileSink(this.tracePath, opts.chunkSize);
    this.encoder = new PtEncoder(this.sink, {
      ranges: opts.ranges,
      psbInterval: opts.psbInterval,
      retCompression: opts.retCompression,
    });
  }

  /** Bytes of trace so far. */
  get bytes(): number {
    return this.sink.length;
  }

  /**
   * Ends the trace before `nextIp`, closes `trace.pt` and writes the sideband file, with the
   * producer's instruction count when it has one.
   */
  finish(nextIp: number, instructions?: number): void {
    this.encoder.finish(nextIp);
    this.sink.close();
    writeSideband(this.sidebandPath, {
      schema: SIDEBAND_SCHEMA,
      trace: TRACE_FILE,
      mode: 32,
      ...(this.opts.ranges ? { ranges: this.opts.ranges } : {}),
      sections: this.opts.sections,
      ...(instructions !== undefined ? { instructions } : {}),
    });
  }
}
