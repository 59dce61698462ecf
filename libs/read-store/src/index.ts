export * from './sqlite/sqlite-api-key-store';
