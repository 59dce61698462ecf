export * from './decider-spec';
export * from './projection-spec';
export * from './write-lock';
export * from './seeded-random';
