import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

const root = join(__dirname, '..', '..');

describe('loading the libraries', () => {
  it('brings no HTTP framework with it until createLedgerApp is called', () => {
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
    expect(exports).toEqual(['object', 'function', 'function', 'function', 'function']);
  });
});
