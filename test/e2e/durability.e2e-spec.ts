import { verifyStreamChain } from '@app/ledger';
import { startLedger, tempDataDir } from '../support/ledger-harness';
import request from 'supertest';
import { given, post, uniqueIds } from '../support/http';

describe('durability and concurrency', () => {
  it('a ledger closed and reopened on the same file sees every event, and every chain verifies', async () => {
    const dataDir = tempDataDir();
    const first = await startLedger(dataDir);
    const ids = uniqueIds();
    await given.charge(first, ids);
    await given.refund(first, ids);
    await given.issue(first, ids);
    await post(first, 'agent', `/issues/${ids.issue}/charges`, { chargeId: ids.charge });
    await given.churned(first, ids);
    const before = await first.allEvents();
    await first.close();

    const second = await startLedger(dataDir, first.keys);
    try {
      const after = await second.allEvents();
      expect(after.map((e) => [e.stream, e.revision, e.position, e.metadata.hash])).toEqual(
        before.map((e) => [e.stream, e.revision, e.position, e.metadata.hash]),
      );
      const streams = [...new Set(after.map((e) => e.stream))];
      expect(streams).toHaveLength(3);
      for (const stream of streams) {
        const verdict = verifyStreamChain(await second.eventStore.readStream(stream));
        expect(verdict).toEqual(expect.objectContaining({ ok: true, firstBroken: null }));
      }
      // The keys made before the restart still authenticate.
      const note = await post(second, 'agent', `/issues/${ids.issue}/notes`, { text: 'after restart' });
      expect(note.status).toBe(201);
      expect(note.body.revision).toBe(2);
    } finally {
      await second.close(true);
    }
  });

  it('20 concurrent commands on one issue without If-Match all succeed or fail cleanly; revisions are gap-free', async () => {
    const h = await startLedger();
    try {
      const ids = uniqueIds();
      await given.issue(h, ids);
      const responses = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          post(h, 'agent', `/issues/${ids.issue}/notes`, { text: `note ${i}` }),
        ),
      );
      for (const res of responses) {
        expect([201, 409]).toContain(res.status);
        if (res.status === 409) expect(res.body.type).toBe('/errors/concurrent-modification');
      }
      const succeeded = responses.filter((r) => r.status === 201);
      const succeededTexts = responses.flatMap((r, i) => (r.status === 201 ? [`note ${i}`] : [])).sort();
      const events = await h.eventStore.readStream(`issue-${ids.issue}`);
      expect(events.map((e) => e.revision)).toEqual(events.map((_, i) => i));
      expect(events).toHaveLength(1 + succeeded.length);
      const texts = events
        .slice(1)
        .map((e) => e.data.text)
        .sort();
      expect(texts).toEqual(succeededTexts);
      expect(new Set(succeeded.map((r) => r.body.revision)).size).toBe(succeeded.length);
      expect(verifyStreamChain(events).ok).toBe(true);
    } finally {
      await h.close(true);
    }
  });

  it('the same Idempotency-Key sent at once to two ledgers on one file executes once; every answer is the first', async () => {
    const dataDir = tempDataDir();
    const a = await startLedger(dataDir);
    const b = await startLedger(dataDir, a.keys);
    try {
      const ids = uniqueIds();
      await given.issue(a, ids);
      const headers = { 'Idempotency-Key': `race-${ids.issue}` };
      const body = { text: 'sent twice by a retrying client' };
      const responses = await Promise.all(
        Array.from({ length: 16 }, (_, i) =>
          post(i % 2 ? b : a, 'agent', `/issues/${ids.issue}/notes`, body, headers),
        ),
      );
      // A duplicate in flight in either process is told to retry (409); nothing may be a 5xx or a second event.
      for (const res of responses) expect([201, 409]).toContain(res.status);
      const created = responses.filter((r) => r.status === 201);
      expect(created.length).toBeGreaterThan(0);
      expect(new Set(created.map((r) => r.text)).size).toBe(1);
      for (const res of responses.filter((r) => r.status === 409)) {
        expect(res.body.type).toBe('/errors/idempotency-key-in-use');
      }
      const events = await a.eventStore.readStream(`issue-${ids.issue}`);
      expect(events.map((e) => e.type)).toEqual(['IssueOpened', 'NoteAdded']);
    } finally {
      await b.close();
      await a.close(true);
    }
  });

  it('two ledgers on one file each decide on what the other appended (no stale state)', async () => {
    const dataDir = tempDataDir();
    const a = await startLedger(dataDir);
    const b = await startLedger(dataDir, a.keys);
    try {
      const ids = uniqueIds();
      const path = `/issues/${ids.issue}`;
      await given.issue(a, ids);
      expect((await post(a, 'agent', `${path}/notes`, { text: 'A has folded the issue' })).status).toBe(201);
      expect((await post(b, 'agent', `${path}/resolve`, { resolution: 'refunded' })).status).toBe(201);
      // A last saw the issue open: reopening only works if it reads what B appended.
      const reopened = await post(a, 'agent', `${path}/reopen`, { reason: 'still charged twice' });
      expect(reopened.status).toBe(201);
      expect(reopened.body.revision).toBe(3);
      expect((await post(b, 'agent', `${path}/resolve`, { resolution: 'refunded' })).status).toBe(201);
      const closed = await post(b, 'service', `${path}/close`);
      expect(closed.status).toBe(201);
      const late = await post(a, 'agent', `${path}/notes`, { text: 'A still thinks it is resolved' });
      expect(late.status).toBe(409);
      expect(late.body.type).toBe('/errors/issue-closed');
      // A's read models learn of B's commits through their own projector (read-your-writes via minPosition).
      const summary = await request(a.server)
        .get(`${path}?minPosition=${closed.body.position}`)
        .set(a.auth('agent'));
      expect(summary.status).toBe(200);
      expect(summary.headers.etag).toBe('"5"');
    } finally {
      await b.close();
      await a.close(true);
    }
  });
});
