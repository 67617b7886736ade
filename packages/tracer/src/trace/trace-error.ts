/** A trace file or stream that does not follow its format; `offset` is the byte where it went wrong. */
export class TraceFormatError extends Error {
  constructor(
    message: string,
    readonly file: string | undefined,
    readonly offset: number,
  ) {
    super(`${file ? `${file}: ` : ''}${message} at byte offset ${offset}`);
    this.name = 'TraceFormatError';
  }
}
