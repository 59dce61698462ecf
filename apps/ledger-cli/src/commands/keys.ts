import {
  DuplicateApiKeyNameError,
  duplicateKeyNames,
  generateApiKey,
  InvalidApiKeyRequestError,
  revokeApiKey,
  type ApiKeyRecord,
  ROLES,
} from '@app/ledger';
import { SqliteApiKeyStore } from '@app/read-store';
import { EXIT, NotFoundError, requiredString, UsageError, type Command } from '../cli';
import { toJson, withLedgerDb } from '../ledger-db';

/** What the CLI shows of a key: never the hash, which only serves lookups. */
function publicView(record: ApiKeyRecord) {
  return {
    id: record.id,
    name: record.name,
    roles: record.roles,
    createdAt: record.createdAt,
    revokedAt: record.revokedAt,
  };
}

export const keysCreate: Command = {
  path: ['keys', 'create'],
  args: [],
  synopsis: '--name <name> --role <role>[,<role>...]',
  summary: 'Create an API key and print it once (only its SHA-256 is stored).',
  options: { name: { type: 'string' }, role: { type: 'string', multiple: true } },
  optionHelp: [
    ['--name <name>', 'who or what uses the key, e.g. billing-gateway (required)'],
    ['--role <role>[,<role>...]', `one or more of ${ROLES.join(', ')}; repeatable (required)`],
  ],
  example: 'ledger keys create --name billing-gateway --role service',
  async run({ globals, options, io }) {
    const name = requiredString(options, 'name');
    const roles = ((options.role as string[] | undefined) ?? [])
      .flatMap((value) => value.split(','))
      .map((role) => role.trim())
      .filter(Boolean);
    if (roles.length === 0) throw new UsageError('--role is required.');
    return withLedgerDb(globals.config, io, { create: true }, async (db) => {
      let created;
      try {
        created = await generateApiKey(new SqliteApiKeyStore(db), { name, roles });
      } catch (error) {
        if (error instanceof InvalidApiKeyRequestError || error instanceof DuplicateApiKeyNameError) {
          throw new UsageError(error.message);
        }
        throw error;
      }
      const { record, key } = created;
      if (globals.json) {
        io.stdout(`${toJson({ ...publicView(record), key })}\n`);
      } else {
        // The key alone on stdout, so `KEY=$(ledger keys create ...)` works; the explanation on stderr.
        io.stderr(`Created API key ${record.id} "${record.name}" (${record.roles.join(', ')}).\n`);
        io.stderr('It is shown only now; store it somewhere safe:\n');
        io.stdout(`${key}\n`);
      }
      return EXIT.ok;
    });
  },
};

export const keysList: Command = {
  path: ['keys', 'list'],
  args: [],
  summary: 'List API keys (id, name, roles, created, revoked); never the keys themselves.',
  options: {},
  optionHelp: [],
  example: 'ledger keys list --json',
  async run({ globals, io }) {
    return withLedgerDb(globals.config, io, { create: false }, async (db) => {
      const records = await new SqliteApiKeyStore(db).list();
      const keys = records.map(publicView);
      // Names tell actors apart; keys made before names had to be unique may share one.
      for (const [name, shared] of duplicateKeyNames(records)) {
        io.stderr(
          `warning: ${shared.length} live keys are named "${name}" (${shared.map((key) => key.id).join(', ')}); ` +
            'revoke all but one and create the others again under their own names.\n',
        );
      }
      if (globals.json) {
        io.stdout(`${toJson(keys)}\n`);
        return EXIT.ok;
      }
      if (keys.length === 0) {
        io.stderr('No API keys.\n');
        return EXIT.ok;
      }
      const rows = [
        ['ID', 'NAME', 'ROLES', 'CREATED', 'REVOKED'],
        ...keys.map((key) => [key.id, key.name, key.roles.join(','), key.createdAt, key.revokedAt ?? '-']),
      ];
      const widths = rows[0].map((_, column) => Math.max(...rows.map((row) => row[column].length)));
      for (const row of rows) {
        io.stdout(
          `${row
            .map((cell, column) => cell.padEnd(widths[column]))
            .join('  ')
            .trimEnd()}\n`,
        );
      }
      return EXIT.ok;
    });
  },
};

export const keysRevoke: Command = {
  path: ['keys', 'revoke'],
  args: ['<id>'],
  summary: 'Revoke an API key by id; requests with it are refused from then on.',
  options: {},
  optionHelp: [],
  example: 'ledger keys revoke 7k2m9q4x1c8d',
  async run({ globals, args, io }) {
    const [id] = args;
    return withLedgerDb(globals.config, io, { create: false }, async (db) => {
      const store = new SqliteApiKeyStore(db);
      const revokedNow = await revokeApiKey(store, id);
      const record = (await store.list()).find((key) => key.id === id);
      if (!record) throw new NotFoundError(`No API key with id "${id}".`);
      if (globals.json) {
        io.stdout(`${toJson({ ...publicView(record), alreadyRevoked: !revokedNow })}\n`);
      } else {
        io.stdout(
          revokedNow
            ? `Revoked API key ${id} "${record.name}".\n`
            : `API key ${id} "${record.name}" was already revoked at ${record.revokedAt}.\n`,
        );
      }
      return EXIT.ok;
    });
  },
};
