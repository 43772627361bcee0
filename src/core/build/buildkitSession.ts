// The BuildKit session of one build: `POST /session` upgraded to h2c, on which the engine is the
// gRPC client and we serve what the build asks for. Served: the health check (BuildKit drops a
// session whose health check fails) and secrets (`RUN --mount=type=secret`) from the target's
// `build.secrets`. Registry credentials and ssh forwarding are not served: the engine then pulls
// anonymously, as the classic path does, and an ssh mount is refused (see dockerfileFeatures).
// dockerode's own session (buildImage with version "2") serves credentials only, loads its
// .proto files from its install folder (absent in a bundle) and is closed only when the build
// stream ends, which a cancelled build's never does; hence this one.
import { createHash, randomUUID } from 'node:crypto';
import type { Duplex } from 'node:stream';
import type Dockerode from 'dockerode';
import type * as Grpc from '@grpc/grpc-js';
import type * as Protobuf from 'protobufjs';

export interface BuildKitSession {
  /** The session ID passed to POST /build. */
  id: string;
  /** Secret IDs the build asked for that were not configured. */
  readonly missingSecrets: Set<string>;
  /** Shuts the gRPC server down and closes the connection. Idempotent. */
  close(): void;
}

const live = new Set<BuildKitSession>();

/** Sessions open now (tests check that a build, cancelled or not, leaves none). */
export function openSessionCount(): number {
  return live.size;
}

const METHOD_HEALTH = '/grpc.health.v1.Health/Check';
const METHOD_SECRET = '/moby.buildkit.secrets.v1.Secrets/GetSecret';

const MESSAGES = {
  nested: {
    HealthCheckRequest: { fields: { service: { type: 'string', id: 1 } } },
    HealthCheckResponse: { fields: { status: { type: 'int32', id: 1 } } },
    GetSecretRequest: { fields: { ID: { type: 'string', id: 1 } } },
    GetSecretResponse: { fields: { data: { type: 'bytes', id: 1 } } },
  },
};

type Modem = {
  dial(o: Record<string, unknown>, cb: (err: Error | null, sock: Duplex) => void): void;
};

/**
 * Opens a session on the engine that serves `secrets` (ID → content). Rejects with the engine's
 * error when the engine has no session endpoint. Always close() it after the build.
 */
export async function openBuildKitSession(docker: Dockerode, opts: { secrets: Map<string, Buffer>; contextDir: string; signal?: AbortSignal }): Promise<BuildKitSession> {
  /* eslint-disable @typescript-eslint/no-require-imports */
  const grpc = require('@grpc/grpc-js') as typeof Grpc;
  const protobuf = require('protobufjs') as typeof Protobuf;
  /* eslint-enable @typescript-eslint/no-require-imports */
  const root = protobuf.Root.fromJSON(MESSAGES);
  const codec = <Req, Res>(path: string, req: string, res: string): Grpc.MethodDefinition<Req, Res> => {
    const Rq = root.lookupType(req);
    const Rs = root.lookupType(res);
    return {
      path,
      requestStream: false,
      responseStream: false,
      requestSerialize: (m: Req) => Buffer.from(Rq.encode(Rq.fromObject(m as object)).finish()),
      requestDeserialize: (b: Buffer) => Rq.toObject(Rq.decode(b)) as Req,
      responseSerialize: (m: Res) => Buffer.from(Rs.encode(Rs.fromObject(m as object)).finish()),
      responseDeserialize: (b: Buffer) => Rs.toObject(Rs.decode(b)) as Res,
    };
  };

  const id = randomUUID();
  const socket = await new Promise<Duplex>((resolve, reject) => {
    (docker.modem as unknown as Modem).dial(
      {
        method: 'POST',
        path: '/session',
        hijack: true,
        abortSignal: opts.signal,
        headers: {
          Upgrade: 'h2c',
          'X-Docker-Expose-Session-Uuid': id,
          'X-Docker-Expose-Session-Name': 'build-provenance',
          // The docker CLI keys the engine's context cache by the context directory the same way.
          'X-Docker-Expose-Session-Sharedkey': createHash('sha256').update(opts.contextDir).digest('hex'),
          // One header line per method (Node sends an array as repeated headers).
          'X-Docker-Expose-Session-Grpc-Method': [METHOD_HEALTH, METHOD_SECRET],
        },
        statusCodes: { 101: true, 200: true, 400: 'bad request', 404: 'no session endpoint', 500: 'server error' },
      },
      (err, sock) => (err ? reject(err) : resolve(sock)),
    );
  });

  const missingSecrets = new Set<string>();
  const server = new grpc.Server();
  server.addService(
    { Check: codec<{ service?: string }, { status: number }>(METHOD_HEALTH, 'HealthCheckRequest', 'HealthCheckResponse') },
    { Check: (_call: unknown, cb: Grpc.sendUnaryData<{ status: number }>) => cb(null, { status: 1 /* SERVING */ }) },
  );
  server.addService(
    { GetSecret: codec<{ ID?: string }, { data: Buffer }>(METHOD_SECRET, 'GetSecretRequest', 'GetSecretResponse') },
    {
      GetSecret: (call: Grpc.ServerUnaryCall<{ ID?: string }, { data: Buffer }>, cb: Grpc.sendUnaryData<{ data: Buffer }>) => {
        const key = call.request.ID ?? '';
        const data = opts.secrets.get(key);
        if (data) return cb(null, { data });
        missingSecrets.add(key);
        // BuildKit turns NotFound into "secret <id> not found" (or skips a mount that is not required).
        cb({ code: grpc.status.NOT_FOUND, details: `secret ${key} is not configured in build.secrets` });
      },
    },
  );
  server.createConnectionInjector(grpc.ServerCredentials.createInsecure()).injectConnection(socket);

  let closed = false;
  const session: BuildKitSession = {
    id,
    missingSecrets,
    close() {
      if (closed) return;
      closed = true;
      live.delete(session);
      server.forceShutdown();
      socket.destroy();
    },
  };
  live.add(session);
  socket.on('error', () => undefined);
  socket.on('close', () => session.close());
  return session;
}
