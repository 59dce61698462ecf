// `npm run projector`: the standalone projector straight from its TypeScript sources (see run-ts.mjs).
import { fileURLToPath } from 'node:url';
import { runTs } from './run-ts.mjs';

runTs(fileURLToPath(new URL('../apps/ledger-projector/src/main.ts', import.meta.url)), process.argv.slice(2));
