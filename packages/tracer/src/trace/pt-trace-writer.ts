// A traced run's output directory: `trace.pt` streamed to disk through a FileSink, and the
// sideband file describing the image, written when the run ends. The run feeds a PtLog; its
// records are encoded on a worker thread when the built package has one and there is a second
// core, else on the run's.
import * as os from 'node:os';
import * as path from 'node:path';
import type { FileSink } from './byte-sink';
import type { AddressRange, PtEncoderOptions } from './pt-encoder';
import { PtLog, type PtLogChannel, type PtRecorder } from './pt-log';
import { InThreadChannel, openTraceReplay } from './pt-replay';
import { type PtJob, WorkerChannel, defaultWorkerScript } from './pt-worker-channel';
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
  /**
   * Encode on a worker thread (the bytes are the same): default when this module is the built
   * one, whose directory holds the worker's script, and the machine has a second core for it.
   */
  worker?: boolean;
}

export class PtTraceWriter {
  /** What the run's trace session drives. */
  readonly recorder: PtRecorder;
  /** The trace file when the encoder runs on this thread (else the worker writes it). */
  private readonly sink: FileSink | undefined;
  private readonly worker: WorkerChannel | undefined;
  readonly tracePath: string;
  readonly sidebandPath: string;

  constructor(
    readonly dir: string,
    private readonly opts: PtTraceWriterOptions,
  ) {
    this.tracePath = path.join(dir, TRACE_FILE);
    this.sidebandPath = path.join(dir, SIDEBAND_FILE);
    const job: PtJob = {
      file: this.tracePath,
      chunkSize: opts.chunkSize,
      ranges: opts.ranges,
      psbInterval: opts.psbInterval,
      retCompression: opts.retCompression !== undefined,
    };
    let channel: PtLogChannel;
    if (opts.worker ?? (defaultWorkerScript() !== undefined && os.availableParallelism() > 1))
      channel = this.worker = new WorkerChannel(job);
    else {
      const { sink, replay } = openTraceReplay(job);
      this.sink = sink;
      channel = new InThreadChannel(replay);
    }
    this.recorder = new PtLog(channel, { insnLength: opts.retCompression?.insnLength });
  }

  /** The run failed: the trace will not be finished (the caller removes its files). */
  abandon(): void {
    this.sink?.close();
    this.worker?.abandon();
  }

  /** Bytes of trace written (all of them once finished). */
  get bytes(): number {
    return this.sink?.length ?? this.worker?.bytes ?? 0;
  }

  /**
   * Ends the trace before `nextIp`, closes `trace.pt` and writes the sideband file, with the
   * producer's instruction count when it has one.
   */
  finish(nextIp: number, instructions?: number): void {
    this.recorder.finish(nextIp);
    this.sink?.close();
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
