import { eventStoreDbTarget } from './eventstoredb-target';

describe('eventStoreDbTarget', () => {
  it.each([
    ['esdb://127.0.0.1:9?tls=false', '127.0.0.1:9'],
    ['esdb://admin:changeit@localhost:2113', 'localhost:2113'],
    [
      'esdb+discover://ledger:p%40ss@node1:2113,node2:2113,node3:2113?tls=true',
      'node1:2113,node2:2113,node3:2113',
    ],
    ['http://localhost:2113', 'an unreadable address'],
  ])('names the hosts of %s and nothing else', (connectionString, hosts) => {
    expect(eventStoreDbTarget(connectionString).hosts).toBe(hosts);
  });

  it('removes the credentials, as written and decoded, from any text that quotes them', () => {
    const connectionString = 'esdb+discover://ledger:p%40ss@node1:2113?tls=true';
    const { redact } = eventStoreDbTarget(connectionString);
    expect(redact(`bad string ${connectionString}`)).toBe('bad string ***');
    expect(redact('user ledger:p%40ss at node1')).toBe('user *** at node1');
    expect(redact('password p@ss refused')).toBe('password *** refused');
    expect(redact('connect ECONNREFUSED 127.0.0.1:9')).toBe('connect ECONNREFUSED 127.0.0.1:9');
  });
});
