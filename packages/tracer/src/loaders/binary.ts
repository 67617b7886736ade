import type { Memory } from '../cpu';
import { SHF_ALLOC, SHF_EXECINSTR, SHF_WRITE } from './elf-reader';
import { type LoadedImage, mapAndWrite, pageUp } from './image';
import { LoaderError } from './loader-error';

export interface BinaryLoadOptions {
  /** Address of the file's first byte (fasm's `org`). */
  origin: number;
  /** Extra zeroed bytes after the file (e.g. for `rb` at the end, which fasm does not write). */
  extra?: number;
  writable?: boolean;
  /** Default: the origin. */
  entry?: number;
}

/** Loads a `format binary` file at its origin as one section named `binary`. */
export function loadBinary(
  memory: Memory,
  bytes: Uint8Array,
  file: string,
  opts: BinaryLoadOptions,
): LoadedImage {
  const size = bytes.length + (opts.extra ?? 0);
  if (size === 0) throw new LoaderError(file, 'empty binary');
  if (opts.origin < 0 || opts.origin + size > 0x1_0000_0000)
    throw new LoaderError(file, `does not fit at origin 0x${opts.origin.toString(16)}`);
  const writable = opts.writable ?? true;
  mapAndWrite(memory, opts.origin, size, bytes, writable);
  return {
    file,
    format: 'binary',
    sections: [
      {
        name: 'binary',
        fasSection: 0,
        index: 0,
        base: opts.origin,
        size,
        flags: SHF_ALLOC | SHF_EXECINSTR | (writable ? SHF_WRITE : 0),
        fileOffset: 0,
      },
    ],
    symbols: new Map(),
    entry: opts.entry ?? opts.origin,
    end: pageUp(opts.origin + size),
  };
}
