export * from './merkle-tree';
export * from './subtree-plan';
