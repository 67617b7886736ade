// The reader of PT's branch log (pt-log.ts): turns its records back into the branch hook's calls,
// in order, and feeds them to a PtEncoder. Runs wherever the encoding is done: in the emulator's
// thread (InThreadChannel) or in a worker (pt-worker.ts).
import { type ChunkSink, FileSink } from './byte-sink';
import { EdgeRuns } from './edge-runs';
import { PtEncoder, type PtEncoderOptions } from './pt-encoder';
import { DEFAULT_LOG_WORDS, LOG_OP, LOG_TAG, type PtLogChannel } from './pt-log';
import type { PtJob } from './pt-worker-channel';

export interface PtReplayOptions extends Omit<PtEncoderOptions, 'retCompression'> {
  /** Return compression (the log gives call lengths). */
  retCompression?: boolean;
}

/** The replay of one trace's log into its file, as the worker and the in-thread writer run it. */
export function openTraceReplay(job: PtJob): { sink: FileSink; replay: PtReplay } {
  const sink = new FileSink(job.file, job.chunkSize);
  const { ranges, psbInterval, retCompression } = job;
  return { sink, replay: new PtReplay(sink, { ranges, psbInterval, retCompression }) };
}

export class PtReplay {
  readonly encoder: PtEncoder;
  private readonly from: number[] = [];
  private readonly to: number[] = [];
  private readonly kind: number[] = [];
  private readonly len: number[] = [];
  private readonly runs = new EdgeRuns();
  /** The run of each path. */
  private readonly paths: number[] = [];
  private readonly siteFrom: number[] = [];
  private readonly siteKind: number[] = [];
  private readonly siteLen: number[] = [];
  /** The run of each site's passed edges. */
  private readonly sitePassed: number[] = [];
  /** The length of the call being replayed (the encoder asks for it). */
  private callLen = 0;
  /** FINISH was read. */
  ended = false;

  constructor(sink: ChunkSink, opts: PtReplayOptions = {}) {
    this.encoder = new PtEncoder(sink, {
      ...opts,
      retCompression: opts.retCompression ? { insnLength: () => this.callLen } : undefined,
    });
  }

  /** Replays the records w[0..n). */
  consume(w: Int32Array, n: number): void {
    const enc = this.encoder;
    if (this.ended && n > 0) throw new Error('PT log: records after FINISH');
    let i = 0;
    while (i < n) {
      const head = w[i];
      const id = head >>> 2;
      switch (head & 3) {
        case LOG_TAG.PASS:
          this.path(this.paths[id] ?? this.undefinedPath(id));
          i += 1;
          break;
        case LOG_TAG.SITE:
          if (id >= this.siteFrom.length) throw new Error(`PT log: site ${id} is not defined`);
          this.path(this.sitePassed[id]);
          this.callLen = this.siteLen[id];
          enc.branch(this.siteFrom[id], w[i + 1], this.siteKind[id]);
          i += 2;
          break;
        case LOG_TAG.LOOP: {
          const run = this.paths[id] ?? this.undefinedPath(id);
          if (!enc.directLoop(this.runs, run, w[i + 1])) for (let k = w[i + 1]; k > 0; k--) this.path(run);
          i += 2;
          break;
        }
        default:
          i = this.control(id, w, i);
          // FINISH is a control record: checked after those only, not before every record.
          if (this.ended && i < n) throw new Error('PT log: records after FINISH');
      }
    }
  }

  /** The run of a definition's edges, each defined before. */
  private edgeRun(edges: Int32Array): number {
    for (const e of edges)
      if (e < 0 || e >= this.from.length) throw new Error(`PT log: edge ${e} is not defined`);
    return this.runs.add(edges, this.from, this.to, this.kind, this.len);
  }

  private undefinedPath(id: number): never {
    throw new Error(`PT log: path ${id} is not defined`);
  }

  /** Replays run r: at once when the encoder can, else branch by branch. */
  private path(r: number): void {
    const enc = this.encoder;
    const runs = this.runs;
    if (enc.directRun(runs, r)) return;
    for (let i = runs.off[r], end = i + runs.len[r]; i < end; i++) {
      const e = runs.edge[i];
      this.callLen = this.len[e];
      enc.branch(this.from[e], this.to[e], this.kind[e]);
    }
  }

  /** A CTRL record at w[i]; returns the index after it. */
  private control(op: number, w: Int32Array, i: number): number {
    switch (op) {
      case LOG_OP.BRANCH:
        this.callLen = w[i + 4];
        this.encoder.branch(w[i + 1], w[i + 2], w[i + 3]);
        return i + 5;
      case LOG_OP.ENABLE:
        this.encoder.enable(w[i + 1]);
        return i + 2;
      case LOG_OP.DISABLE:
        this.encoder.disable(w[i + 1]);
        return i + 2;
      case LOG_OP.FINISH:
        this.encoder.finish(w[i + 1]);
        this.ended = true;
        return i + 2;
      case LOG_OP.EDGE:
        this.from.push(w[i + 1] >>> 0);
        this.to.push(w[i + 2] >>> 0);
        this.kind.push(w[i + 3]);
        this.len.push(w[i + 4]);
        return i + 5;
      case LOG_OP.PATH: {
        const n = w[i + 1];
        this.paths.push(this.edgeRun(w.slice(i + 2, i + 2 + n)));
        return i + 2 + n;
      }
      case LOG_OP.SITE: {
        const n = w[i + 4];
        this.siteFrom.push(w[i + 1] >>> 0);
        this.siteKind.push(w[i + 2]);
        this.siteLen.push(w[i + 3]);
        this.sitePassed.push(this.edgeRun(w.slice(i + 5, i + 5 + n)));
        return i + 5 + n;
      }
      default:
        throw new Error(`PT log: unknown record ${w[i]} at word ${i}`);
    }
  }
}

/** Replays each buffer at once, on the emulator's thread. */
export class InThreadChannel implements PtLogChannel {
  readonly first: Int32Array;

  constructor(
    readonly replay: PtReplay,
    words = DEFAULT_LOG_WORDS,
  ) {
    this.first = new Int32Array(Math.max(words, 64));
  }

  handOff(b: Int32Array, n: number): Int32Array {
    this.replay.consume(b, n);
    return b;
  }

  close(): void {
    if (!this.replay.ended) throw new Error('PT log: closed before FINISH');
  }
}
