export * from './digest-signature';
export * from './signing-key';
export * from './digest-publisher';
export * from './ledger-proofs';
export * from './verification';
export * from './evidence-bundle';
