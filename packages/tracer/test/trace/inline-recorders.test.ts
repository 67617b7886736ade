// Compiled blocks count their own branch edges, append to an LBR ring and log PT passes instead of
// calling the recorders' hooks (jit/engine.ts, InlineBranchTarget). The recorders must end up
// exactly as when every branch goes through the hook: each program runs with the JIT off (hook
// only; PT straight into the encoder) and with every block compiled at once (PT through its log,
// replayed in small buffers), and the edge documents, LBR rings and PT bytes are compared after
// every slice of the run — across self-modifying code, host calls, budgets ending mid-block, guest
// faults and hooks swapped mid-run.
import {
  BufferSink,
  type Cpu,
  EdgeRecorder,
  type EdgesDocument,
  LBR_CALLSTACK_SELECT,
  LBR_SELECT,
  LbrRecorder,
  type LbrEntry,
  InThreadChannel,
  PtEncoder,
  type PtEncoderOptions,
  PtLog,
  type PtRecorder,
  PtReplay,
  TraceSession,
  classifyInstruction,
  type TraceTargets,
} from '@fasmcov/tracer';
import { registerInlineHook } from '../../src/cpu/jit/engine';
import { CODE, DATA } from '../cpu/helpers';
import { THROUGH, compileEagerly, loadOnce, runOutcome } from '../cpu/jit-helpers';
import { replayOptions } from './helpers/branch-events';

/** Recorders for one run (fresh each time: every run gets its own) on `cpu`. */
type MakeTargets = (cpu: Cpu, jit: boolean) => TraceTargets;

interface Recorded {
  /** After each slice: the outcome, the edge document and the LBR ring. */
  slices: Array<{ outcome: string; edges?: EdgesDocument; lbr?: LbrEntry[] }>;
  /** PT bytes, when PT was on. */
  pt?: string;
  /** Calls that reached the recorders' hooks (the JIT stands in for most of them). */
  hookCalls: number;
}

interface RunOptions {
  budget?: number;
  /** Host calls (`db 0x0f, 0xff / dw n`): what the handler does besides returning. */
  hostCall?: (cpu: Cpu, n: number) => void;
}

interface HasBranch {
  branch: (from: number, to: number, kind: number) => void;
}

/** Counts the calls of each recorder's branch method (the hooks call them). */
function countHookCalls(t: TraceTargets): () => number {
  let n = 0;
  for (const r of [t.edges, t.lbr, t.pt] as Array<HasBranch | undefined>) {
    if (r === undefined) continue;
    const inner = r.branch.bind(r);
    r.branch = (from, to, kind) => {
      n++;
      inner(from, to, kind);
    };
  }
  return () => n;
}

/** The byte sink of each PT recorder made here. */
const ptSinks = new WeakMap<PtRecorder, BufferSink>();

function record(src: string, jit: boolean, make: MakeTargets, o: RunOptions = {}): Recorded {
  const cpu = loadOnce(src);
  cpu.jit = jit;
  const t = make(cpu, jit);
  const calls = countHookCalls(t);
  if (o.hostCall) {
    const f = o.hostCall;
    cpu.hostCall = (n) => f(cpu, n);
  }
  const session = new TraceSession(t);
  session.attach(cpu);
  const slices: Recorded['slices'] = [];
  for (let s = 0; s < 10_000; s++) {
    const outcome = runOutcome(cpu, o.budget ?? 1_000_000);
    const done = outcome !== 'budget' && outcome !== 'stop';
    if (done) session.finish(cpu.eip);
    slices.push({ outcome, edges: t.edges?.toDocument(), lbr: t.lbr?.snapshot() });
    if (done) break;
  }
  const sink = t.pt && ptSinks.get(t.pt);
  const pt = sink ? Buffer.from(sink.toBytes()).toString('hex') : undefined;
  return { slices, pt, hookCalls: calls() };
}

/** The same run with the JIT off and on must leave the recorders the same; returns the JIT run. */
function same(src: string, make: MakeTargets, o: RunOptions = {}): Recorded {
  const want = record(src, false, make, o);
  const got = record(src, true, make, o);
  expect(got.slices.length).toBe(want.slices.length);
  got.slices.forEach((s, k) => expect({ slice: k, ...s }).toEqual({ slice: k, ...want.slices[k] }));
  expect(got.pt).toEqual(want.pt);
  // The runs did something, and the JIT stood in for most of the hook calls (or, for a recorder
  // it cannot stand in for, made every one).
  const last = want.slices[want.slices.length - 1];
  expect((last.edges?.edges.length ?? 0) + (last.lbr?.length ?? 0) + (want.pt?.length ?? 0)).toBeGreaterThan(
    0,
  );
  if (hookedEveryBranch.has(make)) expect(got.hookCalls).toBe(want.hookCalls);
  // Slices shorter than the blocks (which go on through jumps and calls) run interpreted.
  else if ((o.budget ?? Infinity) < 7) expect(got.hookCalls).toBeLessThanOrEqual(want.hookCalls);
  else expect(got.hookCalls).toBeLessThan(want.hookCalls);
  return got;
}

/** Targets compiled code calls the hook for at every branch. */
const hookedEveryBranch = new WeakSet<MakeTargets>();

const edgesOnly: MakeTargets = () => ({ edges: new EdgeRecorder() });
const lbrOnly: MakeTargets = () => ({ lbr: new LbrRecorder({ depth: 8 }) });
const both: MakeTargets = () => ({ edges: new EdgeRecorder(), lbr: new LbrRecorder({ depth: 5 }) });
/**
 * PT into a buffer: with the JIT off, the encoder's own hook; with it on, a PtLog of 64-word
 * buffers (a hand-off every few passes) replayed into an encoder.
 */
const ptToBuffer = (jit: boolean, o: PtEncoderOptions = {}): PtRecorder => {
  const sink = new BufferSink();
  const opts = { psbInterval: 256, ...o };
  let pt: PtRecorder;
  if (!jit) pt = new PtEncoder(sink, opts);
  else {
    const replay = new PtReplay(sink, replayOptions(opts));
    pt = new PtLog(new InThreadChannel(replay, 64), { insnLength: opts.retCompression?.insnLength });
  }
  ptSinks.set(pt, sink);
  return pt;
};
/** PT with return compression (call lengths read from the CPU's memory) and address filters. */
const ptFiltered =
  (ranges: Array<{ start: number; end: number }>): MakeTargets =>
  (cpu, jit) => ({
    pt: ptToBuffer(jit, {
      ranges,
      retCompression: { insnLength: (a) => classifyInstruction((x) => cpu.memory.read8(x), a).length },
    }),
  });
const CONFIGS: Array<[string, MakeTargets]> = [
  ['edges', edgesOnly],
  ['lbr', lbrOnly],
  ['edges + lbr', both],
  ['edges + lbr + pt', (cpu, jit) => ({ ...both(cpu, jit), pt: ptToBuffer(jit) })],
  ['pt', (_, jit) => ({ pt: ptToBuffer(jit) })],
  ['pt, long TNT', (_, jit) => ({ pt: ptToBuffer(jit, { longTnt: true }) })],
  ['pt, return compression', ptFiltered([{ start: 0, end: 2 ** 32 }])],

  [
    'edges + call-stack lbr',
    () => ({ edges: new EdgeRecorder(), lbr: new LbrRecorder({ select: LBR_CALLSTACK_SELECT }) }),
  ],
];

/**
 * Loops, conditional branches both ways, calls returning to several places, `ret n`, indirect
 * jumps through a table and indirect calls through a register.
 */
const MIXED = [
  'mov ecx, 300',
  'l: mov eax, ecx',
  'and eax, 3',
  'jmp dword [table+eax*4]',
  'c0: call f',
  'jmp next',
  'c1: push 5',
  'call g',
  'jmp next',
  'c2: mov edx, f',
  'call edx',
  'call f',
  'jmp next',
  'c3: test ecx, 4',
  'jz next',
  'inc ebx',
  'next: dec ecx',
  'jnz l',
  'hlt',
  'f: add esi, ecx',
  'cmp esi, 1000',
  'jb fr',
  'sub esi, 1000',
  'fr: ret',
  'g: add edi, [esp+4]',
  'ret 4',
  'align 4',
  'table: dd c0, c1, c2, c3',
].join('\n');

describe('inline branch recording (compiled code counting for the recorders)', () => {
  compileEagerly();

  // MIXED's routines f and g start at CODE + 0x3c: filtered out, calls to them leave the traced
  // range and returns enter it; filtered in, only they are traced.
  const FILTERED: Array<[string, MakeTargets]> = [
    ['pt, return compression, the routines filtered out', ptFiltered([{ start: CODE, end: CODE + 0x3c }])],
    ['pt, return compression, only the routines', ptFiltered([{ start: CODE + 0x3c, end: CODE + 0x1000 }])],
  ];
  test.each(CONFIGS)('%s: the same documents and rings after every slice', (_name, make) => {
    same(MIXED, make);
    for (const budget of [1, 3, 7, 50]) same(MIXED, make, { budget });
  });

  test.each(CONFIGS)(
    '%s: blocks going on through direct jumps, calls and their returns record what the hook does',
    (_name, make) => {
      same(THROUGH, make);
      for (const budget of [1, 3, 7, 50]) same(THROUGH, make, { budget });
    },
  );

  test.each(CONFIGS)(
    '%s: dynamic sites with more targets than compiled code remembers (SITE_WAYS)',
    (_name, make) => {
      // An indirect jump to eight places and a routine called from eight: each site goes to
      // more targets than it remembers, in turn and then in a scrambled order.
      const callers = Array.from({ length: 8 }, (_, i) => [`c${i}: call f`, 'jmp next']).flat();
      const src = [
        'mov ecx, 400',
        'l: mov eax, ecx',
        'cmp ecx, 200',
        'ja inturn',
        'imul eax, eax',
        'shr eax, 3',
        'inturn: and eax, 7',
        'jmp dword [table+eax*4]',
        ...callers,
        'next: dec ecx',
        'jnz l',
        'hlt',
        'f: inc esi',
        'ret',
        'align 4',
        `table: dd ${Array.from({ length: 8 }, (_, i) => `c${i}`).join(', ')}`,
      ].join('\n');
      same(src, make);
      for (const budget of [5, 50]) same(src, make, { budget });
    },
  );

  // (Slices of one instruction would leave the routines' blocks nothing but their `ret`.)
  test.each(FILTERED)('%s: the same trace after every slice', (_name, make) => {
    same(MIXED, make);
    for (const budget of [7, 50]) same(MIXED, make, { budget });
  });

  test('self-modifying code: patched immediates and branch targets recompile blocks mid-run', () => {
    // The jz's displacement alternates between two targets, so its static edges change with each
    // recompilation; the patched add changes the block without changing its edges.
    const src = [
      'mov ecx, 200',
      'l: add eax, 1',
      'p = $ - 1',
      'inc byte [p]',
      'test cl, 1',
      'jz a',
      'd = $ - 1',
      'inc ebx',
      'a: inc edx',
      'b: xor byte [d], a xor b',
      'dec ecx',
      'jnz l',
      'hlt',
    ].join('\n');
    for (const [, make] of CONFIGS) {
      same(src, make);
      same(src, make, { budget: 5 });
    }
  });

  test('host calls: tracing stops before them and resumes after (ranges filter a helper)', () => {
    // The helper at CODE + 0x100 lies outside the traced range: calls into it leave the range,
    // its return enters it again (a start), like a host service.
    const src = [
      'mov ecx, 40',
      'l: db 0x0f, 0xff',
      'dw 1',
      'call helper',
      'dec ecx',
      'jnz l',
      'hlt',
      `rb ${CODE + 0x100} - $`,
      'helper: test ecx, 2',
      'jz hr',
      'inc eax',
      'hr: ret',
    ].join('\n');
    const ranges = [{ start: CODE, end: CODE + 0x100 }];
    const r = same(src, () => ({ edges: new EdgeRecorder({ ranges }), lbr: new LbrRecorder() }), {
      hostCall: (cpu) => void cpu.memory.write32(DATA, cpu.memory.read32(DATA) + 1),
    });
    // mov ecx, 40 (5 bytes), the host call (4), call helper (5).
    const hostAt = CODE + 5;
    const doc = r.slices[r.slices.length - 1].edges as EdgesDocument;
    expect(doc.stops.find(([ip]) => ip === hostAt)?.[1]).toBe(40);
    expect(doc.starts.find(([ip]) => ip === hostAt + 4)?.[1]).toBe(40);
    expect(doc.starts.find(([ip]) => ip === hostAt + 4 + 5)?.[1]).toBe(40);
  });

  test('a guest fault inside a compiled loop: counts up to it, then the fault branch', () => {
    const src = [
      `mov esi, ${DATA + 0x10000 - 256}`,
      'l: add eax, [esi]',
      'test eax, 1',
      'jz e',
      'inc ebx',
      'e: add esi, 4',
      'jmp l',
    ].join('\n');
    for (const [, make] of CONFIGS) {
      const r = same(src, make);
      expect(r.slices[r.slices.length - 1].outcome).toMatch(/fault 14/);
      same(src, make, { budget: 9 });
    }
  });

  test('loops whose passes PT counts: side exits after some passes, a memory write, branches after the loop', () => {
    // inner: not-taken branches before a conditional back-edge, a side exit taken now and then, a
    // store (an SMC check exit); after the loop the block goes on to more branches. l2: a jmp
    // back-edge with a side exit.
    const src = [
      'mov ecx, 300',
      'outer: mov edx, ecx',
      'and edx, 7',
      'inc edx',
      'inner: test edx, 16',
      'jnz never',
      'add eax, edx',
      'test eax, 0x3f',
      'jz side',
      `mov [${DATA}+edx*4], eax`,
      'dec edx',
      'jnz inner',
      'test ecx, 1',
      'jz even',
      'inc ebx',
      'even: mov esi, ecx',
      'and esi, 3',
      'l2: inc esi',
      'test esi, 7',
      'jz after',
      'cmp esi, 100',
      'ja never',
      'jmp l2',
      'side: inc edi',
      'jmp even',
      'after: dec ecx',
      'jnz outer',
      'never: hlt',
    ].join('\n');
    // Two back-edges: PT appends each pass's bits in the loop.
    const twoBackEdges = [
      'mov ecx, 200',
      'l: inc eax',
      'test eax, 8',
      'jnz skip',
      'test eax, 3',
      'jz l',
      'skip: dec ecx',
      'jnz l',
      'hlt',
    ].join('\n');
    for (const [, make] of CONFIGS) {
      // (Slices shorter than twoBackEdges' blocks would run it all interpreted.)
      for (const [program, budgets] of [
        [src, [1, 3, 7, 50]],
        [twoBackEdges, [7, 50]],
      ] as const) {
        same(program, make);
        for (const budget of budgets) same(program, make, { budget });
      }
    }
  });

  test('a hook that calls stop() as the other recorder stops the block right after the branch', () => {
    const stopper =
      (cpu: () => Cpu): MakeTargets =>
      () => {
        const edges = new EdgeRecorder();
        let n = 0;
        const lbr = new LbrRecorder({ select: LBR_SELECT.JCC });
        const inner = lbr.branch.bind(lbr);
        lbr.branch = (from, to, kind) => {
          inner(from, to, kind);
          if (++n % 7 === 0) cpu().stop();
        };
        return { edges, lbr };
      };
    let current: Cpu | undefined;
    const src = ['mov ecx, 100', 'l: test cl, 1', 'jz s', 'inc ebx', 's: dec ecx', 'jnz l', 'hlt'].join('\n');
    const withCpu = (jit: boolean): Recorded => {
      const make = stopper(() => current as Cpu);
      const cpu = loadOnce(src);
      current = cpu;
      cpu.jit = jit;
      const t = make(cpu, jit);
      new TraceSession(t).attach(cpu);
      const slices: Recorded['slices'] = [];
      for (let s = 0; s < 1000; s++) {
        const outcome = runOutcome(cpu, 1_000_000);
        slices.push({
          outcome: `${outcome} ${cpu.eip} ${cpu.instructionsRetired}`,
          edges: t.edges?.toDocument(),
        });
        if (outcome !== 'stop') break;
      }
      return { slices, hookCalls: 0 };
    };
    const want = withCpu(false);
    expect(want.slices.length).toBeGreaterThan(10);
    expect(withCpu(true).slices).toEqual(want.slices);
  });

  test('hooks swapped between slices: each recorder gets exactly its own branches', () => {
    const run = (jit: boolean): unknown => {
      const cpu = loadOnce(MIXED);
      cpu.jit = jit;
      const a = new EdgeRecorder();
      const b = new EdgeRecorder();
      const l = new LbrRecorder({ depth: 4 });
      const plain = new EdgeRecorder();
      const unregistered = (from: number, to: number, kind: number): void => plain.branch(from, to, kind);
      const hooks = [a.hook, b.hook, undefined, unregistered, l.hook, a.hook];
      const docs: unknown[] = [];
      for (let s = 0; runOutcome(cpu, 37) === 'budget' && s < 10_000; s++) {
        cpu.branchHook = hooks[s % hooks.length];
        if (s % 5 === 0) docs.push([a.toDocument(), b.toDocument(), l.snapshot()]);
      }
      docs.push([a.toDocument(), b.toDocument(), plain.toDocument(), l.snapshot()]);
      return docs;
    };
    expect(run(true)).toEqual(run(false));
  });

  test('one recorder fed by two CPUs, and by a CPU whose JIT was switched off mid-run', () => {
    const run = (jit: boolean): unknown => {
      const edges = new EdgeRecorder();
      const c1 = loadOnce(MIXED);
      const c2 = loadOnce(MIXED);
      c1.jit = c2.jit = jit;
      c1.branchHook = c2.branchHook = edges.hook;
      for (let s = 0; s < 25; s++) {
        runOutcome(c1, 50);
        runOutcome(c2, 70);
        if (s === 12) c1.jit = false; // its pending counts must still arrive
      }
      return edges.toDocument();
    };
    expect(run(true)).toEqual(run(false));
  });

  test('a registered target with a `rest` hook: rest sees every branch, in order', () => {
    const run = (jit: boolean): unknown => {
      const cpu = loadOnce(MIXED);
      cpu.jit = jit;
      const edges = new EdgeRecorder();
      const seen: number[] = [];
      const rest = (from: number, to: number, kind: number): void => void seen.push(from, to, kind);
      const hook = (from: number, to: number, kind: number): void => {
        edges.branch(from, to, kind);
        rest(from, to, kind);
      };
      registerInlineHook(hook, { edges, rest });
      cpu.branchHook = hook;
      runOutcome(cpu, 1_000_000);
      return [edges.toDocument(), seen];
    };
    expect(run(true)).toEqual(run(false));
  });
});
