/**
 * Several standalone projector processes (apps/ledger-projector) on one embedded ledger under a steady
 * load of appended events; one is killed with SIGKILL while commits flow. Checks, from the commit log the
 * projectors keep in their commit transactions (LEDGER_PROJECTOR_COMMIT_LOG=1), that every projection's
 * committed ranges are contiguous and disjoint, and that every projection ends equal to a rebuild from
 * zero. Shared by `npm run bench:leases` and test/projector/leases.e2e-spec.ts.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { openSqlite, SqliteEventStore } from '@app/event-store';
import { ALL_PROJECTIONS, projectionLeaseName, ProjectorHost } from '@app/ledger';
import { SqliteLeaseStore, SqliteReadModelStore } from '@app/read-store';
import { COMMIT_LOG_TABLE, type CommitLogRow } from '@app/runtime';
import { appendLedgerHistory } from './ledger-history';

const REPO_ROOT = join(__dirname, '..', '..');

export interface LeaseScenarioOptions {
  /** An empty directory: the ledger's data dir. */
  dir: string;
  processes: number;
  /** Events appended before the projectors start, and while they run. */
  initialEvents: number;
  loadEvents: number;
  /** Pause between groups of appends (20 streams each): the load's pace. */
  paceMs: number;
  ttlMs: number;
  renewMs: number;
  seed?: number;
  log?: (line: string) => void;
}

export interface ProjectionCheck {
  projection: string;
  commits: number;
  /** Distinct holders that committed ranges of it. */
  holders: number;
  /** The first range that does not start where the previous one ended (or at -1), if any. */
  gap: string | null;
  /** The last committed position, and the stored checkpoint. */
  lastTo: bigint;
  checkpoint: bigint;
  /** Documents compared with a rebuild from zero, and how many differ. */
  documents: number;
  differences: number;
}

export interface LeaseScenarioResult {
  head: bigint;
  killedHolder: string;
  /** The killed process's projections, each taken over by another holder. */
  killedProjections: string[];
  /** From the kill until every one of them was held again. */
  takeoverMs: number;
  /** Exit codes of the survivors after SIGTERM. */
  survivorExitCodes: (number | null)[];
  projections: ProjectionCheck[];
}

interface Projector {
  child: ChildProcess;
  output: string;
  holder: Promise<string>;
  exited: Promise<number | null>;
}

function startProjector(options: LeaseScenarioOptions): Projector {
  const child = spawn(process.execPath, ['scripts/projector.mjs'], {
    cwd: REPO_ROOT,
    env: {
      ...process.env,
      LEDGER_DATA_DIR: options.dir,
      LEDGER_PROJECTOR_COMMIT_LOG: '1',
      LEDGER_PROJECTOR_LEASE_TTL_MS: String(options.ttlMs),
      LEDGER_PROJECTOR_LEASE_RENEW_MS: String(options.renewMs),
      NO_COLOR: '1',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const projector: Projector = {
    child,
    output: '',
    holder: new Promise<string>((resolve, reject) => {
      const onData = (chunk: string) => {
        projector.output += chunk;
        const match = / as (\S+) \(leases of /.exec(projector.output);
        if (match) resolve(match[1]);
      };
      child.stdout!.setEncoding('utf8').on('data', onData);
      child.stderr!.setEncoding('utf8').on('data', onData);
      child.once('exit', (code) => reject(new Error(`projector exited (${code}):\n${projector.output}`)));
    }),
    exited: new Promise((resolve) => child.once('exit', (code) => resolve(code))),
  };
  projector.holder.catch(() => undefined);
  return projector;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

export async function runLeaseScenario(options: LeaseScenarioOptions): Promise<LeaseScenarioResult> {
  const log = options.log ?? (() => undefined);
  const seed = options.seed ?? 19;
  const file = join(options.dir, 'ledger.db');
  const db = openSqlite(file);
  const eventStore = new SqliteEventStore(db);
  const leaseStore = new SqliteLeaseStore(db);
  const store = new SqliteReadModelStore(db);
  const projectors: Projector[] = [];
  try {
    // The history is appended in groups, the first `initialEvents` at once and the rest paced once the
    // projectors run and commit; one generator, so that every stream's history stays coherent.
    let loadStarted: () => void = () => undefined;
    const started = new Promise<void>((resolve) => (loadStarted = resolve));
    let go: () => void = () => undefined;
    const running = new Promise<void>((resolve) => (go = resolve));
    const load = appendLedgerHistory(
      eventStore,
      seed,
      options.initialEvents + options.loadEvents,
      async (appended) => {
        if (appended < options.initialEvents) return;
        loadStarted();
        await running;
        await sleep(options.paceMs);
      },
      { concurrency: 20 },
    );
    await started;
    for (let index = 0; index < options.processes; index++) projectors.push(startProjector(options));
    const holders = await Promise.all(projectors.map((projector) => projector.holder));
    log(`${options.processes} projectors: ${holders.join(', ')}`);

    const projectionHolders = async () => {
      const now = Date.now();
      const byName = new Map((await leaseStore.list()).map((lease) => [lease.name, lease]));
      return ALL_PROJECTIONS.map((projection) => {
        const lease = byName.get(projectionLeaseName(projection.name));
        return lease && lease.holder !== '' && lease.expiresAt > now ? lease.holder : undefined;
      });
    };
    // Spread: every instance holds at least one projection, and every projection is held.
    await until('the projections to spread over the instances', async () => {
      const held = await projectionHolders();
      const spread = held.every((holder) => holder !== undefined) && holders.every((h) => held.includes(h));
      return spread ? held : undefined;
    }).catch(async (error: unknown) => {
      const leases = await leaseStore.list();
      const outputs = projectors.map((projector) => projector.output).join('\n');
      throw new Error(
        `${String(error)}; leases: ${JSON.stringify(leases, (_, v: unknown) => (typeof v === 'bigint' ? String(v) : v))}\n${outputs}`,
      );
    });
    go();
    // Commits flowing from every instance before the kill.
    const commitsBy = (holder: string) =>
      db
        .prepare<[string], { count: number }>(
          `SELECT count(*) AS count FROM ${COMMIT_LOG_TABLE} WHERE holder = ?`,
        )
        .get(holder)!.count;
    await until('a commit from every instance', async () =>
      holders.every((holder) => commitsBy(holder) > 0) ? true : undefined,
    );
    // Into the paced load: the kill lands while batches are being applied and committed.
    await sleep(Math.min(options.ttlMs, 1000));
    const victim = projectors.length - 1;
    const killedHolder = holders[victim];
    const killedProjections: string[] = [];
    const before = await projectionHolders();
    ALL_PROJECTIONS.forEach((projection, index) => {
      if (before[index] === killedHolder) killedProjections.push(projection.name);
    });
    const killedAt = Date.now();
    projectors[victim].child.kill('SIGKILL');
    await projectors[victim].exited;
    log(`killed ${killedHolder} (SIGKILL), which held ${killedProjections.join(', ')}`);
    await until("the takeover of the killed instance's projections", async () => {
      const held = await projectionHolders();
      return held.every((holder) => holder !== undefined && holder !== killedHolder) ? true : undefined;
    });
    const takeoverMs = Date.now() - killedAt;
    log(
      `taken over in ${takeoverMs} ms (lease TTL ${options.ttlMs} ms, renewed every ${options.renewMs} ms)`,
    );

    await load;
    const head = await eventStore.headPosition();
    log(`load done: head at ${head}`);
    const checkpoints = () =>
      Promise.all(ALL_PROJECTIONS.map((projection) => store.checkpoint(projection.name)));
    await until('every projection to reach the head', async () =>
      (await checkpoints()).every((position) => position >= head) ? true : undefined,
    );
    const survivors = projectors.filter((_, index) => index !== victim);
    for (const survivor of survivors) survivor.child.kill('SIGTERM');
    const survivorExitCodes = await Promise.all(survivors.map((survivor) => survivor.exited));

    const rows = db
      .prepare<[], CommitLogRow>(
        `SELECT projection, from_position, to_position, holder, token FROM ${COMMIT_LOG_TABLE} ORDER BY seq`,
      )
      .safeIntegers(true)
      .all();
    const checker = new ProjectorHost(eventStore, store, ALL_PROJECTIONS);
    const projections: ProjectionCheck[] = [];
    for (const projection of ALL_PROJECTIONS) {
      const ranges = rows.filter((row) => row.projection === projection.name);
      let expected = -1n;
      let gap: string | null = null;
      for (const range of ranges) {
        if (gap === null && (range.from_position !== expected || range.to_position <= range.from_position)) {
          gap = `(${range.from_position}, ${range.to_position}] after ${expected}`;
        }
        expected = range.to_position;
      }
      const report = await checker.rebuild(projection.name, { compare: true });
      projections.push({
        projection: projection.name,
        commits: ranges.length,
        holders: new Set(ranges.map((range) => range.holder)).size,
        gap,
        lastTo: expected,
        checkpoint: await store.checkpoint(projection.name),
        documents: report.comparison!.documents,
        differences: report.comparison!.differenceCount,
      });
    }
    return { head, killedHolder, killedProjections, takeoverMs, survivorExitCodes, projections };
  } finally {
    for (const projector of projectors)
      if (projector.child.exitCode === null) projector.child.kill('SIGKILL');
    await Promise.all(projectors.map((projector) => projector.exited));
    await store.close();
    await eventStore.close().catch(() => undefined);
    if (db.open) db.close();
  }
}
