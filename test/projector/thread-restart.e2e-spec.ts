import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Worker } from 'node:worker_threads';
import { SqliteEventStore } from '@app/event-store';
import { ALL_PROJECTIONS } from '@app/ledger';
import { WorkerProjections } from '../../apps/ledger-api/src/projector/worker-projections';
import { appendLedgerHistory } from '../../bench/support/ledger-history';

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
      message: expect.stringMatching(
        /^the projector thread stopped \(.*TypeError.*\); restarting it in 50 ms$/,
      ),
      at: expect.any(String),
    });
    expect(logs.join('\n')).toMatch(/projector: the projector thread stopped .*TypeError/);

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
    await expect(rebuild).rejects.toThrow(/the projector thread stopped \(exit code 1\).*did not finish/);
    await until(() => states().has('failed'), 'the failure to be reported');
    expect(projections.statuses()[0].failure?.message).toMatch(/stopped \(exit code 1\)/);
    await until(() => threads.length === 2, 'a second thread');
    await until(() => !states().has('failed'), 'the new thread to report');
    expect(await projections.waitFor(await writer.headPosition(), NAMES, 20_000)).toBe(true);
  });

  it('does not restart a thread that stop() ended', async () => {
    await projections.stop();
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(threads).toHaveLength(1);
    expect(logs).toEqual([]);
  });
});
