import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createLedgerApp, generateApiKey, type EventStore, type Role, type StoredEvent } from '@app/ledger';
import { openEmbeddedLedger, type EmbeddedLedger, type EmbeddedOptions } from '@app/runtime';

export interface LedgerHarness {
  app: NestFastifyApplication;
  server: ReturnType<NestFastifyApplication['getHttpServer']>;
  ledger: EmbeddedLedger;
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
  const ledger = await openEmbeddedLedger(dataDir, options);
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
