// The ledger's verification core: canonical JSON, event hashes, Merkle proofs, digest signatures,
// proof files and evidence bundles. No dependencies; the crypto comes in as a VerifyCrypto, from `./node`
// (node:crypto) or `./web` (Web Crypto), so this entry point imports nothing platform-specific.
export * from './bytes';
export * from './crypto';
export * from './canonical-json';
export * from './event';
export * from './merkle';
export * from './digest';
export * from './report';
export * from './checks';
export * from './proof';
export * from './bundle';
