import { csvCell, csvRow, wantsCsv } from './csv';

describe('CSV', () => {
  it.each([
    ['plain', 'plain'],
    ['a,b', '"a,b"'],
    ['say "hi"', '"say ""hi"""'],
    ['=SUM(A1:A9)', "'=SUM(A1:A9)"],
    ['+1', "'+1"],
    ['-2', "'-2"],
    ['@cmd', "'@cmd"],
    ['line\nbreak', '"line\nbreak"'],
    [null, ''],
    [42, '42'],
  ])('%j -> %s', (value, cell) => {
    expect(csvCell(value)).toBe(cell);
  });

  it('joins a row with CRLF, and detects text/csv in Accept', () => {
    expect(csvRow(['a', '=b', 3])).toBe("a,'=b,3\r\n");
    expect(wantsCsv('text/csv')).toBe(true);
    expect(wantsCsv('application/json, text/csv;q=0.5')).toBe(true);
    expect(wantsCsv('application/json')).toBe(false);
    expect(wantsCsv(undefined)).toBe(false);
  });
});
