import type { MetricAnswer } from '../read-models/metrics/metric-computations';
import { csvRow } from './csv';

/**
 * Nested figures as dotted columns (km.median.value); lists of values joined by spaces; lists of objects
 * (the survival curve) left out: one CSV row per group.
 */
function flatten(value: unknown, prefix: string, into: Map<string, unknown>): void {
  if (Array.isArray(value)) {
    if (value.every((item) => typeof item !== 'object' || item === null)) into.set(prefix, value.join(' '));
    return;
  }
  if (typeof value === 'object' && value !== null) {
    for (const [field, inner] of Object.entries(value))
      flatten(inner, prefix ? `${prefix}.${field}` : field, into);
    return;
  }
  into.set(prefix, value);
}

export function metricCsv(answer: MetricAnswer): string {
  const rows = answer.groups.map((group) => {
    const { key, ...figures } = group;
    const cells = new Map<string, unknown>();
    for (const dimension of answer.groupBy) cells.set(dimension, key[dimension]);
    flatten(figures, '', cells);
    return cells;
  });
  const columns: string[] = [...answer.groupBy];
  for (const cells of rows)
    for (const column of cells.keys()) if (!columns.includes(column)) columns.push(column);
  return [csvRow(columns), ...rows.map((cells) => csvRow(columns.map((column) => cells.get(column))))].join(
    '',
  );
}
