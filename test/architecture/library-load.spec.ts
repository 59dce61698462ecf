import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

const root = join(__dirname, '..', '..');

describe('loading the libraries', () => {
  it('brings no HTTP framework and no engine client with it until they are used', () => {
    const output = execFileSync(
      process.execPath,
      [join(root, 'scripts', 'run-ts.mjs'), join(root, 'test', 'support', 'print-loaded-packages.ts')],
      { cwd: root, encoding: 'utf8' },
    );
    const { packages, exports } = JSON.parse(output) as { packages: string[]; exports: string[] };
    // What the threads need: the SQLite driver (and the swc hook that runs these sources).
    expect(packages).toContain('better-sqlite3');
    const framework = packages.filter((name) =>
      /^(@nestjs\/|@fastify\/|fastify$|class-validator$|class-transformer$|rxjs$)/.test(name),
    );
    expect(framework).toEqual([]);
    // A production engine's client is imported only once the configuration selects it.
    expect(packages).not.toContain('@eventstore/db-client');
    expect(packages).not.toContain('mongodb');
    expect(exports).toEqual(['object', 'function', 'function', 'function', 'function', 'function']);
  });
});
