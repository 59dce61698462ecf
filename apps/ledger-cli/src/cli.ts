import { resolve } from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { loadConfig, type LedgerConfig } from '@app/runtime';

/** Exit codes; documented in docs/cli.md. */
export const EXIT = { ok: 0, failure: 1, usage: 2, notFound: 3 } as const;

/** Wrong arguments: the command did not run. Exit 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
  constructor(
    message: string,
    /** Help to print after the message. */
    readonly help?: string,
  ) {
    super(message);
  }
}

/** The key, stream or database the command names does not exist. Exit 3. */
export class NotFoundError extends Error {
  override readonly name = 'NotFoundError';
}

export interface Io {
  stdout(text: string): void;
  /** Progress and errors; stdout stays clean for `--json` consumers. */
  stderr(text: string): void;
  env: NodeJS.ProcessEnv;
  /** Where paths the user types resolve (the directory the command was run from). */
  cwd: string;
  /** Where LEDGER_DATA_DIR and the default ./data resolve; cwd when absent (invocation-dir.ts). */
  configCwd?: string;
}

export interface GlobalOptions {
  json: boolean;
  /** The ledger's configuration, with --data-dir in place of LEDGER_DATA_DIR when given. */
  config: LedgerConfig;
}

type OptionSpecs = NonNullable<ParseArgsConfig['options']>;
type OptionValues = Record<string, string | boolean | (string | boolean)[] | undefined>;

export interface CommandContext {
  globals: GlobalOptions;
  options: OptionValues;
  args: string[];
  io: Io;
}

export interface Command {
  /** Words that select the command, e.g. ['keys', 'create']. */
  path: string[];
  /** Positional arguments after the path, shown in the usage line, e.g. ['<id>']. */
  args: string[];
  /** Required options shown in the usage line, e.g. '--name <name>'. */
  synopsis?: string;
  summary: string;
  options: OptionSpecs;
  /** One line per option: flag and meaning. */
  optionHelp: [string, string][];
  example: string;
  run(context: CommandContext): Promise<number>;
}

const globalOptions = {
  json: { type: 'boolean' },
  'data-dir': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} satisfies OptionSpecs;

const globalHelp: [string, string][] = [
  ['--json', 'machine-readable output on stdout'],
  ['--data-dir <dir>', 'directory holding ledger.db (default: $LEDGER_DATA_DIR or ./data)'],
  ['-h, --help', 'help for the command'],
];

function table(rows: [string, string][]): string {
  const width = Math.max(...rows.map(([left]) => left.length));
  return rows.map(([left, right]) => `  ${left.padEnd(width)}  ${right}`).join('\n');
}

export function commandHelp(command: Command): string {
  const options = [...command.optionHelp, ...globalHelp];
  return [
    `${command.summary}`,
    '',
    `Usage: ${['ledger', ...command.path, ...command.args, command.synopsis, '[options]'].filter(Boolean).join(' ')}`,
    '',
    'Options:',
    table(options),
    '',
    'Example:',
    `  ${command.example}`,
    '',
  ].join('\n');
}

export function generalHelp(commands: Command[], prefix: string[] = []): string {
  const shown = commands.filter((command) => prefix.every((word, index) => command.path[index] === word));
  return [
    'ledger: administer and inspect the payment-issue ledger.',
    '',
    `Usage: ledger ${prefix.length ? `${prefix.join(' ')} ` : ''}<command> [options]`,
    '',
    'Commands:',
    table(shown.map((command) => [[...command.path, ...command.args].join(' '), command.summary])),
    '',
    'Global options:',
    table(globalHelp),
    '',
    'Exit codes: 0 ok, 1 failure, 2 usage error, 3 not found.',
    `Run "ledger ${shown[0]?.path.join(' ') ?? 'keys create'} --help" for a command's options and an example.`,
    '',
  ].join('\n');
}

function parse(argv: string[], options: OptionSpecs) {
  try {
    return parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
}

/** Finds the command and runs it; returns the process exit code. Never throws. */
export async function runCli(argv: string[], commands: Command[], io: Io): Promise<number> {
  let json = argv.includes('--json');
  try {
    // Parse once with every command's options so values are consumed correctly wherever flags appear,
    // then check that the options given belong to the command found.
    const allOptions: OptionSpecs = { ...globalOptions };
    for (const command of commands) Object.assign(allOptions, command.options);
    const { values, positionals } = parse(argv, allOptions);
    json = values.json === true;
    // `ledger help keys create` is `ledger keys create --help`.
    const help = values.help === true || positionals[0] === 'help';
    if (positionals[0] === 'help') positionals.shift();

    const command = commands
      .filter((candidate) => candidate.path.every((word, index) => positionals[index] === word))
      .sort((a, b) => b.path.length - a.path.length)[0];

    if (!command) {
      const group = commands.some((candidate) => candidate.path[0] === positionals[0])
        ? [positionals[0]]
        : [];
      if (help && positionals.length === group.length) {
        io.stdout(generalHelp(commands, group));
        return EXIT.ok;
      }
      if (positionals.length === 0) throw new UsageError('No command given.', generalHelp(commands));
      if (group.length && positionals.length === 1) {
        throw new UsageError(`"ledger ${group[0]}" needs a subcommand.`, generalHelp(commands, group));
      }
      throw new UsageError(
        `Unknown command "${positionals.slice(0, group.length + 1).join(' ')}".`,
        generalHelp(commands, group),
      );
    }

    if (help) {
      io.stdout(commandHelp(command));
      return EXIT.ok;
    }

    const allowed = new Set([...Object.keys(globalOptions), ...Object.keys(command.options)]);
    const foreign = Object.keys(values).filter((name) => !allowed.has(name));
    if (foreign.length) {
      throw new UsageError(
        `Unknown option ${foreign.map((name) => `--${name}`).join(', ')} for "ledger ${command.path.join(' ')}".`,
        commandHelp(command),
      );
    }
    const args = positionals.slice(command.path.length);
    if (args.length !== command.args.length) {
      throw new UsageError(
        `"ledger ${command.path.join(' ')}" takes ${command.args.length ? command.args.join(' ') : 'no arguments'}, got ${
          args.length ? args.map((arg) => `"${arg}"`).join(' ') : 'none'
        }.`,
        commandHelp(command),
      );
    }

    const config = loadConfig(io.env, {
      cwd: io.configCwd ?? io.cwd,
      dataDir: typeof values['data-dir'] === 'string' ? resolve(io.cwd, values['data-dir']) : undefined,
    });
    return await command.run({ globals: { json, config }, options: values, args, io });
  } catch (error) {
    return reportError(error, json, io);
  }
}

function reportError(error: unknown, json: boolean, io: Io): number {
  const code =
    error instanceof UsageError ? EXIT.usage : error instanceof NotFoundError ? EXIT.notFound : EXIT.failure;
  const message = error instanceof Error ? error.message : String(error);
  if (json) {
    io.stdout(`${JSON.stringify({ error: { code, message } })}\n`);
  }
  io.stderr(`ledger: ${message}\n`);
  if (error instanceof UsageError && error.help) io.stderr(`\n${error.help}`);
  if (code === EXIT.failure && error instanceof Error && error.stack && io.env.LEDGER_DEBUG) {
    io.stderr(`${error.stack}\n`);
  }
  return code;
}

/** A required string option, or a usage error naming it. */
export function requiredString(options: OptionValues, name: string): string {
  const value = options[name];
  if (typeof value !== 'string' || value.trim() === '') throw new UsageError(`--${name} is required.`);
  return value;
}

/** A non-negative integer option, or undefined when absent. */
export function optionalInteger(options: OptionValues, name: string): number | undefined {
  const value = options[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !/^\d+$/.test(value)) {
    throw new UsageError(`--${name} must be a non-negative integer, got "${String(value)}".`);
  }
  return Number(value);
}

/**
 * An option that also has an older name kept as an alias (`--from-revision`, alias `--from`): the value
 * under either, with the name that was used; both at once is a usage error.
 */
export function aliasedOption(
  options: OptionValues,
  name: string,
  alias: string,
): { value: OptionValues[string]; usedName: string } {
  if (options[name] !== undefined && options[alias] !== undefined) {
    throw new UsageError(`Give --${name} or its older name --${alias}, not both.`);
  }
  return options[alias] !== undefined
    ? { value: options[alias], usedName: alias }
    : { value: options[name], usedName: name };
}
