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
export { SqliteLeaseStore, type SqliteLeaseStoreOptions } from './sqlite/sqlite-lease-store';
export {
  describeLeaseStoreContract,
  type LeaseStoreContractFactory,
  type LeaseStoreContractSubject,
} from './contract/lease-store.contract';
