export * from './canonical-json';
export * from './event-hash';
export * from './merkle';
export * from './verify/verification-source';
export * from './verify/ledger-verifier';
export * from './verify/event-store-verification-source';
export * from './digest';
