import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

const ROOT = join(__dirname, '..', '..');

export interface BenchServer {
  child: ChildProcess;
  port: number;
  /** An admin API key the server printed. */
  key: string;
}

/**
 * Starts one of bench/servers/*.ts pinned to CPU 0 (the client runs on CPU 1), in production mode, and
 * resolves once it prints `READY <port> <key>`. BENCH_NODE_ARGS adds Node flags, e.g.
 * BENCH_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" to profile it.
 */
export function startBenchServer(script: string, env: Record<string, string> = {}): Promise<BenchServer> {
  const child = spawn(
    'taskset',
    [
      '-c',
      '0',
      process.execPath,
      ...(process.env.BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? []),
      join(ROOT, 'scripts/run-ts.mjs'),
      join(ROOT, script),
    ],
    { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, NODE_ENV: 'production', ...env } },
  );
  return new Promise((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const m = /^READY (\d+) (\S+)$/.exec(line);
      if (m) resolve({ child, port: Number(m[1]), key: m[2] });
    });
    child.on('exit', (code) => reject(new Error(`${script} exited with ${code}`)));
  });
}
