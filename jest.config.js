// Nest 12 packages (and a few of their dependencies) ship ESM only. Jest's CommonJS runtime cannot load
// them, so swc transforms them to CommonJS along with our TypeScript. The list below is the set of
// ESM-only packages reachable from the app at test time; add to it if a new dependency is ESM-only.
const esmOnly = [
  '@nestjs',
  'file-type',
  'strtok3',
  'token-types',
  '@tokenizer',
  '@borewit',
  'uint8array-extras',
  'cookie',
  'set-cookie-parser',
  'content-disposition',
  'toad-cache',
];

const swc = {
  sourceMaps: 'inline',
  module: { type: 'commonjs' },
  jsc: {
    target: 'es2023',
    keepClassNames: true,
    parser: { syntax: 'typescript', decorators: true, dynamicImport: true },
    transform: { legacyDecorator: true, decoratorMetadata: true },
  },
};

module.exports = {
  testEnvironment: 'node',
  rootDir: '.',
  roots: ['<rootDir>/apps', '<rootDir>/libs', '<rootDir>/packages', '<rootDir>/test'],
  testMatch: ['**/*.spec.ts', '**/*.e2e-spec.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/dist/', '/test/fixtures/'],
  transform: {
    '^.+\\.ts$': ['@swc/jest', swc],
    '^.+\\.m?js$': ['@swc/jest', { ...swc, jsc: { ...swc.jsc, parser: { syntax: 'ecmascript' } } }],
  },
  transformIgnorePatterns: [`/node_modules/(?!(${esmOnly.join('|')})/)`],
  moduleNameMapper: {
    '^@app/ledger$': '<rootDir>/libs/ledger/src',
    '^@app/event-store$': '<rootDir>/libs/event-store/src',
    '^@app/read-store$': '<rootDir>/libs/read-store/src',
    '^@app/runtime$': '<rootDir>/libs/runtime/src',
    '^@app/testing$': '<rootDir>/libs/testing/src',
    '^@payment-issue-ledger/verify$': '<rootDir>/packages/ledger-verify/src',
    '^@payment-issue-ledger/verify/node$': '<rootDir>/packages/ledger-verify/src/node-crypto',
    '^@payment-issue-ledger/verify/web$': '<rootDir>/packages/ledger-verify/src/web-crypto',
  },
  testTimeout: 30000,
};
