import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
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
function start(dataDir: string, entry = 'scripts/start.mjs'): Promise<Started> {
  const child = spawn(process.execPath, [entry], {
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

/** Resolves once the started process has printed `pattern` (the admin key comes after the listening line). */
async function printed(started: Started, pattern: RegExp): Promise<RegExpExecArray> {
  for (let waited = 0; waited < 30_000; waited += 20) {
    const match = pattern.exec(started.stdout());
    if (match) return match;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`not printed within 30 s: ${pattern}\n${started.stdout()}`);
}

describe('npm start (embedded profile)', () => {
  const dataDir = tempDataDir();
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('creates the store, prints an admin key once, serves commands, and shuts down cleanly on SIGTERM', async () => {
    const first = await start(dataDir);
    const key = (await printed(first, /\n {2}(pil_\S+)\n\nCreate more with: .*keys create.*\n/))[1];
    expect(existsSync(join(dataDir, 'ledger.db'))).toBe(true);
    // The key comes last, after the one line that says where the ledger listens; the framework's
    // start-up lines (a line per module and per mapped route) are debug, not printed by default.
    const output = first.stdout();
    expect(output.indexOf(key)).toBeGreaterThan(output.indexOf('Ledger listening on'));
    expect(output).not.toMatch(/Mapped \{|RoutesResolver|InstanceLoader|successfully started/);
    expect(output.split('\n').filter((line) => line.includes('[Nest]'))).toHaveLength(1);

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

/** `script` (util-linux) runs a command on a pseudo-terminal: the way to start the ledger "at a terminal". */
const SCRIPT_AVAILABLE = spawnSync('script', ['--version'], { encoding: 'utf8' }).status === 0;

describe('npm start at a terminal', () => {
  const dataDir = tempDataDir();
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  // Without util-linux's `script` there is no terminal to start it on; the plain output is tested above.
  (SCRIPT_AVAILABLE ? it : it.skip)(
    'prints the first admin key last, in a box, with the command that makes another',
    async () => {
      const child = spawn('script', ['-qfec', `"${process.execPath}" scripts/start.mjs`, '/dev/null'], {
        cwd: ROOT,
        env: { ...process.env, PORT: '0', HOST: '127.0.0.1', LEDGER_DATA_DIR: dataDir, NO_COLOR: '1' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      child.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString()));
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      try {
        for (let waited = 0; !out.includes('┘') && waited < 30_000; waited += 20) {
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
        const lines = out.replace(/\r/g, '').trimEnd().split('\n');
        const top = lines.findIndex((line) => line.startsWith('┌'));
        expect(top).toBeGreaterThan(0);
        // Only the listening line above it; the box is the last thing printed.
        expect(lines.slice(0, top).filter((line) => line.trim() !== '')).toEqual([
          expect.stringMatching(/Ledger listening on http:\/\/127\.0\.0\.1:\d+/),
        ]);
        const box = lines.slice(top);
        expect(box[box.length - 1]).toMatch(/^└─+┘$/);
        expect(box.every((line) => line.length === box[0].length)).toBe(true);
        expect(box.join('\n')).toMatch(/│ {3}pil_[0-9a-z]{12}_[A-Za-z0-9_-]{43} +│/);
        expect(box.join('\n')).toContain('npm run ledger -- keys create --name <name> --role <role>');
      } finally {
        child.kill('SIGTERM');
        await exited;
      }
    },
    60_000,
  );
});

describe('npm start with a configuration it cannot run', () => {
  const dataDir = tempDataDir();
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it.each([
    [{ PORT: 'http' }, 'PORT must be a non-negative integer, got "http"'],
    [
      { MONGODB_URI: 'mongodb://localhost:27017/ledger?replicaSet=rs0' },
      'MONGODB_URI (MongoDB) is set, but this build does not support this engine yet',
    ],
  ])('exits 1 at once with %j, saying which variable and why', (env, message) => {
    const result = spawnSync(process.execPath, ['scripts/start.mjs'], {
      cwd: ROOT,
      env: { ...process.env, LEDGER_DATA_DIR: dataDir, PORT: '0', ...env },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(`ledger-api failed to start: ${message}`);
    // The message alone: a configuration error is not a crash.
    expect(result.stderr).not.toMatch(/\n\s+at /);
    expect(existsSync(join(dataDir, 'ledger.db'))).toBe(false);
  });
});

describe('the built ledger (npm run build, then npm run start:dist)', () => {
  const dataDir = tempDataDir();
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('runs from dist/ with its worker threads loading their compiled entries', async () => {
    // What `npm run build` does (swc, no type check): into dist/, which git ignores.
    for (const app of ['ledger-api', 'ledger-cli']) {
      execFileSync(process.execPath, [join(ROOT, 'node_modules/@nestjs/cli/bin/nest.js'), 'build', app], {
        cwd: ROOT,
        stdio: 'pipe',
      });
    }
    const built = await start(dataDir, 'dist/apps/ledger-api/apps/ledger-api/src/main.js');
    try {
      const key = (await printed(built, /\n {2}(pil_\S+)\n/))[1];
      const headers = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };
      const appended = await fetch(`${built.url}/charges`, {
        method: 'POST',
        headers,
        body: JSON.stringify({
          chargeId: 'ch_built',
          customerId: 'cu_1',
          amount: 1200,
          currency: 'EUR',
          outcome: 'succeeded',
        }),
      });
      expect(appended.status).toBe(201);
      // The projector thread's read model has it...
      const summary = await fetch(`${built.url}/charges/ch_built?minPosition=1`, { headers });
      expect(summary.status).toBe(200);
      expect(await summary.json()).toMatchObject({ chargeId: 'ch_built', amount: 1200 });
      // ...and the Merkle tree thread signs a digest that covers it.
      const digest = await fetch(`${built.url}/audit/digests`, { method: 'POST', headers });
      expect(digest.status).toBe(201);
      expect(await digest.json()).toMatchObject({ treeSize: 1 });
    } finally {
      built.child.kill('SIGTERM');
      expect(await built.exited).toBe(0);
    }
    // The built CLI's rebuild threads load their compiled entry too (it was once left out of the CLI's build).
    const rebuilt = JSON.parse(
      execFileSync(
        process.execPath,
        [
          'dist/apps/ledger-cli/apps/ledger-cli/src/main.js',
          'rebuild',
          'all',
          '--threads',
          '2',
          '--json',
          '--data-dir',
          dataDir,
        ],
        { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
      ),
    ) as { applied: number; promoted: boolean; groups: string[][] };
    // The charge, and the access-log entries of the reads above.
    expect(rebuilt.applied).toBeGreaterThanOrEqual(1);
    expect(rebuilt.promoted).toBe(true);
    expect(rebuilt.groups).toHaveLength(2);
  }, 120_000);
});

describe('npm start that cannot listen or sign', () => {
  const dataDir = tempDataDir();
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));
  const run = (env: Record<string, string>) =>
    spawnSync(process.execPath, ['scripts/start.mjs'], {
      cwd: ROOT,
      env: { ...process.env, LEDGER_DATA_DIR: dataDir, HOST: '127.0.0.1', PORT: '0', NO_COLOR: '1', ...env },
      encoding: 'utf8',
      timeout: 30_000,
    });

  it('names a taken port and says to set PORT, without a stack, and makes no admin key nobody saw', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const { port } = taken.address() as AddressInfo;
    try {
      const result = run({ PORT: String(port) });
      expect(result.status).toBe(1);
      expect(result.stderr).toContain(
        `ledger-api failed to start: port ${port} is in use on 127.0.0.1: another process listens there ` +
          '(perhaps another ledger-api); stop it, or set PORT=<another port> (PORT=0 picks a free one)',
      );
      expect(result.stderr).not.toMatch(/\n\s+at |ERROR \[NestApplication\]/);
      expect(result.stdout).not.toMatch(/pil_|successfully started/);
    } finally {
      await new Promise((resolve) => taken.close(resolve));
    }
    // The first start that listens still makes and prints the first admin key.
    const next = await start(dataDir);
    try {
      await printed(next, /\n {2}pil_\S+\n/);
    } finally {
      next.child.kill('SIGTERM');
      expect(await next.exited).toBe(0);
    }
  }, 60_000);

  it.each([
    ['bm90IGEga2V5', 'it does not decode as a private key'],
    ['-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----', 'it does not decode as a private key'],
  ])('names LEDGER_SIGNING_KEY when it holds no key (%j), without a stack', (signingKey, reason) => {
    const result = run({ LEDGER_SIGNING_KEY: signingKey });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(
      `ledger-api failed to start: LEDGER_SIGNING_KEY is not a usable Ed25519 private key (${reason}): ` +
        'set it to a PKCS#8 PEM',
    );
    expect(result.stderr).not.toMatch(/\n\s+at |DECODER|OpenSSL/i);
  });
});
