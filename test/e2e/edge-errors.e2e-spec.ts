import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { startLedger, type LedgerHarness } from '../support/ledger-harness';

const PROBLEM = /^application\/problem\+json/;

/** Writes raw bytes to the server and collects what it answers until it closes the connection. */
function rawExchange(port: number, bytes: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let answer = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (answer += chunk));
    socket.on('error', reject);
    socket.on('close', () => resolve(answer));
    socket.write(bytes);
  });
}

function parseAnswer(answer: string) {
  const [head, body] = answer.split('\r\n\r\n');
  const [statusLine, ...headers] = head.split('\r\n');
  const contentType = headers.find((line) => /^content-type:/i.test(line))?.split(': ')[1];
  return { status: Number(statusLine.split(' ')[1]), contentType, problem: JSON.parse(body) };
}

// What Fastify's router and Node's HTTP parser refuse before any route runs is problem+json too.
describe('edge errors before routing', () => {
  let h: LedgerHarness;
  let port: number;
  beforeAll(async () => {
    h = await startLedger();
    await new Promise<void>((resolve) => h.server.listen(0, '127.0.0.1', resolve));
    port = (h.server.address() as AddressInfo).port;
  });
  afterAll(() => h.close(true));

  it.each(['/charges/%ZZ', '/charges/%', '/charges/%ED%A0%80'])(
    'a path that is not a valid URL (%s) is 400 problem+json',
    async (path) => {
      const res = await request(h.server).get(path).set(h.auth('service'));
      expect(res.status).toBe(400);
      expect(res.headers['content-type']).toMatch(PROBLEM);
      expect(res.body).toEqual(expect.objectContaining({ type: '/errors/validation-failed', status: 400 }));
      expect(res.text).not.toContain(path);
    },
  );

  it('a path segment over 100 characters is 400 problem+json, like any too-long id', async () => {
    const res = await request(h.server)
      .get(`/audit/events/${'x'.repeat(5000)}/proof`)
      .set(h.auth('auditor'));
    expect(res.status).toBe(400);
    expect(res.headers['content-type']).toMatch(PROBLEM);
    expect(res.body.detail).toMatch(/longer than 100 characters/);
  });

  it('a request that is not HTTP is 400 problem+json, and the connection closes', async () => {
    const answer = parseAnswer(await rawExchange(port, 'GARBAGE\r\n\r\n'));
    expect(answer.status).toBe(400);
    expect(answer.contentType).toMatch(PROBLEM);
    expect(answer.problem).toEqual(
      expect.objectContaining({ type: '/errors/validation-failed', status: 400 }),
    );
  });

  it('headers over 16 KiB are 431 problem+json', async () => {
    const answer = parseAnswer(
      await rawExchange(port, `GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`),
    );
    expect(answer.status).toBe(431);
    expect(answer.contentType).toMatch(PROBLEM);
    expect(answer.problem.type).toBe('/errors/headers-too-large');
  });
});
