import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

const repoRoot = join(__dirname, '..', '..');
const probe = join(repoRoot, 'test/fixtures/run-ts/nest-probe.ts');

describe('scripts/run-ts.mjs', () => {
  it('runs TypeScript with Nest 12 (ESM-only), decorator metadata, @app aliases and source maps', () => {
    const output = execFileSync(process.execPath, [join(repoRoot, 'scripts/run-ts.mjs'), probe, 'a', '--b'], {
      cwd: repoRoot,
      encoding: 'utf8',
    });
    expect(JSON.parse(output)).toEqual({
      injected: 42,
      className: 'Service',
      alias: 'SqliteApiKeyStore',
      args: ['a', '--b'],
      isMain: true,
      // Line 29 of the .ts source, not of swc's output.
      stackLine: `at main (${probe}:29:16)`,
    });
  });

  it('refuses to run without a file', () => {
    expect(() =>
      execFileSync(process.execPath, [join(repoRoot, 'scripts/run-ts.mjs')], { stdio: 'pipe' }),
    ).toThrow(/usage: node scripts\/run-ts.mjs/);
  });
});
