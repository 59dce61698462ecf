import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tempDataDir } from '../support/ledger-harness';

const ROOT = join(__dirname, '../..');

interface Started {
  child: ChildProcess;
  url: string;
  stdout: () => string;
  exited: Promise<number | null>;
}

/** `npm start`'s entry point on a fresh port; resolves once the ledger says where it listens. */
function start(dataDir: string): Promise<Started> {
  const child = spawn(process.execPath, ['scripts/start.mjs'], {
    cwd: ROOT,
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', LEDGER_DATA_DIR: dataDir, NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no listening line within 30 s:\n${out}`)), 30_000);
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      const match = /Ledger listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (match) {
        clearTimeout(timer);
        resolve({ child, url: match[1], stdout: () => out, exited });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`exited with ${code} before listening:\n${out}`));
    });
  });
}

describe('npm start (embedded profile)', () => {
  const dataDir = tempDataDir();
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('creates the store, prints an admin key once, serves commands, and shuts down cleanly on SIGTERM', async () => {
    const first = await start(dataDir);
    const key = /\n {2}(pil_\S+)\n/.exec(first.stdout())?.[1];
    expect(key).toBeDefined();
    expect(existsSync(join(dataDir, 'ledger.db'))).toBe(true);

    const res = await fetch(`${first.url}/charges`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        chargeId: 'ch_start',
        customerId: 'cu_1',
        amount: 4990,
        currency: 'EUR',
        outcome: 'succeeded',
      }),
    });
    expect(res.status).toBe(201);
    expect(await res.json()).toEqual({ stream: 'charge-ch_start', revision: 0, position: '1' });

    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);
    expect(first.stdout()).toMatch(/Ledger stopped/);

    // Second start: same file, no new key printed, the first key and the event are still there.
    const second = await start(dataDir);
    try {
      expect(second.stdout()).not.toMatch(/pil_/);
      const events = await fetch(`${second.url}/audit/streams/charge-ch_start/events`, {
        headers: { authorization: `Bearer ${key}` },
      });
      expect(events.status).toBe(200);
      const body = (await events.json()) as { items?: unknown[] } | unknown[];
      const items = Array.isArray(body) ? body : (body.items ?? []);
      expect(items).toHaveLength(1);
    } finally {
      second.child.kill('SIGTERM');
      expect(await second.exited).toBe(0);
    }
  }, 60_000);
});
