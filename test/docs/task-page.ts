import { spawn } from 'node:child_process';

/**
 * The conventions of the task pages (docs/tasks/*.md), which docs/README.md states for their authors:
 *
 * - every ```sh block is run, in page order, in one bash session (variables carry from block to block),
 *   with `set -e -o pipefail`: a failing command fails the page;
 * - `<!-- not run: <reason> -->` on the line before a block leaves it out (starting the server, which the
 *   test does itself); the reason is required;
 * - `<!-- exits <n> -->` before a block: the block must end with status n (it runs in a subshell, so a
 *   failure is expected there and its variables do not carry);
 * - a ```text block right after a run block (blank lines between at most) is what the block prints on
 *   stdout. In it `…` stands for any text within a line (ids, times, hashes), and a line holding only `…`
 *   for any number of lines.
 */
export interface PageBlock {
  /** 1-based line of the opening fence, for messages. */
  line: number;
  script: string;
  run: boolean;
  skipReason: string | null;
  expectedExit: number;
  expectedOutput: string | null;
}

interface Fence {
  line: number;
  info: string;
  body: string;
  /** The last non-blank line before the fence. */
  before: string;
  /** Whether only blank lines separate this fence from the previous fence's closing line. */
  followsFence: boolean;
}

function fences(markdown: string): Fence[] {
  const lines = markdown.split('\n');
  const found: Fence[] = [];
  let lastClose = -2;
  for (let i = 0; i < lines.length; i += 1) {
    const open = /^```(\S*)\s*$/.exec(lines[i]);
    if (!open) continue;
    let end = i + 1;
    while (end < lines.length && !/^```\s*$/.test(lines[end])) end += 1;
    if (end === lines.length) throw new Error(`line ${i + 1}: a fence that is never closed`);
    let previous = i - 1;
    while (previous >= 0 && lines[previous].trim() === '') previous -= 1;
    found.push({
      line: i + 1,
      info: open[1],
      body: lines.slice(i + 1, end).join('\n'),
      before: previous >= 0 ? lines[previous].trim() : '',
      followsFence: previous === lastClose,
    });
    lastClose = end;
    i = end;
  }
  return found;
}

/** The shell blocks of a page with what the page says each must do. */
export function parseTaskPage(markdown: string): PageBlock[] {
  const blocks: PageBlock[] = [];
  for (const fence of fences(markdown)) {
    if (fence.info === 'sh') {
      const skip = /^<!-- not run: (.+) -->$/.exec(fence.before);
      if (fence.before.startsWith('<!-- not run') && !skip) {
        throw new Error(`line ${fence.line}: "<!-- not run: <reason> -->" needs its reason`);
      }
      const exits = /^<!-- exits (\d+) -->$/.exec(fence.before);
      blocks.push({
        line: fence.line,
        script: fence.body,
        run: !skip,
        skipReason: skip ? skip[1] : null,
        expectedExit: exits ? Number(exits[1]) : 0,
        expectedOutput: null,
      });
    } else if (fence.info === 'text' && fence.followsFence) {
      const previous = blocks.at(-1);
      if (previous && previous.run && previous.expectedOutput === null && fence.line > previous.line) {
        previous.expectedOutput = fence.body;
      }
    }
  }
  return blocks;
}

const normalise = (text: string): string =>
  text
    .split('\n')
    .map((line) => line.trimEnd())
    .join('\n')
    .replace(/^\n+|\n+$/g, '');

const escapeRegExp = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Whether `actual` is what `expected` shows, `…` standing for any text (a line of `…`: any lines). */
export function matchesShownOutput(expected: string, actual: string): boolean {
  const pattern = normalise(expected)
    .split('\n')
    .map((line) =>
      line.trim() === '…' ? '(?:[^\\n]*\\n)*?' : `${line.split('…').map(escapeRegExp).join('[^\\n]*?')}\\n`,
    )
    .join('');
  return new RegExp(`^${pattern}$`).test(`${normalise(actual)}\n`);
}

export interface BlockResult {
  block: PageBlock;
  /** null when the session ended before the block did. */
  status: number | null;
  stdout: string;
}

export interface SessionResult {
  results: BlockResult[];
  stderr: string;
}

const MARK = '\u001eblock';

/** Runs a page's run blocks in one bash session in `cwd` and splits stdout by block. */
export function runTaskPage(
  blocks: PageBlock[],
  options: { cwd: string; env: Record<string, string> },
): Promise<SessionResult> {
  const runnable = blocks.filter((block) => block.run);
  const script = runnable
    .map((block, index) => {
      const begin = `printf '\\n${MARK} ${index} begin\\n'`;
      const body =
        block.expectedExit === 0
          ? `set -e -o pipefail\n${block.script}\nset +e +o pipefail\n__status=0`
          : `(\nset -e -o pipefail\n${block.script}\n)\n__status=$?`;
      return `${begin}\n${body}\nprintf '\\n${MARK} ${index} end %s\\n' "$__status"`;
    })
    .join('\n');
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['--noprofile', '--norc', '-s'], {
      cwd: options.cwd,
      env: options.env,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', () => {
      const results = runnable.map((block, index): BlockResult => {
        const begin = stdout.indexOf(`\n${MARK} ${index} begin\n`);
        if (begin === -1) return { block, status: null, stdout: '' };
        const from = begin + `\n${MARK} ${index} begin\n`.length;
        const end = new RegExp(`\\n${MARK} ${index} end (\\d+)\\n`).exec(stdout.slice(from));
        if (!end) return { block, status: null, stdout: stdout.slice(from) };
        return { block, status: Number(end[1]), stdout: stdout.slice(from, from + end.index) };
      });
      resolve({ results, stderr });
    });
    child.stdin.end(script);
  });
}
