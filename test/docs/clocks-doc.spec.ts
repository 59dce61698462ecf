import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { getMetadataStorage } from 'class-validator';

const DTO_DIR = join(__dirname, '../../libs/ledger/src/http/dto');

/** Every property a DTO of the API validates as an instant: the API's time parameters. */
function instantParameters(): Map<string, string[]> {
  const found = new Map<string, string[]>();
  for (const file of readdirSync(DTO_DIR).filter((name) => name.endsWith('.dto.ts'))) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const exports = require(join(DTO_DIR, file)) as Record<string, unknown>;
    for (const [name, value] of Object.entries(exports)) {
      if (typeof value !== 'function') continue;
      const rules = getMetadataStorage().getTargetValidationMetadatas(value, '', true, false);
      for (const rule of rules) {
        // A period bound is an instant or a duration back from asOf: a time parameter too.
        if (rule.name !== 'isInstant' && rule.name !== 'isPeriodBound') continue;
        found.set(rule.propertyName, [...(found.get(rule.propertyName) ?? []), name]);
      }
    }
  }
  return found;
}

describe('docs/api.md, "Time parameters"', () => {
  const api = readFileSync(join(__dirname, '../../docs/api.md'), 'utf8');
  const start = api.indexOf('## Time parameters');
  const end = api.indexOf('\n## ', start + 1);
  const markdown = api.slice(start, end === -1 ? undefined : end);
  const documented = new Set(
    [...markdown.matchAll(/^\| ([^|]+) \|[^|]+\| (?:recorded|business) \|/gm)].flatMap(([, cell]) =>
      [...cell.matchAll(/`([A-Za-z]+)`/g)].map(([, name]) => name),
    ),
  );

  it('gives a clock for every time parameter the API validates', () => {
    expect(start).toBeGreaterThanOrEqual(0);
    const parameters = instantParameters();
    expect(parameters.size).toBeGreaterThanOrEqual(6);
    const missing = [...parameters].filter(([name]) => !documented.has(name));
    expect(missing).toEqual([]);
  });
});
