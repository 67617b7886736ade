// How the transcript shows results: status names, attribute letters, times, hex and names.

/** KolibriOS status codes and the names transcripts give them. */
export const STATUS_NAMES: Readonly<Record<number, string>> = {
  0: 'success',
  2: 'unsupported',
  3: 'unknown_fs',
  5: 'file_not_found',
  6: 'end_of_file',
  7: 'memory_pointer',
  8: 'disk_full',
  9: 'fs_error',
  10: 'access_denied',
  11: 'device_error',
  12: 'out_of_memory',
};

export function statusText(status: number): string {
  return `status = ${status} ${STATUS_NAMES[status] ?? 'unknown'}`;
}

/** `rhsvf`: read-only, hidden, system, volume label, folder (bits 0-4); '-' when clear. */
export function attrText(attributes: number): string {
  return 'rhsvf'
    .split('')
    .map((c, bit) => (attributes & (1 << bit) ? c : '-'))
    .join('');
}

export const ATTR_FOLDER = 0x10;

const two = (n: number): string => String(n).padStart(2, '0');

/** A BDFE time dword + date dword as `YYYY.MM.DD hh:mm:ss`. */
export function bdfeTimeText(time: number, date: number): string {
  const s = time & 0xff;
  const m = (time >>> 8) & 0xff;
  const h = (time >>> 16) & 0xff;
  const day = date & 0xff;
  const month = (date >>> 8) & 0xff;
  const year = date >>> 16;
  return `${String(year).padStart(4, '0')}.${two(month)}.${two(day)} ${two(h)}:${two(m)}:${two(s)}`;
}

export function hexBytes(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

/** `N (M MiB)` of a sector count. */
export function sectorsText(sectors: bigint): string {
  return `${sectors} (${(sectors * 512n) >> 20n} MiB)`;
}

const cp866Decoder = new TextDecoder('ibm866');
let cp866Encoder: Map<string, number> | undefined;

/** One cp866 byte as text (ASCII below 0x80: ICU's ibm866 swaps a few control codes there). */
function cp866Char(b: number): string {
  return b < 0x80 ? String.fromCharCode(b) : cp866Decoder.decode(Uint8Array.of(b));
}

/** cp866 bytes up to the first NUL, as text. */
export function decodeCp866(bytes: Uint8Array): string {
  const end = bytes.indexOf(0);
  let out = '';
  for (const b of end < 0 ? bytes : bytes.subarray(0, end)) out += cp866Char(b);
  return out;
}

/** Text as cp866 bytes, or undefined when a character has no cp866 form. */
export function encodeCp866(text: string): Uint8Array | undefined {
  if (!cp866Encoder) {
    cp866Encoder = new Map();
    for (let b = 0; b < 256; b++) cp866Encoder.set(cp866Char(b), b);
  }
  const out: number[] = [];
  for (const ch of text) {
    const b = cp866Encoder.get(ch);
    if (b === undefined) return undefined;
    out.push(b);
  }
  return Uint8Array.from(out);
}

export function decodeUtf8z(bytes: Uint8Array): string {
  const end = bytes.indexOf(0);
  return Buffer.from(end < 0 ? bytes : bytes.subarray(0, end)).toString('utf8');
}

/** UTF-16LE code units up to the first zero unit. */
export function decodeUtf16z(bytes: Uint8Array): string {
  let end = 0;
  while (end + 1 < bytes.length && (bytes[end] | bytes[end + 1]) !== 0) end += 2;
  return Buffer.from(bytes.subarray(0, end)).toString('utf16le');
}
