export { buildProgram } from './program';
export { CliError, reportFailure } from './errors';
