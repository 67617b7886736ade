#!/usr/bin/env node
import { buildProgram } from './program';
import { reportFailure } from './errors';

// A closed pipe (`fasmcov run ... | head`) ends the output quietly, as in other command-line tools.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});

buildProgram()
  .parseAsync(process.argv)
  .catch((err: unknown) => {
    process.exitCode = reportFailure(err);
  });
