import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqlite, SqliteEventStore } from '@app/event-store';
import { Resources } from './resources';

const listening = (): Promise<Server> =>
  new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => resolve(server));
  });

const closeServer = (server: Server): Promise<void> =>
  new Promise((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));

describe('Resources', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'resources-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('closes what was opened newest first, each once', async () => {
    const resources = new Resources();
    const closed: string[] = [];
    const db = resources.add('the connection', openSqlite(join(dir, 'ledger.db')), (connection) => {
      closed.push('the connection');
      connection.close();
    });
    // The event store runs on that connection: closing the connection first would fail its close.
    const events = resources.add('the event store', new SqliteEventStore(db), async (store) => {
      closed.push('the event store');
      await store.close();
    });
    const server = resources.add('the server', await listening(), async (opened) => {
      closed.push('the server');
      await closeServer(opened);
    });
    await events.headPosition();

    await Promise.all([resources.close(), resources.close()]);

    expect(closed).toEqual(['the server', 'the event store', 'the connection']);
    expect(db.open).toBe(false);
    expect(server.listening).toBe(false);
  });

  it('closes the others when one fails to close, and reports the failure after', async () => {
    const resources = new Resources();
    const db = resources.add('the connection', openSqlite(join(dir, 'ledger.db')), (connection) =>
      connection.close(),
    );
    // A server that never listened fails its close (ERR_SERVER_NOT_RUNNING).
    resources.add('the idle server', createServer(), closeServer);
    const server = resources.add('the server', await listening(), closeServer);

    await expect(resources.close()).rejects.toThrow(/^closing the idle server failed: .*not running/i);

    expect(server.listening).toBe(false);
    expect(db.open).toBe(false);
  });

  it('reports every failed close together', async () => {
    const resources = new Resources();
    resources.add('the first idle server', createServer(), closeServer);
    resources.add('the second idle server', createServer(), closeServer);

    const failure = await resources.close().catch((error: unknown) => error);

    expect(failure).toBeInstanceOf(AggregateError);
    expect((failure as AggregateError).errors.map((error: Error) => error.message)).toEqual([
      expect.stringMatching(/^closing the second idle server failed/),
      expect.stringMatching(/^closing the first idle server failed/),
    ]);
  });

  it('after a failed start, closes what was opened and throws the start error itself', async () => {
    const resources = new Resources();
    const db = resources.add('the connection', openSqlite(join(dir, 'ledger.db')), (connection) =>
      connection.close(),
    );
    const startError = new Error('the signing key is not valid');

    await expect(resources.abandon(startError)).rejects.toBe(startError);
    expect(db.open).toBe(false);
    expect(() => resources.add('late', {}, () => undefined)).toThrow(/after its resources were closed/);
  });
});
