import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Worker } from 'node:worker_threads';
import { SqliteEventStore } from '@app/event-store';
import { ALL_PROJECTIONS } from '@app/ledger';
import { SupervisedThread, WorkerProjections, WorkerTreeBuilder } from '@app/runtime';
import request from 'supertest';
import { appendLedgerHistory } from '../../bench/support/ledger-history';
import { given, post, uniqueIds } from '../support/http';
import { startLedger, type LedgerHarness } from '../support/ledger-harness';

const NAMES = ALL_PROJECTIONS.map((projection) => projection.name);

/** Polls `condition` every 20 ms for up to 20 s. */
async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('the embedded projector thread, when it stops unexpectedly', () => {
  let dir: string;
  let writer: SqliteEventStore;
  let projections: WorkerProjections;
  const threads: Worker[] = [];
  const logs: string[] = [];

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'projector-restart-'));
    const file = join(dir, 'ledger.db');
    writer = SqliteEventStore.open(file);
    await appendLedgerHistory(writer, 5, 300);
    threads.length = 0;
    logs.length = 0;
    projections = await WorkerProjections.start(
      { file },
      { onThread: (worker) => threads.push(worker), log: (line) => logs.push(line), restartDelayMs: 50 },
    );
    expect(await projections.waitFor(await writer.headPosition(), NAMES, 20_000)).toBe(true);
  });

  afterEach(async () => {
    await projections.stop();
    await writer.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const states = () => new Set(projections.statuses().map((status) => status.state));

  it('reports every projection failed, restarts the thread, and catches up from the checkpoints', async () => {
    // An uncaught error in the thread (a message its handler cannot read), as a bug would throw one. Before
    // the thread was supervised, this error was thrown again in the main thread and ended the process.
    threads[0].postMessage(null);
    await until(() => states().has('failed'), 'the failure to be reported');
    const failed = projections.statuses();
    expect(failed.map((status) => status.state)).toEqual(NAMES.map(() => 'failed'));
    expect(failed[0].failure).toEqual({
      position: failed[0].position,
      eventType: '',
      stream: '',
      message:
        "the projector thread stopped unexpectedly; restarting it in 50 ms (the error is in the ledger's log)",
      at: expect.any(String),
    });
    // The error, which may quote anything the thread held, is in the log only.
    expect(logs.join('\n')).toMatch(/^projector: the projector thread stopped unexpectedly; .*: TypeError/);
    expect(JSON.stringify(projections.statuses())).not.toContain('TypeError');

    // Commands go on being recorded meanwhile; the new thread projects them.
    await appendLedgerHistory(writer, 6, 200);
    const head = await writer.headPosition();
    await until(() => threads.length === 2, 'a second thread');
    expect(await projections.waitFor(head, NAMES, 20_000)).toBe(true);
    expect(projections.statuses().every((status) => status.failure === null)).toBe(true);
    expect(states().has('failed')).toBe(false);
  });

  it('restarts a thread that ended without an error, and a rebuild it was running fails saying so', async () => {
    const rebuild = projections.rebuild(NAMES[0], {});
    await threads[0].terminate();
    await expect(rebuild).rejects.toThrow(/the projector thread stopped unexpectedly.*did not finish/);
    await until(() => states().has('failed'), 'the failure to be reported');
    expect(logs.join('\n')).toMatch(/restarting it in 50 ms: exit code 1$/);
    await until(() => threads.length === 2, 'a second thread');
    await until(() => !states().has('failed'), 'the new thread to report');
    expect(await projections.waitFor(await writer.headPosition(), NAMES, 20_000)).toBe(true);
  });

  it('waits twice as long after a thread that crashed within a minute', async () => {
    threads[0].postMessage(null);
    await until(() => threads.length === 2, 'a second thread');
    threads[1].postMessage(null);
    await until(() => logs.length === 2, 'the second crash');
    expect(logs[1]).toMatch(/restarting it in 100 ms/);
    await until(() => threads.length === 3, 'a third thread');
    expect(await projections.waitFor(await writer.headPosition(), NAMES, 20_000)).toBe(true);
  });

  it('stops a thread that was just restarted, promptly', async () => {
    threads[0].postMessage(null);
    await until(() => threads.length === 2, 'a second thread');
    const started = Date.now();
    await projections.stop();
    // A thread that does not answer is terminated after 10 s.
    expect(Date.now() - started).toBeLessThan(9000);
    expect(logs).toHaveLength(1);
  });

  it('does not restart a thread that stop() ended', async () => {
    await projections.stop();
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(threads).toHaveLength(1);
    expect(logs).toEqual([]);
  });
});

describe('the embedded Merkle tree thread, when it stops unexpectedly', () => {
  it('is restarted and goes on from the last leaf, without ending the process', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tree-restart-'));
    const file = join(dir, 'ledger.db');
    const writer = SqliteEventStore.open(file);
    const threads: Worker[] = [];
    const logs: string[] = [];
    const builder = await WorkerTreeBuilder.start(
      { file, followIntervalMs: 60_000, batchSize: 100 },
      () => undefined,
      { onThread: (worker) => threads.push(worker), log: (line) => logs.push(line), restartDelayMs: 50 },
    );
    try {
      await appendLedgerHistory(writer, 5, 300);
      expect(await builder.catchUp()).toBe(Number(await writer.headPosition()));

      // An uncaught error in the thread: before, it was thrown again here and ended the process.
      threads[0].postMessage(null);
      await until(() => threads.length === 2, 'a second thread');
      expect(logs.join('\n')).toMatch(
        /^Merkle tree: the Merkle tree thread stopped unexpectedly; restarting it in 50 ms: TypeError/,
      );

      await appendLedgerHistory(writer, 6, 100);
      expect(await builder.catchUp()).toBe(Number(await writer.headPosition()));
    } finally {
      await builder.stop();
      await writer.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the API while a thread of it restarts', () => {
  const threads = new Map<string, Worker>();
  const logs: string[] = [];
  let h: LedgerHarness;

  beforeAll(async () => {
    // A long restart delay holds the window open.
    h = await startLedger(undefined, undefined, {
      digestIntervalSeconds: 0,
      supervision: {
        onThread: (worker, name) => threads.set(name, worker),
        log: (line) => logs.push(line),
        restartDelayMs: 30_000,
      },
    });
  });
  afterAll(() => h.close(true));

  it('answers 503 with Retry-After for a digest while the Merkle tree thread is down', async () => {
    threads.get('Merkle tree')!.postMessage(null);
    await until(() => logs.some((line) => line.startsWith('Merkle tree: ')), 'the crash to be logged');
    const res = await post(h, 'auditor', '/audit/digests');
    expect(res.status).toBe(503);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.headers['retry-after']).toBeDefined();
    expect(res.body).toMatchObject({
      type: '/errors/service-unavailable',
      detail: 'The Merkle tree thread is restarting; retry shortly',
    });
  });

  it('records commands and reports itself degraded while the projector thread is down', async () => {
    threads.get('projector')!.postMessage(null);
    await until(() => logs.some((line) => line.startsWith('projector: ')), 'the crash to be logged');
    const created = await given.charge(h, uniqueIds());
    expect(created.status).toBe(201);
    const health = await request(h.server).get('/health');
    expect(health.status).toBe(200);
    expect(health.body.status).toBe('degraded');
    expect(health.body.projections[0]).toMatchObject({
      state: 'failed',
      failure: {
        eventType: '',
        stream: '',
        message: expect.stringMatching(/^the projector thread stopped unexpectedly/),
      },
    });
    // A retry has nothing to resume until the new thread is up.
    const retry = await post(h, 'admin', `/admin/projections/${health.body.projections[0].name}/retry`);
    expect(retry.status).toBe(503);
    expect(retry.body.detail).toBe('The projector thread is restarting; retry shortly');
  });
});

describe('a supervised thread that ends before it is ready', () => {
  const options = {
    name: 'test',
    module: join(__dirname, '../fixtures/threads/exits-at-start'),
    workerData: {},
    onMessage: () => undefined,
    onCrash: () => undefined,
  };

  it('fails start() and is not started again', async () => {
    const threads: Worker[] = [];
    const logs: string[] = [];
    await expect(
      SupervisedThread.start({
        ...options,
        onThread: (worker) => threads.push(worker),
        log: (line) => logs.push(line),
        restartDelayMs: 10,
      }),
    ).rejects.toThrow('the test thread stopped before it was ready (exit code 3)');
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(threads).toHaveLength(1);
    expect(logs).toEqual([]);
  });

  it('takes an exit that comes with its ready message for a crash, and stops at once after it', async () => {
    const threads: Worker[] = [];
    const logs: string[] = [];
    const starting = SupervisedThread.start({
      ...options,
      module: join(__dirname, '../fixtures/threads/exits-after-ready'),
      onThread: (worker) => threads.push(worker),
      log: (line) => logs.push(line),
      restartDelayMs: 10,
    });
    // This thread busy while the other says ready and ends: both then arrive in one turn of its loop.
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1500);
    const thread = await starting;
    await until(() => logs.length > 0 && threads.length > 1, 'the crash and a restart');
    expect(logs[0]).toMatch(
      /^test: the test thread stopped unexpectedly; restarting it in 10 ms: exit code 4$/,
    );
    const started = Date.now();
    await thread.stop(undefined, 10_000);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('ends a restarted thread that does not say it is ready in time, and starts another', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'thread-hangs-'));
    const threads: Worker[] = [];
    const logs: string[] = [];
    const thread = await SupervisedThread.start({
      ...options,
      module: join(__dirname, '../fixtures/threads/hangs-when-restarted'),
      workerData: { marker: join(dir, 'started') },
      onThread: (worker) => threads.push(worker),
      log: (line) => logs.push(line),
      restartDelayMs: 10,
      startTimeoutMs: 3000,
    });
    try {
      await until(() => logs.length >= 2 && threads.length >= 3, 'a hung restart ended and another started');
      expect(logs[0]).toMatch(/restarting it in 10 ms: exit code 5$/);
      expect(logs[1]).toMatch(/restarting it in 20 ms: it did not start within 3000 ms$/);
    } finally {
      await thread.stop(undefined, 100);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a restart delay of 0 or past the 30 s cap', async () => {
    for (const restartDelayMs of [0, 30_001]) {
      await expect(SupervisedThread.start({ ...options, restartDelayMs })).rejects.toThrow(RangeError);
    }
  });
});
