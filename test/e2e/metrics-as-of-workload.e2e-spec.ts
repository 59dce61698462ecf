import { METRIC_NAMES } from '@app/ledger';
import { startLedger, type LedgerHarness } from '../support/ledger-harness';
import { get, post } from '../support/http';
import { prng, randomWorkload, type WorkloadCommand } from '../support/workload';

// DESIGN.md "As of", over the real API: a seeded workload sent with business times that move forward,
// every /metrics route with every grouping asked as of an instant t1 inside it, then the rest of the
// workload (facts after t1) sent, and every answer asked again: nothing may change.
// test/read-models/metrics-as-of.property.spec.ts checks the same rule for many random
// histories below HTTP.

const SEED = Number(process.env.WORKLOAD_SEED ?? 20261207);
const COMMANDS = 800;
const START = Date.parse('2026-05-01T00:00:00.000Z');
const GROUPINGS = ['', 'category', 'channel', 'priority', 'agent', 'day', 'week', 'month', 'category,agent'];
const CHURN_GROUPINGS = [...GROUPINGS, 'resolutionBucket', 'sla', 'sla,priority'];

describe(`metrics as of an instant over HTTP (seeded workload ${SEED})`, () => {
  let h: LedgerHarness;
  let lastPosition = '0';
  const random = prng(SEED);
  let now = START;
  /** The workload with business times: 0 to 6 hours apart, a tenth of them at the same instant. */
  const commands: (WorkloadCommand & { occurredAt: string })[] = [
    ...randomWorkload(SEED, COMMANDS, 'ao-'),
  ].map((command) => {
    if (random() > 0.1) now += Math.floor(random() * 6 * 60) * 60_000;
    return { ...command, occurredAt: new Date(now).toISOString() };
  });
  // t1 at the business time of a command two thirds in: the facts at exactly t1 have happened.
  const t1 = commands[Math.floor((COMMANDS * 2) / 3)].occurredAt;

  const send = async (batch: typeof commands) => {
    for (const { role, path, body, occurredAt } of batch) {
      const res = await post(h, role, path, { ...body, occurredAt });
      if (res.status >= 500 || res.status === 400) {
        throw new Error(`${path}: ${res.status} ${JSON.stringify(res.body)}`);
      }
      if (res.status === 201) lastPosition = res.body.position as string;
    }
  };

  const everyAnswer = async () => {
    const answers: Record<string, unknown> = {};
    for (const metric of METRIC_NAMES) {
      for (const groupBy of metric === 'churn' ? CHURN_GROUPINGS : GROUPINGS) {
        for (const filter of ['', '&category=declined', '&priority=normal&from=2026-05-03T00:00:00Z']) {
          const query = `asOf=${t1}${groupBy ? `&groupBy=${groupBy}` : ''}${filter}`;
          const res = await get(h, 'analyst', `/metrics/${metric}?${query}&minPosition=${lastPosition}`);
          if (res.status !== 200)
            throw new Error(`${metric}?${query}: ${res.status} ${JSON.stringify(res.body)}`);
          answers[`${metric}?${query}`] = res.body;
        }
      }
    }
    return answers;
  };

  beforeAll(async () => {
    h = await startLedger();
  });
  afterAll(() => h.close(true));

  it('answers every route and grouping as of t1 the same before and after the facts after t1 are recorded', async () => {
    const byT1 = commands.filter((command) => command.occurredAt <= t1);
    await send(byT1);
    const before = await everyAnswer();
    // The answers are not trivially empty.
    expect(before[`overview?asOf=${t1}`]).toMatchObject({ groups: [{ issues: expect.any(Number) }] });
    expect(
      (before[`overview?asOf=${t1}`] as { groups: { issues: number }[] }).groups[0].issues,
    ).toBeGreaterThan(50);
    await send(commands.slice(byT1.length));
    expect(await everyAnswer()).toEqual(before);
  }, 120_000);
});
