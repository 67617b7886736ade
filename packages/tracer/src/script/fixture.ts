import * as fs from 'node:fs';
import * as path from 'node:path';
import { buildImage, contentBytes, RecipeError, type BuiltImage, type ContentSpec } from '../images';
import { parseScript, type ScriptLine } from './commands';
import type { RunScriptOptions } from './run-script';

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
  /** Where the host files that write/create commands name are: the fixture's own, plus generated ones. */
  fileDir: string;
}

/** The files of a fixture folder that are not host files for the script. */
const FIXTURE_FILES = new Set(['run.us', 'ref.log', 'host-files.json']);

/**
 * The host files of a fixture: its small files as they are, and the large ones generated from
 * `host-files.json` (`{"version": 1, "files": {"<name>": <recipe content spec>}}`) so that no bulk
 * data is committed.
 */
function prepareHostFiles(dir: string, fileDir: string): void {
  fs.mkdirSync(fileDir, { recursive: true });
  for (const e of fs.readdirSync(dir, { withFileTypes: true }))
    if (e.isFile() && !FIXTURE_FILES.has(e.name))
      fs.copyFileSync(path.join(dir, e.name), path.join(fileDir, e.name));
  const specFile = path.join(dir, 'host-files.json');
  if (!fs.existsSync(specFile)) return;
  const spec = JSON.parse(fs.readFileSync(specFile, 'utf8')) as {
    version?: number;
    files?: Record<string, ContentSpec>;
  };
  if (spec.version !== 1 || typeof spec.files !== 'object')
    throw new RecipeError(`${specFile}: expected {"version": 1, "files": {...}}`);
  for (const [name, content] of Object.entries(spec.files)) {
    if (path.basename(name) !== name)
      throw new RecipeError(`${specFile}: '${name}' is not a plain file name`);
    fs.writeFileSync(path.join(fileDir, name), contentBytes(content, `${specFile}: ${name}`));
  }
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
 * never touch the cached images; the script's host files go to `<workDir>/host-files`.
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
  const fileDir = path.join(workDir, 'host-files');
  prepareHostFiles(dir, fileDir);
  return {
    name: path.basename(dir),
    script,
    ref: path.join(dir, 'ref.log'),
    lines,
    imageDir: workDir,
    images,
    fileDir,
  };
}

/** What runScript needs to know of a prepared fixture: its lines and where its images and files are. */
export function fixtureScript(
  f: PreparedFixture,
): Pick<RunScriptOptions, 'lines' | 'script' | 'imageDir' | 'fileDir'> {
  return { lines: f.lines, script: f.script, imageDir: f.imageDir, fileDir: f.fileDir };
}
