/**
 * A `.fas` file that cannot be read: truncated, corrupted or of an unknown version. The message
 * names the file, the byte offset in it and the field being read, e.g.
 * `k.fas: offset 0x40: symbol table offset: 0x9000 is past the end of the file (0x100 bytes)`.
 */
export class FasFormatError extends Error {
  constructor(
    readonly file: string,
    readonly offset: number,
    readonly field: string,
    readonly problem: string,
  ) {
    super(`${file}: offset 0x${offset.toString(16)}: ${field}: ${problem}`);
    this.name = 'FasFormatError';
  }
}
