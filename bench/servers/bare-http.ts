import { createServer } from 'node:http';

// The ceiling: Node's HTTP server reading the body and answering 201, nothing else.
const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
    res.writeHead(201, { 'content-type': 'application/json' });
    res.end('{"stream":"x","revision":0,"position":"1"}');
  });
});
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  process.stdout.write(`READY ${typeof address === 'object' && address ? address.port : 0} none\n`);
});
