import { join } from 'node:path';
import { DEFAULT_SLA_TARGETS } from '@app/ledger';
import { ConfigurationError, loadConfig, startFailure } from './config';

describe('loadConfig', () => {
  it('has the documented defaults', () => {
    expect(loadConfig({}, { cwd: '/srv/ledger' })).toEqual({
      port: 3000,
      host: '127.0.0.1',
      dataDir: '/srv/ledger/data',
      slaTargets: DEFAULT_SLA_TARGETS,
      digestIntervalSeconds: 60,
      signingKey: undefined,
      eventStoreConnectionString: undefined,
      mongodbUri: undefined,
      projections: 'inside',
    });
  });

  it('reads every variable, empty ones as unset', () => {
    const config = loadConfig(
      {
        PORT: '0',
        HOST: '0.0.0.0',
        LEDGER_DATA_DIR: 'var/ledger',
        LEDGER_SLA_TARGETS: '{"urgent":{"firstResponseMinutes":15}}',
        LEDGER_DIGEST_INTERVAL_SECONDS: '0',
        LEDGER_SIGNING_KEY: '',
        EVENTSTORE_CONNECTION_STRING: 'esdb://localhost:2113?tls=false',
        MONGODB_URI: '',
        LEDGER_PROJECTIONS: 'external',
      },
      { cwd: '/srv' },
    );
    expect(config).toMatchObject({
      port: 0,
      host: '0.0.0.0',
      dataDir: '/srv/var/ledger',
      digestIntervalSeconds: 0,
      signingKey: undefined,
      eventStoreConnectionString: 'esdb://localhost:2113?tls=false',
      mongodbUri: undefined,
      projections: 'external',
    });
    expect(config.slaTargets.urgent.firstResponseMinutes).toBe(15);
  });

  it('takes a data directory given otherwise (the CLI --data-dir) over LEDGER_DATA_DIR', () => {
    expect(loadConfig({ LEDGER_DATA_DIR: '/a' }, { cwd: '/srv', dataDir: 'b' }).dataDir).toBe(
      join('/srv', 'b'),
    );
  });

  it.each([
    [{ PORT: 'http' }, 'PORT must be a non-negative integer, got "http"'],
    [{ PORT: '70000' }, 'PORT must be at most 65535, got "70000"'],
    [
      { LEDGER_DIGEST_INTERVAL_SECONDS: '-1' },
      'LEDGER_DIGEST_INTERVAL_SECONDS must be a non-negative integer',
    ],
    [{ LEDGER_SLA_TARGETS: '{' }, 'LEDGER_SLA_TARGETS is not valid JSON'],
    [{ LEDGER_SLA_TARGETS: '{"soon":{}}' }, 'LEDGER_SLA_TARGETS: unknown priority soon'],
    [{ LEDGER_PROJECTIONS: 'outside' }, 'LEDGER_PROJECTIONS must be "inside" or "external", got "outside"'],
    [{ LEDGER_PROJECTIONS: 'External' }, 'LEDGER_PROJECTIONS must be "inside" or "external", got "External"'],
  ])('refuses %j, naming the variable', (env, message) => {
    const load = () => loadConfig(env);
    expect(load).toThrow(ConfigurationError);
    expect(load).toThrow(message);
  });

  it('is reported by its message alone when a process cannot start; other errors with their stack', () => {
    expect(startFailure(new ConfigurationError('PORT must be at most 65535, got "70000"'))).toBe(
      'PORT must be at most 65535, got "70000"',
    );
    expect(startFailure(new Error('disk full'))).toMatch(/^Error: disk full\n\s+at /);
  });
});
