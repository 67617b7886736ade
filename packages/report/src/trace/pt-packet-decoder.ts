// Bytes → packets, with libipt's synchronisation: decoding starts at a PSB and, after damage,
// resumes at the next PSB.
import { decodePacket, findPsb, PtDecodeError } from '@fasmcov/tracer';
import type { PtPacket } from '@fasmcov/tracer';

export interface PacketAt {
  offset: number;
  size: number;
  packet: PtPacket;
}

/** Where a flow decoder gets packets: a buffer (PtPacketDecoder) or a file (PtFileSource). */
export interface PacketSource {
  /** Offset of the next packet. */
  readonly offset: number;
  syncForward(): boolean;
  resyncAfter(offset: number): boolean;
  next(): PacketAt | undefined;
}

export class PtPacketDecoder implements PacketSource {
  offset = 0;

  constructor(readonly buf: Uint8Array) {}

  /** Moves to the next PSB at or after the current offset; false if there is none. */
  syncForward(): boolean {
    const at = findPsb(this.buf, this.offset);
    if (at < 0) {
      this.offset = this.buf.length;
      return false;
    }
    this.offset = at;
    return true;
  }

  /** Skips past the packet that failed at `offset` and syncs to the following PSB. */
  resyncAfter(offset: number): boolean {
    this.offset = offset + 1;
    return this.syncForward();
  }

  /** The next packet, undefined at the end; throws PtDecodeError for damage. */
  next(): PacketAt | undefined {
    if (this.offset >= this.buf.length) return undefined;
    const offset = this.offset;
    const { packet, size } = decodePacket(this.buf, offset);
    this.offset += size;
    return { offset, size, packet };
  }
}

export interface PacketDump {
  packets: PacketAt[];
  errors: PtDecodeError[];
}

/** Every packet of a stream (for dumps and tests), skipping damage to the next PSB. */
export function dumpPackets(buf: Uint8Array): PacketDump {
  const d = new PtPacketDecoder(buf);
  const out: PacketDump = { packets: [], errors: [] };
  if (!d.syncForward()) {
    out.errors.push(new PtDecodeError('nosync', 0, 'no PSB in the trace'));
    return out;
  }
  for (;;) {
    try {
      const p = d.next();
      if (!p) break;
      out.packets.push(p);
    } catch (e) {
      if (!(e instanceof PtDecodeError)) throw e;
      out.errors.push(e);
      if (!d.resyncAfter(e.offset)) break;
    }
  }
  return out;
}
