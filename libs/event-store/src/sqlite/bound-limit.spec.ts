import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BOUND_LIMIT } from './open-sqlite';

// SQLite recompiles a statement with a bare `LIMIT ?` at every new binding (see BOUND_LIMIT): the
// statements of this directory, prepared once and run per command, page or batch, use BOUND_LIMIT instead.
describe('the SQLite adapters', () => {
  const sources = readdirSync(__dirname).filter((name) => name.endsWith('.ts') && !name.endsWith('.spec.ts'));

  it('bind no bare LIMIT ?', () => {
    // open-sqlite.ts names it in BOUND_LIMIT's explanation.
    const bare = sources.filter(
      (name) => name !== 'open-sqlite.ts' && /LIMIT\s+\?/.test(readFileSync(join(__dirname, name), 'utf8')),
    );
    expect(bare).toEqual([]);
  });

  it('bind their limits through BOUND_LIMIT, a unary plus on the parameter', () => {
    expect(BOUND_LIMIT).toBe('LIMIT +?');
    const using = sources.filter((name) =>
      readFileSync(join(__dirname, name), 'utf8').includes('BOUND_LIMIT'),
    );
    expect(using).toEqual(
      expect.arrayContaining([
        'sqlite-event-store.ts',
        'sqlite-subscription.ts',
        'sqlite-verification-source.ts',
        'sqlite-digest-store.ts',
      ]),
    );
  });
});
