// How small a PT trace of the same run could be: a lower bound on its size, read from the trace,
// that no encoder following the SDM's packet formats and the rules can go below. It tells
// a size goal (bits per instruction) that cannot be met from one that is not met yet.
import { IP_PAYLOAD_SIZE, LastIp, PSB_SIZE } from '@fasmcov/tracer';
import { dumpPackets } from './pt-packet-decoder';

/** Bits in a short TNT (a byte: header bit, up to six bits, stop bit); a long TNT has 47 in 8. */
const BITS_PER_TNT_BYTE = 6;
/** Bytes of a PSB and a PSBEND (2): a decoder can only start at a PSB+. */
const FIRST_PSB_BYTES = PSB_SIZE + 2;

export interface PtSizeFloor {
  /** TNT bits: one per conditional branch and per compressed return. */
  tntBits: number;
  /** TIP.PGE and TIP.PGD packets: where tracing starts and stops, and each host call's exit and entry. */
  filterPackets: number;
  /** Their bytes at the shortest IP compression each allows. */
  filterBytes: number;
  /** ceil(tntBits / 6) + filterBytes + a PSB and PSBEND. */
  bytes: number;
}

/**
 * The floor of a trace's size. Each part is the least any encoder needs for the same control flow:
 * - the TNT bits at six a byte (a short TNT is the densest form; a compressed return's bit is
 *   cheaper than any TIP for it);
 * - every TIP.PGE and TIP.PGD with the IP it carries, at the smallest IPBytes the last-IP rules
 *   allow after the trace's own IP packets (a host call's TIP.PGD names the stub, as a filter
 *   exit's does on hardware; the stop at the end has its IP suppressed, 1 byte);
 * - one PSB + PSBEND.
 * It leaves out everything else (TIPs of indirect branches and uncompressed returns, MODE.Exec,
 * FUPs, later PSB+s), so a real trace is always above it. Throws on a damaged trace.
 */
export function ptSizeFloor(trace: Uint8Array): PtSizeFloor {
  const { packets, errors } = dumpPackets(trace);
  if (errors.length > 0) throw errors[0];
  const last = new LastIp();
  /** The last IP before each packet: compress() finds the packet's shortest form against it. */
  const before = new LastIp();
  const floor: PtSizeFloor = { tntBits: 0, filterPackets: 0, filterBytes: 0, bytes: 0 };
  for (const { packet } of packets) {
    if (packet.type === 'tnt') floor.tntBits += packet.count;
    else if (packet.type === 'psb') last.reset();
    else if ('ipBytes' in packet) {
      before.low = last.low;
      before.high = last.high;
      const carries = last.update(packet.ipBytes, packet.ipLow, packet.ipHigh);
      if (packet.type !== 'tip-pge' && packet.type !== 'tip-pgd') continue;
      floor.filterPackets++;
      floor.filterBytes += carries ? 1 + IP_PAYLOAD_SIZE[before.compress(last.low, last.high)] : 1;
    }
  }
  floor.bytes = Math.ceil(floor.tntBits / BITS_PER_TNT_BYTE) + floor.filterBytes + FIRST_PSB_BYTES;
  return floor;
}
