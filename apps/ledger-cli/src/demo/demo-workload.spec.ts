import { demoCustomers, type DemoCommand } from './demo-workload';

const UNTIL = Date.UTC(2026, 10, 30);
const HOUR = 3_600_000;

function commandsOf(seed: number, issues: number, until = UNTIL): DemoCommand[] {
  return [...demoCustomers({ seed, until }, issues)].flatMap((customer) => customer.commands);
}

const at = (command: DemoCommand) => Date.parse(command.body.occurredAt as string);

interface IssueFacts {
  openedAt: number;
  category: string;
  customerId: string;
  firstResolvedAt?: number;
  csat?: number;
}

function issueFacts(commands: DemoCommand[]): Map<string, IssueFacts> {
  const issues = new Map<string, IssueFacts>();
  for (const command of commands) {
    if (command.url === '/issues') {
      issues.set(command.body.issueId as string, {
        openedAt: at(command),
        category: command.body.category as string,
        customerId: command.body.customerId as string,
      });
      continue;
    }
    const match = /^\/issues\/([^/]+)\/(resolve|feedback)$/.exec(command.url);
    if (!match) continue;
    const issue = issues.get(match[1])!;
    if (match[2] === 'resolve') issue.firstResolvedAt ??= at(command);
    else issue.csat = command.body.csat as number;
  }
  return issues;
}

describe('demo workload', () => {
  const commands = commandsOf(42, 3000);
  const issues = issueFacts(commands);

  it('makes exactly the issues asked for, each with its charge, all in the past of --until', () => {
    expect(commands.filter((c) => c.url === '/issues')).toHaveLength(3000);
    expect(commands.filter((c) => c.url === '/charges')).toHaveLength(3000);
    expect(Math.max(...commands.map(at))).toBeLessThanOrEqual(UNTIL);
    expect(new Set(commands.map((c) => c.idempotencyKey)).size).toBe(commands.length);
  });

  it('is the same for the same seed and differs for another seed', () => {
    expect(commandsOf(42, 200)).toEqual(commandsOf(42, 200));
    const other = commandsOf(43, 200);
    expect(other[0].body).not.toEqual(commandsOf(42, 200)[0].body);
    expect(other.every((c) => JSON.stringify(c).includes('demo43-'))).toBe(true);
  });

  it('a larger run repeats every command of a smaller one byte for byte (keys and bodies)', () => {
    const small = commandsOf(42, 101);
    const large = new Map(commandsOf(42, 250).map((c) => [c.idempotencyKey, JSON.stringify(c)]));
    for (const command of small) expect(large.get(command.idempotencyKey)).toBe(JSON.stringify(command));
  });

  it('mixes categories and channels in plausible proportions', () => {
    const share = (field: string, value: string) =>
      commands.filter((c) => c.url === '/issues' && c.body[field] === value).length / 3000;
    expect(share('category', 'payment_failed')).toBeGreaterThan(0.15);
    expect(share('category', 'unauthorized_charge')).toBeLessThan(0.15);
    expect(share('channel', 'email')).toBeGreaterThan(share('channel', 'social'));
    const categories = new Set(commands.filter((c) => c.url === '/issues').map((c) => c.body.category));
    expect(categories.size).toBe(7);
  });

  it('leaves some issues open and gives resolution times a long tail', () => {
    const hours = [...issues.values()]
      .filter((issue) => issue.firstResolvedAt !== undefined)
      .map((issue) => (issue.firstResolvedAt! - issue.openedAt) / HOUR)
      .sort((a, b) => a - b);
    const open = issues.size - hours.length;
    expect(open / issues.size).toBeGreaterThan(0.02);
    expect(open / issues.size).toBeLessThan(0.2);
    const median = hours[Math.floor(hours.length / 2)];
    const p90 = hours[Math.floor(hours.length * 0.9)];
    expect(p90 / median).toBeGreaterThan(4);
  });

  it('lets agents differ in speed', () => {
    const agentOf = new Map<string, string>();
    for (const command of commands) {
      const match = /^\/issues\/([^/]+)\/assign$/.exec(command.url);
      if (match) agentOf.set(match[1], command.body.agentId as string);
    }
    const logTimes = new Map<string, number[]>();
    for (const [issueId, issue] of issues) {
      const agentId = agentOf.get(issueId);
      if (issue.firstResolvedAt === undefined || agentId === undefined) continue;
      logTimes.set(agentId, [
        ...(logTimes.get(agentId) ?? []),
        Math.log(issue.firstResolvedAt - issue.openedAt),
      ]);
    }
    expect(logTimes.size).toBeGreaterThan(5);
    const means = [...logTimes.values()].map((list) => list.reduce((a, b) => a + b, 0) / list.length);
    // The slowest agent's geometric-mean resolution time is more than twice the fastest one's.
    expect(Math.exp(Math.max(...means) - Math.min(...means))).toBeGreaterThan(2);
  });

  it('correlates CSAT with speed', () => {
    const rated = [...issues.values()].filter((i) => i.csat !== undefined && i.firstResolvedAt !== undefined);
    const mean = (list: IssueFacts[]) => list.reduce((sum, i) => sum + i.csat!, 0) / list.length;
    const fast = rated.filter((i) => i.firstResolvedAt! - i.openedAt < 6 * HOUR);
    const slow = rated.filter((i) => i.firstResolvedAt! - i.openedAt > 72 * HOUR);
    expect(mean(fast) - mean(slow)).toBeGreaterThan(1);
  });

  it('makes churn more likely after a slow first resolution, with some reactivations', () => {
    const churned = new Set(commands.filter((c) => c.url.endsWith('/churn')).map((c) => c.url.split('/')[2]));
    const firstIssue = new Map<string, IssueFacts>();
    for (const issue of issues.values())
      if (!firstIssue.has(issue.customerId)) firstIssue.set(issue.customerId, issue);
    const rate = (list: IssueFacts[]) => list.filter((i) => churned.has(i.customerId)).length / list.length;
    const firsts = [...firstIssue.values()];
    const fast = firsts.filter(
      (i) => i.firstResolvedAt !== undefined && i.firstResolvedAt - i.openedAt < 24 * HOUR,
    );
    const slow = firsts.filter(
      (i) => i.firstResolvedAt === undefined || i.firstResolvedAt - i.openedAt > 72 * HOUR,
    );
    expect(rate(slow)).toBeGreaterThan(2 * rate(fast));
    expect(commands.filter((c) => c.url.endsWith('/reactivate')).length).toBeGreaterThan(0);
    const kinds = new Set(commands.filter((c) => c.url.endsWith('/churn')).map((c) => c.body.kind));
    expect(kinds).toEqual(new Set(['voluntary', 'involuntary']));
  });

  it('meets and misses refund and dispute-evidence deadlines', () => {
    const succeeded = new Map(
      commands.filter((c) => c.url.endsWith('/succeed')).map((c) => [c.url.split('/')[4], at(c)]),
    );
    const refunds = commands.filter((c) => /\/refunds$/.test(c.url));
    const settled = refunds.filter((r) => succeeded.has(r.body.refundId as string));
    const late = settled.filter(
      (r) => succeeded.get(r.body.refundId as string)! > Date.parse(r.body.dueBy as string),
    );
    expect(late.length).toBeGreaterThan(0);
    expect(late.length).toBeLessThan(settled.length / 2);

    const evidence = new Map(
      commands.filter((c) => c.url.endsWith('/evidence')).map((c) => [c.url.split('/')[4], at(c)]),
    );
    const disputes = commands.filter(
      (c) => /\/disputes$/.test(c.url) && evidence.has(c.body.disputeId as string),
    );
    const lateEvidence = disputes.filter(
      (d) => evidence.get(d.body.disputeId as string)! > Date.parse(d.body.evidenceDueBy as string),
    );
    expect(lateEvidence.length).toBeGreaterThan(0);
    expect(lateEvidence.length).toBeLessThan(disputes.length);
    const outcomes = new Set(
      commands.filter((c) => /disputes\/[^/]+\/close$/.test(c.url)).map((c) => c.body.outcome),
    );
    expect(outcomes).toEqual(new Set(['won', 'lost', 'accepted']));
  });
});
