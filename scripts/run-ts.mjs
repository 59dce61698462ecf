// Runs a TypeScript entry point without a build: `node scripts/run-ts.mjs <file.ts> [args...]`.
//
// Our .ts files are compiled on require by swc with exactly the options Jest uses (read from
// jest.config.js), to CommonJS with inline source maps, and the tsconfig `paths` aliases (@app/*) are
// resolved by a small patch of Node's resolver. node_modules are not transformed: Node >= 20.19 can
// require() the ESM-only packages (Nest 12) directly. No type checking: that is `npm run typecheck`.
import { readFileSync } from 'node:fs';
import Module, { createRequire } from 'node:module';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const requireFromRoot = createRequire(join(repoRoot, 'package.json'));

function swcOptions() {
  const transform = requireFromRoot('./jest.config.js').transform?.['^.+\\.ts$'];
  if (!Array.isArray(transform) || typeof transform[1] !== 'object') {
    throw new Error("run-ts: jest.config.js no longer has transform['^.+\\\\.ts$'] = ['@swc/jest', options]");
  }
  return { ...transform[1], swcrc: false, configFile: false, sourceMaps: 'inline' };
}

function tsconfigAliases() {
  const text = readFileSync(join(repoRoot, 'tsconfig.json'), 'utf8');
  let tsconfig;
  try {
    tsconfig = JSON.parse(text);
  } catch {
    // tsconfig allows comments and trailing commas; strip them only when plain JSON fails.
    tsconfig = JSON.parse(text.replace(/\/\*[\s\S]*?\*\/|^\s*\/\/.*$/gm, '').replace(/,(\s*[}\]])/g, '$1'));
  }
  const aliases = new Map();
  for (const [alias, targets] of Object.entries(tsconfig.compilerOptions?.paths ?? {})) {
    if (alias.includes('*')) throw new Error(`run-ts: wildcard path alias ${alias} is not supported`);
    aliases.set(alias, resolve(repoRoot, targets[0]));
  }
  return aliases;
}

let registered = false;

/** Installs the .ts compiler and the alias resolver into Node's CommonJS loader (idempotent). */
export function register() {
  if (registered) return;
  registered = true;
  const { transformSync } = requireFromRoot('@swc/core');
  const options = swcOptions();
  const aliases = tsconfigAliases();

  process.setSourceMapsEnabled(true);

  Module._extensions['.ts'] = function compileTs(module, filename) {
    const { code } = transformSync(readFileSync(filename, 'utf8'), { ...options, filename });
    module._compile(code, filename);
  };

  const resolveFilename = Module._resolveFilename;
  Module._resolveFilename = function resolveAlias(request, ...rest) {
    const target = aliases.get(request);
    return resolveFilename.call(this, target ?? request, ...rest);
  };
}

/** Runs a .ts file as the main program: it sees `process.argv.slice(2)` as its own arguments. */
export function runTs(file, args = []) {
  register();
  const filename = isAbsolute(file) ? file : resolve(process.cwd(), file);
  process.argv = [process.argv[0], filename, ...args];
  // isMain: the file becomes require.main, as if started with `node file.js`.
  return Module._load(filename, null, true);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const [file, ...args] = process.argv.slice(2);
  if (!file) {
    process.stderr.write('usage: node scripts/run-ts.mjs <file.ts> [args...]\n');
    process.exit(2);
  }
  runTs(file, args);
}
