/**
 * A raw source line cut into the parts the rewriter needs: `head` (indentation and `name:` labels,
 * kept byte for byte), `statement` (what follows, without its trailing blanks) and `tail` (those
 * blanks and the comment).
 */
export interface SplitLine {
  head: string;
  statement: string;
  tail: string;
}

/** Characters fasm treats as symbols of their own (they end a name). */
const SPECIAL = new Set('+-/*=<>()[]{}:,|&~#`;\'"\\'.split(''));

/** Index of the `;` that starts the comment (outside quotes), or the line's length. */
export function commentStart(text: string): number {
  let quote = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quote) {
      if (c === quote) quote = '';
    } else if (c === "'" || c === '"') quote = c;
    else if (c === ';') return i;
  }
  return text.length;
}

/** Length of the `name:` label at `from` (name then optional blanks then one colon), or 0. */
function labelLength(text: string, from: number): number {
  let i = from;
  while (i < text.length && !SPECIAL.has(text[i]) && !/\s/.test(text[i])) i++;
  if (i === from) return 0;
  let j = i;
  while (j < text.length && (text[j] === ' ' || text[j] === '\t')) j++;
  // `name::` is not a label, and `name:=`... does not exist in fasm, but stay safe.
  if (text[j] !== ':' || text[j + 1] === ':' || text[j + 1] === '=') return 0;
  return j + 1 - from;
}

export function splitLine(text: string): SplitLine {
  const end = commentStart(text);
  const code = text.slice(0, end);
  const trimmed = code.replace(/\s+$/, '');
  let pos = 0;
  for (;;) {
    while (pos < trimmed.length && (trimmed[pos] === ' ' || trimmed[pos] === '\t')) pos++;
    const n = labelLength(trimmed, pos);
    if (n === 0) break;
    pos += n;
  }
  while (pos < trimmed.length && (trimmed[pos] === ' ' || trimmed[pos] === '\t')) pos++;
  return { head: trimmed.slice(0, pos), statement: trimmed.slice(pos), tail: text.slice(trimmed.length) };
}

/** The first word of a statement (up to a blank or a special character). */
export function firstWord(statement: string): string {
  const m = /^[^\s+\-/*=<>()[\]{}:,|&~#`;'"\\]+/.exec(statement);
  return m ? m[0] : '';
}

/** The statement without its first word, trimmed. */
export function operands(statement: string): string {
  return statement.slice(firstWord(statement).length).trim();
}

/** The statement with quoted strings blanked out, so that searches see only code. */
export function withoutStrings(statement: string): string {
  return statement.replace(/'[^']*'|"[^"]*"/g, (s) => ' '.repeat(s.length));
}

/**
 * Whether the statement refers to the current address (`$`, `$$`): its value moves when probes
 * are inserted, so such lines are left alone. `$` followed by a hexadecimal digit is a number.
 */
export function usesCurrentAddress(statement: string): boolean {
  return /\$(?![0-9a-fA-F])|\$\$/.test(withoutStrings(statement));
}
