import { Readable } from 'node:stream';

/**
 * One CSV cell (RFC 4180): quoted when needed, and a leading = + - @ (or tab / CR) prefixed with a quote
 * so that spreadsheets never evaluate it as a formula (OWASP CSV injection).
 */
export function csvCell(value: unknown): string {
  if (value === null || value === undefined) return '';
  let text = typeof value === 'object' ? JSON.stringify(value) : String(value);
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function csvRow(values: readonly unknown[]): string {
  return `${values.map(csvCell).join(',')}\r\n`;
}

/** Streams a header and one row per item, every matching row, without holding them all in memory. */
export function csvStream<T>(
  columns: readonly { header: string; value: (item: T) => unknown }[],
  items: AsyncIterable<T>,
): Readable {
  return Readable.from(
    (async function* () {
      yield csvRow(columns.map((column) => column.header));
      for await (const item of items) yield csvRow(columns.map((column) => column.value(item)));
    })(),
  );
}

/**
 * Whether the client asked for CSV rather than JSON: `format=csv` (for a browser or a notebook that cannot
 * set headers; `format=json` forces JSON), else `Accept: text/csv`.
 */
export function wantsCsv(accept: string | undefined, format?: string): boolean {
  if (format !== undefined) return format === 'csv';
  return typeof accept === 'string' && /(^|,)\s*text\/csv\b/i.test(accept);
}

/** Yields at most `limit` items of `items` (all without a limit), closing the source when it stops early. */
export async function* limited<T>(items: AsyncIterable<T>, limit: number | undefined): AsyncIterable<T> {
  if (limit === undefined) {
    yield* items;
    return;
  }
  if (limit <= 0) return;
  let count = 0;
  for await (const item of items) {
    yield item;
    if (++count >= limit) return;
  }
}
