import type { Command } from 'commander';
import { registerBench } from './bench';
import { registerDemo } from './demo';
import { registerExec } from './exec';
import { registerFas } from './fas';
import { registerInstrument } from './instrument';
import { registerKolibrios } from './kolibrios';
import { registerMerge } from './merge';
import { registerReport } from './report';
import { registerRun } from './run';
import { registerTrace } from './trace';

/** Each subcommand module exports one function that adds itself to the program. */
export type RegisterCommand = (program: Command) => void;

// One line per command (kept unformatted so that each command adds its own line).
// prettier-ignore
export const commands: RegisterCommand[] = [
  registerBench,
  registerDemo,
  registerExec,
  registerFas,
  registerInstrument,
  registerKolibrios,
  registerMerge,
  registerReport,
  registerRun,
  registerTrace,
];
