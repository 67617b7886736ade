// Conditional-branch outcomes waiting to be sent as one TNT packet (encoder side).
import type { ByteSink } from './byte-sink';
import { LONG_TNT_MAX, SHORT_TNT_MAX, writeLongTnt, writeShortTnt } from './packets';

export class TntCache {
  private bits = 0;
  count = 0;

  /**
   * @param capacity bits collected before a packet is written: 6 gives short TNTs only, up to
   *   47 lets long TNTs carry long runs (a flush of 6 or fewer bits is always a short TNT).
   */
  constructor(
    private readonly sink: ByteSink,
    private readonly capacity = LONG_TNT_MAX,
  ) {
    if (capacity < 1 || capacity > LONG_TNT_MAX) throw new RangeError(`TNT capacity ${capacity}`);
  }

  add(taken: boolean): void {
    // Multiplication, not shifts: the payload can exceed 32 bits.
    this.bits = this.bits * 2 + (taken ? 1 : 0);
    if (++this.count === this.capacity) this.flush();
  }

  /** Writes the pending bits (if any) as a short or long TNT. */
  flush(): void {
    if (this.count === 0) return;
    if (this.count <= SHORT_TNT_MAX) writeShortTnt(this.sink, this.bits, this.count);
    else writeLongTnt(this.sink, this.bits, this.count);
    this.bits = 0;
    this.count = 0;
  }
}

/** Decoder side: TNT bits in arrival order, oldest first. */
export class TntQueue {
  private readonly bits: number[] = [];
  private head = 0;

  get size(): number {
    return this.bits.length - this.head;
  }

  push(bits: number, count: number): void {
    for (let i = count - 1; i >= 0; i--) this.bits.push(Math.floor(bits / 2 ** i) % 2);
  }

  /** The oldest bit (true = taken); undefined when empty. */
  shift(): boolean | undefined {
    if (this.head === this.bits.length) return undefined;
    const b = this.bits[this.head++] === 1;
    if (this.head === this.bits.length) this.clear();
    return b;
  }

  clear(): void {
    this.bits.length = 0;
    this.head = 0;
  }
}
