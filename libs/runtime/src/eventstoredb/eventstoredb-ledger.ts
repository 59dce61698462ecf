import { openEventStoreDbEventStore, type EventStoreDbEventStore } from '@app/event-store';
import { ConfigurationError } from '../config';
import {
  openLedgerOnSqliteFile,
  type EmbeddedLedger,
  type EmbeddedOptions,
} from '../embedded/embedded-ledger';
import { eventStoreDbTarget, type EventStoreDbTarget } from './eventstoredb-target';

/**
 * How long the first read of a starting ledger may take. An unreachable server fails `npm start` well
 * within 10 s this way, instead of the client's own retries and the OS's connect timeout deciding.
 */
export const FIRST_READ_DEADLINE_MS = 5000;

/**
 * A configured engine cannot be used at start: unreachable, refusing the TLS handshake or the connection's
 * user. The message names the engine and its host, never credentials; the process prints it and exits.
 */
export class EngineUnavailableError extends ConfigurationError {}

/**
 * The profile "EventStoreDB events + SQLite derived": the events on the server of
 * EVENTSTORE_CONNECTION_STRING, everything else in the SQLite file of the data directory
 * (docs/storage.md, "Profiles"). The server must answer a first read within FIRST_READ_DEADLINE_MS.
 */
export async function openEventStoreDbLedger(
  connectionString: string,
  dataDir: string,
  options: EmbeddedOptions = {},
): Promise<EmbeddedLedger> {
  const store = await connectEventStoreDb(connectionString);
  return openLedgerOnSqliteFile(dataDir, { engine: 'eventstoredb', store, connectionString }, options);
}

/**
 * The EventStoreDB adapter on `connectionString`, once the server answered a first read within
 * FIRST_READ_DEADLINE_MS and reported a supported version (EventStoreDbEventStore.checkServer); else an
 * EngineUnavailableError saying why (the API's start, the CLI's commands).
 */
export async function connectEventStoreDb(connectionString: string): Promise<EventStoreDbEventStore> {
  const target = eventStoreDbTarget(connectionString);
  let store: EventStoreDbEventStore;
  try {
    store = await openEventStoreDbEventStore(connectionString);
  } catch (error) {
    throw new EngineUnavailableError(
      `EVENTSTORE_CONNECTION_STRING (EventStoreDB at ${target.hosts}) cannot be used: ` +
        target.redact(messageOf(error)),
    );
  }
  try {
    await firstRead(store, target);
  } catch (error) {
    // The client may still be retrying: its channels are closed without waiting for them.
    void store.close().catch(() => undefined);
    throw error;
  }
  return store;
}

async function firstRead(store: EventStoreDbEventStore, target: EventStoreDbTarget): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new EngineUnavailableError(
            `EventStoreDB at ${target.hosts} (EVENTSTORE_CONNECTION_STRING) did not answer a first read ` +
              `within ${FIRST_READ_DEADLINE_MS / 1000} s. Is the server running there (docker compose up -d ` +
              'eventstore), and reachable from this machine?',
          ),
        ),
      FIRST_READ_DEADLINE_MS,
    );
  });
  try {
    await Promise.race([store.headPosition(), deadline]);
    // Then its version: a server older than the adapter's minimum could resume a projection past an event
    // (docs/storage.md, "Positions"), so the ledger refuses to start on it.
    await Promise.race([store.checkServer(), deadline]);
  } catch (error) {
    if (error instanceof EngineUnavailableError) throw error;
    if (error instanceof Error && error.name === 'UnsupportedEventStoreServerError') {
      throw new EngineUnavailableError(
        `EventStoreDB at ${target.hosts} (EVENTSTORE_CONNECTION_STRING): ${target.redact(error.message)}`,
      );
    }
    throw new EngineUnavailableError(unreachableMessage(error, target));
  } finally {
    clearTimeout(timer);
  }
}

/** What failed, from the error and its causes (the adapter wraps the client's error). */
function unreachableMessage(error: unknown, target: EventStoreDbTarget): string {
  const chain = causes(error).map(messageOf);
  // The client's error is the innermost; gRPC puts the socket's own error after "Last error:".
  const innermost = chain[chain.length - 1] ?? '';
  const reason = target.redact(
    (/Last error: (?:Error: )?(.*)$/s.exec(innermost)?.[1] ?? innermost)
      .replace(/\s*Resolution note:.*$/s, '')
      .replace(/\s+/g, ' ')
      .replace(/[.\s]+$/, ''),
  );
  const at = `EventStoreDB at ${target.hosts} (EVENTSTORE_CONNECTION_STRING)`;
  const all = chain.join(' ');
  if (/SSL|TLS|handshake|certificate|wrong version number|EPROTO/i.test(all)) {
    const ssl = /SSL routines:[^:]*:([^:]+)/.exec(reason)?.[1];
    return (
      `${at}: the TLS handshake failed (${ssl ?? reason}). A server started without TLS, as ` +
      'docker-compose.yml starts it, needs ?tls=false in the connection string; a secure server, the CA ' +
      'that signed its certificate (tlsCAFile=...).'
    );
  }
  if (/access denied|not authenticated|unauthenticated|permission/i.test(all)) {
    return `${at} refused the connection's user (${reason}): it needs read rights on $all (docs/storage.md).`;
  }
  return `${at} is unreachable: ${reason}. Is the server running there (docker compose up -d eventstore)?`;
}

function causes(error: unknown): unknown[] {
  const chain: unknown[] = [];
  for (let current = error; current !== undefined && chain.length < 5;) {
    chain.push(current);
    current = current instanceof Error ? current.cause : undefined;
  }
  return chain;
}

const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));
