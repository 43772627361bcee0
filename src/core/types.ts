// Shared data shapes of the provenance core. Nothing here imports `vscode`.

/** Where one repo path goes into an image: the instruction that bakes it in. */
export interface InputVia {
  /** Repo-relative POSIX path of the Dockerfile. */
  dockerfile: string;
  /** 1-based line of the instruction; null for the Dockerfile itself, its ignore file and configured includes. */
  line: number | null;
  /**
   * Instruction keyword plus its arguments, as written (e.g. `COPY --chmod=755 a.sh /usr/bin/`);
   * `(Dockerfile)`, `(ignore file)` or `(configured include GLOB)` when no instruction bakes it in.
   */
  instruction: string;
  /** Stage name, or its index as a string when unnamed; null where `line` is. */
  stage: string | null;
  /** Destination path inside the image (or mount target for RUN --mount); '' for the Dockerfile/ignore file. */
  destination: string;
}

export interface ExternalInput {
  /** The instruction's keyword: FROM, COPY (--from=<image>), ADD (a URL) or RUN (--mount from=<image>). */
  keyword: string;
  /** The instruction as written, like InputVia.instruction (e.g. `FROM ubuntu:22.04 AS base`). */
  instruction: string;
  line: number;
  /** URL for `ADD <url>`, image reference for `COPY --from=<image>` / `FROM <image>` / `--mount from=<image>`. */
  source: string;
}

export interface DockerfileProblem {
  line: number;
  message: string;
}

export interface AffectsResult {
  path: string;
  affects: boolean;
  via: InputVia[];
}

/** A Docker engine endpoint. */
export interface DockerEndpoint {
  /** e.g. unix:///var/run/docker.sock, tcp://127.0.0.1:2376, ssh://user@host */
  host: string;
  /** Where the endpoint came from: 'target', 'DOCKER_HOST', 'DOCKER_CONTEXT', 'context:<name>', 'default'. */
  source: string;
  tls?: { ca?: string; cert?: string; key?: string; verify: boolean };
  /**
   * A daemon inside a container (`docker-exec://NAME`, configured or found as Docker-in-Docker):
   * reached by `docker system dial-stdio` run in `container` (name or ID) through `outer`'s exec API.
   * `name` is the container's name, what `running[].via` says.
   */
  via?: { outer: DockerEndpoint; container: string; name: string };
}

/** A revision read from an image label. */
export type LabelRevision =
  | { kind: 'sha'; label: string; raw: string; sha: string; dirty: boolean; short: boolean }
  | { kind: 'garbage'; label: string; raw: string; reason: string }
  | { kind: 'none' };

export interface ImageInfo {
  id: string;
  tags: string[];
  /** ISO 8601. */
  created: string;
  labels: Record<string, string>;
  revision: LabelRevision;
  endpoint: string;
}

export interface ContainerInfo {
  id: string;
  name: string;
  imageId: string;
  image: string;
  /** ISO 8601 time the container started. */
  started: string;
  /** ISO 8601 time a stopped container finished (only listed with allContainers). */
  finished?: string;
  state: string;
  labels: Record<string, string>;
  revision: LabelRevision;
  endpoint: string;
  /** The Docker-in-Docker container whose daemon runs it (null or absent: a direct endpoint). */
  via?: string | null;
}

/** An endpoint of a target that could not be read while another one could. */
export interface UnreachableEndpoint {
  endpoint: string;
  reason: string;
  hint: string;
}

export type DockerState =
  | {
      reachable: true;
      endpoint: DockerEndpoint;
      images: ImageInfo[];
      containers: ContainerInfo[];
      /** The target's other endpoints that did not answer: their images and containers are missing here. */
      unreachable?: UnreachableEndpoint[];
      /** Every endpoint read (nested daemons found in Docker-in-Docker containers included): what the editor watches. */
      endpoints?: DockerEndpoint[];
    }
  | { reachable: false; endpoint: DockerEndpoint; reason: string; hint: string };

export interface CommitSummary {
  sha: string;
  subject: string;
  /** ISO 8601 committer date. */
  date: string;
  author?: string;
  files: string[];
}
