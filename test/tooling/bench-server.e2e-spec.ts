import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startBenchServer } from '../../bench/support/bench-server';

// bench:commands starts this server three times per run on a fresh SQLite file of ~200 MB each.
jest.setTimeout(60_000);

describe('the ledger bench server', () => {
  let tmp: string;
  beforeEach(() => {
    tmp = mkdtempSync(join(tmpdir(), 'bench-server-spec-'));
  });
  afterEach(() => rmSync(tmp, { recursive: true, force: true }));

  it('answers a command, then removes the data directory it made when stopped', async () => {
    const server = await startBenchServer('bench/servers/ledger.ts', { TMPDIR: tmp });
    const exited = new Promise<number | null>((resolve) => server.child.once('exit', resolve));
    const res = await fetch(`http://127.0.0.1:${server.port}/issues`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${server.key}` },
      body: JSON.stringify({
        issueId: 'is-1',
        customerId: 'cu-1',
        category: 'payment_failed',
        channel: 'chat',
      }),
    });
    expect(res.status).toBe(201);
    expect(readdirSync(tmp).filter((name) => name.startsWith('ledger-bench-'))).toHaveLength(1);
    server.child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(readdirSync(tmp)).toEqual([]);
  });
});
