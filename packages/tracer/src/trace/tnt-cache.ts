// Conditional-branch outcomes waiting to be sent as one TNT packet (encoder side).
import type { ByteSink } from './byte-sink';
import { LONG_TNT_MAX, SHORT_TNT_MAX, writeLongTnt, writeShortTnt } from './packets';

export class TntCache {
  private bits = 0;
  count = 0;

  /**
   * @param capacity bits collected before a packet is written: 6 gives short TNTs only, 47 a
   *   long TNT each time 47 bits are pending (fewer bits always go out as short TNTs).
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

  /**
   * Writes the pending bits (if any): a full long TNT when 47 are pending, else short TNTs, which
   * are never larger (six bits a byte against 47 in eight).
   */
  flush(): void {
    if (this.count === 0) return;
    if (this.count === LONG_TNT_MAX) writeLongTnt(this.sink, this.bits, this.count);
    else writeShortTnts(this.sink, this.bits, this.count);
    this.bits = 0;
    this.count = 0;
  }
}

/** `count` bits (oldest highest, up to 53) as short TNTs of up to six bits, oldest first. */
export function writeShortTnts(sink: ByteSink, bits: number, count: number): void {
  let n = count;
  let rest = bits;
  while (n > 0) {
    const k = Math.min(n, SHORT_TNT_MAX);
    const scale = 2 ** (n - k);
    const chunk = Math.floor(rest / scale);
    rest -= chunk * scale;
    writeShortTnt(sink, chunk, k);
    n -= k;
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
