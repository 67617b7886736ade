// Encodes a PT log on a worker thread (pt-worker.ts), so that the emulator's thread only writes
// records: two shared buffers, one being written while the worker replays the other. The worker
// writes `trace.pt` itself. Waiting is Atomics.wait on the emulator's thread (the run is
// synchronous); a failure in the worker comes back as an Error with its message. Workers are kept
// for the next trace of the process (the demo records 24 runs): a new worker runs the replay
// unoptimised for its first few hundred milliseconds.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { MessageChannel, type MessagePort, Worker } from 'node:worker_threads';
import type { AddressRange } from './pt-encoder';
import { DEFAULT_LOG_WORDS, type PtLogChannel } from './pt-log';

/**
 * ctl words: per buffer its record words (FREE: the worker is done with it), the status of the
 * trace, its error message's length, its bytes, JOB (1: a trace's job was posted) and ABORT (1: the
 * trace was abandoned; the worker closes its file and ends).
 */
export const CTL = {
  STATUS: 2,
  MESSAGE_LENGTH: 3,
  BYTES_LO: 4,
  BYTES_HI: 5,
  JOB: 6,
  ABORT: 7,
  WORDS: 8,
} as const;
export const FREE = -1;
export const STATUS = { STARTING: 0, RUNNING: 1, DONE: 2, FAILED: 3 } as const;
export const MESSAGE_BYTES = 4096;

/** What a worker gets once (workerData). */
export interface PtWorkerData {
  ctl: Int32Array;
  buffers: [Int32Array, Int32Array];
  message: Uint8Array;
  /** Where jobs come (read with receiveMessageOnPort: the worker never returns to its event loop). */
  jobs: MessagePort;
}

/** One trace's job (posted on `jobs`). */
export interface PtJob {
  file: string;
  chunkSize?: number;
  ranges?: AddressRange[];
  psbInterval?: number;
  retCompression: boolean;
}

/** A trace's job (`file`: the trace file the worker writes), and how to run its worker. */
export interface WorkerChannelOptions extends PtJob {
  /** Words per buffer (default DEFAULT_LOG_WORDS). */
  words?: number;
  /** The worker's script (default: pt-worker.js beside this module). */
  script?: string;
}

/** The worker script beside this module, when there is one (the built package; not under ts). */
export function defaultWorkerScript(): string | undefined {
  const script = path.join(__dirname, 'pt-worker.js');
  return path.extname(__filename) === '.js' && fs.existsSync(script) ? script : undefined;
}

/** Longest wait for a worker that has not started (it could not load its script). */
const START_TIMEOUT_MS = 30_000;

/** A worker thread and the memory it shares with this one. */
interface PtWorker {
  readonly worker: Worker;
  readonly script: string;
  readonly data: PtWorkerData;
  /** This side of `data.jobs`. */
  readonly port: MessagePort;
}

/** Workers between traces. */
const idle: PtWorker[] = [];

function startWorker(script: string, words: number): PtWorker {
  const buffer = (): Int32Array => new Int32Array(new SharedArrayBuffer(words * 4));
  const { port1, port2 } = new MessageChannel();
  const data: PtWorkerData = {
    ctl: new Int32Array(new SharedArrayBuffer(CTL.WORDS * 4)),
    buffers: [buffer(), buffer()],
    message: new Uint8Array(new SharedArrayBuffer(MESSAGE_BYTES)),
    jobs: port2,
  };
  const worker = new Worker(script, { workerData: data, transferList: [port2] });
  // The run never waits for the event loop: the worker must not keep the process alive.
  worker.unref();
  port1.unref();
  return { worker, script, data, port: port1 };
}

export class WorkerChannel implements PtLogChannel {
  private readonly ctl: Int32Array;
  private readonly buffers: [Int32Array, Int32Array];
  private readonly message: Uint8Array;
  private readonly pw: PtWorker;
  private current = 0;
  private closed = false;
  /** Trace bytes the worker wrote (known once closed). */
  bytes = 0;

  constructor({ words: wordsOpt, script: scriptOpt, ...job }: WorkerChannelOptions) {
    const words = Math.max(wordsOpt ?? DEFAULT_LOG_WORDS, 64);
    const script = scriptOpt ?? defaultWorkerScript();
    if (script === undefined || !fs.existsSync(script))
      throw new Error(`PT worker script not found${script ? `: ${script}` : ''} (build the tracer package)`);
    const at = idle.findIndex((w) => w.script === script && w.data.buffers[0].length === words);
    this.pw = at >= 0 ? idle.splice(at, 1)[0] : startWorker(script, words);
    ({ ctl: this.ctl, buffers: this.buffers, message: this.message } = this.pw.data);
    this.ctl[0] = FREE;
    this.ctl[1] = FREE;
    this.ctl[CTL.STATUS] = STATUS.STARTING;
    this.pw.port.postMessage(job satisfies PtJob);
    Atomics.store(this.ctl, CTL.JOB, 1);
    Atomics.notify(this.ctl, CTL.JOB);
  }

  /** The buffer the log starts in. */
  get first(): Int32Array {
    return this.buffers[0];
  }

  handOff(b: Int32Array, n: number): Int32Array {
    if (b !== this.buffers[this.current]) throw new Error('PT worker channel: not the current buffer');
    Atomics.store(this.ctl, this.current, n);
    Atomics.notify(this.ctl, this.current);
    this.current ^= 1;
    this.waitFree(this.current);
    return this.buffers[this.current];
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.waitFree(this.current ^ 1);
    for (;;) {
      const s = this.status();
      if (s === STATUS.DONE) break;
      Atomics.wait(this.ctl, CTL.STATUS, s, 200);
    }
    this.bytes = (this.ctl[CTL.BYTES_HI] >>> 0) * 2 ** 32 + (this.ctl[CTL.BYTES_LO] >>> 0);
    idle.push(this.pw);
  }

  /**
   * The trace will not be finished (its run failed): the worker closes its file and ends once it
   * has replayed what it has (it is not kept).
   */
  abandon(): void {
    if (this.closed) return;
    this.closed = true;
    Atomics.store(this.ctl, CTL.ABORT, 1);
    for (let i = 0; i < CTL.WORDS; i++) Atomics.notify(this.ctl, i);
  }

  /** Waits until the worker has replayed buffer i. */
  private waitFree(i: number): void {
    const t0 = Date.now();
    for (;;) {
      const v = Atomics.load(this.ctl, i);
      if (v === FREE) return;
      const s = this.status();
      if (s === STATUS.STARTING && Date.now() - t0 > START_TIMEOUT_MS)
        throw new Error(`PT worker did not start in ${START_TIMEOUT_MS / 1000} s`);
      Atomics.wait(this.ctl, i, v, 200);
    }
  }

  /** The worker's status; throws its error when it failed. */
  private status(): number {
    const s = Atomics.load(this.ctl, CTL.STATUS);
    if (s !== STATUS.FAILED) return s;
    const n = this.ctl[CTL.MESSAGE_LENGTH];
    const text = Buffer.from(this.message.slice(0, n)).toString('utf8');
    // The worker has ended; it is not kept.
    this.closed = true;
    void this.pw.worker.terminate();
    throw new Error(`PT encoder (worker): ${text}`);
  }
}
