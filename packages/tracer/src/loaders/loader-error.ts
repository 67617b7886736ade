/** A file the loaders cannot load: names the file and the offending item (section, relocation, symbol). */
export class LoaderError extends Error {
  constructor(
    readonly file: string,
    readonly detail: string,
    /** File offset of the offending structure, when known. */
    readonly offset?: number,
  ) {
    super(`${file}: ${detail}${offset === undefined ? '' : ` (file offset 0x${offset.toString(16)})`}`);
    this.name = 'LoaderError';
  }
}
