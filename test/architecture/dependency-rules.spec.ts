import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

// dependency-cruiser is ESM-only and Jest runs CommonJS here, so the CLI is run in a child process.
const repoRoot = join(__dirname, '..', '..');
const fixturesDir = 'test/fixtures/architecture';
const config = createRequire(__filename)(join(repoRoot, '.dependency-cruiser.cjs')) as {
  forbidden: { name: string }[];
};
const ruleNames = config.forbidden.map((rule) => rule.name);

interface Violation {
  from: string;
  to: string;
  rule: { name: string; severity: string };
}

function cruise(paths: string[], extraArgs: string[] = []): Violation[] {
  const result = spawnSync(
    process.execPath,
    [
      join(repoRoot, 'node_modules/dependency-cruiser/bin/dependency-cruise.mjs'),
      ...paths,
      '--config',
      '.dependency-cruiser.cjs',
      '--output-type',
      'json',
      ...extraArgs,
    ],
    { cwd: repoRoot, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 },
  );
  if (!result.stdout) throw new Error(`depcruise printed nothing (exit ${result.status}): ${result.stderr}`);
  return (JSON.parse(result.stdout) as { summary: { violations: Violation[] } }).summary.violations;
}

describe('dependency rules (.dependency-cruiser.cjs)', () => {
  // One cruise over every fixture keeps this test fast; violations are then grouped by fixture folder.
  let fixtureViolations: Violation[] = [];
  beforeAll(() => {
    fixtureViolations = cruise([fixturesDir]);
  });
  const rulesBrokenIn = (fixture: string): string[] => [
    ...new Set(
      fixtureViolations
        .filter((violation) => violation.from.startsWith(`${fixturesDir}/${fixture}/`))
        .map((violation) => violation.rule.name),
    ),
  ];

  it('has a fixture for every rule and no fixture without a rule', () => {
    const fixtures = readdirSync(join(repoRoot, fixturesDir)).sort();
    expect(fixtures).toEqual([...ruleNames].sort());
  });

  it.each(ruleNames)('%s: its fixture breaks exactly that rule', (rule) => {
    expect(rulesBrokenIn(rule)).toEqual([rule]);
  });

  it('the real apps, libs, packages, tests and benches break no rule', () => {
    // As `npm run depcruise` runs it: the fixtures above break the rules on purpose.
    const violations = cruise(
      ['apps', 'libs', 'packages', 'test', 'bench'],
      ['--exclude', `^${fixturesDir}/`],
    );
    expect(violations.map((v) => `${v.rule.name}: ${v.from} -> ${v.to}`)).toEqual([]);
  });
});
