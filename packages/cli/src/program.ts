import { Command } from 'commander';
import { commands } from './commands';

/** The `fasmcov` command with every subcommand registered; parsing and delegating only. */
export function buildProgram(): Command {
  const program = new Command('fasmcov')
    .description('Line, branch and function coverage plus profiling for fasm x86 assembly')
    .version('0.1.0')
    .showHelpAfterError()
    .configureOutput({ outputError: (str, write) => write(str) });
  for (const register of commands) register(program);
  return program;
}
