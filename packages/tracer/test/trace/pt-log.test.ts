// PT's branch log against the encoder's own hook: a random branch stream, recorded as compiled
// code records it (passes along counters' paths, dynamic sites, a loop's counted passes) mixed
// with the interpreter's single branches, replayed in tiny buffers on this thread or on the
// worker thread, must give the bytes the encoder writes when it sees every branch.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  BRANCH,
  BufferSink,
  FileSink,
  InThreadChannel,
  type PtEncoderOptions,
  PtEncoder,
  PtLog,
  PtReplay,
  WorkerChannel,
} from '@fasmcov/tracer';
import { EdgeCounters } from '../../src/cpu/jit/engine';
import { PT_LOOP, PT_PASS, PT_SITE } from '../../src/cpu/jit/gen';
import { type Event, events, opts, replayOptions, rng } from './helpers/branch-events';

/** The built worker script (npm test builds before jest runs). */
const WORKER = path.resolve(__dirname, '../../dist/trace/pt-worker.js');

const DYNAMIC = new Set<number>([BRANCH.RET, BRANCH.JMP_INDIRECT, BRANCH.CALL_INDIRECT]);

/**
 * Feeds `evs` (tracing on from 0x1000 to the end) to `log` in random groups: a group as one
 * pass along a path, as a pass to a dynamic site when its last branch is indirect, repeated as a
 * loop's counted passes, or branch by branch through the hook. Returns the stream the log stands
 * for (loops repeat their group).
 */
function feed(log: PtLog, evs: Event[], seed: number, maxPasses = 40): Event[] {
  const r = rng(seed);
  const counters = new EdgeCounters();
  const fed: Event[] = [];
  log.enable(0x1000);
  for (let i = 0; i < evs.length;) {
    const group = evs.slice(i, i + 1 + Math.floor(r() * 5));
    i += group.length;
    const edges = (g: Event[]): number[] => g.map((e) => counters.edge(e.from, e.to, e.kind));
    const last = group[group.length - 1];
    const x = r();
    if (x < 0.2) {
      for (const e of group) log.hook(e.from, e.to, e.kind);
      fed.push(...group);
    } else if (x < 0.5 && DYNAMIC.has(last.kind)) {
      const d = counters.site(last.from, last.kind, edges(group.slice(0, -1)));
      log.define(counters);
      log.record2(d * 4 + PT_SITE, last.to);
      fed.push(...group);
    } else if (x < 0.6) {
      const n = 1 + Math.floor(r() * maxPasses);
      const p = counters.path(edges(group));
      log.define(counters);
      log.loop(p * 4 + PT_LOOP, n);
      for (let k = 0; k < n; k++) fed.push(...group);
    } else {
      const p = counters.path(edges(group));
      log.define(counters);
      log.record(p * 4 + PT_PASS);
      fed.push(...group);
    }
    // A host call now and then: tracing stops and resumes.
    if (r() < 0.01) {
      log.disable(last.to);
      log.enable(last.to);
      fed.push({ from: -1, to: last.to, kind: -1 });
    }
  }
  log.finish(0x1000);
  return fed;
}

/** The encoder's bytes for a fed stream (from -1: a host call at `to`), through its hook. */
function reference(fed: Event[], o: PtEncoderOptions): Buffer {
  const sink = new BufferSink();
  const pt = new PtEncoder(sink, o);
  pt.enable(0x1000);
  for (const e of fed) {
    if (e.from === -1) {
      pt.disable(e.to);
      pt.enable(e.to);
    } else pt.hook(e.from, e.to, e.kind);
  }
  pt.finish(0x1000);
  return Buffer.from(sink.toBytes());
}

/** The files this process has open (Linux). */
function openFiles(): string[] {
  return fs.readdirSync('/proc/self/fd').flatMap((fd) => {
    try {
      return [fs.readlinkSync(`/proc/self/fd/${fd}`)];
    } catch {
      return [];
    }
  });
}

/** Waits (up to 5 s) until `ok()`, else fails. */
async function eventually(ok: () => boolean): Promise<void> {
  for (let t = 0; t < 100 && !ok(); t++) await new Promise((r) => setTimeout(r, 50));
  expect(ok()).toBe(true);
}

describe('PT log', () => {
  test.each([1, 2, 3])("replayed on this thread in 64-word buffers: the hook's bytes (seed %i)", (seed) => {
    const o = opts();
    const sink = new BufferSink();
    const log = new PtLog(new InThreadChannel(new PtReplay(sink, replayOptions(o)), 64), {
      insnLength: () => 5,
    });
    const fed = feed(log, events(seed, 5000), seed + 100);
    const want = reference(fed, o);
    expect(want.length).toBeGreaterThan(1000);
    expect(Buffer.from(sink.toBytes()).equals(want)).toBe(true);
  });

  test('long TNT, no return compression, a FileSink in 64-byte chunks: the same bytes', () => {
    const o = opts({ longTnt: true, retCompression: undefined });
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'fasmcov-ptlog-')), 'trace.pt');
    const sink = new FileSink(file, 64);
    const log = new PtLog(new InThreadChannel(new PtReplay(sink, replayOptions(o)), 100));
    const fed = feed(log, events(4, 8000), 44);
    sink.close();
    expect(fs.readFileSync(file).equals(reference(fed, o))).toBe(true);
  });

  test("loops of thousands of passes (whole TNTs in bulk) into a FileSink's 64-byte chunks: the same bytes", () => {
    const o = opts();
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'fasmcov-ptlog-')), 'trace.pt');
    const sink = new FileSink(file, 64);
    const log = new PtLog(new InThreadChannel(new PtReplay(sink, replayOptions(o)), 64), {
      insnLength: () => 5,
    });
    const fed = feed(log, events(6, 3000), 66, 5000);
    sink.close();
    const want = reference(fed, o);
    expect(want.length).toBeGreaterThan(50_000);
    expect(fs.readFileSync(file).equals(want)).toBe(true);
  });

  test('replayed on the worker thread: the same bytes in the file it writes', () => {
    const o = opts();
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'fasmcov-ptlog-')), 'trace.pt');
    const channel = new WorkerChannel({
      file,
      chunkSize: 64,
      ranges: o.ranges,
      psbInterval: o.psbInterval,
      retCompression: true,
      words: 64,
      script: WORKER,
    });
    const log = new PtLog(channel, { insnLength: () => 5 });
    const fed = feed(log, events(5, 20000), 55);
    const want = reference(fed, o);
    expect(want.length).toBeGreaterThan(5000);
    expect(channel.bytes).toBe(want.length);
    expect(fs.readFileSync(file).equals(want)).toBe(true);
  });

  test('a trace abandoned halfway: its worker closes the file and ends; the next trace gets a working one', async () => {
    const o = opts();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fasmcov-ptlog-'));
    const channel = (file: string): WorkerChannel =>
      new WorkerChannel({
        file,
        ranges: o.ranges,
        psbInterval: o.psbInterval,
        retCompression: true,
        words: 64,
        script: WORKER,
      });
    const first = channel(path.join(dir, 'a.pt'));
    const log = new PtLog(first, { insnLength: () => 5 });
    log.enable(0x1000);
    for (let i = 0; i < 500; i++) log.hook(0x1000 + i, 0x1100 + i, BRANCH.COND_TAKEN);
    first.abandon();
    // The abandoned trace's worker closes its file and ends.
    await eventually(() => !openFiles().includes(path.join(dir, 'a.pt')));
    const second = channel(path.join(dir, 'b.pt'));
    const fed = feed(new PtLog(second, { insnLength: () => 5 }), events(8, 4000), 88);
    expect(fs.readFileSync(path.join(dir, 'b.pt')).equals(reference(fed, o))).toBe(true);
  });

  test("the worker's failure comes back as an error with its message", () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'fasmcov-ptlog-')), 'trace.pt');
    const channel = new WorkerChannel({ file, retCompression: false, words: 64, script: WORKER });
    const log = new PtLog(channel);
    log.enable(0x1000);
    // Path 7 was never defined.
    log.record(7 * 4 + PT_PASS);
    expect(() => log.finish(0x1000)).toThrow(/^PT encoder \(worker\): PT log: path 7 is not defined/);
  });

  test('a missing worker script is a clear error', () => {
    expect(
      () =>
        new WorkerChannel({ file: '/nonexistent/t.pt', retCompression: false, script: '/nonexistent/w.js' }),
    ).toThrow('PT worker script not found: /nonexistent/w.js');
  });
});
