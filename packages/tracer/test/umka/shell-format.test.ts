import { attrLetters, exactUnits, hexLines, lastDir, parseCNumber, statusLine } from '@fasmcov/tracer';

// umka_shell's output conventions, each checked against values worked out by hand.

describe('umka_shell formatting', () => {
  it('prints statuses with a count only for success and end of file', () => {
    expect(statusLine(0, 5)).toBe('status = 0 success, count = 5\n');
    expect(statusLine(6, 3)).toBe('status = 6 end_of_file, count = 3\n');
    expect(statusLine(5, 3)).toBe('status = 5 file_not_found\n');
    expect(statusLine(0)).toBe('status = 0 success\n');
    expect(statusLine(3, 0)).toBe('status = 3 unknown_fs\n');
    expect(statusLine(-1)).toBe('status = -1 unknown\n');
    expect(statusLine(13)).toBe('status = 13 unknown\n');
    // The count is printed as a signed int.
    expect(statusLine(0, 0xffffffff)).toBe('status = 0 success, count = -1\n');
  });

  it('writes attributes as rhslf letters', () => {
    expect(attrLetters(0)).toBe('-----');
    expect(attrLetters(0x10)).toBe('----f');
    expect(attrLetters(0x1f)).toBe('rhslf');
    expect(attrLetters(0x22)).toBe('-h---');
  });

  it('names sizes in the largest binary unit that divides them', () => {
    expect(exactUnits(0n)).toBe('0 B');
    expect(exactUnits(1024n * 1024n)).toBe('1 MiB');
    expect(exactUnits(5n * 1024n ** 3n)).toBe('5 GiB');
    expect(exactUnits(5118n * 1024n * 1024n)).toBe('5118 MiB');
    expect(exactUnits(8384481n * 512n)).toBe('4292854272 B');
    expect(exactUnits(1536n)).toBe('1536 B');
    expect(exactUnits(2048n)).toBe('2 kiB');
  });

  it('dumps bytes 32 to a line', () => {
    expect(hexLines(new Uint8Array(0))).toBe('\n');
    const b = Uint8Array.from({ length: 33 }, (_, i) => i);
    const expected = `${'000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f'}\n20\n`;
    expect(hexLines(b)).toBe(expected);
  });

  it('shows the last folder in the prompt', () => {
    expect(lastDir('/')).toBe('/');
    expect(lastDir('/hd0/1')).toBe('1');
    expect(lastDir('/hd0/1/')).toBe('');
    expect(lastDir('rel')).toBe('rel');
  });

  it('parses numbers like strtoumax with base 0', () => {
    expect(parseCNumber('16388096')).toBe(16388096n);
    expect(parseCNumber('0x10')).toBe(16n);
    expect(parseCNumber('010')).toBe(8n);
    expect(parseCNumber('0')).toBe(0n);
    expect(parseCNumber('12a')).toBeUndefined();
    expect(parseCNumber('')).toBeUndefined();
    expect(parseCNumber('-1')).toBe(2n ** 64n - 1n);
  });
});
