// Call-stack profiles from a branch trace: a recorder that sees the branches in execution order (the
// PT flow decoder feeds it), keeps a stack of called functions and attributes every instruction to
// the stack it ran under. The result is folded stacks ("a;b;c" → instructions), the input of a flame
// graph (inclusive counts come from summing the subtrees).
import { BRANCH, EdgeRecorder, type EdgeRecorderOptions } from '@fasmcov/tracer';
import { cachedClassifier, type Classifier } from '../trace/classifier';

export interface CallStackOptions extends EdgeRecorderOptions {
  classify: Classifier;
  read8: (addr: number) => number;
  /** The frame name of a function entered at `ip` (or of the code around `ip` where tracing starts). */
  frameName: (ip: number) => string;
  /** Frame put under every stack, e.g. the test name. */
  root?: string;
  /** Deepest stack kept; deeper calls are folded into the deepest frame (default 256). */
  maxDepth?: number;
}

/** Longest straight-line walk between two trace events (a guard against inconsistent input). */
const MAX_SEGMENT = 1_000_000;

/**
 * An EdgeRecorder (so the decoder fills it as usual) that also folds instruction counts by call
 * stack. Calls push the callee's frame, returns pop; a call that leaves the traced code (a host
 * service) keeps the stack until tracing resumes at its return address.
 */
export class CallStackProfiler extends EdgeRecorder {
  readonly folded = new Map<string, number>();
  private readonly info: (ip: number) => { length: number };
  private readonly segments = new Map<string, number>();
  private stack: string[] = [];
  private key = '';
  private segmentStart: number | undefined;
  private resumeAfterCall = false;

  constructor(private readonly o: CallStackOptions) {
    super(o);
    this.info = cachedClassifier(o.classify, o.read8);
  }

  override start(ip: number, count = 1): void {
    super.start(ip, count);
    if (!this.resumeAfterCall || this.stack.length === 0) this.setStack([this.o.frameName(ip)]);
    this.resumeAfterCall = false;
    this.segmentStart = ip >>> 0;
  }

  override stop(ip: number, count = 1): void {
    super.stop(ip, count);
    if (this.segmentStart !== undefined) this.charge(this.count(this.segmentStart, ip >>> 0, false));
    this.segmentStart = undefined;
  }

  override add(from: number, to: number, kind: number, count: number): void {
    super.add(from, to, kind, count);
    if (this.segmentStart === undefined) return;
    this.charge(this.count(this.segmentStart, from >>> 0, true));
    if (kind === BRANCH.CALL || kind === BRANCH.CALL_INDIRECT) {
      if (this.inRange(to)) {
        if (this.stack.length < (this.o.maxDepth ?? 256))
          this.setStack([...this.stack, this.o.frameName(to)]);
      } else this.resumeAfterCall = true;
    } else if (kind === BRANCH.RET) {
      if (this.stack.length > 1) this.setStack(this.stack.slice(0, -1));
    }
    this.segmentStart = to >>> 0;
  }

  private setStack(stack: string[]): void {
    this.stack = stack;
    this.key = [...(this.o.root ? [this.o.root] : []), ...stack].join(';');
  }

  private charge(n: number): void {
    if (n > 0) this.folded.set(this.key, (this.folded.get(this.key) ?? 0) + n);
  }

  /** Instructions from `a` to `b` (including the one at `b` when `inclusive`) along straight-line code. */
  private count(a: number, b: number, inclusive: boolean): number {
    const k = `${a}:${b}:${inclusive ? 1 : 0}`;
    const cached = this.segments.get(k);
    if (cached !== undefined) return cached;
    let n = 0;
    let ip = a;
    for (; n < MAX_SEGMENT && ip !== b; n++) ip = (ip + this.info(ip).length) >>> 0;
    if (inclusive) n++;
    this.segments.set(k, n);
    return n;
  }
}
