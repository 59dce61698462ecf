import { keyFingerprint } from '@app/ledger';
import { EXIT, type Command } from '../cli';
import { toJson, withLedgerEvents } from '../ledger-db';
import { openLedgerTree } from './ledger-tree';

export const digest: Command = {
  path: ['digest'],
  args: [],
  summary: 'Bring the Merkle tree up to the last event and publish a signed digest of it.',
  options: {},
  optionHelp: [],
  example: 'ledger digest --json > digest.json',
  async run({ globals, io }) {
    return withLedgerEvents(globals.config, io, async (events, db) => {
      const ledger = await openLedgerTree(events, db, io, globals.config.signingKey);
      try {
        const published = await ledger.publisher.publish();
        const fingerprint = await keyFingerprint(published.publicKey);
        io.stderr('\n');
        // The JSON is the signed digest as GET /audit/digest serves it, plus the key's fingerprint.
        if (globals.json) io.stdout(`${toJson({ ...published, publicKeyFingerprint: fingerprint })}\n`);
        else {
          io.stdout(
            `tree size ${published.treeSize}\nroot      ${published.rootHash}\n` +
              `created   ${published.createdAt}\nsignature ${published.signature} (${published.algorithm})\n` +
              `key       ${fingerprint}\n${published.publicKey}`,
          );
        }
        return EXIT.ok;
      } finally {
        await ledger.close();
      }
    });
  },
};
