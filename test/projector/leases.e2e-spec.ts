import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ALL_PROJECTIONS } from '@app/ledger';
import { runLeaseScenario } from '../../bench/support/lease-scenario';

// The small version of `npm run bench:leases`: three standalone projectors on one embedded ledger under a
// paced load, one killed with SIGKILL while commits flow. Short leases keep it quick; no timing is asserted.
describe('standalone projectors sharing one ledger through leases', () => {
  let dir: string;
  beforeAll(() => (dir = mkdtempSync(join(tmpdir(), 'leases-'))));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('commits every projection in contiguous, disjoint ranges across a SIGKILL and ends equal to a rebuild', async () => {
    const result = await runLeaseScenario({
      dir,
      processes: 3,
      initialEvents: 400,
      loadEvents: 2500,
      paceMs: 60,
      ttlMs: 1000,
      renewMs: 250,
    });
    expect(result.killedProjections.length).toBeGreaterThan(0);
    expect(result.survivorExitCodes).toEqual([0, 0]);
    for (const check of result.projections) {
      expect({ projection: check.projection, gap: check.gap }).toEqual({
        projection: check.projection,
        gap: null,
      });
      expect(check.lastTo).toBe(check.checkpoint);
      expect(check.checkpoint).toBeGreaterThanOrEqual(result.head);
      expect(check.differences).toBe(0);
      expect(check.documents).toBeGreaterThan(0);
    }
    expect(result.projections.map((check) => check.projection)).toEqual(
      ALL_PROJECTIONS.map((projection) => projection.name),
    );
    // The killed instance's projections were committed by it, then by their new holder.
    for (const name of result.killedProjections) {
      expect(result.projections.find((check) => check.projection === name)!.holders).toBeGreaterThan(1);
    }
  }, 90_000);
});
