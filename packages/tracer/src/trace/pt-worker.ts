// The worker thread of WorkerChannel: for each trace's job, replays the buffers of PT log records
// the emulator hands off into a PtEncoder writing the trace file, until FINISH; then waits for the
// next job. Errors go back through shared memory (the emulator's thread is blocked in
// Atomics.wait, it sees no events), and end the worker.
import { receiveMessageOnPort, workerData } from 'node:worker_threads';
import { type PtReplay, openTraceReplay } from './pt-replay';
import { CTL, FREE, type PtJob, type PtWorkerData, STATUS } from './pt-worker-channel';

/** The trace was abandoned (its file is closed): the worker ends. */
class Abandoned extends Error {}

function nextJob(d: PtWorkerData): PtJob {
  const ctl = d.ctl;
  for (;;) {
    while (Atomics.load(ctl, CTL.JOB) === 0) {
      if (Atomics.load(ctl, CTL.ABORT) !== 0) throw new Abandoned();
      Atomics.wait(ctl, CTL.JOB, 0);
    }
    const m = receiveMessageOnPort(d.jobs);
    if (m !== undefined) {
      Atomics.store(ctl, CTL.JOB, 0);
      return m.message as PtJob;
    }
    // The flag can be seen before the message arrives.
    Atomics.wait(ctl, CTL.JOB, 1, 1);
  }
}

function runJob(d: PtWorkerData, job: PtJob): void {
  const { sink, replay } = openTraceReplay(job);
  try {
    replayAll(d, replay);
  } finally {
    // Also when the trace failed or was abandoned: the file is not left open.
    sink.close();
  }
  const ctl = d.ctl;
  const bytes = sink.length;
  ctl[CTL.BYTES_LO] = (bytes % 2 ** 32) | 0;
  ctl[CTL.BYTES_HI] = Math.floor(bytes / 2 ** 32);
  Atomics.store(ctl, CTL.STATUS, STATUS.DONE);
  Atomics.notify(ctl, CTL.STATUS);
}

/** Replays the buffers of one trace until FINISH. */
function replayAll(d: PtWorkerData, replay: PtReplay): void {
  const ctl = d.ctl;
  Atomics.store(ctl, CTL.STATUS, STATUS.RUNNING);
  Atomics.notify(ctl, CTL.STATUS);
  for (let i = 0; !replay.ended; i ^= 1) {
    let n: number;
    while ((n = Atomics.load(ctl, i)) === FREE) {
      if (Atomics.load(ctl, CTL.ABORT) !== 0) throw new Abandoned();
      Atomics.wait(ctl, i, FREE);
    }
    replay.consume(d.buffers[i], n);
    Atomics.store(ctl, i, FREE);
    Atomics.notify(ctl, i);
  }
}

const data = workerData as PtWorkerData;
try {
  for (;;) runJob(data, nextJob(data));
} catch (e) {
  if (e instanceof Abandoned) process.exit(0);
  const text = Buffer.from(e instanceof Error ? e.message : String(e), 'utf8').subarray(
    0,
    data.message.length,
  );
  data.message.set(text);
  data.ctl[CTL.MESSAGE_LENGTH] = text.length;
  Atomics.store(data.ctl, CTL.STATUS, STATUS.FAILED);
  for (let i = 0; i < CTL.WORDS; i++) Atomics.notify(data.ctl, i);
}
