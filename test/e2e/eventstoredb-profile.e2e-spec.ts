import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import request from 'supertest';
import { ALL_PROJECTIONS, eventHash, leafHash, rootOf, type StoredEvent } from '@app/ledger';
import { loadConfig, startStandaloneProjector, type OpenedLedger } from '@app/runtime';
import { ScriptedEsdbServer } from '../../libs/event-store/src/eventstoredb/testing/scripted-esdb-server';
import { expectCreated, get, post, uniqueIds } from '../support/http';
import { runLedgerCli } from '../support/ledger-cli';
import { projectionOverview } from '../../libs/ledger/src/http/projection-overview';
import { startConfiguredLedger, tempDataDir, type LedgerHarness } from '../support/ledger-harness';

// The whole API on the profile "EventStoreDB events + SQLite derived", opened by openLedger from
// EVENTSTORE_CONNECTION_STRING as `npm start` opens it. The server is ScriptedEsdbServer, a TEST DOUBLE OF
// THE gRPC PROTOCOL (libs/event-store/src/eventstoredb/testing): the real client and adapter, over real gRPC,
// in the request thread and in the projector and Merkle tree threads, each with its own client. It proves
// the wiring; it does not replace a run against a real EventStoreDB server.

describe('the EventStoreDB profile end to end (scripted gRPC server double)', () => {
  let server: ScriptedEsdbServer;
  let h: LedgerHarness<OpenedLedger>;
  const ids = uniqueIds();

  /** The ledger's events as the server holds them, through the ledger's own port. */
  const ledgerEvents = (): Promise<StoredEvent[]> => h.eventStore.readAll({});

  beforeAll(async () => {
    server = await ScriptedEsdbServer.start();
    // A server shared with other applications: system events and foreign streams sit in $all too.
    server.writeForeign('$statistics-127.0.0.1:2113', '$statsCollected', { proc: { cpu: 3 } });
    server.writeForeign('orders-1', 'OrderPlaced', { orderId: 'o-1' });
    h = await startConfiguredLedger({ EVENTSTORE_CONNECTION_STRING: server.connectionString });
  });

  afterAll(async () => {
    await h?.close(true);
    await server?.stop();
  });

  let lastPosition = '';

  it('records commands as binary canonical events on the server, and keeps nothing of them in SQLite', async () => {
    await post(h, 'service', '/charges', {
      chargeId: ids.charge,
      customerId: ids.customer,
      amount: 10000,
      currency: 'EUR',
      outcome: 'succeeded',
    }).then(expectCreated);
    const opened = await post(
      h,
      'agent',
      '/issues',
      {
        issueId: ids.issue,
        customerId: ids.customer,
        category: 'delayed_refund',
        channel: 'chat',
        priority: 'high',
        chargeIds: [ids.charge],
      },
      { 'Idempotency-Key': 'open-issue-1' },
    ).then(expectCreated);
    await post(h, 'agent', `/issues/${ids.issue}/assign`, { agentId: 'a-17' }).then(expectCreated);
    const resolved = await post(h, 'agent', `/issues/${ids.issue}/resolve`, {
      resolution: 'explained',
    }).then(expectCreated);
    lastPosition = resolved.body.position;

    // A retry with the same key answers the first answer byte for byte (the record is in SQLite).
    const retried = await post(
      h,
      'agent',
      '/issues',
      {
        issueId: ids.issue,
        customerId: ids.customer,
        category: 'delayed_refund',
        channel: 'chat',
        priority: 'high',
        chargeIds: [ids.charge],
      },
      { 'Idempotency-Key': 'open-issue-1' },
    );
    expect(retried.status).toBe(opened.status);
    expect(retried.text).toBe(opened.text);

    const onServer = server.log.filter(
      (record) => !record.stream.startsWith('$') && record.stream !== 'orders-1',
    );
    expect(onServer.map((record) => `${record.stream}@${record.revision}`)).toEqual(
      expect.arrayContaining([`charge-${ids.charge}@0`, `issue-${ids.issue}@0`, `issue-${ids.issue}@2`]),
    );
    expect(new Set(onServer.map((record) => record.contentType))).toEqual(
      new Set(['application/octet-stream']),
    );
    // The answer's position is the server's commit position of the last event (a sparse log offset).
    const stored = await ledgerEvents();
    const last = stored.find((event) => event.stream === `issue-${ids.issue}` && event.revision === 2);
    expect(last?.position.toString()).toBe(lastPosition);

    const db = new BetterSqlite3(join(h.dataDir, 'ledger.db'), { readonly: true });
    try {
      const events = db.prepare("SELECT 1 FROM sqlite_schema WHERE name = 'events'").get();
      expect(events === undefined ? 0 : db.prepare('SELECT count(*) AS n FROM events').pluck().get()).toBe(0);
      expect(db.prepare('SELECT count(*) FROM idempotency').pluck().get()).toBeGreaterThanOrEqual(1);
    } finally {
      db.close();
    }
  });

  it('answers queries once the projector thread, reading the server through its own client, applied them', async () => {
    const issue = await get(h, 'analyst', `/issues/${ids.issue}?minPosition=${lastPosition}`);
    expect(issue.status).toBe(200);
    expect(issue.body).toMatchObject({ issueId: ids.issue, status: 'resolved', assigneeId: 'a-17' });
    const charge = await get(h, 'agent', `/charges/${ids.charge}?minPosition=${lastPosition}`);
    expect(charge.status).toBe(200);
    expect(charge.body).toMatchObject({ chargeId: ids.charge, amount: 10000 });
    const timeline = await get(h, 'analyst', `/issues/${ids.issue}/timeline?minPosition=${lastPosition}`);
    expect(timeline.status).toBe(200);
  });

  it('serves a stream’s stored events and replays its state through the port', async () => {
    const events = await get(h, 'auditor', `/audit/streams/issue-${ids.issue}/events`);
    expect(events.status).toBe(200);
    expect(events.body.items.map((event: { type: string }) => event.type)).toEqual([
      'IssueOpened',
      'IssueAssigned',
      'IssueResolved',
    ]);
    for (const event of events.body.items as { canonical: string; metadata: { hash: string } }[]) {
      expect(eventHash(event.canonical)).toBe(event.metadata.hash);
    }
    const state = await get(h, 'auditor', `/audit/streams/issue-${ids.issue}/state?revision=1`);
    expect(state.status).toBe(200);
    expect(state.body).toMatchObject({ revision: 1, position: events.body.items[1].position });
  });

  it('builds the Merkle tree over ledger events only, with dense leaf indexes in ledger order', async () => {
    const digest = await post(h, 'auditor', '/audit/digests').then(expectCreated);
    // The tree's leaves are the ledger's events in ledger order, foreign and system events left out: its
    // root is the root of those events' leaves, and each event's leaf index is its place among them.
    const events = (await ledgerEvents()).slice(0, digest.body.treeSize);
    expect(events).toHaveLength(digest.body.treeSize);
    expect(rootOf(events.map((event) => leafHash(event.metadata.hash))).toString('hex')).toBe(
      digest.body.rootHash,
    );
    for (const [index, event] of events.entries()) {
      const proof = await get(
        h,
        'auditor',
        `/audit/events/${event.metadata.eventId}/proof?treeSize=${digest.body.treeSize}`,
      );
      expect(proof.status).toBe(200);
      expect(proof.body.leafIndex).toBe(index);
    }
  });

  it('reports each engine and its connection state in /health, and the lag in events', async () => {
    const health = await request(h.server).get('/health');
    expect(health.status).toBe(200);
    expect(health.body.storage).toEqual({ events: 'eventstoredb', readModels: 'sqlite' });
    expect(health.body.engines).toEqual([
      { engine: 'eventstoredb', holds: ['events'], state: 'connected' },
      {
        engine: 'sqlite',
        holds: ['read models', 'idempotency records', 'API keys', 'digests'],
        state: 'connected',
      },
    ]);
    // The head is the last ledger event, never a foreign one written after it.
    server.writeForeign('orders-1', 'OrderShipped', { orderId: 'o-1' });
    const events = await ledgerEvents();
    const head = await get(h, 'admin', `/admin/projections`);
    expect(head.status).toBe(200);
    expect(head.body.headPosition).toBe(events.at(-1)?.position.toString());
    for (const projection of head.body.projections as { position: string; lagEvents: string }[]) {
      const behind = events.filter((event) => event.position > BigInt(projection.position)).length;
      expect(projection.lagEvents).toBe(String(behind));
    }
  });

  it('counts a lag in ledger events, never in log positions nor in other applications’ events', async () => {
    server.writeForeign('orders-2', 'OrderPlaced', { orderId: 'o-2' });
    const events = await ledgerEvents();
    const behind = events[events.length - 4];
    // A projection as the port reports it (ProjectionsControl), three ledger events behind the head.
    const status = {
      name: 'behind',
      version: 1,
      state: 'catching-up' as const,
      position: behind.position.toString(),
      lastRecordedAt: behind.metadata.recordedAt,
      failure: null,
    };
    const overview = await projectionOverview(
      {
        statuses: () => [status, { ...status, name: 'fresh', position: '-1', lastRecordedAt: null }],
        rebuilds: () => [],
        waitFor: async () => false,
        retry: async () => undefined,
        rebuild: () => Promise.reject(new Error('not asked')),
      },
      h.eventStore,
    );
    expect(overview.headPosition).toBe(events[events.length - 1].position.toString());
    expect(overview.projections.map(({ name, lagEvents }) => [name, lagEvents])).toEqual([
      ['behind', '3'],
      ['fresh', String(events.length)],
    ]);
  });

  it('verifies the ledger by recomputing the hash of the stored bytes, and finds an event changed on the server', async () => {
    const intact = await get(h, 'auditor', '/audit/verify');
    expect(intact.status).toBe(200);
    expect(intact.body).toMatchObject({ ok: true, firstBroken: null, headsChecked: false });
    expect(intact.body.checked).toBe((await ledgerEvents()).length);

    // Someone with write access to the server's storage rewrites the charge's amount in its stored bytes.
    const record = server.log.find((entry) => entry.stream === `charge-${ids.charge}`)!;
    const original = record.data;
    record.data = new Uint8Array(
      Buffer.from(Buffer.from(original).toString('utf8').replace('10000', '10001')),
    );
    try {
      const tampered = await get(h, 'auditor', '/audit/verify');
      expect(tampered.body).toMatchObject({
        ok: false,
        firstBroken: { stream: `charge-${ids.charge}`, revision: 0, reason: 'hash-mismatch' },
      });
    } finally {
      record.data = original;
    }
  });

  it('reports an event whose stored bytes no longer read as a ledger event, and checks the events after it', async () => {
    const all = await ledgerEvents();
    const record = server.log.find((entry) => entry.stream === `charge-${ids.charge}`)!;
    const original = record.data;
    // Bytes that are not JSON at all: no event can be read from them, only checked against the stored hash.
    record.data = new Uint8Array(Buffer.concat([Buffer.from('garbage'), Buffer.from(original)]));
    try {
      const tampered = await get(h, 'auditor', '/audit/verify');
      expect(tampered.status).toBe(200);
      expect(tampered.body).toMatchObject({
        ok: false,
        checked: all.length,
        firstBroken: { stream: `charge-${ids.charge}`, revision: 0 },
      });
      expect(tampered.body.breakCount).toBe(1);
      expect(tampered.body.firstBroken.reason).toBe('hash-mismatch');
      expect(tampered.body.firstBroken.detail).toMatch(
        /^the stored bytes are not a ledger event \(not JSON\)/,
      );
    } finally {
      record.data = original;
    }
  });

  it('appends the access log to the server and reads it back through the port', async () => {
    const since = new Date(Date.now() - 1000).toISOString();
    await get(h, 'auditor', `/audit/streams/charge-${ids.charge}/events`).expect(200);
    // Entries are appended in batches, at most a second after the first (DEFAULT_ACCESS_LOG_FLUSH_MS).
    let items: { route: string; logStream: string }[] = [];
    for (let attempt = 0; attempt < 50 && items.length === 0; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      const page = await get(h, 'auditor', `/audit/access-log?from=${since}&stream=charge-${ids.charge}`);
      expect(page.status).toBe(200);
      items = page.body.items;
    }
    expect(items.map((item) => item.route)).toContain('/audit/streams/:stream/events');
    expect(server.log.some((record) => record.stream === items[0].logStream)).toBe(true);
  });

  it('runs the CLI’s event commands on the server too (events, replay, digest, export, verify, rebuild)', async () => {
    const env = { EVENTSTORE_CONNECTION_STRING: server.connectionString, LEDGER_DATA_DIR: h.dataDir };
    const events = await runLedgerCli(['events', `issue-${ids.issue}`, '--json'], { env });
    expect(events.stderr).toContain(`3 event(s) of issue-${ids.issue}`);
    expect(events.code).toBe(0);
    expect(JSON.parse(events.stdout).map((event: { type: string }) => event.type)).toEqual([
      'IssueOpened',
      'IssueAssigned',
      'IssueResolved',
    ]);

    const replay = await runLedgerCli(['replay', `issue-${ids.issue}`, '--revision', '1', '--json'], { env });
    expect(replay.code).toBe(0);
    expect(JSON.parse(replay.stdout)).toMatchObject({ revision: 1, eventsApplied: 2 });

    const digest = await runLedgerCli(['digest', '--json'], { env });
    expect(digest.code).toBe(0);
    const published = JSON.parse(digest.stdout);
    const leaves = (await ledgerEvents())
      .slice(0, published.treeSize)
      .map((event) => leafHash(event.metadata.hash));
    expect(leaves).toHaveLength(published.treeSize);
    expect(rootOf(leaves).toString('hex')).toBe(published.rootHash);

    const out = join(h.dataDir, 'bundle.jsonl');
    const exported = await runLedgerCli(['export', '--issue', ids.issue, '--out', out], { env });
    expect(exported.code).toBe(0);
    const lines = readFileSync(out, 'utf8').trim().split('\n');
    // A header, then the issue's three events and its linked charge's one, each with its proof.
    expect(lines).toHaveLength(5);

    const rebuild = await runLedgerCli(['rebuild', 'issue-summary', '--compare', '--json'], { env });
    expect(rebuild.stderr).not.toMatch(/error/i);
    expect(rebuild.code).toBe(0);
    expect(JSON.parse(rebuild.stdout)).toMatchObject({
      projection: 'issue-summary',
      comparison: { differenceCount: 0 },
    });
    expect(JSON.parse(rebuild.stdout).applied).toBeGreaterThanOrEqual(3);

    const verified = await runLedgerCli(['verify', '--json'], { env });
    expect(verified.code).toBe(0);
    expect(JSON.parse(verified.stdout)).toMatchObject({
      scope: 'ledger',
      ok: true,
      checked: (await ledgerEvents()).length,
    });
    const record = server.log.find((entry) => entry.stream === `issue-${ids.issue}`)!;
    const original = record.data;
    // The opened issue's stored bytes say another category than the one its hash was computed over.
    record.data = new Uint8Array(
      Buffer.from(Buffer.from(original).toString('utf8').replace('"category":"', '"category":"x')),
    );
    try {
      const broken = await runLedgerCli(['verify', '--stream', `issue-${ids.issue}`], { env });
      expect(broken.code).toBe(1);
      expect(broken.stdout).toMatch(new RegExp(`BROKEN: .*\\n.*issue-${ids.issue} revision 0`));
    } finally {
      record.data = original;
    }

    // The embedded-only commands say so rather than read the data directory's (event-less) file.
    const parallel = await runLedgerCli(['rebuild', 'all', '--threads', '2'], { env });
    expect(parallel.code).toBe(2);
    expect(parallel.stderr).toContain('runs in one thread');
  });

  it('runs the standalone projector (apps/ledger-projector) on the server’s events into a data directory of its own', async () => {
    const dataDir = tempDataDir();
    const head = await h.eventStore.headPosition();
    let reached!: () => void;
    const caughtUp = new Promise<void>((resolve) => (reached = resolve));
    const positions = new Map<string, bigint>();
    const projector = await startStandaloneProjector(
      loadConfig({ EVENTSTORE_CONNECTION_STRING: server.connectionString, LEDGER_DATA_DIR: dataDir }),
      {
        onStatus: (status) => {
          positions.set(status.name, BigInt(status.position));
          const all = positions.size === ALL_PROJECTIONS.length;
          if (all && [...positions.values()].every((position) => position >= head)) reached();
        },
      },
    );
    try {
      await caughtUp;
      expect(positions.size).toBe(projector.projections);
    } finally {
      await projector.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
