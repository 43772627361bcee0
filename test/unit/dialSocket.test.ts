// DialSocket and dialAgent as Node's HTTP client uses them: many requests on one kept-alive
// connection (a long-lived editor's queries of one sandbox). The pipe here is a loopback TCP
// connection to an in-process HTTP server, standing in for `docker system dial-stdio`'s stdio.
import assert from 'node:assert/strict';
import { createServer, request, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { DialSocket, dialAgent } from '../../src/core/docker/dialStdio';

let server: Server;
let port = 0;
const sockets: DialSocket[] = [];

before(async () => {
  server = createServer((_req, res) => res.end('ok'));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
});
after(() => server.close());

function dial(): DialSocket {
  const sock = new DialSocket('exec', 'test dial');
  const tcp = connect(port, '127.0.0.1', () =>
    sock.attach({ write: (c, cb) => tcp.write(c, cb), close: () => tcp.destroy(), ref: () => tcp.ref(), unref: () => tcp.unref() }),
  );
  tcp.on('data', (c) => sock.feed(c));
  tcp.on('end', () => sock.end_(undefined));
  tcp.on('error', (e) => sock.end_(e.message));
  sockets.push(sock);
  return sock;
}

function get(agent: ReturnType<typeof dialAgent>): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({ host: 'sandbox', path: '/_ping', agent, timeout: 5000 }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve(body));
    });
    req.on('error', reject);
    req.end();
  });
}

test('requests on one kept-alive dialled connection do not pile up timeout listeners', async () => {
  const warnings: Error[] = [];
  const onWarning = (w: Error) => warnings.push(w);
  process.on('warning', onWarning);
  const agent = dialAgent(dial);
  try {
    for (let i = 0; i < 30; i++) assert.equal(await get(agent), 'ok');
    assert.equal(sockets.length, 1, 'one connection served every request');
    assert.ok(sockets[0].listenerCount('timeout') <= 2, `timeout listeners: ${sockets[0].listenerCount('timeout')}`);
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(warnings.map((w) => w.message), []);
  } finally {
    process.off('warning', onWarning);
    agent.destroy();
  }
});
