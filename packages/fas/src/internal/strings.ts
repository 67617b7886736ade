import type { Bytes } from './bytes';
import type { FasRange } from './header';

/** The string table: ASCIIZ strings referred to by offset (file names, section and external names). */
export class StringTable {
  constructor(
    private readonly b: Bytes,
    private readonly range: FasRange,
  ) {}

  /** The string at `offset` inside the table; `field` names the referring field for errors. */
  get(offset: number, field: string): string {
    const { offset: lo, length } = this.range;
    if (offset >= length)
      this.b.fail(
        lo,
        field,
        `string offset 0x${offset.toString(16)} is past the string table (0x${length.toString(16)} bytes)`,
      );
    return this.b.cstring(lo + offset, field, lo, lo + length);
  }
}

/** Section names table: one string-table offset per section of an object file, index 0 = section 1. */
export function readSectionNames(b: Bytes, range: FasRange | undefined, strings: StringTable): string[] {
  if (!range) return [];
  if (range.length % 4 !== 0)
    b.fail(52, 'section names table length', `${range.length} is not a multiple of 4`);
  const names: string[] = [];
  for (let p = range.offset; p < range.offset + range.length; p += 4) {
    names.push(strings.get(b.u32(p, 'section name offset'), `section ${names.length + 1} name`));
  }
  return names;
}
