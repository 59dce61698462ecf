export * from './merkle-tree';
export * from './subtree-plan';
export * from './merkle-tree-builder';
export * from './stored-tree-proofs';
