// The dependency rule of docs/STYLE: http -> application -> domain <- read-models; adapters depend on the
// ledger's public surface only; apps import libraries through their index.ts only, never another app;
// tests and benches start the ledger through libs/runtime, never through an app's files; packages/ stand
// alone (no imports from apps/ or libs/, no dependencies).
//
// Every path pattern starts with `root`, so it matches the real tree (`libs/ledger/src/...`) and the
// fixture trees that prove each rule fails when broken (`test/fixtures/architecture/<rule>/libs/...`,
// see test/architecture/dependency-rules.spec.ts). Paths are relative to the repository root, which is
// where depcruise must run.
const root = '^(?:test/fixtures/architecture/[^/]+/|)';
const ledger = `${root}libs/ledger/src/`;
const domain = `${ledger}domain/`;
const adapterLibs = `${root}libs/(?:event-store|read-store)/`;
const specFile = '\\.(?:e2e-)?spec\\.ts$';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'domain-is-pure',
      comment:
        'The domain is plain TypeScript: it may import only other domain files, no packages, no node: ' +
        'builtins, no other layer. Decider specs may use libs/testing, hence the spec exemption.',
      severity: 'error',
      from: { path: domain, pathNot: specFile },
      to: { pathNot: domain },
    },
    {
      name: 'application-not-outward',
      comment:
        'Use cases depend inward (domain, ports) only: never on http, read models, storage adapters ' +
        'or apps. Adapters plug in through the ports. Specs may wire a real adapter to test against.',
      severity: 'error',
      from: { path: `${ledger}application/`, pathNot: specFile },
      to: { path: [`${ledger}(?:http|read-models)/`, adapterLibs, `${root}apps/`] },
    },
    {
      name: 'read-models-no-deciders',
      comment:
        'Projections fold events into views; they read event types, never decision logic. Importing a ' +
        'decider couples the read side to the write side.',
      severity: 'error',
      from: { path: `${ledger}read-models/` },
      to: { path: `${domain}.+\\.decider\\.ts$` },
    },
    {
      name: 'http-no-adapters',
      comment:
        'Controllers talk to application ports; which storage engine sits behind them is decided by the ' +
        'composition root in libs/runtime, not by http/.',
      severity: 'error',
      from: { path: `${ledger}http/` },
      to: { path: adapterLibs },
    },
    {
      name: 'adapters-via-public-api',
      comment:
        'Storage adapters implement port types that the ledger publishes from libs/ledger/src/index.ts; ' +
        'reaching into its folders would tie them to its internal layout.',
      severity: 'error',
      from: { path: adapterLibs },
      to: { path: `${root}libs/ledger/`, pathNot: `${root}libs/ledger/src/index\\.ts$` },
    },
    {
      name: 'apps-via-index',
      comment: 'Apps use a library only through its src/index.ts (the @app/* aliases), never its internals.',
      severity: 'error',
      from: { path: `${root}apps/` },
      to: { path: `${root}libs/`, pathNot: `${root}libs/[^/]+/src/index\\.ts$` },
    },
    {
      name: 'apps-not-other-apps',
      comment:
        'An app never imports the files of another app: what two apps share (configuration, the embedded ' +
        'wiring, its threads) lives in a library, libs/runtime for the composition root.',
      severity: 'error',
      from: { path: '^(test/fixtures/architecture/[^/]+/|)apps/([^/]+)/' },
      to: { path: `${root}apps/`, pathNot: '^$1apps/$2/' },
    },
    {
      name: 'tests-not-apps',
      comment:
        'Tests and benches start the ledger through libs/runtime, as the apps do, and run an app only as ' +
        'a process (scripts/*.mjs): importing the files of an app would test a second composition root.',
      severity: 'error',
      from: {
        path: `${root}(?:test|bench)/`,
        // The other rules' fixtures are apps and libs, not tests.
        pathNot: '^test/fixtures/architecture/[^/]+/(?:apps|libs)/',
      },
      to: { path: `${root}apps/` },
    },
    {
      name: 'no-circular',
      comment:
        'Cycles make load order matter (undefined imports at runtime) and usually hide a missing ' +
        'boundary, e.g. a layer importing its own library through index.ts.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'packages-standalone',
      comment:
        'A package under packages/ (the offline verifier) is installed by third parties on its own, ' +
        'without this repository: it never imports its apps or libraries. They import it instead.',
      severity: 'error',
      from: { path: `${root}packages/` },
      to: { path: `${root}(?:apps|libs)/` },
    },
    {
      name: 'packages-no-runtime-dependencies',
      comment:
        'What a package ships has no dependencies: its own files and node: builtins only (the Node ' +
        'crypto adapter, the bin), so installing it alone pulls nothing else. Specs may use dev tools.',
      severity: 'error',
      from: { path: `${root}packages/`, pathNot: specFile },
      to: { path: 'node_modules/' },
    },
    {
      name: 'libs-not-apps',
      comment: 'Libraries are used by apps, never the other way round.',
      severity: 'error',
      from: { path: `${root}libs/` },
      to: { path: `${root}apps/` },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // Build output is not source. Named where it is, not as any dist/: an npm package's own dist/ in
    // node_modules must stay, or an import of it goes unseen (packages-no-runtime-dependencies).
    exclude: { path: ['^dist/', '^packages/[^/]+/dist/', '(^|/)coverage/'] },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      mainFields: ['module', 'main', 'types', 'typings'],
    },
    reporterOptions: {
      text: { highlightFocused: true },
    },
  },
};
