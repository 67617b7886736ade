import * as fs from 'node:fs';
import * as path from 'node:path';
import { buildImage, type BuiltImage } from '../images';
import { parseScript, type ScriptLine } from './commands';

/** A script test: `fixtures/fs/<name>/run.us` + `ref.log`, its images built from recipes. */
export interface PreparedFixture {
  name: string;
  script: string;
  ref: string;
  lines: ScriptLine[];
  /** Where the script's images were copied (a run may write to them). */
  imageDir: string;
  /** The images by the name the script uses (`fat16.img`), as built (the pristine copies). */
  images: Map<string, BuiltImage>;
}

/** Every fixture folder with a run.us, sorted by name. */
export function listFixtures(fixturesDir: string): string[] {
  if (!fs.existsSync(fixturesDir)) return [];
  return fs
    .readdirSync(fixturesDir)
    .filter((n) => fs.existsSync(path.join(fixturesDir, n, 'run.us')))
    .sort();
}

/**
 * Parses `<dir>/run.us`, builds (or reuses) every image its `disk_add` lines name — `<stem>.img` is
 * built from `<recipesDir>/<stem>.json` — and copies them into `workDir` so that writes by the run
 * never touch the cached images.
 */
export function prepareFixture(
  dir: string,
  recipesDir: string,
  workDir: string,
  cacheDir?: string,
): PreparedFixture {
  const script = path.join(dir, 'run.us');
  const lines = parseScript(fs.readFileSync(script, 'utf8'), script);
  const images = new Map<string, BuiltImage>();
  fs.mkdirSync(workDir, { recursive: true });
  for (const l of lines) {
    if (l.command.kind !== 'disk_add') continue;
    const name = l.command.image;
    if (images.has(name)) continue;
    const stem = name.replace(/\.img$/, '');
    const recipe = path.join(recipesDir, `${stem}.json`);
    if (path.basename(name) !== name || !fs.existsSync(recipe))
      throw new Error(`${script}:${l.line}: no recipe ${recipe} for image '${name}'`);
    const built = buildImage(recipe, cacheDir);
    fs.copyFileSync(built.image, path.join(workDir, name));
    images.set(name, built);
  }
  return {
    name: path.basename(dir),
    script,
    ref: path.join(dir, 'ref.log'),
    lines,
    imageDir: workDir,
    images,
  };
}
