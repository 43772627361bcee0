// DialSocket and dialAgent as Node's HTTP client uses them: many requests on one kept-alive
// connection (a long-lived editor's queries of one sandbox). The pipe here is a loopback TCP
// connection to an in-process HTTP server, standing in for `docker system dial-stdio`'s stdio.
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { DialError, DialSocket, dialAgent, dialSsh } from '../../src/core/docker/dialStdio';

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

test('ssh that gives up before the request is written: the error is what ssh said, not the broken pipe', async () => {
  // A stand-in for the system ssh that cannot connect: it stops reading at once (a write to it is
  // EPIPE from then on), says why on stderr, and exits a little later, as ssh does on a refused port.
  const dir = mkdtempSync(join(tmpdir(), 'bp-fake-ssh-'));
  try {
    writeFileSync(join(dir, 'ssh'), '#!/bin/sh\nexec 0<&-\necho "ssh: connect to host 127.0.0.1 port 1: Connection refused" >&2\nsleep 0.3\nexit 255\n');
    chmodSync(join(dir, 'ssh'), 0o755);
    const sock = dialSsh({ hostname: '127.0.0.1', port: 1 }, 'ssh to ssh://127.0.0.1:1', { ...process.env, PATH: `${dir}:${process.env.PATH}` });
    await new Promise((r) => setTimeout(r, 150)); // ssh has closed its stdin by now
    const err = await new Promise<Error>((resolve) => {
      sock.on('error', resolve);
      sock.write('GET /_ping HTTP/1.1\r\nHost: docker\r\n\r\n');
    });
    assert.ok(err instanceof DialError, `${err.name}: ${err.message} (${(err as NodeJS.ErrnoException).code})`);
    assert.match(err.message, /Connection refused/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
