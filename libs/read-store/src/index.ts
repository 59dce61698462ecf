export * from './sqlite/sqlite-api-key-store';
export {
  SqliteReadModelStore,
  StagedGenerationGoneError,
  type SqliteReadModelStoreOptions,
} from './sqlite/sqlite-read-model-store';
export {
  describeReadModelStoreContract,
  type ReadModelStoreContractFactory,
  type ReadModelStoreContractSubject,
} from './contract/read-model-store.contract';
export {
  describeApiKeyStoreContract,
  type ApiKeyStoreContractFactory,
  type ApiKeyStoreContractSubject,
} from './contract/api-key-store.contract';
export * from './mongodb-adapter';
