/**
 * npm run bench:commands — durable command throughput of the ledger over loopback, beside two baselines
 * measured in the same run on the same bodies: a bare node:http server (the ceiling) and a Nest route with
 * the same Fastify hooks, DTO validation and CommandBus but no storage (the framework's own cost).
 * Servers run pinned to CPU 0, the load generator (autocannon, 50 connections) to CPU 1.
 *   BENCH_DURATION=10 BENCH_CONNECTIONS=50 npm run bench:commands
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import autocannon from 'autocannon';

const DURATION = Number(process.env.BENCH_DURATION ?? 10);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 3);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const POOL = 500;
const ROOT = join(__dirname, '..');

interface Server {
  child: ChildProcess;
  port: number;
  key: string;
}

function pin(cpu: number, pid: number) {
  try {
    execFileSync('taskset', ['-a', '-cp', String(cpu), String(pid)], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function startServer(script: string): Promise<Server> {
  const child = spawn(
    'taskset',
    ['-c', '0', process.execPath, join(ROOT, 'scripts/run-ts.mjs'), join(ROOT, script)],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, NODE_ENV: 'production' },
    },
  );
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      const m = /^READY (\d+) (\S+)$/.exec(line);
      if (m) resolve({ child, port: Number(m[1]), key: m[2] });
    });
    child.on('exit', (code) => reject(new Error(`${script} exited with ${code}`)));
  });
}

const run = Date.now().toString(36);
let counter = 0;
const pool = Array.from({ length: POOL }, (_, i) => `bench-${run}-${i}`);
const pick = () => pool[Math.floor(Math.random() * POOL)];

/** A realistic mix: new charges and issues, then actions on existing issues. */
function nextRequest(): { path: string; body: Record<string, unknown> } {
  const n = counter++;
  const slot = n % 20;
  const id = `${run}-${n}`;
  if (slot < 6) {
    return {
      path: '/charges',
      body: {
        chargeId: `ch-${id}`,
        customerId: `cu-${n % 5000}`,
        amount: 500 + (n % 20000),
        currency: 'EUR',
        outcome: slot === 5 ? 'declined' : 'succeeded',
        ...(slot === 5 ? { declineCode: 'insufficient_funds' } : { provider: 'stripe', method: 'card' }),
      },
    };
  }
  if (slot < 10) {
    return {
      path: '/issues',
      body: {
        issueId: `is-${id}`,
        customerId: `cu-${n % 5000}`,
        category: 'delayed_refund',
        channel: 'email',
        priority: 'normal',
        summary: 'Refund not received after 10 days',
      },
    };
  }
  if (slot < 15)
    return { path: `/issues/${pick()}/notes`, body: { text: `Checked with the provider, reference ${id}` } };
  if (slot < 18) {
    return {
      path: `/issues/${pick()}/contacts`,
      body: { direction: 'outbound', channel: 'phone', agentId: `a-${n % 40}` },
    };
  }
  return { path: `/issues/${pick()}/assign`, body: { agentId: `a-${n % 40}` } };
}

async function seedPool(server: Server) {
  for (const issueId of pool) {
    const res = await fetch(`http://127.0.0.1:${server.port}/issues`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${server.key}` },
      body: JSON.stringify({ issueId, customerId: 'cu-seed', category: 'payment_failed', channel: 'chat' }),
    });
    if (res.status !== 201) throw new Error(`seeding failed: ${res.status} ${await res.text()}`);
  }
}

async function load(server: Server, seconds: number) {
  const result = await autocannon({
    url: `http://127.0.0.1:${server.port}`,
    connections: CONNECTIONS,
    duration: seconds,
    requests: [
      {
        method: 'POST',
        setupRequest: (req) => {
          const { path, body } = nextRequest();
          return {
            ...req,
            path,
            headers: { 'content-type': 'application/json', authorization: `Bearer ${server.key}` },
            body: JSON.stringify(body),
          };
        },
      },
    ],
  });
  return {
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
    total: result.requests.total,
  };
}

async function measure(name: string, script: string, seed: boolean) {
  const server = await startServer(script);
  try {
    if (seed) await seedPool(server);
    process.stderr.write(`${name}: warm-up ${WARMUP}s, then ${DURATION}s at ${CONNECTIONS} connections...\n`);
    await load(server, WARMUP);
    return { name, ...(await load(server, DURATION)) };
  } finally {
    server.child.kill('SIGTERM');
  }
}

async function main() {
  const pinned = pin(1, process.pid);
  if (!pinned) process.stderr.write('taskset unavailable: server and load generator share cores\n');
  const bare = await measure('bare node:http (ceiling)', 'bench/servers/bare-http.ts', false);
  const nest = await measure('Nest + validation, no storage', 'bench/servers/nest-baseline.ts', false);
  const ledger = await measure('ledger (durable commands)', 'bench/servers/ledger.ts', true);
  const rows = [bare, nest, ledger];
  const fmt = (n: number, d = 0) => n.toFixed(d).padStart(9);
  console.log(
    `\n${'target'.padEnd(32)}${'req/s'.padStart(9)}${'p50 ms'.padStart(9)}${'p99 ms'.padStart(9)}${'non-2xx'.padStart(9)}${'errors'.padStart(9)}`,
  );
  for (const r of rows)
    console.log(
      `${r.name.padEnd(32)}${fmt(r.rps)}${fmt(r.p50, 1)}${fmt(r.p99, 1)}${fmt(r.non2xx)}${fmt(r.errors)}`,
    );
  console.log(
    `\nledger / framework baseline: ${((ledger.rps / nest.rps) * 100).toFixed(1)}% (target >= 50%)`,
  );
  console.log(`ledger / bare ceiling:       ${((ledger.rps / bare.rps) * 100).toFixed(1)}%`);
  console.log(`ledger p99: ${ledger.p99} ms (target < 30 ms); non-2xx: ${ledger.non2xx} (target 0)`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
