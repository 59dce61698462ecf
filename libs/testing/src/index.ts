export * from './decider-spec';
export * from './projection-spec';
