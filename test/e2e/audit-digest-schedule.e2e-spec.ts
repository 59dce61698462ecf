import { generateKeyPairSync } from 'node:crypto';
import { rmSync } from 'node:fs';
import request from 'supertest';
import { checkDigestSignature, createLedgerApp, generateApiKey, publicKeyPem } from '@app/ledger';
import { loadConfig, openEmbeddedLedger } from '@app/runtime';
import { tempDataDir } from '../support/ledger-harness';

let starts = 0;

async function start(dataDir: string, options: Parameters<typeof openEmbeddedLedger>[1]) {
  const ledger = await openEmbeddedLedger(dataDir, options);
  // A key per start on the same data directory: names are unique among live keys.
  const { key } = await generateApiKey(ledger.adapters.apiKeys, {
    name: `audit-${++starts}`,
    roles: ['auditor', 'service'],
  });
  const app = await createLedgerApp(ledger.adapters, { logger: false });
  const auth = { Authorization: `Bearer ${key}` };
  return {
    server: app.getHttpServer(),
    auth,
    charge: (id: string) =>
      request(app.getHttpServer())
        .post('/charges')
        .set(auth)
        .send({ chargeId: id, customerId: 'cu_sched', amount: 500, currency: 'EUR', outcome: 'succeeded' })
        .expect(201),
    close: async () => {
      await app.close();
      await ledger.close();
    },
  };
}

const waitFor = async <T>(probe: () => Promise<T | undefined>, ms: number): Promise<T> => {
  const until = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > until) throw new Error(`nothing within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
};

describe('digest schedule and signing key configuration', () => {
  it('reads LEDGER_DIGEST_INTERVAL_SECONDS and LEDGER_SIGNING_KEY', () => {
    expect(loadConfig({})).toMatchObject({ digestIntervalSeconds: 60, signingKey: undefined });
    expect(loadConfig({ LEDGER_DIGEST_INTERVAL_SECONDS: '0', LEDGER_SIGNING_KEY: 'abc' })).toMatchObject({
      digestIntervalSeconds: 0,
      signingKey: 'abc',
    });
    expect(() => loadConfig({ LEDGER_DIGEST_INTERVAL_SECONDS: '-1' })).toThrow(
      /LEDGER_DIGEST_INTERVAL_SECONDS/,
    );
  });

  it('publishes on the interval when the ledger grew, signed with the configured key', async () => {
    const dataDir = tempDataDir();
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const configured = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const h = await start(dataDir, { digestIntervalSeconds: 1, signingKey: configured });
    try {
      await h.charge('ch_sched1');
      const first = await waitFor(async () => {
        const res = await request(h.server).get('/audit/digest').set(h.auth);
        return res.status === 200 && res.body.treeSize >= 1 ? res.body : undefined;
      }, 5000);
      expect(first.publicKey).toBe(publicKey.export({ type: 'spki', format: 'pem' }).toString());
      expect(await checkDigestSignature(first, publicKeyPem(privateKey))).toEqual({ ok: true });
      await h.charge('ch_sched2');
      const second = await waitFor(async () => {
        const res = await request(h.server).get('/audit/digest').set(h.auth);
        return res.body.treeSize > first.treeSize ? res.body : undefined;
      }, 5000);
      expect(second.publicKey).toBe(first.publicKey);
    } finally {
      await h.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('with interval 0 publishes only on demand, and keeps the generated key across restarts', async () => {
    const dataDir = tempDataDir();
    let h = await start(dataDir, { digestIntervalSeconds: 0 });
    try {
      await h.charge('ch_sched3');
      await new Promise((resolve) => setTimeout(resolve, 1500));
      expect((await request(h.server).get('/audit/digest').set(h.auth)).status).toBe(404);
      const published = await request(h.server).post('/audit/digests').set(h.auth).expect(201);
      await h.close();
      h = await start(dataDir, { digestIntervalSeconds: 0 });
      await h.charge('ch_sched4');
      const again = await request(h.server).post('/audit/digests').set(h.auth).expect(201);
      expect(again.body.treeSize).toBeGreaterThan(published.body.treeSize);
      expect(again.body.publicKey).toBe(published.body.publicKey);
    } finally {
      await h.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('refuses to start with a signing key that is not Ed25519', async () => {
    const dataDir = tempDataDir();
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({
      type: 'pkcs8',
      format: 'pem',
    });
    await expect(openEmbeddedLedger(dataDir, { signingKey: rsa.toString() })).rejects.toThrow(/Ed25519/);
    rmSync(dataDir, { recursive: true, force: true });
  });
});
