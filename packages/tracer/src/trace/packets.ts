// Intel Processor Trace packets (Intel SDM Vol. 3C, "Intel Processor Trace", packet formats).
// Pure encode/decode of single packets, shared by the encoder (tracer) and the decoders (report).
import type { ByteSink } from './byte-sink';

/** Byte patterns of the packet headers. */
export const PT = {
  PAD: 0x00,
  EXT: 0x02,
  EXT_PSB: 0x82,
  EXT_PSBEND: 0x23,
  EXT_LONG_TNT: 0xa3,
  EXT_OVF: 0xf3,
  EXT_CBR: 0x03,
  EXT_TRACESTOP: 0x83,
  EXT_PIP: 0x43,
  EXT_TMA: 0x73,
  EXT_VMCS: 0xc8,
  MODE: 0x99,
  TSC: 0x19,
  MTC: 0x59,
  /** Low five bits of the IP packets; IPBytes sit in bits 7:5. */
  TIP: 0x0d,
  TIP_PGE: 0x11,
  TIP_PGD: 0x01,
  FUP: 0x1d,
} as const;

export const PSB_SIZE = 16;
/** Most TNT bits a short TNT (one byte) and a long TNT (48-bit payload) can hold. */
export const SHORT_TNT_MAX = 6;
export const LONG_TNT_MAX = 47;

/** IPBytes field → payload length in bytes; -1 for reserved values. */
export const IP_PAYLOAD_SIZE: readonly number[] = [0, 2, 4, 6, 6, -1, 8, -1];

export type IpPacketType = 'tip' | 'tip-pge' | 'tip-pgd' | 'fup';

export type PtPacket =
  | { type: 'pad' }
  | { type: 'psb' }
  | { type: 'psbend' }
  | { type: 'ovf' }
  | { type: 'tracestop' }
  /** `bits` holds `count` TNT bits, the oldest in bit count-1; 1 = taken. */
  | { type: 'tnt'; long: boolean; count: number; bits: number }
  /** `ipLow`/`ipHigh`: the payload as sent (bits 31:0 and 63:32), before last-IP reconstruction. */
  | { type: IpPacketType; ipBytes: number; ipLow: number; ipHigh: number }
  /** MODE.Exec: CS.L (64-bit code) and CS.D (32-bit default operand size). */
  | { type: 'mode-exec'; csl: boolean; csd: boolean }
  | { type: 'mode-tsx'; intx: boolean; abrt: boolean }
  | { type: 'cbr'; ratio: number }
  | { type: 'tsc'; low: number; high: number }
  | { type: 'mtc'; ctc: number }
  | { type: 'cyc'; value: number }
  | { type: 'pip'; low: number; high: number }
  | { type: 'tma'; bytes: number[] }
  | { type: 'vmcs'; bytes: number[] };

export type PtPacketType = PtPacket['type'];

/** Why a packet could not be decoded (after libipt's error codes of the same meaning). */
export type PtErrorCode =
  | 'eos' // the packet runs past the end of the buffer
  | 'bad-opc' // unknown opcode
  | 'bad-packet' // known opcode, invalid payload
  | 'nosync' // no PSB found
  | 'bad-query' // the packets do not fit the code they describe
  | 'bad-insn' // the image holds no valid instruction there
  | 'nomap' // the image has no bytes at that address
  | 'no-branch' // walked too far without meeting a branch
  | 'overflow' // the trace says data was lost
  | 'bad-mode'; // not 32-bit code

export class PtDecodeError extends Error {
  constructor(
    readonly code: PtErrorCode,
    readonly offset: number,
    message: string,
  ) {
    super(`${message} at trace offset ${offset}`);
    this.name = 'PtDecodeError';
  }
}

// ---- encoding (writes straight into a sink: the encoder's hot path) ----

export function writePsb(sink: ByteSink): void {
  for (let i = 0; i < 8; i++) {
    sink.writeByte(PT.EXT);
    sink.writeByte(PT.EXT_PSB);
  }
}

export function writeExt(sink: ByteSink, opcode: number): void {
  sink.writeByte(PT.EXT);
  sink.writeByte(opcode);
}

/** MODE.Exec for 32-bit code: CS.D = 1, CS.L = 0. */
export function writeModeExec(sink: ByteSink, csl: boolean, csd: boolean): void {
  sink.writeByte(PT.MODE);
  sink.writeByte((csl ? 1 : 0) | (csd ? 2 : 0));
}

/** Short TNT: the payload sits above bit 0 under a stop bit; `count` is 1..6. */
export function writeShortTnt(sink: ByteSink, bits: number, count: number): void {
  sink.writeByte(((1 << count) | bits) << 1);
}

/** Long TNT: 02 A3 and a 48-bit little-endian payload with a stop bit above `count` bits. */
export function writeLongTnt(sink: ByteSink, bits: number, count: number): void {
  writeExt(sink, PT.EXT_LONG_TNT);
  let payload = bits + 2 ** count;
  for (let i = 0; i < 6; i++) {
    sink.writeByte(payload % 256);
    payload = Math.floor(payload / 256);
  }
}

/** TIP-family packet: `header` is PT.TIP/TIP_PGE/TIP_PGD/FUP; payload bytes from the IP's low bits. */
export function writeIpPacket(
  sink: ByteSink,
  header: number,
  ipBytes: number,
  ipLow: number,
  ipHigh = 0,
): void {
  sink.writeByte((ipBytes << 5) | header);
  const size = IP_PAYLOAD_SIZE[ipBytes];
  for (let i = 0; i < size; i++) {
    const word = i < 4 ? ipLow : ipHigh;
    sink.writeByte((word >>> (8 * (i & 3))) & 0xff);
  }
}

const IP_HEADER: Record<IpPacketType, number> = {
  tip: PT.TIP,
  'tip-pge': PT.TIP_PGE,
  'tip-pgd': PT.TIP_PGD,
  fup: PT.FUP,
};

function writeLe(sink: ByteSink, low: number, high: number, n: number): void {
  for (let i = 0; i < n; i++) sink.writeByte(((i < 4 ? low : high) >>> (8 * (i & 3))) & 0xff);
}

/** Encodes any packet (the general path, used by tests and tools). */
export function writePacket(sink: ByteSink, p: PtPacket): void {
  switch (p.type) {
    case 'pad':
      return sink.writeByte(PT.PAD);
    case 'psb':
      return writePsb(sink);
    case 'psbend':
      return writeExt(sink, PT.EXT_PSBEND);
    case 'ovf':
      return writeExt(sink, PT.EXT_OVF);
    case 'tracestop':
      return writeExt(sink, PT.EXT_TRACESTOP);
    case 'tnt':
      return p.long ? writeLongTnt(sink, p.bits, p.count) : writeShortTnt(sink, p.bits, p.count);
    case 'tip':
    case 'tip-pge':
    case 'tip-pgd':
    case 'fup':
      return writeIpPacket(sink, IP_HEADER[p.type], p.ipBytes, p.ipLow, p.ipHigh);
    case 'mode-exec':
      return writeModeExec(sink, p.csl, p.csd);
    case 'mode-tsx':
      sink.writeByte(PT.MODE);
      return sink.writeByte(0x20 | (p.intx ? 1 : 0) | (p.abrt ? 2 : 0));
    case 'cbr':
      writeExt(sink, PT.EXT_CBR);
      sink.writeByte(p.ratio & 0xff);
      return sink.writeByte(0);
    case 'tsc':
      sink.writeByte(PT.TSC);
      return writeLe(sink, p.low, p.high, 7);
    case 'mtc':
      sink.writeByte(PT.MTC);
      return sink.writeByte(p.ctc & 0xff);
    case 'cyc': {
      // Five value bits in the header, then seven per byte while bit 0 (Exp) says more follow.
      let v = p.value;
      let more = v >= 32;
      sink.writeByte(((v & 31) << 3) | (more ? 4 : 0) | 3);
      v = Math.floor(v / 32);
      while (more) {
        more = v >= 128;
        sink.writeByte(((v & 127) << 1) | (more ? 1 : 0));
        v = Math.floor(v / 128);
      }
      return;
    }
    case 'pip':
      writeExt(sink, PT.EXT_PIP);
      return writeLe(sink, p.low, p.high, 6);
    case 'tma':
      writeExt(sink, PT.EXT_TMA);
      for (let i = 0; i < 5; i++) sink.writeByte(p.bytes[i] ?? 0);
      return;
    case 'vmcs':
      writeExt(sink, PT.EXT_VMCS);
      for (let i = 0; i < 5; i++) sink.writeByte(p.bytes[i] ?? 0);
      return;
  }
}

// ---- decoding ----

export interface DecodedPacket {
  packet: PtPacket;
  size: number;
}

function need(buf: Uint8Array, offset: number, size: number, what: string): void {
  if (offset + size > buf.length) throw new PtDecodeError('eos', offset, `truncated ${what} packet`);
}

function le32(buf: Uint8Array, at: number, n: number): number {
  let v = 0;
  for (let i = n - 1; i >= 0; i--) v = v * 256 + buf[at + i];
  return v;
}

function decodeExt(buf: Uint8Array, offset: number): DecodedPacket {
  need(buf, offset, 2, 'extended');
  const op = buf[offset + 1];
  switch (op) {
    case PT.EXT_PSB:
      need(buf, offset, PSB_SIZE, 'PSB');
      for (let i = 2; i < PSB_SIZE; i += 2) {
        if (buf[offset + i] !== PT.EXT || buf[offset + i + 1] !== PT.EXT_PSB)
          throw new PtDecodeError('bad-packet', offset, 'broken PSB');
      }
      return { packet: { type: 'psb' }, size: PSB_SIZE };
    case PT.EXT_PSBEND:
      return { packet: { type: 'psbend' }, size: 2 };
    case PT.EXT_OVF:
      return { packet: { type: 'ovf' }, size: 2 };
    case PT.EXT_TRACESTOP:
      return { packet: { type: 'tracestop' }, size: 2 };
    case PT.EXT_LONG_TNT: {
      need(buf, offset, 8, 'long TNT');
      const payload = le32(buf, offset + 2, 4) + le32(buf, offset + 6, 2) * 2 ** 32;
      if (payload === 0) throw new PtDecodeError('bad-packet', offset, 'long TNT without stop bit');
      const count = Math.floor(Math.log2(payload));
      // log2 can round up just below a power of two; fix it with exact integer checks.
      const stop = 2 ** count > payload ? count - 1 : 2 ** (count + 1) <= payload ? count + 1 : count;
      return { packet: { type: 'tnt', long: true, count: stop, bits: payload - 2 ** stop }, size: 8 };
    }
    case PT.EXT_CBR:
      need(buf, offset, 4, 'CBR');
      return { packet: { type: 'cbr', ratio: buf[offset + 2] }, size: 4 };
    case PT.EXT_PIP:
      need(buf, offset, 8, 'PIP');
      return {
        packet: { type: 'pip', low: le32(buf, offset + 2, 4) >>> 0, high: le32(buf, offset + 6, 2) },
        size: 8,
      };
    case PT.EXT_TMA:
    case PT.EXT_VMCS: {
      need(buf, offset, 7, op === PT.EXT_TMA ? 'TMA' : 'VMCS');
      const bytes = Array.from(buf.subarray(offset + 2, offset + 7));
      return { packet: { type: op === PT.EXT_TMA ? 'tma' : 'vmcs', bytes }, size: 7 };
    }
    default:
      throw new PtDecodeError('bad-opc', offset, `unknown extended opcode 0x${op.toString(16)}`);
  }
}

const IP_TYPES: Record<number, IpPacketType> = {
  [PT.TIP]: 'tip',
  [PT.TIP_PGE]: 'tip-pge',
  [PT.TIP_PGD]: 'tip-pgd',
  [PT.FUP]: 'fup',
};

/** Decodes the packet at `offset`; throws PtDecodeError (with that offset) when it cannot. */
export function decodePacket(buf: Uint8Array, offset: number): DecodedPacket {
  if (offset >= buf.length) throw new PtDecodeError('eos', offset, 'end of trace');
  const b = buf[offset];
  if (b === PT.PAD) return { packet: { type: 'pad' }, size: 1 };
  if (b === PT.EXT) return decodeExt(buf, offset);
  if ((b & 1) === 0) {
    // Short TNT: the highest set bit is the stop bit, above at least one TNT bit.
    const stop = 31 - Math.clz32(b);
    const count = stop - 1;
    return { packet: { type: 'tnt', long: false, count, bits: (b >> 1) & ((1 << count) - 1) }, size: 1 };
  }
  if ((b & 3) === 3) {
    let value = b >> 3;
    let size = 1;
    let scale = 32;
    let more = (b & 4) !== 0;
    while (more) {
      need(buf, offset, size + 1, 'CYC');
      const x = buf[offset + size++];
      value += (x >> 1) * scale;
      scale *= 128;
      more = (x & 1) !== 0;
      if (size > 10) throw new PtDecodeError('bad-packet', offset, 'CYC packet too long');
    }
    return { packet: { type: 'cyc', value }, size };
  }
  if (b === PT.MODE) {
    need(buf, offset, 2, 'MODE');
    const p = buf[offset + 1];
    const leaf = p >> 5;
    if (leaf === 0) return { packet: { type: 'mode-exec', csl: (p & 1) !== 0, csd: (p & 2) !== 0 }, size: 2 };
    if (leaf === 1)
      return { packet: { type: 'mode-tsx', intx: (p & 1) !== 0, abrt: (p & 2) !== 0 }, size: 2 };
    throw new PtDecodeError('bad-packet', offset, `unknown MODE leaf ${leaf}`);
  }
  if (b === PT.TSC) {
    need(buf, offset, 8, 'TSC');
    return {
      packet: { type: 'tsc', low: le32(buf, offset + 1, 4) >>> 0, high: le32(buf, offset + 5, 3) },
      size: 8,
    };
  }
  if (b === PT.MTC) {
    need(buf, offset, 2, 'MTC');
    return { packet: { type: 'mtc', ctc: buf[offset + 1] }, size: 2 };
  }
  const type = IP_TYPES[b & 0x1f];
  if (type === undefined) throw new PtDecodeError('bad-opc', offset, `unknown opcode 0x${b.toString(16)}`);
  const ipBytes = b >> 5;
  const size = IP_PAYLOAD_SIZE[ipBytes];
  if (size < 0) throw new PtDecodeError('bad-packet', offset, `reserved IPBytes ${ipBytes}`);
  need(buf, offset, 1 + size, type.toUpperCase());
  const ipLow = le32(buf, offset + 1, Math.min(size, 4)) >>> 0;
  const ipHigh = size > 4 ? le32(buf, offset + 5, size - 4) >>> 0 : 0;
  return { packet: { type, ipBytes, ipLow, ipHigh }, size: 1 + size };
}

/** Offset of the next PSB at or after `from`, or -1 (libipt's sync-forward). */
export function findPsb(buf: Uint8Array, from: number): number {
  for (let i = Math.max(0, from); i + PSB_SIZE <= buf.length; i++) {
    if (buf[i] !== PT.EXT || buf[i + 1] !== PT.EXT_PSB) continue;
    let ok = true;
    for (let j = 2; j < PSB_SIZE && ok; j += 2) ok = buf[i + j] === PT.EXT && buf[i + j + 1] === PT.EXT_PSB;
    if (ok) return i;
  }
  return -1;
}
