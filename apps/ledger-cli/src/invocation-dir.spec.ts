import { invocationDirs } from './invocation-dir';

describe('invocationDirs', () => {
  const checkout = '/srv/ledger';

  it('resolves typed paths in INIT_CWD when npm ran scripts/ledger.mjs, the data directory in the checkout', () => {
    for (const script of ['node scripts/ledger.mjs', 'node scripts/ledger.mjs demo']) {
      expect(invocationDirs({ INIT_CWD: '/home/ana/audit', npm_lifecycle_script: script }, checkout)).toEqual(
        {
          cwd: '/home/ana/audit',
          configCwd: checkout,
        },
      );
    }
  });

  it('ignores an INIT_CWD inherited from another npm script (a test run by npm test) or set without npm', () => {
    const inherited = {
      INIT_CWD: '/home/ana',
      npm_lifecycle_script: 'node --expose-gc ./node_modules/jest/bin/jest.js',
    };
    expect(invocationDirs(inherited, checkout)).toEqual({ cwd: checkout, configCwd: checkout });
    expect(invocationDirs({ INIT_CWD: '/home/ana' }, checkout)).toEqual({
      cwd: checkout,
      configCwd: checkout,
    });
    expect(invocationDirs({}, checkout)).toEqual({ cwd: checkout, configCwd: checkout });
  });
});
