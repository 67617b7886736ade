import * as fs from 'node:fs';
import * as path from 'node:path';

/** Where to look for files when resolving the names fasm recorded. */
export interface ResolveOptions {
  /** fasm's working directory (the main file name is relative to it); default: process.cwd(). */
  cwd?: string;
  /** Directories of fasm's INCLUDE variable; default: `$INCLUDE` split on `;`. */
  includeDirs?: string[];
  /** Environment for `%VAR%` in include names; default: process.env. */
  env?: NodeJS.ProcessEnv;
}

/** fasm replaces `%NAME%` with the environment variable and accepts `\` as a separator. */
function expand(name: string, env: NodeJS.ProcessEnv): string {
  return name.replace(/%([^%]+)%/g, (m, v: string) => env[v] ?? m).replace(/\\/g, '/');
}

function firstExisting(candidates: string[]): { path: string; exists: boolean } {
  for (const c of candidates) if (fs.existsSync(c)) return { path: c, exists: true };
  return { path: candidates[0], exists: false };
}

/** Resolves the main input file: against fasm's cwd, then against the `.fas` file's directory. */
export function resolveMain(
  name: string,
  fasDir: string,
  opts: ResolveOptions,
): { path: string; exists: boolean } {
  const n = expand(name, opts.env ?? process.env);
  if (path.isAbsolute(n)) return firstExisting([path.normalize(n)]);
  return firstExisting([path.resolve(opts.cwd ?? process.cwd(), n), path.resolve(fasDir, n)]);
}

/**
 * Resolves the name of an included file. fasm records the path it actually opened (already
 * joined with the includer's directory or an INCLUDE directory), relative to its working
 * directory; so the working directory comes first, then the includer's directory, the INCLUDE
 * directories and the `.fas` file's directory for files assembled elsewhere.
 */
export function resolveInclude(
  name: string,
  includerPath: string,
  fasDir: string,
  opts: ResolveOptions,
): { path: string; exists: boolean } {
  const env = opts.env ?? process.env;
  const n = expand(name, env);
  if (path.isAbsolute(n)) return firstExisting([path.normalize(n)]);
  const cwd = opts.cwd ?? process.cwd();
  const dirs = opts.includeDirs ?? (env.INCLUDE ?? '').split(';').filter((d) => d);
  return firstExisting([
    path.resolve(cwd, n),
    path.resolve(path.dirname(includerPath), n),
    ...dirs.map((d) => path.resolve(cwd, d, n)),
    path.resolve(fasDir, n),
  ]);
}
