/**
 * npm run bench:metrics — latency of every /metrics route over HTTP, without and with groupBy, on a ledger
 * of 100,000 issues (default): the history is appended to the event store and projected by the real
 * projector (every projection, so the server starts caught up). The server runs pinned to CPU 0, this
 * client to CPU 1; requests go one at a time, so latency is the server's. Each row is first warmed up, unmeasured:
 * BENCH_WARM_UP_ROUNDS (default 5) rounds over the request kinds it measures, since a kind's first answers in a
 * process include the JIT compiling and re-optimising its code paths; the slowest warm-up answer is printed
 * beside the steady-state figures, so what the first requests after a start cost stays visible.
 *
 *   BENCH_ISSUES=100000 BENCH_REQUESTS=200 npm run bench:metrics
 *   BENCH_MILLION=1 npm run bench:metrics     # also 1,000,000 issues (see below), about 10 minutes
 *
 * The 1,000,000-issue data set is built faster: the same generated histories go through the metrics
 * projection's own apply() in this process, stream by stream, and the resulting documents are committed
 * to the read-model store with the projection's checkpoint; the events themselves are not stored (the
 * metrics routes never read them). Only the metrics projection exists there.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqlite, SqliteEventStore, SqliteDigestStore } from '@app/event-store';
import {
  ALL_PROJECTIONS,
  METRIC_NAMES,
  ProjectorHost,
  recordProjectionVersion,
  type DocumentChange,
  type ReadDocument,
  type StoredEvent,
  MerkleTreeBuilder,
} from '@app/ledger';
import { SqliteReadModelStore } from '@app/read-store';
import { appendLedgerHistory, ledgerHistory } from './support/ledger-history';
import { startBenchServer } from './support/bench-server';
import { percentile } from './support/percentile';

const ISSUES = Number(process.env.BENCH_ISSUES ?? 100_000);
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 200);
const MILLION = process.env.BENCH_MILLION === '1';
const MILLION_REQUESTS = Number(process.env.BENCH_MILLION_REQUESTS ?? 20);
// Events per issue of ledgerHistory at this mix (20% charges, some churn): 6.53 gives the issue count asked.
const eventsFor = (issues: number) => Math.round(issues * 6.53);
const CHARGE_SHARE = 0.2;

/** Every /metrics route, as the API serves them. */
const ROUTES = METRIC_NAMES;
const GROUPINGS = [
  'category',
  'channel',
  'priority',
  'agent',
  'day',
  'week',
  'month',
  'category,channel',
  'priority,week',
  'agent,category',
];
const CHURN_GROUPINGS = [...GROUPINGS, 'resolutionBucket', 'sla', 'category,resolutionBucket'];

const metrics = () => {
  const projection = ALL_PROJECTIONS.find((candidate) => candidate.name === 'metrics');
  if (!projection) throw new Error('no metrics projection');
  return projection;
};

/** Events appended and projected by the projector, as in production. */
async function projectedLedger(file: string, issues: number): Promise<void> {
  const writer = SqliteEventStore.open(file);
  let last = 0;
  await appendLedgerHistory(
    writer,
    11,
    eventsFor(issues),
    (count) => {
      if (Date.now() - last < 1000) return;
      last = Date.now();
      process.stderr.write(`\rgenerating: ${count.toLocaleString('en')} events`);
    },
    { chargeShare: CHARGE_SHARE },
  );
  await writer.close();
  const db = openSqlite(file);
  const store = new SqliteReadModelStore(db);
  const host = new ProjectorHost(new SqliteEventStore(db), store, ALL_PROJECTIONS);
  await store.ensureCollections(ALL_PROJECTIONS.flatMap((projection) => projection.collections));
  process.stderr.write('\nprojecting (every projection)...\n');
  const started = Date.now();
  await host.catchUpAll();
  process.stderr.write(`projected in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  // The Merkle tree too, so that its catch-up in the server's tree thread does not compete with the
  // queries measured (the steady state: the tree follows within a batch of the head).
  await new MerkleTreeBuilder(new SqliteEventStore(db), new SqliteDigestStore(db)).catchUp();
  db.close();
}

/** The metrics documents only, built by the projection's apply() without storing events (see top). */
async function metricsDocumentsOnly(file: string, issues: number): Promise<void> {
  const projection = metrics();
  const db = openSqlite(file);
  const store = new SqliteReadModelStore(db);
  await store.ensureCollections(projection.collections);
  let position = 0;
  let checkpoint = -1n;
  let batch: DocumentChange[] = [];
  const seenCustomers = new Set<string>();
  const flush = async () => {
    const to = BigInt(position - 1);
    await store.commit(projection.name, checkpoint, to, batch);
    checkpoint = to;
    batch = [];
  };
  let streams = 0;
  for (const history of ledgerHistory(11, eventsFor(issues), CHARGE_SHARE)) {
    // As appendLedgerHistory: one churn per customer.
    if (history.stream.startsWith('customer-')) {
      if (seenCustomers.has(history.stream)) continue;
      seenCustomers.add(history.stream);
    }
    const documents = new Map<string, ReadDocument>();
    history.events.forEach(({ type, data, at }, revision) => {
      const occurredAt = new Date(at).toISOString();
      const event: StoredEvent = {
        stream: history.stream,
        revision,
        position: BigInt(position++),
        type,
        schemaVersion: 1,
        data,
        metadata: {
          eventId: `e${position}`,
          occurredAt,
          recordedAt: occurredAt,
          actor: { kind: 'service', id: 'bench' },
          correlationId: `c${position}`,
          causationId: null,
          schemaVersion: 1,
          prevHash: '',
          hash: '',
        },
        canonical: '',
      };
      const lookup = {
        get: (collection: string, id: string) => documents.get(`${collection}/${id}`) ?? null,
      };
      for (const change of projection.apply(event, lookup)) {
        if (change.doc) documents.set(`${change.collection}/${change.id}`, change.doc);
      }
    });
    for (const [key, doc] of documents) {
      batch.push({ collection: key.slice(0, key.indexOf('/')), id: doc.id, doc });
    }
    if (batch.length >= 5000) await flush();
    if (++streams % 20_000 === 0)
      process.stderr.write(`\rbuilding documents: ${streams.toLocaleString('en')} streams`);
  }
  await flush();
  // Built by this version: the server's projector must not take them for older documents and rebuild.
  await recordProjectionVersion(store, projection);
  process.stderr.write(`\n${position.toLocaleString('en')} events applied, not stored\n`);
  db.close();
}

interface Row {
  name: string;
  p50: number;
  p99: number;
  max: number;
  /** The slowest unmeasured warm-up answer: what the first requests after a start cost. */
  warmUpMax: number;
  bytes: number;
}

/** Unmeasured rounds over a row's request kinds before measuring it (see the header). */
const WARM_UP_ROUNDS = Number(process.env.BENCH_WARM_UP_ROUNDS ?? 5);

async function measureServer(dir: string, requests: number): Promise<Row[]> {
  const { child, port, key } = await startBenchServer('bench/servers/ledger.ts', { LEDGER_DATA_DIR: dir });
  try {
    const base = `http://127.0.0.1:${port}`;
    const headers = { authorization: `Bearer ${key}` };
    const call = async (path: string) => {
      const started = process.hrtime.bigint();
      const res = await fetch(`${base}${path}`, { headers });
      const body = await res.arrayBuffer();
      if (res.status !== 200) throw new Error(`${path}: ${res.status} ${Buffer.from(body).toString()}`);
      return { ms: Number(process.hrtime.bigint() - started) / 1e6, bytes: body.byteLength, body };
    };
    // The first query waits for the snapshot's initial load (it starts at boot).
    const load = await call('/metrics/overview');
    const overview = JSON.parse(Buffer.from(load.body).toString()) as { groups: { issues: number }[] };
    process.stderr.write(
      `first answer (initial snapshot load) after ${load.ms.toFixed(0)} ms: ` +
        `${overview.groups[0].issues.toLocaleString('en')} issues\n`,
    );
    const rows: Row[] = [];
    for (const route of ROUTES) {
      const groupings = route === 'churn' ? CHURN_GROUPINGS : GROUPINGS;
      for (const grouped of [false, true]) {
        const path = (i: number) =>
          grouped ? `/metrics/${route}?groupBy=${groupings[i % groupings.length]}` : `/metrics/${route}`;
        // Warm-up, not measured: WARM_UP_ROUNDS over the row's request kinds, so that a kind's first answers in
        // this process (the JIT compiling its code paths, scratch buffers growing: up to 100 ms once)
        // are not taken for its steady-state latency.
        const kinds = grouped ? groupings.length : 1;
        let warmUpMax = 0;
        for (let i = 0; i < WARM_UP_ROUNDS * kinds; i++)
          warmUpMax = Math.max(warmUpMax, (await call(path(i))).ms);
        const times: number[] = [];
        let bytes = 0;
        for (let i = 0; i < requests; i++) {
          const r = await call(path(i));
          times.push(r.ms);
          bytes += r.bytes;
        }
        times.sort((a, b) => a - b);
        rows.push({
          name: `${route}${grouped ? ' ?groupBy=…' : ''}`,
          p50: percentile(times, 50),
          p99: percentile(times, 99),
          max: times[times.length - 1],
          warmUpMax,
          bytes: Math.round(bytes / requests),
        });
      }
    }
    return rows;
  } finally {
    child.kill('SIGTERM');
  }
}

function print(title: string, rows: Row[]) {
  console.log(`\n${title}`);
  console.log(
    `${'route'.padEnd(40)}${'p50 ms'.padStart(9)}${'p99 ms'.padStart(9)}${'max ms'.padStart(9)}${'avg KB'.padStart(9)}${'warm-up max'.padStart(13)}`,
  );
  for (const r of rows) {
    console.log(
      `${r.name.padEnd(40)}${r.p50.toFixed(2).padStart(9)}${r.p99.toFixed(2).padStart(9)}${r.max.toFixed(1).padStart(9)}${(r.bytes / 1024).toFixed(1).padStart(9)}${r.warmUpMax.toFixed(1).padStart(13)}`,
    );
  }
  const worst = rows.reduce((a, b) => (b.p99 > a.p99 ? b : a));
  console.log(`worst p99: ${worst.p99.toFixed(2)} ms (${worst.name})`);
}

async function main() {
  try {
    execFileSync('taskset', ['-cp', '1', String(process.pid)], { stdio: 'ignore' });
  } catch {
    process.stderr.write('taskset unavailable: server and client share cores\n');
  }
  const runs: { issues: number; requests: number; build: typeof projectedLedger; label: string }[] = [
    { issues: ISSUES, requests: REQUESTS, build: projectedLedger, label: 'events stored and projected' },
  ];
  if (MILLION) {
    runs.push({
      issues: 1_000_000,
      requests: MILLION_REQUESTS,
      build: metricsDocumentsOnly,
      label: 'metrics documents built by apply(), events not stored',
    });
  }
  for (const run of runs) {
    const dir = mkdtempSync(join(tmpdir(), 'ledger-bench-metrics-'));
    try {
      await run.build(join(dir, 'ledger.db'), run.issues);
      const rows = await measureServer(dir, run.requests);
      print(
        `about ${run.issues.toLocaleString('en')} issues (${run.label}); ${run.requests} sequential requests per row, ` +
          `groupBy rotating over ${GROUPINGS.length} groupings (churn ${CHURN_GROUPINGS.length}); target p99 < 50 ms at 100,000`,
        rows,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
