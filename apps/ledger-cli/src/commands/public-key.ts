import { createPrivateKey } from 'node:crypto';
import { SqliteDigestStore } from '@app/event-store';
import { keyFingerprint, parseSigningKey, publicKeyPem } from '@app/ledger';
import { EXIT, NotFoundError, type Command } from '../cli';
import { toJson, withLedgerDb } from '../ledger-db';

/**
 * The public half of the digest-signing key, for auditors to keep and pass to `--public-key`. Reads the
 * key the CLI and the API sign with (LEDGER_SIGNING_KEY, else the one kept in ledger.db) and never makes
 * one: a key printed before the ledger has one would not be the key its digests are signed with.
 */
export const publicKey: Command = {
  path: ['public-key'],
  args: [],
  summary: "Print the ledger's digest-signing public key (PEM) and its sha256: fingerprint.",
  options: {},
  optionHelp: [],
  example: 'ledger public-key > ledger.pub.pem',
  async run({ globals, io }) {
    return withLedgerDb(globals.config, io, { create: false }, async (db) => {
      const store = new SqliteDigestStore(db);
      try {
        const configured = globals.config.signingKey;
        let pem: string;
        let source: 'LEDGER_SIGNING_KEY' | 'ledger.db';
        if (configured !== undefined && configured.trim() !== '') {
          pem = publicKeyPem(parseSigningKey(configured));
          source = 'LEDGER_SIGNING_KEY';
        } else {
          const stored = await store.signingKey();
          if (!stored) {
            throw new NotFoundError(
              'No signing key yet: the ledger makes one on its first start or first digest ' +
                '(`ledger digest`), unless LEDGER_SIGNING_KEY is set.',
            );
          }
          pem = publicKeyPem(createPrivateKey(stored.privateKeyPem));
          source = 'ledger.db';
        }
        const fingerprint = await keyFingerprint(pem);
        const latest = await store.latestDigest();
        if (latest && (await keyFingerprint(latest.publicKey)) !== fingerprint) {
          io.stderr(
            `warning: the latest digest (tree size ${latest.treeSize}) is signed with another key, ` +
              `${await keyFingerprint(latest.publicKey)}\n`,
          );
        }
        if (globals.json) io.stdout(`${toJson({ publicKey: pem, fingerprint, source })}\n`);
        // PEM readers skip the line after the END marker, so the output saved as a file is a key file.
        else io.stdout(`${pem}fingerprint ${fingerprint}\n`);
        return EXIT.ok;
      } finally {
        await store.close();
      }
    });
  },
};
