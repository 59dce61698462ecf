import { given } from '@app/testing';
import type { CommandContext } from '../shared/decider';
import { NotFoundError, RuleViolationError } from '../shared/domain-error';
import type { IssueCommand } from './issue.commands';
import { issueDecider, type IssueState } from './issue.decider';
import { issueStream, type IssueEvent } from './issue.events';

const context: CommandContext = {
  occurredAt: '2026-03-01T10:00:00.000Z',
  now: '2026-03-01T10:00:01.000Z',
  actor: { kind: 'agent', id: 'key-agent', agentId: 'a-17' },
};
const issueId = 'is_1';

const opened: IssueEvent = {
  type: 'IssueOpened',
  data: {
    issueId,
    customerId: 'cu_1',
    category: 'delayed_refund',
    channel: 'email',
    priority: 'normal',
    chargeIds: [],
  },
};
const resolved: IssueEvent = { type: 'IssueResolved', data: { issueId, resolution: 'refunded' } };
const reopened: IssueEvent = { type: 'IssueReopened', data: { issueId, reason: 'Refund never arrived' } };
const closed: IssueEvent = { type: 'IssueClosed', data: { issueId } };
const assigned = (agentId: string): IssueEvent => ({ type: 'IssueAssigned', data: { issueId, agentId } });
const linked = (chargeId: string): IssueEvent => ({ type: 'ChargeLinked', data: { issueId, chargeId } });

type Fields<T extends IssueCommand['type']> = Omit<
  Extract<IssueCommand, { type: T }>,
  'type' | 'issueId' | 'context'
>;
const command = <T extends IssueCommand['type']>(type: T, fields: Fields<T>): IssueCommand =>
  ({ type, issueId, ...fields, context }) as IssueCommand;

const openIssue = (fields: Partial<Fields<'OpenIssue'>> = {}) =>
  command('OpenIssue', { customerId: 'cu_1', category: 'delayed_refund', channel: 'email', ...fields });
const resolve = () => command('ResolveIssue', { resolution: 'explained' });
const reopen = () => command('ReopenIssue', { reason: 'Still charged' });
const close = () => command('CloseIssue', {});
const feedback = (csat = 4) => command('RecordFeedback', { csat });
const followUp = () => command('SendFollowUp', { channel: 'email' });

const existing = (state: IssueState) => {
  if (state.status === 'none') throw new Error('expected an issue');
  return state;
};

/** Every command except OpenIssue, in a valid shape, to check rules that hold for all of them. */
const actingCommands: IssueCommand[] = [
  command('AssignIssue', { agentId: 'a-1' }),
  command('RecordContact', { direction: 'inbound', channel: 'chat' }),
  command('AddNote', { text: 'hi' }),
  command('LinkCharge', { chargeId: 'ch_1' }),
  command('EscalateIssue', { to: 'finance' }),
  resolve(),
  reopen(),
  close(),
  feedback(),
  followUp(),
];

describe('issue decider', () => {
  it('names the stream issue-{issueId}', () => {
    expect(issueStream('is_1')).toBe('issue-is_1');
  });

  describe('OpenIssue', () => {
    it('opens an issue with every field', () => {
      const state = given(issueDecider)
        .when(
          openIssue({
            channel: 'chat',
            priority: 'high',
            chargeIds: ['ch_1', 'ch_2'],
            summary: 'Charged twice',
          }),
        )
        .then([
          {
            type: 'IssueOpened',
            data: {
              issueId,
              customerId: 'cu_1',
              category: 'delayed_refund',
              channel: 'chat',
              priority: 'high',
              chargeIds: ['ch_1', 'ch_2'],
              summary: 'Charged twice',
            },
          },
        ]);
      expect(state).toEqual(
        expect.objectContaining({
          status: 'open',
          chargeIds: ['ch_1', 'ch_2'],
          assigneeId: null,
          resolutionCount: 0,
        }),
      );
    });

    it('defaults priority to normal and chargeIds to none, and drops repeated charge ids', () => {
      given(issueDecider).when(openIssue()).then([opened]);
      given(issueDecider)
        .when(openIssue({ chargeIds: ['ch_1', 'ch_1'] }))
        .then([{ ...opened, data: { ...opened.data, chargeIds: ['ch_1'] } } as IssueEvent]);
    });

    it('changes nothing when the same issue is opened again, even after charges were linked', () => {
      given(issueDecider, [opened]).when(openIssue()).thenNothing();
      given(issueDecider, [opened, linked('ch_9')])
        .when(openIssue({ priority: 'normal', chargeIds: [] }))
        .thenNothing();
    });

    it('refuses the same issue id with other content', () => {
      given(issueDecider, [opened])
        .when(openIssue({ priority: 'urgent' }))
        .thenThrows(RuleViolationError, 'issue-already-exists');
      given(issueDecider, [opened])
        .when(openIssue({ summary: 'other' }))
        .thenThrows(RuleViolationError, 'issue-already-exists');
    });
  });

  it('is 404 for every other command on an issue that does not exist', () => {
    for (const cmd of actingCommands)
      given(issueDecider).when(cmd).thenThrows(NotFoundError, 'issue-not-found');
  });

  describe('AssignIssue', () => {
    it('assigns the agent; reassigns to another', () => {
      const state = given(issueDecider, [opened])
        .when(command('AssignIssue', { agentId: 'a-17' }))
        .then([assigned('a-17')]);
      expect(existing(state).assigneeId).toBe('a-17');
      given(issueDecider, [opened, assigned('a-17')])
        .when(command('AssignIssue', { agentId: 'a-2' }))
        .then([assigned('a-2')]);
    });

    it('changes nothing when assigned to the current assignee', () => {
      given(issueDecider, [opened, assigned('a-17')])
        .when(command('AssignIssue', { agentId: 'a-17' }))
        .thenNothing();
    });
  });

  describe('RecordContact', () => {
    it('records a contact with the agent and summary from the command', () => {
      const state = given(issueDecider, [opened])
        .when(
          command('RecordContact', {
            direction: 'outbound',
            channel: 'phone',
            agentId: 'a-17',
            summary: 'Called back',
          }),
        )
        .then([
          {
            type: 'CustomerContacted',
            data: {
              issueId,
              direction: 'outbound',
              channel: 'phone',
              agentId: 'a-17',
              summary: 'Called back',
            },
          },
        ]);
      expect(existing(state).agentContactCount).toBe(1);
    });

    it('does not count inbound contacts or outbound ones without an agent as agent contacts', () => {
      const inbound = given(issueDecider, [opened])
        .when(command('RecordContact', { direction: 'inbound', channel: 'chat', agentId: 'a-17' }))
        .then([
          {
            type: 'CustomerContacted',
            data: { issueId, direction: 'inbound', channel: 'chat', agentId: 'a-17' },
          },
        ]);
      expect(existing(inbound).agentContactCount).toBe(0);
      const automated = given(issueDecider, [opened])
        .when(command('RecordContact', { direction: 'outbound', channel: 'email' }))
        .then([{ type: 'CustomerContacted', data: { issueId, direction: 'outbound', channel: 'email' } }]);
      expect(existing(automated).agentContactCount).toBe(0);
    });
  });

  describe('AddNote', () => {
    it('adds a note, with the agent when the command names one', () => {
      given(issueDecider, [opened])
        .when(command('AddNote', { text: 'Customer sent a screenshot' }))
        .then([{ type: 'NoteAdded', data: { issueId, text: 'Customer sent a screenshot' } }]);
      given(issueDecider, [opened])
        .when(command('AddNote', { text: 'Checked PSP', agentId: 'a-17' }))
        .then([{ type: 'NoteAdded', data: { issueId, text: 'Checked PSP', agentId: 'a-17' } }]);
    });
  });

  describe('LinkCharge', () => {
    it('links a charge', () => {
      const state = given(issueDecider, [opened])
        .when(command('LinkCharge', { chargeId: 'ch_1' }))
        .then([linked('ch_1')]);
      expect(existing(state).chargeIds).toEqual(['ch_1']);
    });

    it('changes nothing for a charge already linked, at opening or since', () => {
      given(issueDecider, [opened, linked('ch_1')])
        .when(command('LinkCharge', { chargeId: 'ch_1' }))
        .thenNothing();
      given(issueDecider, [{ ...opened, data: { ...opened.data, chargeIds: ['ch_2'] } } as IssueEvent])
        .when(command('LinkCharge', { chargeId: 'ch_2' }))
        .thenNothing();
    });
  });

  describe('EscalateIssue', () => {
    it('escalates with reference and reason', () => {
      const state = given(issueDecider, [opened])
        .when(
          command('EscalateIssue', {
            to: 'payment_provider',
            reference: 'PSP-123',
            reason: 'Settlement missing',
          }),
        )
        .then([
          {
            type: 'IssueEscalated',
            data: { issueId, to: 'payment_provider', reference: 'PSP-123', reason: 'Settlement missing' },
          },
        ]);
      expect(existing(state).escalations).toEqual(['payment_provider']);
    });

    it('escalates with the target only', () => {
      given(issueDecider, [opened, resolved])
        .when(command('EscalateIssue', { to: 'tier2' }))
        .then([{ type: 'IssueEscalated', data: { issueId, to: 'tier2' } }]);
    });
  });

  describe('ResolveIssue', () => {
    it('resolves an open issue, with an optional summary', () => {
      const state = given(issueDecider, [opened])
        .when(command('ResolveIssue', { resolution: 'refunded', summary: 'Refund issued' }))
        .then([
          { type: 'IssueResolved', data: { issueId, resolution: 'refunded', summary: 'Refund issued' } },
        ]);
      expect(state).toEqual(
        expect.objectContaining({ status: 'resolved', resolution: 'refunded', resolutionCount: 1 }),
      );
      given(issueDecider, [opened, resolved, reopened])
        .when(resolve())
        .then([{ type: 'IssueResolved', data: { issueId, resolution: 'explained' } }]);
    });

    it('refuses a resolved issue', () => {
      given(issueDecider, [opened, resolved])
        .when(resolve())
        .thenThrows(RuleViolationError, 'issue-not-open');
    });
  });

  describe('ReopenIssue', () => {
    it('reopens a resolved issue', () => {
      const state = given(issueDecider, [opened, resolved])
        .when(command('ReopenIssue', { reason: 'Refund never arrived' }))
        .then([reopened]);
      expect(state).toEqual(expect.objectContaining({ status: 'open', reopenCount: 1, resolutionCount: 1 }));
      expect(state).not.toHaveProperty('resolution');
    });

    it('refuses an open issue, even one resolved before', () => {
      given(issueDecider, [opened]).when(reopen()).thenThrows(RuleViolationError, 'issue-not-resolved');
      given(issueDecider, [opened, resolved, reopened])
        .when(reopen())
        .thenThrows(RuleViolationError, 'issue-not-resolved');
    });
  });

  describe('CloseIssue', () => {
    it('closes a resolved issue, keeping its resolution', () => {
      const state = given(issueDecider, [opened, resolved]).when(close()).then([closed]);
      expect(state).toEqual(expect.objectContaining({ status: 'closed', resolution: 'refunded' }));
    });

    it('closes an open issue (withdrawn) without a resolution', () => {
      const state = given(issueDecider, [opened]).when(close()).then([closed]);
      expect(state).toEqual(expect.objectContaining({ status: 'closed', resolution: null }));
    });

    it('changes nothing on a closed issue', () => {
      given(issueDecider, [opened, closed]).when(close()).thenNothing();
    });
  });

  describe('RecordFeedback', () => {
    it('records feedback on a resolved or closed issue', () => {
      const state = given(issueDecider, [opened, resolved, closed])
        .when(command('RecordFeedback', { csat: 4, comment: 'Quick and kind' }))
        .then([{ type: 'FeedbackReceived', data: { issueId, csat: 4, comment: 'Quick and kind' } }]);
      expect(existing(state).lastCsat).toBe(4);
      given(issueDecider, [opened, resolved])
        .when(feedback(5))
        .then([{ type: 'FeedbackReceived', data: { issueId, csat: 5 } }]);
    });

    it('accepts feedback on an issue resolved once, then reopened', () => {
      given(issueDecider, [opened, resolved, reopened])
        .when(feedback(1))
        .then([{ type: 'FeedbackReceived', data: { issueId, csat: 1 } }]);
    });

    it('refuses feedback on an issue never resolved, open or withdrawn', () => {
      given(issueDecider, [opened]).when(feedback()).thenThrows(RuleViolationError, 'issue-not-resolved');
      given(issueDecider, [opened, closed])
        .when(feedback())
        .thenThrows(RuleViolationError, 'issue-not-resolved');
    });

    it.each([0, 6, 3.5, Number.NaN])('refuses a CSAT of %p', (csat) => {
      given(issueDecider, [opened, resolved])
        .when(feedback(csat))
        .thenThrows(RuleViolationError, 'invalid-csat');
    });
  });

  describe('SendFollowUp', () => {
    it('records a follow-up in any status, closed included', () => {
      given(issueDecider, [opened, resolved, closed])
        .when(followUp())
        .then([{ type: 'FollowUpSent', data: { issueId, channel: 'email' } }]);
      given(issueDecider, [opened])
        .when(command('SendFollowUp', {}))
        .then([{ type: 'FollowUpSent', data: { issueId } }]);
    });
  });

  describe('a closed issue', () => {
    const closedIssue = [opened, resolved, closed];

    it.each(
      actingCommands
        .filter((cmd) => !['CloseIssue', 'RecordFeedback', 'SendFollowUp'].includes(cmd.type))
        .map((cmd) => [cmd.type, cmd] as const),
    )('refuses %s', (_type, cmd) => {
      given(issueDecider, closedIssue).when(cmd).thenThrows(RuleViolationError, 'issue-closed');
    });

    it('still answers "no change" to a repeat that would change nothing', () => {
      given(issueDecider, [opened, assigned('a-1'), linked('ch_1'), resolved, closed])
        .when(command('AssignIssue', { agentId: 'a-1' }))
        .thenNothing();
      given(issueDecider, [opened, linked('ch_1'), closed])
        .when(command('LinkCharge', { chargeId: 'ch_1' }))
        .thenNothing();
    });
  });

  describe('evolve', () => {
    it('is total: events on an issue that was never opened leave the state unchanged', () => {
      const none = issueDecider.initialState;
      for (const event of [assigned('a-1'), resolved, closed, linked('ch_1')]) {
        expect(issueDecider.evolve(none, event)).toBe(none);
      }
      const open = given(issueDecider, [opened]).state;
      expect(issueDecider.evolve(open, opened)).toBe(open);
    });

    it('keeps the state JSON-serialisable', () => {
      const { state } = given(issueDecider, [
        opened,
        assigned('a-1'),
        linked('ch_1'),
        resolved,
        reopened,
        closed,
      ]);
      expect(JSON.parse(JSON.stringify(state))).toStrictEqual(state);
    });
  });
});
