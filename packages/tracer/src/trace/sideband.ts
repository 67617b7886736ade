// The sideband file next to a `trace.pt`: what a decoder needs besides the packets — the loaded
// image (each section's guest address, size, and the file and offset holding its bytes), the
// traced ranges and the execution mode.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeFileAtomic } from '@fasmcov/fas';
import type { AddressRange } from './pt-encoder';
import { TraceFormatError } from './trace-error';

export const SIDEBAND_SCHEMA = 'fasmcov-sideband@1';

export interface SidebandSection {
  name?: string;
  /** Guest address of the first byte. */
  address: number;
  size: number;
  /** File holding the bytes, relative to the sideband file's directory (or absolute). */
  file: string;
  /** Offset of the first byte in `file`. */
  offset: number;
}

export interface Sideband {
  schema: typeof SIDEBAND_SCHEMA;
  /** The packet file, relative to the sideband file's directory. */
  trace: string;
  /** Address size of the traced code; only 32 for now. */
  mode: 32;
  /** Traced ranges (the address filter); absent: everything. */
  ranges?: AddressRange[];
  sections: SidebandSection[];
  /** Instructions the producer executed inside the traced ranges, when it counted them. */
  instructions?: number;
}

const isU32 = (v: unknown): v is number =>
  Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 0xffffffff;

/** Checks a parsed sideband document; throws TraceFormatError naming the first bad field. */
export function validateSideband(doc: unknown, file?: string): Sideband {
  const bad = (what: string): never => {
    throw new TraceFormatError(`sideband: ${what}`, file, 0);
  };
  const d = doc as Partial<Sideband> | null;
  if (!d || typeof d !== 'object') return bad('not an object');
  if (d.schema !== SIDEBAND_SCHEMA) bad(`schema is not ${SIDEBAND_SCHEMA}`);
  if (typeof d.trace !== 'string') bad('trace must be a file name');
  if (d.mode !== 32) bad('mode must be 32');
  if (!Array.isArray(d.sections)) bad('sections must be an array');
  d.sections!.forEach((s, i) => {
    if (!s || typeof s !== 'object') bad(`section #${i} is not an object`);
    if (!isU32(s.address) || !isU32(s.size) || !Number.isSafeInteger(s.offset) || s.offset < 0)
      bad(`section #${i}: address, size and offset must be unsigned integers`);
    if (s.address + s.size > 2 ** 32) bad(`section #${i} runs past 4 GiB`);
    if (typeof s.file !== 'string') bad(`section #${i}: file must be a string`);
  });
  if (d.ranges !== undefined) {
    if (!Array.isArray(d.ranges)) bad('ranges must be an array');
    d.ranges!.forEach((r, i) => {
      if (!r || !isU32(r.start) || !Number.isInteger(r.end) || r.end < r.start || r.end > 2 ** 32)
        bad(`range #${i} must have start <= end within 4 GiB`);
    });
  }
  if (d.instructions !== undefined && !(Number.isSafeInteger(d.instructions) && d.instructions >= 0))
    bad('instructions must be a count');
  return d as Sideband;
}

export function readSideband(file: string): Sideband {
  let doc: unknown;
  try {
    doc = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new TraceFormatError(`cannot read sideband: ${(e as Error).message}`, file, 0);
  }
  return validateSideband(doc, file);
}

export function writeSideband(file: string, sb: Sideband): void {
  validateSideband(sb, file);
  writeFileAtomic(file, JSON.stringify(sb, null, 2) + '\n');
}

/** Absolute path of a file named in the sideband. */
export function sidebandPath(sidebandFile: string, name: string): string {
  return path.resolve(path.dirname(sidebandFile), name);
}
