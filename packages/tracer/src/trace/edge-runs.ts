// Runs of branches in flat typed arrays: the paths and sites of PT's log as its reader keeps them
// (pt-replay.ts), laid out for PtEncoder.directRun. A kernel run replays some 20 M of them; objects
// with typed arrays of their own cost a cache miss or more each.
import { BRANCH } from '../cpu/constants';

const { COND_TAKEN, COND_NOT_TAKEN, JMP, CALL } = BRANCH;

/** Most conditional branches of a run whose bits `pattern` holds. */
export const MAX_PATTERN_BITS = 24;

function grown<T extends Uint8Array | Int32Array | Uint32Array>(a: T, need: number): T {
  if (need <= a.length) return a;
  const b = new (a.constructor as new (n: number) => T)(Math.max(need, a.length * 2));
  b.set(a);
  return b;
}

export class EdgeRuns {
  /** Runs made. */
  count = 0;
  /** Per run: where its branches are in the flat arrays, and how many. */
  off = new Uint32Array(1024);
  len = new Uint32Array(1024);
  /** Per run: 1 when every branch is direct (conditional, JMP, CALL). */
  direct = new Uint8Array(1024);
  /** Per run: its lowest and highest target. */
  min = new Uint32Array(1024);
  max = new Uint32Array(1024);
  /** Per run: its conditional branches, and their bits (oldest highest) when MAX_PATTERN_BITS or fewer. */
  bits = new Uint32Array(1024);
  pattern = new Int32Array(1024);
  /** Per run: the return addresses its calls push (calls of the next instruction push none). */
  pushOff = new Uint32Array(1024);
  pushes = new Uint32Array(1024);
  pushCount = new Uint32Array(1024);
  private pushTotal = 0;
  /** Per run: where the targets of its conditional branches are in `bitTo`, in order. */
  bitOff = new Uint32Array(1024);
  bitTo = new Uint32Array(1024);
  private bitTotal = 0;
  /** Flat, per branch: edge id, kind, target, the address after it (a call's return address). */
  edge = new Int32Array(4096);
  kind = new Uint8Array(4096);
  to = new Uint32Array(4096);
  ret = new Uint32Array(4096);
  private total = 0;

  /** Adds the run of `edges` (ids into the edge tables given); returns its index. */
  add(
    edges: Int32Array,
    from: readonly number[],
    to: readonly number[],
    kind: readonly number[],
    len: readonly number[],
  ): number {
    const r = this.count++;
    const m = edges.length;
    if (r >= this.off.length) this.growRuns(r + 1);
    this.edge = grown(this.edge, this.total + m);
    this.kind = grown(this.kind, this.total + m);
    this.to = grown(this.to, this.total + m);
    this.ret = grown(this.ret, this.total + m);
    this.pushes = grown(this.pushes, this.pushTotal + m);
    this.bitTo = grown(this.bitTo, this.bitTotal + m);
    this.off[r] = this.total;
    this.len[r] = m;
    this.pushOff[r] = this.pushTotal;
    this.bitOff[r] = this.bitTotal;
    let min = 2 ** 32 - 1;
    let max = 0;
    let bits = 0;
    let pattern = 0;
    let direct = 1;
    let pushes = 0;
    for (let i = 0; i < m; i++) {
      const e = edges[i];
      const k = kind[e];
      const t = to[e] >>> 0;
      const at = this.total + i;
      const ret = (from[e] + len[e]) >>> 0;
      this.edge[at] = e;
      this.kind[at] = k;
      this.to[at] = t;
      this.ret[at] = ret;
      min = Math.min(min, t);
      max = Math.max(max, t);
      if (k === COND_TAKEN || k === COND_NOT_TAKEN) {
        pattern = ((pattern << 1) | (k === COND_TAKEN ? 1 : 0)) & ((1 << MAX_PATTERN_BITS) - 1);
        this.bitTo[this.bitTotal + bits++] = t;
      } else if (k === CALL) {
        if (ret !== t) this.pushes[this.pushTotal + pushes++] = ret;
      } else if (k !== JMP) direct = 0;
    }
    this.total += m;
    this.pushTotal += pushes;
    this.bitTotal += bits;
    this.pushCount[r] = pushes;
    this.direct[r] = direct;
    this.min[r] = min;
    this.max[r] = max;
    this.bits[r] = bits;
    this.pattern[r] = bits <= MAX_PATTERN_BITS ? pattern : 0;
    return r;
  }

  private growRuns(need: number): void {
    this.off = grown(this.off, need);
    this.len = grown(this.len, need);
    this.direct = grown(this.direct, need);
    this.min = grown(this.min, need);
    this.max = grown(this.max, need);
    this.bits = grown(this.bits, need);
    this.pattern = grown(this.pattern, need);
    this.pushOff = grown(this.pushOff, need);
    this.pushCount = grown(this.pushCount, need);
    this.bitOff = grown(this.bitOff, need);
  }
}
