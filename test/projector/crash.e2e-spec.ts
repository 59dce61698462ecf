import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Database } from 'better-sqlite3';
import { openSqlite, SqliteEventStore } from '@app/event-store';
import {
  ALL_PROJECTIONS,
  ProjectionRunner,
  ProjectorHost,
  type Projection,
  type ReadDocument,
  type ReadModelStore,
} from '@app/ledger';
import { SqliteReadModelStore } from '@app/read-store';
import { appendLedgerHistory } from '../../bench/support/ledger-history';
import type { CrashReport } from './fixtures/crashing-projector';

const repoRoot = join(__dirname, '..', '..');
const fixture = join(__dirname, 'fixtures', 'crashing-projector.ts');
const EVENTS = 3000;
const SEED = 7;
const BATCH = 50;

/** The commits a catch-up from -1 makes over positions 1..head in batches of BATCH. */
const batchesUpTo = (head: bigint) => Math.ceil(Number(head) / BATCH);

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  reports: CrashReport[];
  stderr: string;
}

/** Runs the crashing projector on `file` until it kills itself at the `crashAt`-th commit of `projection`. */
function runCrashingProjector(file: string, projection: string, crashAt: number): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [join(repoRoot, 'scripts/run-ts.mjs'), fixture, file, projection, String(crashAt), String(BATCH)],
      { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      const reports = stdout
        .split('\n')
        .filter((line) => line.trim() !== '')
        .map((line) => JSON.parse(line) as CrashReport);
      resolve({ code, signal, reports, stderr });
    });
  });
}

const byId = { orderBy: { field: 'id', direction: 'asc' as const } };

async function documentsOf(
  store: Pick<ReadModelStore, 'scan'>,
  projection: Projection,
): Promise<Record<string, ReadDocument[]>> {
  const documents: Record<string, ReadDocument[]> = {};
  for (const { name } of projection.collections) {
    documents[name] = [];
    for await (const doc of store.scan(name, byId)) documents[name].push(doc);
  }
  return documents;
}

function projectionNamed(name: string): Projection {
  const projection = ALL_PROJECTIONS.find((candidate) => candidate.name === name);
  if (!projection) throw new Error(`no projection ${name}`);
  return projection;
}

/** Every projection document records the position of the last event applied to it. */
const maxLastPosition = (documents: Record<string, ReadDocument[]>) =>
  Math.max(-1, ...Object.values(documents).flatMap((docs) => docs.map((doc) => Number(doc.lastPosition))));

describe('projector crash at the commit boundary', () => {
  let dir: string;
  let template: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'projector-crash-'));
    template = join(dir, 'template.db');
    const events = SqliteEventStore.open(template);
    try {
      await appendLedgerHistory(events, SEED, EVENTS);
    } finally {
      await events.close();
    }
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** A private copy of the generated ledger (no projection has run on it). */
  function ledgerCopy(name: string): string {
    const file = join(dir, `${name}.db`);
    copyFileSync(template, file);
    // The last connection's close checkpoints the WAL into the file; copy what may remain anyway.
    for (const suffix of ['-wal', '-shm']) {
      if (existsSync(template + suffix)) copyFileSync(template + suffix, file + suffix);
    }
    return file;
  }

  interface Opened {
    db: Database;
    eventStore: SqliteEventStore;
    store: SqliteReadModelStore;
    close(): Promise<void>;
  }

  function open(file: string, options: ConstructorParameters<typeof SqliteReadModelStore>[1] = {}): Opened {
    const db = openSqlite(file);
    const eventStore = new SqliteEventStore(db);
    const store = new SqliteReadModelStore(db, options);
    return {
      db,
      eventStore,
      store,
      async close() {
        await eventStore.close();
        await store.close();
        db.close();
      },
    };
  }

  it.each([
    { projection: 'issue-timeline', crashAt: 7 },
    { projection: 'charge-summary', crashAt: 23 },
  ])(
    'a projector SIGKILLed before COMMIT of $projection batch $crashAt loses exactly that batch and resumes to documents equal to a rebuild',
    async ({ projection: name, crashAt }) => {
      const projection = projectionNamed(name);
      const file = ledgerCopy(`${name}-${crashAt}`);

      const run = await runCrashingProjector(file, name, crashAt);
      // stderr only shows in the diff when the run did not end as planned.
      expect({
        signal: run.signal,
        code: run.code,
        stderr: run.signal === 'SIGKILL' ? '' : run.stderr,
      }).toEqual({
        signal: 'SIGKILL',
        code: null,
        stderr: '',
      });
      // One report per commit, up to the fatal one; each seen from inside its open transaction.
      expect(run.reports.map((report) => report.commit)).toEqual(
        Array.from({ length: crashAt }, (_, index) => index + 1),
      );
      const fatal = run.reports[crashAt - 1];
      const lastCommitted = run.reports[crashAt - 2];
      expect(fatal.inTransaction).toBe(true);
      expect(fatal.checkpointInTransaction).toBe(fatal.to);
      // The killed transaction had written documents of its batch (positions past the last committed one).
      expect(fatal.maxLastPositionInTransaction).toBeGreaterThan(Number(lastCommitted.to));

      const ledger = open(file);
      try {
        const { eventStore, store } = ledger;
        const head = await eventStore.headPosition();
        const all = await eventStore.readAll();
        expect(all).toHaveLength(Number(head));
        // Positions 1..head without gaps, so batch k of the catch-up ends at k * BATCH.
        expect(all.every((event, index) => event.position === BigInt(index + 1))).toBe(true);

        // The checkpoint is the end of the (N-1)-th batch: the N-th, written but not committed, is gone.
        const checkpoint = await store.checkpoint(name);
        expect(checkpoint).toBe(BigInt(lastCommitted.to));
        expect(checkpoint).toBe(BigInt((crashAt - 1) * BATCH));
        expect(BigInt(fatal.to)).toBe(BigInt(crashAt * BATCH));
        expect(checkpoint).toBeGreaterThan(-1n);
        expect(checkpoint).toBeLessThan(head);

        // No document of the lost batch leaked: what is stored is exactly the projection of events
        // 1..checkpoint, computed afresh into an empty in-memory store.
        const afterCrash = await documentsOf(store, projection);
        expect(maxLastPosition(afterCrash)).toBeLessThanOrEqual(Number(checkpoint));
        expect(maxLastPosition(afterCrash)).toBeGreaterThan(0);
        const reference = new SqliteReadModelStore(openSqlite(':memory:'), { closeDatabase: true });
        try {
          await reference.ensureCollections(projection.collections);
          await new ProjectionRunner(projection, eventStore, reference, { batchSize: 500 }).catchUp(
            undefined,
            checkpoint,
          );
          expect(await reference.checkpoint(name)).toBe(checkpoint);
          expect(afterCrash).toEqual(await documentsOf(reference, projection));
        } finally {
          await reference.close();
        }

        // A restarted projector finishes from the stored checkpoints...
        const host = new ProjectorHost(eventStore, store, ALL_PROJECTIONS, { batchSize: BATCH });
        try {
          await host.catchUpAll();
          for (const { name: other } of ALL_PROJECTIONS) {
            expect({ projection: other, checkpoint: await store.checkpoint(other) }).toEqual({
              projection: other,
              checkpoint: head,
            });
          }
          // ... to documents equal to a rebuild from the first event, in every projection.
          for (const { name: other } of ALL_PROJECTIONS) {
            const report = await host.rebuild(other, { compare: true });
            expect({ projection: other, differences: report.comparison?.differences }).toEqual({
              projection: other,
              differences: [],
            });
            expect(report.comparison?.differenceCount).toBe(0);
            expect(report.comparison?.documents).toBeGreaterThan(0);
            expect(report.promoted).toBe(false);
          }
        } finally {
          await host.stop();
        }
      } finally {
        await ledger.close();
      }
    },
  );

  it('beforeCommit runs inside the commit transaction: a throw there rolls back the batch and its checkpoint', async () => {
    const projection = projectionNamed('issue-summary');
    const file = ledgerCopy('throwing-failpoint');
    let commits = 0;
    const injected = new Error('injected before COMMIT');
    const ledger = open(file, {
      // A fresh projection's first commit records its version and applies nothing (checkpoint stays -1).
      beforeCommit: (name, to) => {
        if (name === projection.name && to !== -1n && ++commits === 3) throw injected;
      },
    });
    try {
      const { eventStore, store } = ledger;
      const host = new ProjectorHost(eventStore, store, [projection], { batchSize: BATCH });
      await store.ensureCollections(projection.collections);
      await expect(host.catchUpAll()).rejects.toBe(injected);
      expect(ledger.db.inTransaction).toBe(false);
      expect(await store.checkpoint(projection.name)).toBe(BigInt(2 * BATCH));
      const documents = await documentsOf(store, projection);
      expect(maxLastPosition(documents)).toBeLessThanOrEqual(2 * BATCH);
      expect(maxLastPosition(documents)).toBeGreaterThan(0);
      // The failpoint fires once per commit; the next run goes past the batch that was rolled back.
      await host.catchUpAll();
      expect(await store.checkpoint(projection.name)).toBe(await eventStore.headPosition());
      expect(commits).toBe(batchesUpTo(await eventStore.headPosition()) + 1);
    } finally {
      await ledger.close();
    }
  });
});
