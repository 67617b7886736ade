/** One parsed line of a UMKa-style script. `fn` is 70 (cp866 paths) or 80 (UTF-8 paths). */
export type ScriptCommand =
  | { kind: 'blank' }
  | { kind: 'comment' }
  | { kind: 'disk_add'; image: string; name: string; cacheBytes?: number }
  | { kind: 'disk_del'; name: string }
  | { kind: 'stat'; fn: FileFn; path: string }
  | { kind: 'read'; fn: FileFn; path: string; offset: bigint; length: number; dump?: 'bytes' | 'hash' }
  | { kind: 'ls'; fn: FileFn; path: string; from: number; count: number }
  | { kind: 'write'; fn: FileFn; path: string; offset: bigint; file: string }
  | { kind: 'create'; fn: FileFn; path: string; file: string }
  | { kind: 'setsize'; fn: FileFn; path: string; size: bigint }
  | { kind: 'rm'; fn: FileFn; path: string }
  | { kind: 'mkdir'; fn: FileFn; path: string }
  | { kind: 'cd'; path: string }
  | { kind: 'pwd' };

export type FileFn = 70 | 80;

export interface ScriptLine {
  /** 1-based line number in the script. */
  line: number;
  text: string;
  command: ScriptCommand;
}

/** A script line that cannot be run: names the script, the line and what was expected. */
export class ScriptError extends Error {
  constructor(
    readonly script: string,
    readonly line: number,
    message: string,
  ) {
    super(`${script}:${line}: ${message}`);
    this.name = 'ScriptError';
  }
}

/** Largest read/listing buffer a script may ask for (guest memory is mapped for it). */
export const MAX_TRANSFER = 256 << 20;
export const DEFAULT_LS_COUNT = 1000;

const USAGE: Record<string, string> = {
  disk_add: 'disk_add <image> <name> [-c <cache bytes>]',
  disk_del: 'disk_del <name>',
  stat: 'stat70|stat80 <path>',
  read: 'read70|read80 <path> <offset> <length> [-b|-h]',
  ls: 'ls70|ls80 <path> [<from> [<count>]]',
  write: 'write70|write80 <path> <offset> <host file>',
  create: 'create70|create80 <path> <host file>',
  setsize: 'setsize70|setsize80 <path> <size>',
  rm: 'rm70|rm80 <path>',
  mkdir: 'mkdir70|mkdir80 <path>',
  cd: 'cd <path>',
  pwd: 'pwd',
};

/** Splits on blanks; "double quotes" keep blanks inside one word. Undefined for an odd quote. */
export function tokenize(text: string): string[] | undefined {
  if ((text.match(/"/g) ?? []).length % 2) return undefined;
  const out: string[] = [];
  const re = /"([^"]*)"|([^\s"]+)/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(text)) !== null) out.push(m[1] ?? m[2]);
  return out;
}

/** Decimal or 0x-hexadecimal, unsigned, below 2^bits. */
export function parseNumber(word: string, bits = 64): bigint | undefined {
  if (!/^(0x[0-9a-fA-F]+|[0-9]+)$/.test(word)) return undefined;
  const v = BigInt(word);
  return v < 1n << BigInt(bits) ? v : undefined;
}

function parseLine(words: string[], fail: (what: string) => never): ScriptCommand {
  const [op, ...args] = words;
  const fnMatch = /^(stat|read|ls|write|create|setsize|rm|mkdir)(70|80)$/.exec(op);
  const base = fnMatch ? fnMatch[1] : op;
  const usage = USAGE[base];
  if (!usage) fail(`unknown command '${op}' (have: ${Object.keys(USAGE).join(', ')}, # comments)`);
  const expect = (ok: boolean): void => {
    if (!ok) fail(`expected ${usage}`);
  };
  const num = (w: string, bits: number, what: string): bigint => {
    const v = parseNumber(w, bits);
    if (v === undefined) fail(`${what} '${w}' is not a number below 2^${bits} (expected ${usage})`);
    return v;
  };
  const fn = (fnMatch ? Number(fnMatch[2]) : 80) as FileFn;
  switch (base) {
    case 'disk_add': {
      expect(args.length === 2 || (args.length === 4 && args[2] === '-c'));
      const cacheBytes = args.length === 4 ? Number(num(args[3], 31, 'cache size')) : undefined;
      return { kind: 'disk_add', image: args[0], name: args[1], cacheBytes };
    }
    case 'disk_del':
      expect(args.length === 1);
      return { kind: 'disk_del', name: args[0] };
    case 'stat':
      expect(args.length === 1);
      return { kind: 'stat', fn, path: args[0] };
    case 'read': {
      expect(args.length === 3 || (args.length === 4 && (args[3] === '-b' || args[3] === '-h')));
      const length = Number(num(args[2], 32, 'length'));
      if (length > MAX_TRANSFER) fail(`length ${length} is above the limit of ${MAX_TRANSFER} bytes`);
      const dump = args[3] === '-b' ? 'bytes' : args[3] === '-h' ? 'hash' : undefined;
      return { kind: 'read', fn, path: args[0], offset: num(args[1], 64, 'offset'), length, dump };
    }
    case 'ls': {
      expect(args.length >= 1 && args.length <= 3);
      const from = args.length > 1 ? Number(num(args[1], 32, 'first entry')) : 0;
      const count = args.length > 2 ? Number(num(args[2], 32, 'count')) : DEFAULT_LS_COUNT;
      if (count > 100000) fail(`count ${count} is above the limit of 100000 entries`);
      return { kind: 'ls', fn, path: args[0], from, count };
    }
    case 'write':
      expect(args.length === 3);
      return { kind: 'write', fn, path: args[0], offset: num(args[1], 64, 'offset'), file: args[2] };
    case 'create':
      expect(args.length === 2);
      return { kind: 'create', fn, path: args[0], file: args[1] };
    case 'setsize':
      expect(args.length === 2);
      return { kind: 'setsize', fn, path: args[0], size: num(args[1], 64, 'size') };
    case 'rm':
      expect(args.length === 1);
      return { kind: 'rm', fn, path: args[0] };
    case 'mkdir':
      expect(args.length === 1);
      return { kind: 'mkdir', fn, path: args[0] };
    case 'cd':
      expect(args.length === 1);
      return { kind: 'cd', path: args[0] };
    default:
      expect(args.length === 0);
      return { kind: 'pwd' };
  }
}

/** Parses a whole script; the first bad line throws a ScriptError. */
export function parseScript(text: string, script: string): ScriptLine[] {
  const lines = text.split('\n');
  if (lines.length && lines[lines.length - 1] === '') lines.pop();
  return lines.map((raw, i) => {
    const lineText = raw.replace(/\r$/, '');
    const fail = (what: string): never => {
      throw new ScriptError(script, i + 1, what);
    };
    const trimmed = lineText.trim();
    if (trimmed === '') return { line: i + 1, text: lineText, command: { kind: 'blank' } };
    if (trimmed.startsWith('#')) return { line: i + 1, text: lineText, command: { kind: 'comment' } };
    const words = tokenize(trimmed);
    if (!words) fail('unbalanced double quote');
    return { line: i + 1, text: lineText, command: parseLine(words as string[], fail) };
  });
}
