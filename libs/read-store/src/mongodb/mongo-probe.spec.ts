import { createServer, type AddressInfo } from 'node:net';
import { MongoClient } from 'mongodb';
import { describeHosts, MongoStartupError, probeMongo, redactCredentials } from './mongo-probe';
import {
  startScriptedMongoWireServer,
  type ScriptedMongoWireServer,
} from './testing/scripted-mongo-wire-server';

/** The issue allows a failed start 10 s: each probe test must end within it (jest fails it otherwise). */
const WITHIN_TEN_SECONDS = 10_000;

async function rejection(work: () => Promise<unknown>): Promise<Error> {
  try {
    await work();
  } catch (error) {
    return error as Error;
  }
  throw new Error('Expected a rejection');
}

/** A loopback port nobody listens on: bound, then released. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('probeMongo', () => {
  let wire: ScriptedMongoWireServer | undefined;
  afterEach(async () => {
    await wire?.close();
    wire = undefined;
  });

  it(
    'fails naming MongoDB and the host when the server answers hello without a replica set name',
    async () => {
      wire = await startScriptedMongoWireServer();
      const started = Date.now();
      // No credentials here: authenticating (SCRAM) is beyond this test double; redaction is tested below.
      const error = await rejection(() => probeMongo(`mongodb://${wire!.address}/ledger`));
      process.stdout.write(`standalone probe failed after ${Date.now() - started} ms: ${error.message}\n`);
      expect(error).toBeInstanceOf(MongoStartupError);
      expect(error.message).toContain(`MongoDB at ${wire.address} is not a replica set member`);
      // It got that far through the real driver's handshake and a hello of its own.
      expect(wire.commands.filter((name) => /^(hello|isMaster|ismaster)$/.test(name)).length).toBeGreaterThan(
        1,
      );
    },
    WITHIN_TEN_SECONDS,
  );

  it(
    'fails naming MongoDB and the host when nothing listens on the port',
    async () => {
      const address = `127.0.0.1:${await closedPort()}`;
      const started = Date.now();
      const error = await rejection(() =>
        probeMongo(`mongodb://ops:pa%40ss-word@${address}/?authSource=admin`),
      );
      process.stdout.write(`unreachable probe failed after ${Date.now() - started} ms: ${error.message}\n`);
      expect(error).toBeInstanceOf(MongoStartupError);
      expect(error.message).toMatch(
        new RegExp(`^MongoDB at ${address.replace(/\./g, '\\.')} is unreachable: `),
      );
      expect(error.message).not.toMatch(/pa%40ss-word|pa@ss-word|ops:/);
    },
    WITHIN_TEN_SECONDS,
  );

  it(
    'fails naming MongoDB and the host, not the credentials, when the server refuses them',
    async () => {
      wire = await startScriptedMongoWireServer({ setName: 'rs0', refuseAuthentication: true });
      const error = await rejection(() =>
        probeMongo(`mongodb://ledger-app:s3cret%2Fpass@${wire!.address}/ledger?authSource=admin`),
      );
      expect(error).toBeInstanceOf(MongoStartupError);
      expect(error.message).toMatch(
        new RegExp(`^MongoDB at ${wire.address.replace(/\./g, '\\.')} refused the start-up check: `),
      );
      expect(error.message).toContain('Authentication failed');
      expect(error.message).not.toMatch(/ledger-app|s3cret/);
      expect(wire.commands).toContain('saslStart');
    },
    WITHIN_TEN_SECONDS,
  );

  it(
    'passes a replica set member, answering its set name',
    async () => {
      wire = await startScriptedMongoWireServer({ setName: 'rs0' });
      expect(await probeMongo(`mongodb://${wire.address}/ledger`)).toEqual({
        setName: 'rs0',
        hosts: wire.address,
      });
    },
    WITHIN_TEN_SECONDS,
  );

  it('refuses a malformed connection string without quoting its credentials', async () => {
    const error = await rejection(() => probeMongo('mongodb://admin:hunter22@/no-host?replicaSet='));
    expect(error).toBeInstanceOf(MongoStartupError);
    expect(error.message).toMatch(/^MONGODB_URI is not a valid MongoDB connection string/);
    expect(error.message).not.toMatch(/hunter22|admin:/);
  });
});

describe('describeHosts and redactCredentials', () => {
  it('names every seed host, or the SRV name, and no credentials', async () => {
    const clients = [
      new MongoClient('mongodb://u:p@db-1.internal:27017,db-2.internal:27018/ledger?replicaSet=rs0'),
      new MongoClient('mongodb://db-1.internal/ledger'),
    ];
    expect(clients.map(describeHosts)).toEqual([
      'db-1.internal:27017,db-2.internal:27018',
      'db-1.internal:27017',
    ]);
    for (const client of clients) await client.close();
  });

  it('removes the user name and password, raw or percent-decoded, from a message', () => {
    const uri = 'mongodb://ledger-app:p%40ss%2Fword@db:27017/ledger';
    expect(redactCredentials('auth failed for ledger-app with p@ss/word (p%40ss%2Fword)', uri)).toBe(
      'auth failed for *** with *** (***)',
    );
    expect(redactCredentials('connect ECONNREFUSED 127.0.0.1:27017', 'mongodb://127.0.0.1:27017')).toBe(
      'connect ECONNREFUSED 127.0.0.1:27017',
    );
  });
});
