// Last Branch Records: a ring of the last N taken branches, with the filters of the
// MSR_LBR_SELECT register and its call-stack mode (Intel SDM Vol. 3B, "Last Branch Recording").
import { BRANCH } from '../cpu/constants';
import { type BranchRing, registerInlineHook } from '../cpu/jit/engine';

/** MSR_LBR_SELECT bits; a set bit suppresses that kind of branch. */
export const LBR_SELECT = {
  CPL_EQ_0: 1 << 0,
  CPL_NEQ_0: 1 << 1,
  JCC: 1 << 2,
  NEAR_REL_CALL: 1 << 3,
  NEAR_IND_CALL: 1 << 4,
  NEAR_RET: 1 << 5,
  NEAR_IND_JMP: 1 << 6,
  NEAR_REL_JMP: 1 << 7,
  FAR_BRANCH: 1 << 8,
  EN_CALLSTACK: 1 << 9,
} as const;

/** The filter the call-stack mode needs: only near calls and returns are recorded. */
export const LBR_CALLSTACK_SELECT =
  LBR_SELECT.JCC |
  LBR_SELECT.NEAR_IND_JMP |
  LBR_SELECT.NEAR_REL_JMP |
  LBR_SELECT.FAR_BRANCH |
  LBR_SELECT.EN_CALLSTACK;

/** Select bit of each BRANCH kind (index = kind); 0 for kinds the LBR never records. */
const KIND_SELECT: number[] = [];
KIND_SELECT[BRANCH.COND_TAKEN] = LBR_SELECT.JCC;
KIND_SELECT[BRANCH.COND_NOT_TAKEN] = 0;
KIND_SELECT[BRANCH.JMP] = LBR_SELECT.NEAR_REL_JMP;
KIND_SELECT[BRANCH.CALL] = LBR_SELECT.NEAR_REL_CALL;
KIND_SELECT[BRANCH.JMP_INDIRECT] = LBR_SELECT.NEAR_IND_JMP;
KIND_SELECT[BRANCH.CALL_INDIRECT] = LBR_SELECT.NEAR_IND_CALL;
KIND_SELECT[BRANCH.RET] = LBR_SELECT.NEAR_RET;
KIND_SELECT[BRANCH.INT] = LBR_SELECT.FAR_BRANCH;
KIND_SELECT[BRANCH.IRET] = LBR_SELECT.FAR_BRANCH;
KIND_SELECT[BRANCH.FAULT] = LBR_SELECT.FAR_BRANCH;

export interface LbrEntry {
  from: number;
  to: number;
  kind: number;
}

export interface LbrOptions {
  /** Ring size (default 32, as on recent cores). */
  depth?: number;
  /** MSR_LBR_SELECT value (default 0: record every taken branch). The guest runs at CPL 0. */
  select?: number;
}

/** What the recorder does with a branch of a kind (from LBR_SELECT, worked out once; 0: nothing). */
const RECORD = 1;
const POP = 2;

function kindActions(select: number): Uint8Array {
  const actions = new Uint8Array(256);
  KIND_SELECT.forEach((bit, kind) => {
    if (!bit || select & bit || select & LBR_SELECT.CPL_EQ_0) return;
    // Call-stack mode: a return removes the call it returns from, leaving the live call chain.
    actions[kind] = select & LBR_SELECT.EN_CALLSTACK && kind === BRANCH.RET ? POP : RECORD;
  });
  return actions;
}

export class LbrRecorder implements BranchRing {
  readonly depth: number;
  readonly select: number;
  private readonly from: Uint32Array;
  private readonly to: Uint32Array;
  private readonly kind: Uint8Array;
  private readonly actions: Uint8Array;
  /** Index of the next slot to write (the TOS is the one before it). */
  private next = 0;
  private count = 0;
  readonly hook: (from: number, to: number, kind: number) => void;

  constructor(opts: LbrOptions = {}) {
    this.depth = opts.depth ?? 32;
    if (!(this.depth >= 1 && Number.isInteger(this.depth))) throw new RangeError(`LBR depth ${this.depth}`);
    this.select = opts.select ?? 0;
    this.from = new Uint32Array(this.depth);
    this.to = new Uint32Array(this.depth);
    this.kind = new Uint8Array(this.depth);
    this.actions = kindActions(this.select);
    this.hook = (from, to, kind) => this.branch(from, to, kind);
    // Without filters every taken branch is recorded, so compiled code can append its own directly.
    if (this.select === 0) registerInlineHook(this.hook, { ring: this });
  }

  branch(from: number, to: number, kind: number): void {
    const a = this.actions[kind];
    if (a === RECORD) this.record(from, to, kind);
    else if (a === POP && this.count > 0) {
      this.next = this.next === 0 ? this.depth - 1 : this.next - 1;
      this.count--;
    }
  }

  /** Appends a record, whatever its kind (the filters are `branch`'s). */
  record(from: number, to: number, kind: number): void {
    const n = this.next;
    this.from[n] = from;
    this.to[n] = to;
    this.kind[n] = kind;
    this.next = n + 1 === this.depth ? 0 : n + 1;
    if (this.count < this.depth) this.count++;
  }

  /** `n` records of the same branch: only the newest `depth` of them can stay in the ring. */
  repeat(from: number, to: number, kind: number, n: number): void {
    for (let i = Math.min(n, this.depth); i > 0; i--) this.record(from, to, kind);
  }

  /** The records, newest first (as a crash report shows them). */
  snapshot(): LbrEntry[] {
    const out: LbrEntry[] = [];
    for (let i = 1; i <= this.count; i++) {
      const j = (this.next - i + this.depth) % this.depth;
      out.push({ from: this.from[j], to: this.to[j], kind: this.kind[j] });
    }
    return out;
  }

  clear(): void {
    this.next = 0;
    this.count = 0;
  }
}

const KIND_NAMES = [
  '',
  'jcc',
  'jcc-not-taken',
  'jmp',
  'call',
  'jmp-indirect',
  'call-indirect',
  'ret',
  'int',
  'iret',
  'fault',
];

/** Short name of a BRANCH kind, for reports. */
export function branchKindName(kind: number): string {
  return KIND_NAMES[kind] ?? `kind-${kind}`;
}

/** One line per record, newest first: `  0: 0x00001006 -> 0x00001005 jcc`. */
export function formatLbr(entries: LbrEntry[]): string {
  const hex = (v: number): string => '0x' + (v >>> 0).toString(16).padStart(8, '0');
  return entries
    .map((e, i) => `${String(i).padStart(3)}: ${hex(e.from)} -> ${hex(e.to)} ${branchKindName(e.kind)}`)
    .join('\n');
}
