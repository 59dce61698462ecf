import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { ALL_PROJECTIONS, type ReadModelStore } from '@app/ledger';
import type { OpenedLedger } from '@app/runtime';
import { expectCreated, get, given, post, uniqueIds } from '../support/http';
import { startConfiguredLedger, type LedgerHarness } from '../support/ledger-harness';

const repoRoot = join(__dirname, '..', '..');
const NAMES = ALL_PROJECTIONS.map((projection) => projection.name);

/** apps/ledger-projector on the data directory, as an operator starts it beside the API. */
function spawnProjector(dataDir: string): {
  child: ChildProcess;
  exited: Promise<number | null>;
  output: () => string;
} {
  const child = spawn(process.execPath, ['scripts/projector.mjs'], {
    cwd: repoRoot,
    env: { ...process.env, LEDGER_DATA_DIR: dataDir, NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, exited, output: () => output };
}

const checkpoints = (store: ReadModelStore) => Promise.all(NAMES.map((name) => store.checkpoint(name)));

describe('LEDGER_PROJECTIONS=external: the API reads the checkpoints a projector process commits', () => {
  let h: LedgerHarness<OpenedLedger>;
  beforeAll(async () => {
    h = await startConfiguredLedger({ LEDGER_PROJECTIONS: 'external' });
  });
  afterAll(() => h.close(true));

  it('never projects itself: a minPosition wait ends with the usual 503 while no projector runs', async () => {
    const ids = uniqueIds();
    const opened = await given.issue(h, ids);
    const position = opened.body.position as string;

    const res = await get(h, 'agent', `/issues/${ids.issue}?minPosition=${position}`);
    expect(res.status).toBe(503);
    expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(res.body).toMatchObject({ type: '/errors/service-unavailable', minPosition: position });
    expect(res.body.detail).toMatch(`have not reached position ${position}`);
    expect(res.body.detail).toMatch('the projections run in another process');
    // After the whole wait, nothing was applied: no projector thread runs in this process.
    expect(await checkpoints(h.ledger.adapters.readModels)).toEqual(NAMES.map(() => -1n));

    const health = await get(h, 'agent', '/health');
    expect(health.body.projectionsRun).toBe('elsewhere');
    expect(
      health.body.projections.map((p: { name: string; position: string }) => [p.name, p.position]),
    ).toEqual(NAMES.map((name) => [name, '-1']));
  }, 30_000);

  it('answers minPosition queries and metrics from what a standalone projector commits; refuses rebuilds', async () => {
    const first = uniqueIds();
    await given.issue(h, first);
    const projector = spawnProjector(h.dataDir);
    try {
      const position = (
        await post(h, 'agent', `/issues/${first.issue}/resolve`, { resolution: 'refunded' }).then(
          expectCreated,
        )
      ).body.position as string;

      const issue = await get(h, 'agent', `/issues/${first.issue}?minPosition=${position}`);
      if (issue.status !== 200)
        throw new Error(`${issue.status} ${JSON.stringify(issue.body)}\n${projector.output()}`);
      expect(issue.body).toMatchObject({ issueId: first.issue, status: 'resolved' });

      const metrics = await get(h, 'analyst', `/metrics/resolution-time?minPosition=${position}`);
      expect(metrics.status).toBe(200);
      const issuesBefore = metrics.body.groups[0].issues as number;
      expect(metrics.body.groups[0].resolved).toBeGreaterThanOrEqual(1);

      // A later commit of the projector reaches the snapshot the API keeps in memory.
      const second = uniqueIds();
      const later = (await given.issue(h, second)).body.position as string;
      const after = await get(h, 'analyst', `/metrics/resolution-time?minPosition=${later}`);
      expect(after.status).toBe(200);
      expect(after.body.groups[0].issues).toBe(issuesBefore + 1);

      const overview = await get(h, 'admin', '/admin/projections');
      expect(overview.status).toBe(200);
      expect(overview.body.projectionsRun).toBe('elsewhere');
      for (const projection of overview.body.projections as { position: string }[]) {
        expect(BigInt(projection.position)).toBeGreaterThanOrEqual(BigInt(later));
      }

      for (const action of ['rebuild', 'retry']) {
        const refused = await post(h, 'admin', `/admin/projections/issue-summary/${action}`);
        expect(refused.status).toBe(409);
        expect(refused.headers['content-type']).toMatch(/application\/problem\+json/);
        expect(refused.body.type).toBe('/errors/projections-elsewhere');
        expect(refused.body.detail).toMatch('ledger rebuild');
      }
    } finally {
      projector.child.kill('SIGTERM');
      expect(await projector.exited).toBe(0);
    }
  }, 120_000);
});
