import { CliError } from '../errors';

/** A commander parser for a positive integer option; errors name the option. */
export function positiveInteger(option: string): (v: string) => number {
  return (v) => {
    const n = Number(v);
    if (!Number.isSafeInteger(n) || n <= 0) throw new CliError(`${option}: '${v}' is not a positive integer`);
    return n;
  };
}
