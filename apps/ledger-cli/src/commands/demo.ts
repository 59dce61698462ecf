import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { authenticate, createLedgerApp, generateApiKey, type ApiKeyStore, eventsBetween } from '@app/ledger';
import { openLedger } from '@app/runtime';
import { EXIT, optionalInteger, UsageError, type Command, type Io } from '../cli';
import { demoCustomers, type DemoCommand, type DemoCustomer } from '../demo/demo-workload';
import { toJson } from '../ledger-db';

/** Remembers, per data directory, the demo's API key and the --until each seed was generated with. */
export const DEMO_STATE_FILE = 'demo.json';

interface DemoState {
  key?: string;
  /** Per seed: the --until it was generated with, and the id of the key its idempotency records belong to. */
  seeds: Record<string, { until: string; keyId: string }>;
}

const DEFAULT_ISSUES = 10_000;
const DEFAULT_SEED = 42;
const DEFAULT_CONCURRENCY = 16;
const BAR_WIDTH = 30;

function readState(dataDir: string): DemoState {
  const file = join(dataDir, DEMO_STATE_FILE);
  if (!existsSync(file)) return { seeds: {} };
  const parsed = JSON.parse(readFileSync(file, 'utf8')) as Partial<DemoState>;
  return { key: parsed.key, seeds: parsed.seeds ?? {} };
}

function writeState(dataDir: string, state: DemoState) {
  const file = join(dataDir, DEMO_STATE_FILE);
  writeFileSync(file, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
}

/** The start of the current UTC day: a fixed instant for a whole day of re-runs, and in the past. */
function todayUtc(now: Date): Date {
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()));
}

function resolveUntil(option: unknown, recorded: string | undefined, seed: number, now: Date): Date {
  if (option === undefined) return recorded ? new Date(recorded) : todayUtc(now);
  if (
    typeof option !== 'string' ||
    !/^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?Z)?$/.test(option)
  ) {
    throw new UsageError(
      `--until must be an ISO-8601 UTC date or time (2026-03-31 or 2026-03-31T12:00:00Z).`,
    );
  }
  const until = new Date(option);
  if (Number.isNaN(until.getTime())) throw new UsageError(`--until "${option}" is not a valid date.`);
  if (until.getTime() > now.getTime()) throw new UsageError('--until must not be in the future.');
  if (recorded && new Date(recorded).getTime() !== until.getTime()) {
    throw new UsageError(
      `Seed ${seed} was generated up to ${recorded} in this data directory; pass that --until (or none) ` +
        'to extend it, or use another --seed.',
    );
  }
  return until;
}

/** The demo's own key (service + agent), created with the same code as tests and kept for re-runs. */
async function demoKey(store: ApiKeyStore, state: DemoState, io: Io): Promise<{ key: string; id: string }> {
  const stored = state.key ? await authenticate(store, state.key) : null;
  if (state.key && stored) return { key: state.key, id: stored.id };
  if (state.key) io.stderr('The demo API key stored earlier is unknown or revoked; creating a new one.\n');
  // Key names are unique among live keys: `demo`, else the first free `demo-<n>`.
  const taken = new Set(
    (await store.list()).filter((record) => record.revokedAt === null).map((record) => record.name),
  );
  let name = 'demo';
  for (let n = 2; taken.has(name); n++) name = `demo-${n}`;
  const { key, record } = await generateApiKey(store, { name, roles: ['service', 'agent'] });
  return { key, id: record.id };
}

interface Tally {
  sent: number;
  /** First answers that appended (201). */
  created: number;
  /** First answers that appended nothing (200, a repeated provider fact). */
  unchanged: number;
  /** Answers repeated from an earlier run by the idempotency key (`Idempotent-Replay: true`): nothing appended. */
  replayed: number;
  failed: number;
  failures: { url: string; status: number; detail: string }[];
}

async function send(app: NestFastifyApplication, key: string, command: DemoCommand, tally: Tally) {
  const response = await app.inject({
    method: 'POST',
    url: command.url,
    headers: {
      authorization: `Bearer ${key}`,
      'content-type': 'application/json',
      'idempotency-key': command.idempotencyKey,
    },
    payload: JSON.stringify(command.body),
  });
  tally.sent++;
  if (response.statusCode < 300 && response.headers['idempotent-replay'] === 'true') tally.replayed++;
  else if (response.statusCode === 201) tally.created++;
  else if (response.statusCode === 200) tally.unchanged++;
  else {
    tally.failed++;
    if (tally.failures.length < 10) {
      let detail = response.body;
      try {
        const problem = JSON.parse(response.body) as { type?: string; detail?: string };
        detail = `${problem.type ?? ''} ${problem.detail ?? ''}`.trim();
      } catch {
        // Not JSON: keep the raw body.
      }
      tally.failures.push({ url: command.url, status: response.statusCode, detail });
    }
  }
}

function progressLine(done: number, total: number, startedAt: number): string {
  const share = total > 0 ? done / total : 1;
  const filled = Math.round(share * BAR_WIDTH);
  const seconds = Math.max(0.001, (Date.now() - startedAt) / 1000);
  return (
    `\rdemo [${'#'.repeat(filled)}${'.'.repeat(BAR_WIDTH - filled)}] ${(share * 100).toFixed(0).padStart(3)}%  ` +
    `${done.toLocaleString('en')}/${total.toLocaleString('en')} commands  ` +
    `${Math.round(done / seconds).toLocaleString('en')} commands/s   `
  );
}

export const demo: Command = {
  path: ['demo'],
  args: [],
  summary: 'Generate a realistic, seeded demo workload through the command API (idempotent by seed).',
  options: {
    issues: { type: 'string' },
    seed: { type: 'string' },
    until: { type: 'string' },
    concurrency: { type: 'string' },
  },
  optionHelp: [
    ['--issues <n>', `issues to generate (default ${DEFAULT_ISSUES.toLocaleString('en')})`],
    ['--seed <n>', `seed of the random workload (default ${DEFAULT_SEED}); ids start with demo<seed>-`],
    [
      '--until <time>',
      'latest business time of the history, ISO-8601 UTC, not in the future (default: what this seed used ' +
        'before in this data directory, else the start of today UTC)',
    ],
    ['--concurrency <n>', `customers sent in parallel (default ${DEFAULT_CONCURRENCY})`],
  ],
  example: 'ledger demo --issues 10000 --seed 42',
  async run({ globals, options, io }) {
    const issues = optionalInteger(options, 'issues') ?? DEFAULT_ISSUES;
    const seed = optionalInteger(options, 'seed') ?? DEFAULT_SEED;
    const concurrency = optionalInteger(options, 'concurrency') ?? DEFAULT_CONCURRENCY;
    if (issues < 1) throw new UsageError('--issues must be at least 1.');
    if (concurrency < 1) throw new UsageError('--concurrency must be at least 1.');
    if (seed > 0xffffffff) throw new UsageError('--seed must fit in 32 bits.');

    const now = new Date();
    const { dataDir } = globals.config;
    // The ledger as the API opens it (same signing key, SLA targets), on this process's threads.
    const ledger = await openLedger(globals.config);
    let app: NestFastifyApplication | undefined;
    try {
      const state = readState(dataDir);
      const recorded = state.seeds[String(seed)];
      const until = resolveUntil(options.until, recorded?.until, seed, now);
      const { key, id: keyId } = await demoKey(ledger.adapters.apiKeys, state, io);
      state.key = key;
      writeState(dataDir, state);
      // Idempotency is scoped by API key: under another key a re-run would append its contacts again.
      if (recorded && recorded.keyId !== keyId) {
        throw new UsageError(
          `Seed ${seed} was generated with API key ${recorded.keyId}, which is no longer usable, so its ` +
            'commands cannot be replayed idempotently; use another --seed.',
        );
      }
      state.seeds[String(seed)] = { until: until.toISOString(), keyId };
      writeState(dataDir, state);

      const customers: DemoCustomer[] = [...demoCustomers({ seed, until: until.getTime() }, issues)];
      const total = customers.reduce((sum, customer) => sum + customer.commands.length, 0);
      app = await createLedgerApp(ledger.adapters, { logger: false });
      const headBefore = await ledger.adapters.eventStore.headPosition();

      const tally: Tally = {
        sent: 0,
        created: 0,
        unchanged: 0,
        replayed: 0,
        failed: 0,
        failures: [],
      };
      const startedAt = Date.now();
      let lastProgress = 0;
      const report = () => {
        const current = Date.now();
        if (current - lastProgress < 200) return;
        lastProgress = current;
        io.stderr(progressLine(tally.sent, total, startedAt));
      };
      // A customer's commands go in order (they build on each other); customers run side by side, which
      // also lets the event store commit many appends per fsync.
      let next = 0;
      const running = app;
      await Promise.all(
        Array.from({ length: Math.min(concurrency, customers.length) }, async () => {
          while (next < customers.length) {
            const customer = customers[next++];
            for (const command of customer.commands) {
              await send(running, key, command, tally);
              report();
            }
          }
        }),
      );
      io.stderr(`${progressLine(tally.sent, total, startedAt)}\n`);
      const headAfter = await ledger.adapters.eventStore.headPosition();
      const seconds = (Date.now() - startedAt) / 1000;
      const summary = {
        seed,
        until: until.toISOString(),
        customers: customers.length,
        issues: customers.reduce((sum, customer) => sum + customer.issues, 0),
        commands: tally.sent,
        created: tally.created,
        unchanged: tally.unchanged,
        replayed: tally.replayed,
        failed: tally.failed,
        failures: tally.failures,
        eventsAppended: await eventsBetween(ledger.adapters.eventStore, headBefore, headAfter),
        seconds: Math.round(seconds * 10) / 10,
        commandsPerSecond: Math.round(tally.sent / Math.max(seconds, 0.001)),
      };
      if (globals.json) {
        io.stdout(`${toJson(summary)}\n`);
      } else {
        io.stdout(
          `demo seed ${seed} up to ${summary.until}: ${summary.customers.toLocaleString('en')} customers, ` +
            `${summary.issues.toLocaleString('en')} issues, ${summary.commands.toLocaleString('en')} commands ` +
            `in ${summary.seconds} s (${summary.commandsPerSecond.toLocaleString('en')}/s); ` +
            `${summary.eventsAppended.toLocaleString('en')} events appended` +
            (summary.eventsAppended === 0 ? ' (already generated)' : '') +
            '\n',
        );
        for (const failure of tally.failures) {
          io.stderr(`  ${failure.status} POST ${failure.url}: ${failure.detail}\n`);
        }
      }
      return tally.failed > 0 ? EXIT.failure : EXIT.ok;
    } finally {
      if (app) await app.close();
      await ledger.close();
    }
  },
};
