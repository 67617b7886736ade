/**
 * The transcript a script run prints (the `ref.log` contract): each script line echoed after
 * `/> `, then that command's output lines. Blank script lines show as empty lines.
 */

export interface TranscriptCommand {
  /** 1-based line of the echo in the transcript. */
  line: number;
  /** The script line as echoed. */
  text: string;
  /** Command name and arguments (double quotes group words with spaces). */
  name: string;
  args: string[];
  /** Output lines, empty lines dropped. */
  output: string[];
}

export const PROMPT = '/> ';

/** Splits a script line into words; "double quoted" words may hold spaces. */
export function splitWords(text: string): string[] {
  const words: string[] = [];
  for (const m of text.matchAll(/"([^"]*)"|(\S+)/g)) words.push(m[1] ?? m[2]);
  return words;
}

export function parseTranscript(text: string): TranscriptCommand[] {
  const commands: TranscriptCommand[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.replace(/\r$/, '');
    if (line.startsWith(PROMPT) || line === PROMPT.trimEnd()) {
      const echoed = line.slice(PROMPT.length);
      const words = echoed.trim().startsWith('#') ? [] : splitWords(echoed);
      commands.push({ line: i + 1, text: echoed, name: words[0] ?? '', args: words.slice(1), output: [] });
    } else if (line.trim() !== '') {
      const last = commands[commands.length - 1];
      if (last) last.output.push(line);
      else commands.push({ line: i + 1, text: '', name: '', args: [], output: [line] });
    }
  });
  return commands;
}

export interface StatusLine {
  code: number;
  name: string;
  count?: number;
}

// The status names are the runner's own: one table for writing and for checking transcripts.
export { STATUS_NAMES } from '../script/format';

/** `status = 6 end_of_file, count = 5000` -> { code, name, count }; undefined if not a status line. */
export function parseStatus(line: string | undefined): StatusLine | undefined {
  const m = /^status = (\d+) (\w+)(?:, count = (\d+))?$/.exec(line?.trim() ?? '');
  if (!m) return undefined;
  return { code: Number(m[1]), name: m[2], count: m[3] === undefined ? undefined : Number(m[3]) };
}
