import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createLedgerApp, generateApiKey, type EventStore, type Role, type StoredEvent } from '@app/ledger';
import {
  loadConfig,
  openEmbeddedLedger,
  openLedger,
  type EmbeddedLedger,
  type EmbeddedOptions,
  type OpenedLedger,
} from '@app/runtime';

export interface LedgerHarness<Ledger extends OpenedLedger = EmbeddedLedger> {
  app: NestFastifyApplication;
  server: ReturnType<NestFastifyApplication['getHttpServer']>;
  ledger: Ledger;
  eventStore: EventStore;
  dataDir: string;
  /** One key per role, plus `admin`. */
  keys: Record<Role, string>;
  keyIds: Record<Role, string>;
  auth(role: Role): { Authorization: string };
  allEvents(): Promise<StoredEvent[]>;
  /**
   * Events after `position` outside the access log: what a command appended. Reads and refused requests
   * append AccessRecorded events to accesslog-{day} streams (batched), so "appends nothing" means this.
   */
  domainEventsAfter(position: bigint): Promise<StoredEvent[]>;
  /** Closes the app and the store; keeps the data directory unless `remove` is set. */
  close(remove?: boolean): Promise<void>;
}

export function tempDataDir(): string {
  return mkdtempSync(join(tmpdir(), 'ledger-e2e-'));
}

/** A real ledger on a real SQLite file in a temp dir, with one API key per role. */
export async function startLedger(
  dataDir = tempDataDir(),
  existingKeys?: Record<Role, string>,
  options: EmbeddedOptions = {},
): Promise<LedgerHarness> {
  return harness(await openEmbeddedLedger(dataDir, options), dataDir, existingKeys);
}

/**
 * The ledger as the configuration of `env` opens it (openLedger, as the API's main does), on a data
 * directory in a temp dir: e.g. the EventStoreDB profile with EVENTSTORE_CONNECTION_STRING.
 */
export async function startConfiguredLedger(
  env: NodeJS.ProcessEnv,
  dataDir = tempDataDir(),
): Promise<LedgerHarness<OpenedLedger>> {
  const config = loadConfig({ LEDGER_DIGEST_INTERVAL_SECONDS: '0', ...env, LEDGER_DATA_DIR: dataDir });
  return harness(await openLedger(config), dataDir);
}

async function harness<Ledger extends OpenedLedger>(
  ledger: Ledger,
  dataDir: string,
  existingKeys?: Record<Role, string>,
): Promise<LedgerHarness<Ledger>> {
  const keys = {} as Record<Role, string>;
  const keyIds = {} as Record<Role, string>;
  const roles: Role[] = ['service', 'agent', 'auditor', 'analyst', 'admin'];
  if (existingKeys) Object.assign(keys, existingKeys);
  else {
    for (const role of roles) {
      const { key, record } = await generateApiKey(ledger.adapters.apiKeys, {
        name: `test-${role}`,
        roles: [role],
      });
      keys[role] = key;
      keyIds[role] = record.id;
    }
  }
  const app = await createLedgerApp(ledger.adapters, { logger: false });
  const eventStore = ledger.adapters.eventStore;
  return {
    app,
    server: app.getHttpServer(),
    ledger,
    eventStore,
    dataDir,
    keys,
    keyIds,
    auth: (role) => ({ Authorization: `Bearer ${keys[role]}` }),
    allEvents: () => eventStore.readAll({}),
    domainEventsAfter: async (position) =>
      (await eventStore.readAll({ fromPosition: position + 1n })).filter(
        (event) => !event.stream.startsWith('accesslog-'),
      ),
    async close(remove = false) {
      await app.close();
      await ledger.close();
      if (remove) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
