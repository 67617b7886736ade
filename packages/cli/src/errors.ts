/**
 * A failure to show the user as one line, with the exit code to use; `details` (e.g. a crash
 * report) follow that line.
 */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
    readonly details = '',
  ) {
    super(message);
    this.name = 'CliError';
  }
}

/**
 * Prints a failure as one line on stderr and returns the exit code. Errors of fasmcov's own
 * packages carry a complete message (file, offset, source line); anything else is a bug, and
 * still gets one line (with FASMCOV_DEBUG=1 for the stack).
 */
export function reportFailure(err: unknown): number {
  const e = err instanceof Error ? err : new Error(String(err));
  process.stderr.write(`fasmcov: ${e.message.split('\n')[0]}\n`);
  if (e instanceof CliError && e.details) process.stderr.write(e.details);
  if (process.env.FASMCOV_DEBUG && e.stack) process.stderr.write(`${e.stack}\n`);
  return e instanceof CliError ? e.exitCode : 1;
}
