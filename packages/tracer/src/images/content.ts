import * as fs from 'node:fs';
import { type ContentSpec, RecipeError, parseSize } from './recipe';

/**
 * Deterministic file contents. The generator is defined here (not taken from elsewhere in the
 * repository) so that an image's bytes depend on this file and the recipe only.
 */

/** splitmix32: tiny, fast, and good enough to make every cluster of a file different. */
export function randomBytes(size: number, seed: number): Buffer {
  const out = Buffer.alloc(size);
  let state = seed >>> 0;
  let i = 0;
  for (; i + 4 <= size; i += 4) {
    state = (state + 0x9e3779b9) >>> 0;
    out.writeUInt32LE(mix(state), i);
  }
  if (i < size) {
    state = (state + 0x9e3779b9) >>> 0;
    const last = mix(state);
    for (let k = 0; i < size; i++, k++) out[i] = (last >>> (8 * k)) & 0xff;
  }
  return out;
}

function mix(x: number): number {
  let z = x;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

/** Each aligned unit holds its own byte offset (truncated to the unit), so a byte reveals where it came from. */
export function patternBytes(kind: 'u8' | 'u16le' | 'u32le', size: number, base = 0): Buffer {
  const out = Buffer.alloc(size);
  const unit = kind === 'u8' ? 1 : kind === 'u16le' ? 2 : 4;
  const scratch = Buffer.alloc(4);
  const whole = size - (size % unit);
  if (unit === 4) for (let off = 0; off < whole; off += 4) out.writeUInt32LE((base + off) >>> 0, off);
  else if (unit === 2) for (let off = 0; off < whole; off += 2) out.writeUInt16LE((base + off) & 0xffff, off);
  for (let off = unit === 1 ? 0 : whole; off < size; off += unit) {
    scratch.writeUInt32LE((base + off) >>> 0, 0);
    scratch.copy(out, off, 0, Math.min(unit, size - off));
  }
  return out;
}

function substitute(text: string, index: number | undefined): string {
  return index === undefined ? text : text.replace(/\{i\}/g, String(index));
}

/** The bytes of a non-sparse content spec. */
export function contentBytes(spec: ContentSpec, where: string, index?: number): Buffer {
  if (spec.text !== undefined)
    return Buffer.from(substitute(spec.text, index).repeat(spec.repeat ?? 1), 'utf8');
  if (spec.random !== undefined)
    return randomBytes(parseSize(spec.random, where), (spec.seed ?? 1) + (index ?? 0) * 0x10001);
  if (spec.pattern !== undefined) return patternBytes(spec.pattern, parseSize(spec.size ?? 0, where));
  if (spec.chunks !== undefined)
    throw new RecipeError(`${where}: chunks make a sparse file; use writeContent`);
  return Buffer.alloc(spec.size === undefined ? 0 : parseSize(spec.size, where));
}

/**
 * Writes a file; `chunks` are written at their offsets into a file truncated to `size`, leaving
 * holes that mke2fs -d keeps as holes (a 70 MiB file then costs a few blocks).
 */
export function writeContent(file: string, spec: ContentSpec, where: string, index?: number): void {
  if (spec.chunks === undefined) {
    fs.writeFileSync(file, contentBytes(spec, where, index));
    return;
  }
  const fd = fs.openSync(file, 'w');
  try {
    fs.ftruncateSync(fd, parseSize(spec.size ?? 0, where));
    for (const chunk of spec.chunks) {
      const bytes = contentBytes(chunk, where, index);
      fs.writeSync(fd, bytes, 0, bytes.length, parseSize(chunk.at, where));
    }
  } finally {
    fs.closeSync(fd);
  }
}

/** Appends a content spec's bytes to a file. */
export function appendContent(file: string, spec: ContentSpec, where: string): void {
  fs.appendFileSync(file, contentBytes(spec, where));
}
