/**
 * npm run bench:audit — the auditor's operations over a generated ledger (default 1,000,000 events):
 * - `verify`: every hash chain recomputed from the stored canonical bytes, stream heads included, over the
 *   SQLite file on its own read-only connection (what GET /audit/verify and `ledger verify` run): events/s,
 *   median of BENCH_VERIFY_RUNS runs;
 * - replay of one 10,000-event stream as of the middle of its recorded history: p50/p99 of repeated runs;
 * - Merkle inclusion and consistency proofs from the stored tree (built over the whole ledger), against
 *   published signed digests, and their verification: p50/p99.
 *   BENCH_EVENTS=1000000 BENCH_VERIFY_RUNS=3 npm run bench:audit
 */
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqlite, SqliteDigestStore, SqliteEventStore, SqliteVerificationSource } from '@app/event-store';
import {
  LedgerProofs,
  MerkleTreeBuilder,
  replayStream,
  signDigest,
  storedRoot,
  verifyConsistency,
  verifyInclusion,
  verifyLedger,
  type NewEvent,
} from '@app/ledger';
import { appendLedgerHistory } from './support/ledger-history';
import { percentile } from './support/percentile';

const EVENTS = Number(process.env.BENCH_EVENTS ?? 1_000_000);
const VERIFY_RUNS = Number(process.env.BENCH_VERIFY_RUNS ?? 3);
const STREAM_EVENTS = 10_000;
const REPLAYS = Number(process.env.BENCH_REPLAYS ?? 100);
const PROOFS = Number(process.env.BENCH_PROOFS ?? 2000);

const median = (values: number[]) =>
  percentile(
    [...values].sort((a, b) => a - b),
    50,
  );
const ms = (value: number) => `${value.toFixed(3)} ms`;

function latencies(samples: number[]) {
  const sorted = [...samples].sort((a, b) => a - b);
  return { p50: percentile(sorted, 50), p99: percentile(sorted, 99), max: sorted[sorted.length - 1] };
}

/** One issue with STREAM_EVENTS events, one recorded every second, appended in chunks. */
async function appendLongStream(store: SqliteEventStore, issueId: string): Promise<{ middle: string }> {
  const start = Date.UTC(2026, 0, 1);
  const at = (i: number) => new Date(start + i * 1000).toISOString();
  const event = (i: number): NewEvent => ({
    type: i === 0 ? 'IssueOpened' : i % 3 === 0 ? 'IssueAssigned' : 'NoteAdded',
    schemaVersion: 1,
    data:
      i === 0
        ? {
            issueId,
            customerId: 'cu-long',
            category: 'other',
            channel: 'email',
            priority: 'normal',
            chargeIds: [],
          }
        : i % 3 === 0
          ? { issueId, agentId: `a-${i % 17}` }
          : { issueId, text: `note ${i}` },
    metadata: {
      eventId: randomUUID(),
      occurredAt: at(i),
      recordedAt: at(i),
      actor: { kind: 'agent', id: 'bench', agentId: 'a-1' },
      correlationId: randomUUID(),
      causationId: null,
      schemaVersion: 1,
    },
  });
  const stream = `issue-${issueId}`;
  for (let from = 0; from < STREAM_EVENTS; from += 1000) {
    const chunk = Array.from({ length: Math.min(1000, STREAM_EVENTS - from) }, (_, k) => event(from + k));
    await store.append(stream, chunk, from === 0 ? 'no_stream' : from - 1);
  }
  return { middle: at(STREAM_EVENTS / 2 - 1) };
}

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'ledger-bench-audit-'));
  const file = join(dir, 'ledger.db');
  try {
    const writer = SqliteEventStore.open(file);
    let started = Date.now();
    let lastReport = 0;
    const generated = await appendLedgerHistory(writer, 5, EVENTS - STREAM_EVENTS, (count) => {
      if (Date.now() - lastReport < 1000) return;
      lastReport = Date.now();
      process.stderr.write(`\rgenerating: ${count.toLocaleString('en')} events`);
    });
    const { middle } = await appendLongStream(writer, 'long-stream');
    await writer.close();
    const total = generated + STREAM_EVENTS;
    process.stderr.write(
      `\rgenerated ${total.toLocaleString('en')} events in ${((Date.now() - started) / 1000).toFixed(1)} s\n`,
    );

    // verify
    const source = new SqliteVerificationSource(file);
    const runs: number[] = [];
    let checked = 0;
    for (let run = 0; run < VERIFY_RUNS; run++) {
      const report = await verifyLedger(source);
      if (!report.ok)
        throw new Error(`the generated ledger does not verify: ${JSON.stringify(report.firstBroken)}`);
      checked = report.checked;
      runs.push(report.eventsPerSecond);
      process.stderr.write(
        `verify run ${run + 1}: ${report.eventsPerSecond.toLocaleString('en')} events/s\n`,
      );
    }

    // replay
    const db = openSqlite(file);
    const eventStore = new SqliteEventStore(db);
    const replayTimes: number[] = [];
    let applied = 0;
    for (let i = 0; i < REPLAYS + 5; i++) {
      const t0 = performance.now();
      const replay = await replayStream(eventStore, 'issue-long-stream', {
        kind: 'asOf',
        at: new Date(middle),
      });
      const elapsed = performance.now() - t0;
      if (i >= 5) replayTimes.push(elapsed);
      applied = replay.eventsApplied;
    }
    const replay = latencies(replayTimes);

    // proofs
    const tree = new SqliteDigestStore(db);
    started = Date.now();
    const size = await new MerkleTreeBuilder(eventStore, tree, { batchSize: 5000 }).catchUp();
    const treeSeconds = (Date.now() - started) / 1000;
    const { privateKey } = generateKeyPairSync('ed25519');
    const half = Math.floor(size / 2);
    for (const treeSize of [half, size]) {
      const rootHash = (await storedRoot(tree, treeSize)).toString('hex');
      await tree.saveDigest(
        signDigest({ treeSize, rootHash, createdAt: new Date().toISOString() }, privateKey),
      );
    }
    const proofs = new LedgerProofs(tree);
    const generate: number[] = [];
    const check: number[] = [];
    const consistencyGenerate: number[] = [];
    const consistencyCheck: number[] = [];
    let failures = 0;
    for (let i = 0; i < PROOFS; i++) {
      const leaf = await tree.leafBySequence(Math.floor(Math.random() * size));
      let t0 = performance.now();
      const answer = await proofs.inclusion(leaf!.eventId);
      generate.push(performance.now() - t0);
      const root = Buffer.from(answer.digest.rootHash, 'hex');
      const path = answer.proof.map((hash) => Buffer.from(hash, 'hex'));
      t0 = performance.now();
      const ok = await verifyInclusion(
        answer.leafIndex,
        answer.treeSize,
        Buffer.from(answer.leafHash, 'hex'),
        path,
        root,
      );
      check.push(performance.now() - t0);
      if (!ok) failures++;
      if (i % 10 === 0) {
        t0 = performance.now();
        const consistency = await proofs.consistency(half, size);
        consistencyGenerate.push(performance.now() - t0);
        t0 = performance.now();
        const consistent = await verifyConsistency(
          half,
          size,
          Buffer.from(consistency.from.rootHash, 'hex'),
          Buffer.from(consistency.to.rootHash, 'hex'),
          consistency.proof.map((hash) => Buffer.from(hash, 'hex')),
        );
        consistencyCheck.push(performance.now() - t0);
        if (!consistent) failures++;
      }
    }
    await eventStore.close();
    db.close();

    const verifyRate = median(runs);
    const inclusion = latencies(generate);
    const inclusionCheck = latencies(check);
    const consistency = latencies(consistencyGenerate);
    const consistencyVerify = latencies(consistencyCheck);
    console.log(
      `\nledger of ${checked.toLocaleString('en')} events (SQLite, ${dir}); the machine is shared, figures are noisy`,
    );
    console.log(
      `verify, whole ledger:  ${verifyRate.toLocaleString('en').padStart(9)} events/s (median of ${VERIFY_RUNS}: ` +
        `${runs.map((r) => r.toLocaleString('en')).join(', ')}; target >= 300,000)`,
    );
    console.log(
      `replay of a ${STREAM_EVENTS.toLocaleString('en')}-event stream as of its middle (${applied} events applied): ` +
        `p50 ${ms(replay.p50)}, p99 ${ms(replay.p99)}, max ${ms(replay.max)} over ${REPLAYS} runs (target < 50 ms)`,
    );
    console.log(`Merkle tree over ${size.toLocaleString('en')} leaves built in ${treeSeconds.toFixed(1)} s`);
    console.log(
      `inclusion proof, generate (stored tree, digest ${size}): p50 ${ms(inclusion.p50)}, p99 ${ms(inclusion.p99)} ` +
        `over ${PROOFS} (target p99 < 2 ms)`,
    );
    console.log(`inclusion proof, verify: p50 ${ms(inclusionCheck.p50)}, p99 ${ms(inclusionCheck.p99)}`);
    console.log(
      `consistency proof ${half} -> ${size}, generate: p50 ${ms(consistency.p50)}, p99 ${ms(consistency.p99)}; ` +
        `verify: p50 ${ms(consistencyVerify.p50)}, p99 ${ms(consistencyVerify.p99)} over ${consistencyGenerate.length}`,
    );
    if (failures > 0) throw new Error(`${failures} proofs did not verify`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
