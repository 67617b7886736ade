import type { Cpu } from '../cpu';
import { type Block, NO_BLOCK, compileBlock } from './compile';
import { Unsupported } from './gen';

/** Tunables (tests lower the threshold so that every block is compiled at once). */
export const JIT_TUNING = {
  /**
   * Arrivals at an address before the block there is compiled (max 65535). Compiling a block costs
   * about as much as interpreting it a thousand times, so colder code stays interpreted.
   */
  hotThreshold: 1000,
};
const PAGES = 1 << 20;

interface JitPage {
  /** Compiled block by start offset in the page. */
  blocks: Array<Block | undefined>;
  hits: Uint16Array;
  /** Every block with instruction bytes on this page (invalidated with it). */
  owned: Block[];
}

/** The JIT is on unless the environment says FASMCOV_JIT=0. */
export function jitEnabledByDefault(): boolean {
  return typeof process === 'undefined' || process.env.FASMCOV_JIT !== '0';
}

/**
 * Runs hot basic blocks as compiled JavaScript functions for one Cpu. Blocks are found by counting
 * how often the interpreter loop arrives at an address; once compiled, a block's exits remember the
 * block they led to, so straight runs of compiled code go block to block without the interpreter.
 */
export class Jit {
  /** Bumped when compiled code is invalidated (compiled code checks it after each memory write). */
  epoch = 0;
  /** Blocks compiled so far (for tests and statistics). */
  compiled = 0;
  private slot: Int32Array | undefined;
  private readonly pages: Array<JitPage | null> = [null];
  private readonly free: number[] = [];

  constructor(private readonly cpu: Cpu) {}

  /**
   * Runs compiled code from `eip` as far as it goes without passing the instruction budget `end`.
   * Returns false, having done nothing, when the interpreter should execute the next instruction.
   */
  run(eip: number, end: number): boolean {
    const first = this.blockAt(eip);
    if (first === undefined) return false;
    let b: Block = first;
    const cpu = this.cpu;
    let ran = false;
    for (;;) {
      if (cpu.instructionsRetired + b.n > end) return ran;
      const x = b.fn(cpu, end);
      ran = true;
      if (x < 0 || cpu.stopping) return true;
      const to = cpu.eip;
      let nb: Block | undefined = b.links[x];
      if (nb === undefined || nb.start !== to || !nb.valid) {
        nb = this.blockAt(to);
        if (nb === undefined) return true;
        b.links[x] = nb;
      }
      b = nb;
    }
  }

  /** The compiled block at eip; compiles it once the address is hot. */
  private blockAt(eip: number): Block | undefined {
    const pg = this.page(eip >>> 12);
    const off = eip & 4095;
    const b = pg.blocks[off];
    if (b !== undefined) return b;
    if (++pg.hits[off] < JIT_TUNING.hotThreshold) return undefined;
    pg.hits[off] = 0;
    return this.compile(eip);
  }

  private page(p: number): JitPage {
    const slot = (this.slot ??= new Int32Array(PAGES));
    let s = slot[p];
    if (s === 0) {
      s = this.free.pop() ?? this.pages.length;
      this.pages[s] = {
        blocks: new Array<Block | undefined>(4096).fill(undefined),
        hits: new Uint16Array(4096),
        owned: [],
      };
      slot[p] = s;
    }
    return this.pages[s] as JitPage;
  }

  private compile(eip: number): Block {
    let b: Block;
    try {
      b = compileBlock(this.cpu, eip, this) ?? NO_BLOCK;
    } catch (e) {
      // A form the code generator turned down late: that address stays interpreted.
      if (!(e instanceof Unsupported)) throw e;
      b = NO_BLOCK;
    }
    if (b === NO_BLOCK) {
      this.page(eip >>> 12).blocks[eip & 4095] = b;
      return b;
    }
    // Decoding may have dropped pages (it never writes, but be safe): register after compiling.
    for (const p of b.pages) this.page(p).owned.push(b);
    this.page(eip >>> 12).blocks[eip & 4095] = b;
    this.compiled++;
    return b;
  }

  /** Code on page `p` changed (or is gone): forget every block with bytes there. */
  invalidatePage(p: number): void {
    const s = this.slot?.[p] ?? 0;
    if (s === 0) return;
    const pg = this.pages[s] as JitPage;
    for (const b of pg.owned) {
      b.valid = false;
      const home = b.start >>> 12;
      if (home !== p && this.slot !== undefined && this.slot[home] !== 0) {
        const hp = this.pages[this.slot[home]] as JitPage;
        if (hp.blocks[b.start & 4095] === b) hp.blocks[b.start & 4095] = undefined;
      }
    }
    this.pages[s] = null;
    this.free.push(s);
    (this.slot as Int32Array)[p] = 0;
    this.epoch++;
  }
}
