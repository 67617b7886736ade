// The worker thread of WorkerChannel: replays each buffer of PT log records the emulator hands
// off, into a PtEncoder writing the trace file, until FINISH. Errors go back through shared memory
// (the emulator's thread is blocked in Atomics.wait, it sees no events).
import { workerData } from 'node:worker_threads';
import { FileSink } from './byte-sink';
import { PtReplay } from './pt-replay';
import { CTL, FREE, type PtWorkerData, STATUS } from './pt-worker-channel';

function run(d: PtWorkerData): void {
  const sink = new FileSink(d.file, d.chunkSize);
  const replay = new PtReplay(sink, {
    ranges: d.ranges,
    psbInterval: d.psbInterval,
    retCompression: d.retCompression,
  });
  const ctl = d.ctl;
  Atomics.store(ctl, CTL.STATUS, STATUS.RUNNING);
  Atomics.notify(ctl, CTL.STATUS);
  for (let i = 0; !replay.ended; i ^= 1) {
    let n: number;
    while ((n = Atomics.load(ctl, i)) === FREE) Atomics.wait(ctl, i, FREE);
    replay.consume(d.buffers[i], n);
    Atomics.store(ctl, i, FREE);
    Atomics.notify(ctl, i);
  }
  sink.close();
  const bytes = sink.length;
  ctl[CTL.BYTES_LO] = (bytes % 2 ** 32) | 0;
  ctl[CTL.BYTES_HI] = Math.floor(bytes / 2 ** 32);
  Atomics.store(ctl, CTL.STATUS, STATUS.DONE);
  Atomics.notify(ctl, CTL.STATUS);
}

const data = workerData as PtWorkerData;
try {
  run(data);
} catch (e) {
  const text = Buffer.from(e instanceof Error ? e.message : String(e), 'utf8').subarray(
    0,
    data.message.length,
  );
  data.message.set(text);
  data.ctl[CTL.MESSAGE_LENGTH] = text.length;
  Atomics.store(data.ctl, CTL.STATUS, STATUS.FAILED);
  for (let i = 0; i < CTL.WORDS; i++) Atomics.notify(data.ctl, i);
}
