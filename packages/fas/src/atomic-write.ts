import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * Writes a file so that it either appears complete or not at all: the data goes to a temporary
 * file beside the target, which is renamed over it. A failure removes the temporary file.
 * Every fasmcov output (transcripts, traces, reports) is written this way.
 */
export function writeFileAtomic(file: string, data: string | Uint8Array): void {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
  try {
    fs.writeFileSync(tmp, data);
    fs.renameSync(tmp, file);
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    throw err;
  }
}
