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
        io.stderr('\n');
        if (globals.json) io.stdout(`${toJson(published)}\n`);
        else {
          io.stdout(
            `tree size ${published.treeSize}\nroot      ${published.rootHash}\n` +
              `created   ${published.createdAt}\nsignature ${published.signature} (${published.algorithm})\n` +
              `${published.publicKey}`,
          );
        }
        return EXIT.ok;
      } finally {
        await ledger.close();
      }
    });
  },
};
