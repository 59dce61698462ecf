import { ALL_PROJECTIONS } from '@app/ledger';
import { startLedger, type LedgerHarness } from '../support/ledger-harness';
import { get, post } from '../support/http';
import { randomWorkload } from '../support/workload';

const COMMANDS = 10_000;
const CONCURRENCY = 16;
const SEED = Number(process.env.WORKLOAD_SEED ?? 20261123);

describe(`rebuild equality after a randomised workload of ${COMMANDS} commands (seed ${SEED})`, () => {
  let h: LedgerHarness;
  const statuses = new Map<number, number>();
  let lastPosition = 0n;

  beforeAll(async () => {
    h = await startLedger();
    const commands = [...randomWorkload(SEED, COMMANDS, `w${SEED.toString(36)}-`)];
    // Streams are touched concurrently, as by real clients; the ledger serialises per stream.
    for (let i = 0; i < commands.length; i += CONCURRENCY) {
      const responses = await Promise.all(
        commands
          .slice(i, i + CONCURRENCY)
          .map((command) => post(h, command.role, command.path, command.body)),
      );
      for (const res of responses) {
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        if (res.status === 201 && BigInt(res.body.position) > lastPosition)
          lastPosition = BigInt(res.body.position);
      }
    }
  }, 300_000);
  afterAll(() => h.close(true));

  it('answers every command with a success or a domain answer, never a 5xx or a validation error', () => {
    const unexpected = [...statuses].filter(([status]) => ![200, 201, 404, 409].includes(status));
    expect(unexpected).toEqual([]);
    expect(statuses.get(201)).toBeGreaterThan(COMMANDS / 2);
  });

  it('keeps every live read model equal to one rebuilt from the first event', async () => {
    await get(h, 'analyst', `/issues?minPosition=${lastPosition}&limit=1`).expect(200);
    for (const { name } of ALL_PROJECTIONS) {
      const report = await h.ledger.projections.rebuild(name, { compare: true });
      expect({ name, differences: report.comparison?.differences }).toEqual({ name, differences: [] });
      expect(report.comparison?.differenceCount).toBe(0);
      expect(report.comparison?.documents).toBeGreaterThan(100);
      expect(report.promoted).toBe(false);
    }
  }, 300_000);
});
