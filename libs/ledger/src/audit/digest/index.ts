export * from './digest-signature';
export * from './signing-key';
export * from './digest-publisher';
export * from './ledger-proofs';
export * from './offline-verifier';
export * from './evidence-bundle';
