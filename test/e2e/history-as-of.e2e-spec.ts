import { randomUUID } from 'node:crypto';
import { startLedger, type LedgerHarness } from '../support/ledger-harness';
import { get } from '../support/http';
import { tellAsOfStory, type AsOfStory } from '../support/as-of-story';

type Item = { stream: string; revision: number; type: string; position: number | string };
const brief = (items: Item[]) => items.map((item) => `${item.stream}@${item.revision} ${item.type}`);

describe('history as of an instant: audit events and the issue timeline', () => {
  let h: LedgerHarness;
  let story: AsOfStory;
  beforeAll(async () => {
    h = await startLedger();
    story = await tellAsOfStory(h);
  });
  afterAll(() => h.close(true));

  const timeline = async (query: string) => {
    const res = await get(
      h,
      'analyst',
      `/issues/${story.ids.issue}/timeline?minPosition=${story.position}&${query}`,
    );
    return res;
  };

  describe('GET /issues/:issueId/timeline', () => {
    it('without a cut-off, composes every linked charge (as before)', async () => {
      const res = await timeline('limit=500');
      expect(res.status).toBe(200);
      expect(res.body.at).toBeUndefined();
      expect(brief(res.body.items)).toEqual([
        `charge-${story.ids.charge}@0 ChargeSucceeded`,
        `issue-${story.ids.issue}@0 IssueOpened`,
        `charge-${story.chargeB}@0 ChargeSucceeded`,
        `charge-${story.ids.charge}@1 RefundRequested`,
        `issue-${story.ids.issue}@1 ChargeLinked`,
        `issue-${story.ids.issue}@2 NoteAdded`,
      ]);
    });

    it('asOf (recorded time): what was recorded by then; a charge linked later contributes nothing', async () => {
      const { ids, chargeB } = story;
      const atT1 = await timeline(`asOf=${story.t1}`);
      expect(atT1.status).toBe(200);
      expect(atT1.body).toMatchObject({
        issueId: ids.issue,
        at: { asOf: story.t1 },
        streams: [`issue-${ids.issue}`, `charge-${ids.charge}`],
        nextCursor: null,
      });
      expect(brief(atT1.body.items)).toEqual([
        `charge-${ids.charge}@0 ChargeSucceeded`,
        `issue-${ids.issue}@0 IssueOpened`,
      ]);
      // Charge B was recorded before t2 but linked after it: left out, with its stream.
      const atT2 = await timeline(`asOf=${story.t2}`);
      expect(atT2.body.streams).toEqual([`issue-${ids.issue}`, `charge-${ids.charge}`]);
      expect(brief(atT2.body.items)).toEqual([
        `charge-${ids.charge}@0 ChargeSucceeded`,
        `issue-${ids.issue}@0 IssueOpened`,
        `charge-${ids.charge}@1 RefundRequested`,
      ]);
      expect(JSON.stringify(atT2.body)).not.toContain(chargeB);
      // The entries are the timeline's own, unchanged.
      const full = await timeline('limit=500');
      expect(atT2.body.items).toEqual(full.body.items.slice(0, 2).concat(full.body.items[3]));
    });

    it('asOf before the issue was opened: 200 with no entries (the issue exists now)', async () => {
      const res = await timeline(`asOf=${story.t0}`);
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ items: [], streams: [`issue-${story.ids.issue}`], nextCursor: null });
    });

    it('occurredAt (business time): what had happened by then, back-dated facts included', async () => {
      const { ids, chargeB } = story;
      const mid = await timeline('occurredAt=2026-01-16T00:00:00Z');
      expect(mid.status).toBe(200);
      expect(mid.body.at).toEqual({ occurredAt: '2026-01-16T00:00:00.000Z' });
      // The note, recorded last but dated 01-15, is in; B, linked on 01-20, is not.
      expect(brief(mid.body.items)).toEqual([
        `charge-${ids.charge}@0 ChargeSucceeded`,
        `issue-${ids.issue}@0 IssueOpened`,
        `charge-${ids.charge}@1 RefundRequested`,
        `issue-${ids.issue}@2 NoteAdded`,
      ]);
      // Once linked, B brings what happened to it before the link (01-05).
      const linked = await timeline('occurredAt=2026-01-20T00:00:00Z');
      expect(linked.body.streams).toEqual([
        `issue-${ids.issue}`,
        `charge-${ids.charge}`,
        `charge-${chargeB}`,
      ]);
      expect(brief(linked.body.items)).toEqual([
        `charge-${ids.charge}@0 ChargeSucceeded`,
        `issue-${ids.issue}@0 IssueOpened`,
        `charge-${chargeB}@0 ChargeSucceeded`,
        `charge-${ids.charge}@1 RefundRequested`,
        `issue-${ids.issue}@1 ChargeLinked`,
        `issue-${ids.issue}@2 NoteAdded`,
      ]);
    });

    it('pages as of a cut-off with limit and nextCursor, in ledger order', async () => {
      const whole = await timeline('occurredAt=2026-01-20T00:00:00Z');
      const pages: Item[] = [];
      let cursor: string | null = null;
      let calls = 0;
      do {
        const res = await timeline(
          `occurredAt=2026-01-20T00:00:00Z&limit=2${cursor ? `&cursor=${cursor}` : ''}`,
        );
        expect(res.status).toBe(200);
        expect(res.body.items.length).toBeLessThanOrEqual(2);
        pages.push(...res.body.items);
        cursor = res.body.nextCursor;
      } while (cursor && ++calls < 10);
      expect(pages).toEqual(whole.body.items);
    });

    it('refuses a malformed instant, both cut-offs, or a cursor of another listing, with 400', async () => {
      const cases: [string, string[]][] = [
        ['asOf=yesterday', ['asOf']],
        ['occurredAt=2026-W10', ['occurredAt']],
        [`asOf=${story.t1}&occurredAt=2026-01-16T00:00:00Z`, ['asOf', 'occurredAt']],
        ['asOf=2026-01-16T00:00:00Z&cursor=bm90LWEtY3Vyc29y', ['cursor']],
      ];
      for (const [query, fields] of cases) {
        const res = await timeline(query);
        expect({ query, status: res.status, type: res.body.type }).toEqual({
          query,
          status: 400,
          type: '/errors/validation-failed',
        });
        expect(res.body.errors.map((e: { field: string }) => e.field)).toEqual(fields);
      }
      const page = await timeline('limit=1');
      const foreign = await timeline(`asOf=${story.t2}&cursor=${page.body.nextCursor}`);
      expect(foreign.status).toBe(400);
    });
  });

  describe('GET /audit/streams/:stream/events', () => {
    const events = (stream: string, query: string) =>
      get(h, 'auditor', `/audit/streams/${stream}/events?${query}`);
    const revisions = (res: { body: { items: Item[] } }) => res.body.items.map((item) => item.revision);

    it('asOf: the events recorded at or before the instant; occurredAt: those that occurred by then', async () => {
      const issue = `issue-${story.ids.issue}`;
      const asOf = await events(issue, `asOf=${story.t2}`);
      expect(asOf.status).toBe(200);
      expect(asOf.body).toMatchObject({ stream: issue, at: { asOf: story.t2 }, nextFromRevision: null });
      expect(revisions(asOf)).toEqual([0]);
      const occurred = await events(issue, 'occurredAt=2026-01-16T00:00:00Z');
      expect(occurred.body.at).toEqual({ occurredAt: '2026-01-16T00:00:00.000Z' });
      expect(revisions(occurred)).toEqual([0, 2]);
      expect(revisions(await events(issue, `asOf=${story.t0}`))).toEqual([]);
      // The stored events themselves, unmodified.
      const all = await events(issue, '');
      expect(occurred.body.items).toEqual([all.body.items[0], all.body.items[2]]);
      const charge = `charge-${story.ids.charge}`;
      expect(revisions(await events(charge, `asOf=${story.t2}&fromRevision=1`))).toEqual([1]);
      expect(revisions(await events(charge, `asOf=${story.t1}&fromRevision=1`))).toEqual([]);
    });

    it('holds exactly the events GET /audit/streams/:stream/state folds for the same cut-off', async () => {
      const { ids, chargeB } = story;
      const cutOffs = [
        `asOf=${story.t0}`,
        `asOf=${story.t1}`,
        `asOf=${story.t2}`,
        `asOf=${new Date().toISOString()}`,
        'occurredAt=2026-01-06T00:00:00Z',
        'occurredAt=2026-01-11T00:00:00Z',
        'occurredAt=2026-01-16T00:00:00Z',
        'occurredAt=2026-02-01T00:00:00Z',
      ];
      for (const stream of [`issue-${ids.issue}`, `charge-${ids.charge}`, `charge-${chargeB}`]) {
        for (const cutOff of cutOffs) {
          const state = await get(h, 'auditor', `/audit/streams/${stream}/state?${cutOff}`);
          expect(state.status).toBe(200);
          const skipped = new Set<number>(state.body.skippedRevisions ?? []);
          const folded = Array.from({ length: state.body.revision + 1 }, (_, revision) => revision).filter(
            (revision) => !skipped.has(revision),
          );
          const listed = revisions(await events(stream, cutOff));
          expect({ stream, cutOff, revisions: listed }).toEqual({ stream, cutOff, revisions: folded });
          expect(listed.length).toBe(state.body.eventsApplied);
        }
      }
    });

    it('pages with limit and nextFromRevision within the cut-off', async () => {
      const issue = `issue-${story.ids.issue}`;
      const first = await events(issue, 'occurredAt=2026-01-16T00:00:00Z&limit=1');
      expect(revisions(first)).toEqual([0]);
      expect(first.body.nextFromRevision).toBe(1);
      const second = await events(issue, `occurredAt=2026-01-16T00:00:00Z&limit=1&fromRevision=1`);
      expect(revisions(second)).toEqual([2]);
    });

    it('asOf is a prefix: an event recorded after the instant ends the stream there, as in the replay', async () => {
      // A clock that stepped back: revision 2 carries an earlier recordedAt than revision 1.
      const stream = `customer-clk${randomUUID().slice(0, 8)}`;
      const event = (recordedAt: string) => ({
        type: 'CustomerChurned',
        schemaVersion: 1,
        data: { customerId: stream.slice('customer-'.length), kind: 'voluntary' },
        metadata: {
          eventId: randomUUID(),
          occurredAt: recordedAt,
          recordedAt,
          actor: { kind: 'system' as const, id: 'test' },
          correlationId: randomUUID(),
          causationId: null,
          schemaVersion: 1,
        },
      });
      await h.eventStore.append(
        stream,
        [
          event('2026-02-01T10:00:00.000Z'),
          event('2026-02-01T12:00:00.000Z'),
          event('2026-02-01T11:00:00.000Z'),
        ],
        'no_stream',
      );
      expect(revisions(await events(stream, 'asOf=2026-02-01T11:30:00Z'))).toEqual([0]);
      expect(revisions(await events(stream, 'asOf=2026-02-01T11:30:00Z&fromRevision=2'))).toEqual([]);
      expect(revisions(await events(stream, 'occurredAt=2026-02-01T11:30:00Z'))).toEqual([0, 2]);
    });

    it('refuses what the state route refuses, with the same 400s; only auditors read it', async () => {
      const issue = `issue-${story.ids.issue}`;
      const both = await events(issue, `asOf=${story.t1}&occurredAt=2026-01-16T00:00:00Z`);
      expect(both.status).toBe(400);
      expect(both.body.errors).toEqual([
        { field: 'asOf', message: 'only one of asOf, occurredAt' },
        { field: 'occurredAt', message: 'only one of asOf, occurredAt' },
      ]);
      for (const [query, field] of [
        ['asOf=not-a-time', 'asOf'],
        ['occurredAt=2026-060', 'occurredAt'],
        ['fromRevision=-1', 'fromRevision'],
        ['limit=1001', 'limit'],
      ]) {
        const res = await events(issue, query);
        expect({
          query,
          status: res.status,
          fields: res.body.errors?.map((e: { field: string }) => e.field),
        }).toEqual({ query, status: 400, fields: [field] });
      }
      expect((await get(h, 'analyst', `/audit/streams/${issue}/events?asOf=${story.t1}`)).status).toBe(403);
      // Card data in a cut-off is refused before validation, as in any query value.
      for (const path of [
        `/audit/streams/${issue}/events?asOf=4111111111111111`,
        `/issues/${story.ids.issue}/timeline?occurredAt=4111 1111 1111 1111`,
      ]) {
        const res = await get(h, 'auditor', path);
        expect({ path, status: res.status, type: res.body.type }).toEqual({
          path,
          status: 422,
          type: '/errors/card-data-refused',
        });
      }
    });
  });
});
