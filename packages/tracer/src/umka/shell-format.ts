// How umka_shell prints results. Transcripts are byte strings: every string here is latin1, one
// character per byte, so names the kernel returns in any encoding pass through unchanged.

/** Names of the KolibriOS file-call statuses 0..12, as the shell prints them. */
const STATUS_NAMES = [
  'success',
  'disk_base',
  'unsupported_fs',
  'unknown_fs',
  'partition',
  'file_not_found',
  'end_of_file',
  'memory_pointer',
  'disk_full',
  'fs_fail',
  'access_denied',
  'device',
  'out_of_memory',
];

export const STATUS_SUCCESS = 0;
export const STATUS_END_OF_FILE = 6;

export function statusName(status: number): string {
  return STATUS_NAMES[status] ?? 'unknown';
}

/** `status = N name`, with `, count = C` for calls that return a count when it is meaningful. */
export function statusLine(status: number, count?: number): string {
  const withCount = count !== undefined && (status === STATUS_SUCCESS || status === STATUS_END_OF_FILE);
  return `status = ${status} ${statusName(status)}${withCount ? `, count = ${count | 0}` : ''}\n`;
}

/** Attribute letters r, h, s, l (volume label), f (folder): bits 0-4, '-' when clear. */
export function attrLetters(attr: number): string {
  return 'rhslf'.replace(/./g, (c, bit: number) => (attr & (1 << bit) ? c : '-'));
}

export const ATTR_FOLDER = 0x10;

const UNITS = ['B', 'kiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB'];

/** A byte count in the largest binary unit that divides it exactly: `1 MiB`, `4292854272 B`. */
export function exactUnits(bytes: bigint): string {
  let v = BigInt.asUintN(64, bytes);
  let unit = 0;
  while (v !== 0n && v % 1024n === 0n && unit < UNITS.length - 1) {
    v /= 1024n;
    unit++;
  }
  return `${v} ${UNITS[unit]}`;
}

/** Lowercase hex, 32 bytes a line, always ending with a newline (an empty read prints one). */
export function hexLines(bytes: Uint8Array): string {
  const hex = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
  const lines: string[] = [];
  for (let i = 0; i < hex.length; i += 64) lines.push(hex.slice(i, i + 64));
  return `${lines.join('\n')}\n`;
}

const two = (n: number): string => String(n).padStart(2, '0');

/** `YYYY.MM.DD hh:mm:ss` of Unix seconds in the local time zone (the shell uses localtime). */
export function localTimeText(seconds: bigint): string {
  const d = new Date(Number(seconds) * 1000);
  return (
    `${String(d.getFullYear()).padStart(4, '0')}.${two(d.getMonth() + 1)}.${two(d.getDate())} ` +
    `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`
  );
}

/** Last component of a folder path, as the prompt shows it ('/' for the root, '' after a slash). */
export function lastDir(path: string): string {
  const slash = path.lastIndexOf('/');
  if (slash < 0) return path;
  if (slash !== 0 || path.length > 1) return path.slice(slash + 1);
  return path.slice(slash);
}

/**
 * C's strtoumax(s, &end, 0) requiring the whole word to be consumed: decimal, 0x hex or 0 octal,
 * optional sign (a minus wraps modulo 2^64). Undefined when the word is not a number.
 */
export function parseCNumber(word: string): bigint | undefined {
  const m = /^[ \t\n\v\f\r]*([+-]?)(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)$/.exec(word);
  if (!m) return undefined;
  const digits = m[2];
  const v = /^0[0-7]+$/.test(digits) ? BigInt(`0o${digits.slice(1)}`) : BigInt(digits);
  const clamped = v > 0xffffffffffffffffn ? 0xffffffffffffffffn : v;
  return m[1] === '-' ? BigInt.asUintN(64, -clamped) : clamped;
}

/** C's strtoul(s, NULL, 0) on a 32-bit host: the longest numeric prefix, 0 when there is none. */
export function strtoul(word: string): number {
  const m = /^[ \t\n\v\f\r]*([+-]?)(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)/.exec(word);
  if (!m) return 0;
  const v = parseCNumber(`${m[1]}${m[2]}`) ?? 0n;
  return Number(v > 0xffffffffn && m[1] !== '-' ? 0xffffffffn : BigInt.asUintN(32, v));
}
