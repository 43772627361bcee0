// Endpoint resolution against temp docker config dirs; nothing here touches the network.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { rootCertificates } from 'node:tls';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { sshArgs } from '../../src/core/docker/dialStdio';
import {
  DEFAULT_DOCKER_HOST,
  DockerEndpointError,
  dockerodeOptions,
  parseDockerHost,
  resolveDockerEndpoints,
} from '../../src/core/docker/endpoints';

function tempConfigDir(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'bp-docker-config-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function writeContext(configDir: string, name: string, host: string, opts: { skipTLSVerify?: boolean; tls?: string[] } = {}) {
  const id = createHash('sha256').update(name).digest('hex');
  const metaDir = join(configDir, 'contexts', 'meta', id);
  mkdirSync(metaDir, { recursive: true });
  writeFileSync(
    join(metaDir, 'meta.json'),
    JSON.stringify({ Name: name, Metadata: {}, Endpoints: { docker: { Host: host, SkipTLSVerify: opts.skipTLSVerify ?? false } } }),
  );
  if (opts.tls) {
    const tlsDir = join(configDir, 'contexts', 'tls', id, 'docker');
    mkdirSync(tlsDir, { recursive: true });
    for (const f of opts.tls) writeFileSync(join(tlsDir, `${f}.pem`), `${f} data`);
  }
  return id;
}

function setCurrentContext(configDir: string, name: string) {
  writeFileSync(join(configDir, 'config.json'), JSON.stringify({ auths: {}, currentContext: name }));
}

describe('resolveDockerEndpoints precedence', () => {
  test('default socket when nothing is configured', (t) => {
    const dir = tempConfigDir(t);
    assert.deepEqual(resolveDockerEndpoints({ env: {}, dockerConfigDir: dir }), [{ host: DEFAULT_DOCKER_HOST, source: 'default' }]);
  });

  test('target endpoints win over everything, and may be several', (t) => {
    const dir = tempConfigDir(t);
    writeContext(dir, 'remote', 'ssh://me@build-box');
    setCurrentContext(dir, 'remote');
    const eps = resolveDockerEndpoints({
      targetEndpoints: ['unix:///run/user/1000/docker.sock', ' tcp://127.0.0.1:2375 ', '', 'context:remote'],
      env: { DOCKER_HOST: 'tcp://10.0.0.1:2375', DOCKER_CONTEXT: 'nope' },
      dockerConfigDir: dir,
    });
    assert.deepEqual(eps, [
      { host: 'unix:///run/user/1000/docker.sock', source: 'target' },
      { host: 'tcp://127.0.0.1:2375', source: 'target' },
      { host: 'ssh://me@build-box', source: 'target' },
    ]);
  });

  test('an empty target list falls through to DOCKER_HOST', (t) => {
    const dir = tempConfigDir(t);
    const eps = resolveDockerEndpoints({ targetEndpoints: [], env: { DOCKER_HOST: 'unix:///tmp/d.sock', DOCKER_CONTEXT: 'x' }, dockerConfigDir: dir });
    assert.deepEqual(eps, [{ host: 'unix:///tmp/d.sock', source: 'DOCKER_HOST' }]);
  });

  test('DOCKER_CONTEXT beats the current context', (t) => {
    const dir = tempConfigDir(t);
    writeContext(dir, 'a', 'tcp://127.0.0.1:1111');
    writeContext(dir, 'b', 'tcp://127.0.0.1:2222');
    setCurrentContext(dir, 'a');
    assert.deepEqual(resolveDockerEndpoints({ env: { DOCKER_CONTEXT: 'b' }, dockerConfigDir: dir }), [
      { host: 'tcp://127.0.0.1:2222', source: 'DOCKER_CONTEXT' },
    ]);
    assert.deepEqual(resolveDockerEndpoints({ env: {}, dockerConfigDir: dir }), [{ host: 'tcp://127.0.0.1:1111', source: 'context:a' }]);
  });

  test('DOCKER_CONFIG picks the config dir; "default" context is the default socket', (t) => {
    const dir = tempConfigDir(t);
    writeContext(dir, 'rootless', 'unix:///run/user/1000/docker.sock');
    setCurrentContext(dir, 'rootless');
    assert.deepEqual(resolveDockerEndpoints({ env: { DOCKER_CONFIG: dir } }), [
      { host: 'unix:///run/user/1000/docker.sock', source: 'context:rootless' },
    ]);
    setCurrentContext(dir, 'default');
    assert.deepEqual(resolveDockerEndpoints({ env: { DOCKER_CONFIG: dir } }), [{ host: DEFAULT_DOCKER_HOST, source: 'context:default' }]);
  });

  test('context TLS material and SkipTLSVerify', (t) => {
    const dir = tempConfigDir(t);
    const id = writeContext(dir, 'secure', 'tcp://127.0.0.1:2376', { tls: ['ca', 'cert', 'key'] });
    const tlsDir = join(dir, 'contexts', 'tls', id, 'docker');
    assert.deepEqual(resolveDockerEndpoints({ env: { DOCKER_CONTEXT: 'secure' }, dockerConfigDir: dir }), [
      {
        host: 'tcp://127.0.0.1:2376',
        source: 'DOCKER_CONTEXT',
        tls: { verify: true, ca: join(tlsDir, 'ca.pem'), cert: join(tlsDir, 'cert.pem'), key: join(tlsDir, 'key.pem') },
      },
    ]);
    writeContext(dir, 'skip', 'tcp://127.0.0.1:2376', { skipTLSVerify: true });
    assert.deepEqual(resolveDockerEndpoints({ env: { DOCKER_CONTEXT: 'skip' }, dockerConfigDir: dir })[0].tls, { verify: false });
  });

  test('DOCKER_HOST tcp with DOCKER_TLS_VERIFY and DOCKER_CERT_PATH', (t) => {
    const dir = tempConfigDir(t);
    const certs = join(dir, 'certs');
    const [ep] = resolveDockerEndpoints({
      env: { DOCKER_HOST: 'tcp://127.0.0.1', DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: certs },
      dockerConfigDir: dir,
    });
    assert.deepEqual(ep, {
      host: 'tcp://127.0.0.1:2376',
      source: 'DOCKER_HOST',
      tls: { verify: true, ca: join(certs, 'ca.pem'), cert: join(certs, 'cert.pem'), key: join(certs, 'key.pem') },
    });
    // Certificates are read lazily: the missing files surface only when connecting, with the path.
    assert.throws(() => dockerodeOptions(ep), (e: Error) => e instanceof DockerEndpointError && e.message.includes(join(certs, 'ca.pem')));
    // Plain tcp defaults to 2375; a bare host:port is tcp, like the docker CLI.
    assert.deepEqual(resolveDockerEndpoints({ env: { DOCKER_HOST: '127.0.0.1' }, dockerConfigDir: dir }), [
      { host: 'tcp://127.0.0.1:2375', source: 'DOCKER_HOST' },
    ]);
    assert.deepEqual(resolveDockerEndpoints({ env: { DOCKER_HOST: 'localhost:4243' }, dockerConfigDir: dir }), [
      { host: 'tcp://localhost:4243', source: 'DOCKER_HOST' },
    ]);
  });

  test('clear errors for malformed hosts, unknown contexts and broken config', (t) => {
    const dir = tempConfigDir(t);
    const expectError = (fn: () => unknown, re: RegExp) =>
      assert.throws(fn, (e: Error) => e instanceof DockerEndpointError && re.test(e.message), re.source);
    expectError(() => resolveDockerEndpoints({ env: { DOCKER_HOST: 'unix://' }, dockerConfigDir: dir }), /unix socket needs an absolute path.*DOCKER_HOST/);
    expectError(() => resolveDockerEndpoints({ env: { DOCKER_HOST: 'http://x:1' }, dockerConfigDir: dir }), /unsupported scheme "http:\/\/"/);
    expectError(() => resolveDockerEndpoints({ env: { DOCKER_HOST: 'tcp://' }, dockerConfigDir: dir }), /Malformed Docker host "tcp:\/\/"/);
    expectError(() => resolveDockerEndpoints({ env: { DOCKER_HOST: 'tcp://h:99999' }, dockerConfigDir: dir }), /Malformed/);
    expectError(() => resolveDockerEndpoints({ env: { DOCKER_HOST: 'tcp://h:1/path' }, dockerConfigDir: dir }), /unexpected path/);
    expectError(() => resolveDockerEndpoints({ env: { DOCKER_HOST: 'npipe:////./pipe/docker_engine' }, dockerConfigDir: dir }), /only on Windows/);
    expectError(() => resolveDockerEndpoints({ targetEndpoints: ['ssh://u:pw@h'], dockerConfigDir: dir }), /no password.*ssh-agent/);
    expectError(() => resolveDockerEndpoints({ env: { DOCKER_CONTEXT: 'ghost' }, dockerConfigDir: dir }), /context "ghost".*does not exist/);
    writeFileSync(join(dir, 'config.json'), '{ not json');
    expectError(() => resolveDockerEndpoints({ env: {}, dockerConfigDir: dir }), /config\.json is not valid JSON/);
    writeContext(dir, 'hostless', '');
    expectError(() => resolveDockerEndpoints({ env: { DOCKER_CONTEXT: 'hostless' }, dockerConfigDir: dir }), /no Endpoints\.docker\.Host/);
  });

  test('config.json without currentContext falls back to the default socket', (t) => {
    const dir = tempConfigDir(t);
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ auths: {} }));
    assert.deepEqual(resolveDockerEndpoints({ env: {}, dockerConfigDir: dir }), [{ host: DEFAULT_DOCKER_HOST, source: 'default' }]);
  });
});

describe('parseDockerHost', () => {
  test('schemes', () => {
    assert.deepEqual(parseDockerHost('unix:///var/run/docker.sock'), { scheme: 'unix', socketPath: '/var/run/docker.sock' });
    assert.deepEqual(parseDockerHost('tcp://[::1]:2375'), { scheme: 'tcp', hostname: '::1', port: 2375 });
    assert.deepEqual(parseDockerHost('tcp://docker.example', true), { scheme: 'tcp', hostname: 'docker.example', port: 2376 });
    assert.deepEqual(parseDockerHost('ssh://build-box'), { scheme: 'ssh', hostname: 'build-box' });
    assert.deepEqual(parseDockerHost('ssh://ci@build-box:2222'), { scheme: 'ssh', hostname: 'build-box', port: 2222, username: 'ci' });
  });
});

describe('dockerodeOptions', () => {
  test('unix socket clears every tcp key docker-modem would take from the environment', () => {
    const o = dockerodeOptions({ host: 'unix:///tmp/d.sock', source: 'target' });
    assert.equal(o.socketPath, '/tmp/d.sock');
    assert.ok('host' in o && o.host === undefined);
    assert.ok('port' in o && o.port === undefined);
  });

  test('tcp plain and with TLS files', (t) => {
    assert.deepEqual(
      { ...dockerodeOptions({ host: 'tcp://127.0.0.1:2375', source: 'DOCKER_HOST' }) },
      { socketPath: undefined, host: '127.0.0.1', port: 2375, protocol: 'http', username: undefined, ca: undefined, cert: undefined, key: undefined, pathPrefix: '/' },
    );
    const dir = tempConfigDir(t);
    for (const f of ['ca', 'cert', 'key']) writeFileSync(join(dir, `${f}.pem`), `${f}!`);
    const tls = { verify: true, ca: join(dir, 'ca.pem'), cert: join(dir, 'cert.pem'), key: join(dir, 'key.pem') };
    const o = dockerodeOptions({ host: 'tcp://127.0.0.1:2376', source: 'DOCKER_HOST', tls });
    assert.equal(o.protocol, 'https');
    assert.equal(String(o.ca), 'ca!');
    assert.equal(String(o.cert), 'cert!');
    assert.equal(String(o.key), 'key!');
    assert.equal((o as { agent?: unknown }).agent, undefined);
    const skip = dockerodeOptions({ host: 'tcp://127.0.0.1:2376', source: 'context:x', tls: { verify: false } });
    assert.equal(skip.protocol, 'https');
    assert.equal((skip as { agent?: { options: { rejectUnauthorized?: boolean } } }).agent?.options.rejectUnauthorized, false);
  });

  test('verified TLS without a ca.pem trusts Node\'s roots plus NODE_EXTRA_CA_CERTS (which the executable defers)', (t) => {
    const dir = tempConfigDir(t);
    const extra = join(dir, 'corp.pem');
    writeFileSync(extra, '-----BEGIN CERTIFICATE-----\ncorp\n-----END CERTIFICATE-----\n');
    const ep = { host: 'tcp://127.0.0.1:2376', source: 'DOCKER_HOST', tls: { verify: true } };
    const o = dockerodeOptions(ep, { NODE_EXTRA_CA_CERTS: extra });
    assert.ok(Array.isArray(o.ca));
    const ca = o.ca as string[];
    assert.equal(ca.length, rootCertificates.length + 1);
    assert.deepEqual(ca.slice(0, -1), [...rootCertificates]);
    assert.match(ca[ca.length - 1], /corp/);
    assert.equal(dockerodeOptions(ep, {}).ca, undefined, 'no extra file: Node\'s defaults');
    assert.equal(dockerodeOptions(ep, { NODE_EXTRA_CA_CERTS: join(dir, 'missing.pem') }).ca, undefined);
    assert.equal(dockerodeOptions({ ...ep, tls: { verify: false } }, { NODE_EXTRA_CA_CERTS: extra }).ca, undefined, 'unverified TLS trusts nothing anyway');
  });

  test('ssh runs the system ssh (batch mode, host keys checked as ssh does) with dial-stdio over an HTTP agent', () => {
    const o = dockerodeOptions({ host: 'ssh://ci@build-box:2222', source: 'target' }, {});
    assert.equal(o.protocol, 'http');
    assert.equal(o.host, undefined);
    const agent = (o as { agent?: { createConnection?: unknown } }).agent;
    assert.ok(agent && typeof agent.createConnection === 'function');
    assert.deepEqual(sshArgs({ hostname: 'build-box', port: 2222, username: 'ci' }), ['-o', 'BatchMode=yes', '-p', '2222', '-l', 'ci', '--', 'build-box', 'docker', 'system', 'dial-stdio']);
    // No port or user in the URL: ~/.ssh/config decides (Host aliases, User, Port, ProxyJump).
    assert.deepEqual(sshArgs({ hostname: 'gpu' }), ['-o', 'BatchMode=yes', '--', 'gpu', 'docker', 'system', 'dial-stdio']);
    assert.ok(!sshArgs({ hostname: 'gpu' }).some((a) => /StrictHostKeyChecking/i.test(a)));
  });

  test('docker-exec://NAME runs through the target\'s first other endpoint, else the default one', () => {
    const eps = resolveDockerEndpoints({ targetEndpoints: ['unix:///tmp/outer.sock', 'docker-exec://helix-sandbox-nvidia-1'], env: {}, dockerConfigDir: '/nonexistent' });
    assert.deepEqual(eps[1], {
      host: 'docker-exec://helix-sandbox-nvidia-1',
      source: 'target',
      via: { outer: { host: 'unix:///tmp/outer.sock', source: 'target' }, container: 'helix-sandbox-nvidia-1', name: 'helix-sandbox-nvidia-1' },
    });
    const alone = resolveDockerEndpoints({ targetEndpoints: ['docker-exec://sb'], env: { DOCKER_HOST: 'unix:///tmp/h.sock' }, dockerConfigDir: '/nonexistent' });
    assert.deepEqual(alone[0].via?.outer, { host: 'unix:///tmp/h.sock', source: 'DOCKER_HOST' });
    assert.throws(() => parseDockerHost('docker-exec://a;rm -rf'), /expected docker-exec:\/\/CONTAINER/);
    assert.throws(() => resolveDockerEndpoints({ env: { DOCKER_HOST: 'docker-exec://sb' }, dockerConfigDir: '/nonexistent' }), /go in a target's "docker.endpoints"/);
  });
});
