/**
 * Whether an assembled line holds instructions or data. fasm's dump says where bytes went, not
 * what they are; a table in a code section must not count as an uncovered statement, so the
 * line's own (preprocessed) text decides: data directives, with or without a label in front,
 * and `times` of them, are data.
 */
const DATA = new Set([
  'db',
  'dw',
  'du',
  'dd',
  'dp',
  'df',
  'dq',
  'dt',
  'rb',
  'rw',
  'rd',
  'rp',
  'rf',
  'rq',
  'rt',
  'file',
  'align',
  'label',
  'virtual',
  'struc',
]);

function words(text: string): string[] {
  return text
    .trim()
    .replace(/^([A-Za-z_.@?$][\w.@?$]*\s*:)+/, '') // leading `name:` labels
    .trim()
    .split(/[\s,]+/)
    .filter(Boolean)
    .map((w) => w.toLowerCase());
}

export function isDataLine(text: string): boolean {
  let w = words(text);
  if (w[0] === 'times') w = w.slice(2);
  if (w.length === 0) return true;
  return DATA.has(w[0]) || (w.length > 1 && DATA.has(w[1]));
}
