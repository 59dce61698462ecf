import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DOMAIN_ERROR_TYPES } from '../../libs/ledger/src/domain/shared/error-types';
import { EDGE_PROBLEM_TYPES } from '../../libs/ledger/src/http/problem';

/** The rows `| `/errors/<slug>` | <status> | ... |` of the doc section that starts with `heading`. */
function documentedTypes(markdown: string, heading: string): Record<string, number> {
  const start = markdown.indexOf(`## ${heading}`);
  expect(start).toBeGreaterThanOrEqual(0);
  const end = markdown.indexOf('\n## ', start + 1);
  const section = markdown.slice(start, end === -1 ? undefined : end);
  const rows: Record<string, number> = {};
  for (const match of section.matchAll(/^\| `\/errors\/([a-z-]+)` \| (\d{3}) \|/gm)) {
    rows[match[1]] = Number(match[2]);
  }
  return rows;
}

const statuses = (registry: Record<string, { status: number }>) =>
  Object.fromEntries(Object.entries(registry).map(([slug, { status }]) => [slug, status]));

describe('docs/errors.md', () => {
  const markdown = readFileSync(join(__dirname, '../../docs/errors.md'), 'utf8');

  it('lists exactly the edge problem types, with their statuses', () => {
    expect(documentedTypes(markdown, 'Edge and command mechanics')).toEqual(statuses(EDGE_PROBLEM_TYPES));
  });

  it('lists exactly the domain error types, with their statuses', () => {
    expect(documentedTypes(markdown, 'Domain rules')).toEqual(statuses(DOMAIN_ERROR_TYPES));
  });
});
