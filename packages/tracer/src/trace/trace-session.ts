// Wires the recorders of one run to the CPU: one branch hook feeding them all, host calls
// bracketed (tracing stops before the host-call instruction and resumes after it), and the end.
import type { Cpu } from '../cpu';
import {
  type BranchHook,
  type InlineBranchTarget,
  inlineTargetOf,
  registerInlineHook,
} from '../cpu/jit/engine';
import type { EdgeRecorder } from './edges';
import type { LbrRecorder } from './lbr';
import type { PtRecorder } from './pt-log';

export interface TraceTargets {
  pt?: PtRecorder;
  edges?: EdgeRecorder;
  lbr?: LbrRecorder;
}

function allOf(hooks: BranchHook[]): BranchHook {
  return (from, to, kind) => {
    for (let i = 0; i < hooks.length; i++) hooks[i](from, to, kind);
  };
}

/**
 * What compiled code may do instead of calling every hook: stand in for those registered (at most
 * one edge sink, one ring and one PT encoder) and call the others (filtered LBRs) as `rest`.
 */
function combinedTarget(hooks: BranchHook[]): InlineBranchTarget {
  const target: InlineBranchTarget = {};
  const rest: BranchHook[] = [];
  for (const h of hooks) {
    const t = inlineTargetOf(h);
    if (t === undefined || (t.edges && target.edges) || (t.ring && target.ring) || (t.pt && target.pt)) {
      rest.push(h);
      continue;
    }
    target.edges ??= t.edges;
    target.ring ??= t.ring;
    target.pt ??= t.pt;
    if (t.rest) rest.push(t.rest);
  }
  if (rest.length) target.rest = rest.length === 1 ? rest[0] : allOf(rest);
  return target;
}

export class TraceSession {
  readonly hook: (from: number, to: number, kind: number) => void;
  /** Host calls seen (their instructions are not in the traces). */
  hostCalls = 0;
  /** Untraced instructions of host code: each host call that returns, plus its `hostCallTail`. */
  hostInstructions = 0;

  constructor(
    readonly targets: TraceTargets,
    /**
     * Instructions a returning host call runs outside the traced ranges after the host-call
     * instruction itself (HostCallTable stubs: their `ret`, so 1).
     */
    private readonly hostCallTail = 0,
  ) {
    const { pt, edges, lbr } = targets;
    const hooks = [pt?.hook, edges?.hook, lbr?.hook].filter(
      (h): h is NonNullable<typeof h> => h !== undefined,
    );
    // Specialised for the common cases: the hook runs on every branch.
    if (hooks.length === 1) this.hook = hooks[0];
    else {
      this.hook = allOf(hooks);
      registerInlineHook(this.hook, combinedTarget(hooks));
    }
  }

  start(ip: number): void {
    this.targets.pt?.enable(ip);
    this.targets.edges?.start(ip);
  }

  stop(ip: number): void {
    this.targets.pt?.disable(ip);
    this.targets.edges?.stop(ip);
  }

  /**
   * Attaches to `cpu` (starting at its eip): sets the branch hook and wraps its host-call handler
   * so that host calls run outside the trace. (`int n` handled by `interruptHook` needs nothing:
   * the CPU reports it as an INT branch to the next instruction, a TIP in PT.)
   */
  attach(cpu: Cpu): void {
    cpu.branchHook = this.hook;
    const bracket = <T>(inner: ((arg: T) => void) | undefined): ((arg: T) => void) | undefined =>
      inner &&
      ((arg: T) => {
        this.hostCalls++;
        this.stop(cpu.curEip);
        inner(arg);
        // Only a host call that returns retires (the return-to-host stub unwinds instead).
        this.hostInstructions += 1 + this.hostCallTail;
        this.start(cpu.eip);
      });
    cpu.hostCall = bracket(cpu.hostCall);
    this.start(cpu.eip);
  }

  /** The run ended with `nextIp` the next instruction (after hlt, or a faulting one). */
  finish(nextIp: number): void {
    this.targets.pt?.finish(nextIp);
    this.targets.edges?.stop(nextIp);
  }
}
