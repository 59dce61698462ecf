import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openEmbeddedLedger } from './embedded/embedded-ledger';
import { loadConfig } from './config';
import { EngineUnavailableError, FIRST_READ_DEADLINE_MS } from './eventstoredb/eventstoredb-ledger';
import { embeddedLedgerFile, openLedger, selectEngines, UnsupportedEngineError } from './open-ledger';
import { ScriptedEsdbServer } from '../../event-store/src/eventstoredb/testing/scripted-esdb-server';

describe('openLedger', () => {
  let dataDir: string;
  beforeEach(() => (dataDir = mkdtempSync(join(tmpdir(), 'open-ledger-'))));
  afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

  it('opens the embedded store when no production engine is configured', async () => {
    const config = loadConfig({ LEDGER_DATA_DIR: dataDir, LEDGER_DIGEST_INTERVAL_SECONDS: '0' });
    expect(selectEngines(config)).toEqual({ events: 'sqlite', readModels: 'sqlite' });
    const ledger = await openLedger(config);
    try {
      expect(ledger.adapters.engines).toEqual({ events: 'sqlite', readModels: 'sqlite' });
      expect(ledger.adapters.engineConnections.map(({ engine, holds }) => ({ engine, holds }))).toEqual([
        {
          engine: 'sqlite',
          holds: ['events', 'read models', 'idempotency records', 'API keys', 'digests'],
        },
      ]);
      expect(await ledger.adapters.eventStore.headPosition()).toBe(-1n);
      expect(existsSync(join(dataDir, 'ledger.db'))).toBe(true);
    } finally {
      await ledger.close();
    }
  });

  it.each([
    [{ MONGODB_URI: 'mongodb://localhost:27017/ledger' }],
    [{ EVENTSTORE_CONNECTION_STRING: 'esdb://localhost:2113', MONGODB_URI: 'mongodb://localhost:27017' }],
  ])('refuses to start with %j, saying MongoDB is not supported yet', async (env) => {
    const config = loadConfig({ ...env, LEDGER_DATA_DIR: dataDir });
    const message =
      'MONGODB_URI (MongoDB) is set, but this build does not support this engine yet: unset it to keep ' +
      'read models, idempotency records, API keys and digests in the SQLite file of LEDGER_DATA_DIR.';
    await expect(openLedger(config)).rejects.toThrow(new UnsupportedEngineError(message));
    expect(() => embeddedLedgerFile(config)).toThrow(message);
    // Nothing was opened or created on the embedded store meanwhile.
    expect(existsSync(join(dataDir, 'ledger.db'))).toBe(false);
  });

  it('refuses the embedded file to commands that work on it when the events are on EventStoreDB', () => {
    const config = loadConfig({
      EVENTSTORE_CONNECTION_STRING: 'esdb://localhost:2113',
      LEDGER_DATA_DIR: dataDir,
    });
    expect(() => embeddedLedgerFile(config)).toThrow(UnsupportedEngineError);
    expect(() => embeddedLedgerFile(config)).toThrow(/EVENTSTORE_CONNECTION_STRING \(EventStoreDB\) is set/);
  });
});

describe('openLedger on EventStoreDB (scripted gRPC server double)', () => {
  let dataDir: string;
  let server: ScriptedEsdbServer;
  beforeEach(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'open-ledger-esdb-'));
    server = await ScriptedEsdbServer.start();
  });
  afterEach(async () => {
    await server.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const configFor = (connectionString: string) =>
    loadConfig({
      EVENTSTORE_CONNECTION_STRING: connectionString,
      LEDGER_DATA_DIR: dataDir,
      LEDGER_DIGEST_INTERVAL_SECONDS: '0',
    });

  it('keeps the events on the server and everything else in the SQLite file of the data directory', async () => {
    const ledger = await openLedger(configFor(server.connectionString));
    try {
      expect(ledger.adapters.engines).toEqual({ events: 'eventstoredb', readModels: 'sqlite' });
      expect(ledger.adapters.eventStore.recordsIdempotency).toBe(false);
      expect(ledger.adapters.eventStore.densePositions).toBeFalsy();
      expect(
        await Promise.all(
          ledger.adapters.engineConnections.map(async ({ engine, check }) => [engine, await check()]),
        ),
      ).toEqual([
        ['eventstoredb', true],
        ['sqlite', true],
      ]);
      expect(existsSync(join(dataDir, 'ledger.db'))).toBe(true);
    } finally {
      await ledger.close();
    }
  });

  it('refuses to start on a server older than the minimum version, or one that does not report it', async () => {
    server.serverVersion = '24.10.4';
    const old = await openLedger(configFor(server.connectionString)).catch((error: unknown) => error);
    expect(old).toBeInstanceOf(EngineUnavailableError);
    expect((old as Error).message).toMatch(
      new RegExp(
        `^EventStoreDB at 127\\.0\\.0\\.1:${server.port} .*24\\.10\\.4 is not supported.*24\\.10\\.5`,
      ),
    );
    server.serverVersion = undefined;
    const silent = await openLedger(configFor(server.connectionString)).catch((error: unknown) => error);
    expect(silent).toBeInstanceOf(EngineUnavailableError);
    expect((silent as Error).message).toMatch(/did not report its version/);
  });

  it('fails at once, naming EventStoreDB and its host and never the credentials, when nothing listens there', async () => {
    const failure = await openLedger(configFor('esdb://admin:s3cr%40t@127.0.0.1:9?tls=false')).catch(
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(EngineUnavailableError);
    const { message } = failure as Error;
    expect(message).toMatch(
      /^EventStoreDB at 127\.0\.0\.1:9 \(EVENTSTORE_CONNECTION_STRING\) is unreachable: /,
    );
    expect(message).toContain('ECONNREFUSED');
    expect(message).not.toMatch(/admin|s3cr/);
    expect(existsSync(join(dataDir, 'ledger.db'))).toBe(false);
  });

  it('gives up after a short deadline on a first read when the server accepts connections but never answers', async () => {
    // A listener that takes the TCP connection and says nothing: the gRPC handshake never completes.
    const sockets = new Set<Socket>();
    const silent = createServer((socket) => sockets.add(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as AddressInfo;
    try {
      const failure = await openLedger(configFor(`esdb://127.0.0.1:${port}?tls=false`)).catch(
        (error: unknown) => error,
      );
      expect(failure).toBeInstanceOf(EngineUnavailableError);
      expect((failure as Error).message).toBe(
        `EventStoreDB at 127.0.0.1:${port} (EVENTSTORE_CONNECTION_STRING) did not answer a first read within ` +
          `${FIRST_READ_DEADLINE_MS / 1000} s. Is the server running there (docker compose up -d eventstore), ` +
          'and reachable from this machine?',
      );
    } finally {
      for (const socket of sockets) socket.destroy();
      silent.close();
    }
  });

  it('suggests ?tls=false when the TLS handshake fails (a server without TLS, a client with it)', async () => {
    const failure = await openLedger(configFor(`esdb://admin:changeit@127.0.0.1:${server.port}`)).catch(
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(EngineUnavailableError);
    expect((failure as Error).message).toMatch(
      new RegExp(
        `^EventStoreDB at 127\\.0\\.0\\.1:${server.port} .*: the TLS handshake failed .*\\?tls=false`,
      ),
    );
    expect((failure as Error).message).not.toContain('changeit');
  });

  it('refuses a data directory that holds an embedded ledger’s events', async () => {
    const embedded = await openEmbeddedLedger(dataDir, { digestIntervalSeconds: 0 });
    await embedded.adapters.eventStore.append(
      'issue-1',
      [
        {
          type: 'NoteAdded',
          schemaVersion: 1,
          data: { issueId: '1', text: 'x' },
          metadata: {
            eventId: '0190a0f8-0000-7000-8000-000000000001',
            occurredAt: '2026-01-01T00:00:00.000Z',
            recordedAt: '2026-01-01T00:00:00.000Z',
            actor: { kind: 'system', id: 'test' },
            correlationId: 'c',
            causationId: null,
            schemaVersion: 1,
          },
        },
      ],
      'no_stream',
    );
    await embedded.close();
    await expect(openLedger(configFor(server.connectionString))).rejects.toThrow(
      /LEDGER_DATA_DIR .* holds an embedded ledger's events/,
    );
  });
});
