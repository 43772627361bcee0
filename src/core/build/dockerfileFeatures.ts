// What a Dockerfile asks of the builder, read before it is sent: a `# syntax=` frontend, syntax
// that an older built-in frontend does not know, and the secret and ssh mounts its RUN steps need.
// The build uses it to explain an engine error in one line, and to say which secret is missing.
// Pure: text in, facts out.
import { lexDockerfile, parseCsvFlag, parseFlags } from '../inputs/dockerfileSyntax';

/** Syntax newer than Docker Engine 20.10's built-in Dockerfile frontend (1.2). */
export interface NewerSyntax {
  /** What it is, for people: "a heredoc (RUN <<EOF)". */
  what: string;
  line: number;
  /** The Dockerfile syntax version that made it stable. */
  syntax: string;
  /** The first Docker Engine release whose built-in frontend knows it. */
  engine: string;
}

export interface SecretMount {
  id: string;
  line: number;
  required: boolean;
}

export interface DockerfileFeatures {
  /** The `# syntax=` parser directive's image, or null. */
  syntax: { image: string; line: number } | null;
  newerSyntax: NewerSyntax[];
  /** Whether any RUN has a --mount (the classic builder refuses them all). */
  mounts: boolean;
  secrets: SecretMount[];
  /** Lines of `--mount=type=ssh`. */
  ssh: number[];
}

/** Parser directives: `# key=value` lines before anything else (https://docs.docker.com/reference/dockerfile/#parser-directives). */
function syntaxDirective(text: string): { image: string; line: number } | null {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const m = /^#\s*([A-Za-z]+)\s*=\s*(.*?)\s*$/.exec(lines[i]);
    if (!m) return null;
    if (m[1].toLowerCase() === 'syntax' && m[2]) return { image: m[2], line: i + 1 };
  }
  return null;
}

// Docker Engine 20.10 ships frontend 1.2; 22.06 was never released, so 23.0 (BuildKit 0.10,
// frontend 1.4) is the first engine that knows anything of 1.3 and 1.4.
// https://docs.docker.com/build/buildkit/dockerfile-release-notes/
const ENGINE_FOR_1_4 = '23.0';

export function dockerfileFeatures(text: string): DockerfileFeatures {
  const lexed = lexDockerfile(text);
  const out: DockerfileFeatures = { syntax: syntaxDirective(text), newerSyntax: [], mounts: false, secrets: [], ssh: [] };
  for (const ins of lexed.instructions) {
    if (ins.heredocs.length > 0) {
      out.newerSyntax.push({ what: `a heredoc (${ins.keyword} <<${ins.heredocs[0].name})`, line: ins.line, syntax: '1.4', engine: ENGINE_FOR_1_4 });
    }
    if (ins.keyword !== 'RUN' && ins.keyword !== 'COPY' && ins.keyword !== 'ADD') continue;
    const { flags } = parseFlags(ins.args, lexed.escape);
    for (const [name, value] of flags) {
      if (name === 'link' && ins.keyword !== 'RUN') {
        out.newerSyntax.push({ what: `${ins.keyword} --link`, line: ins.line, syntax: '1.4', engine: ENGINE_FOR_1_4 });
      } else if (name === 'network' && ins.keyword === 'RUN') {
        out.newerSyntax.push({ what: 'RUN --network', line: ins.line, syntax: '1.3', engine: ENGINE_FOR_1_4 });
      } else if (name === 'mount' && ins.keyword === 'RUN') {
        out.mounts = true;
        const kv = new Map(parseCsvFlag(value));
        const type = (kv.get('type') ?? 'bind').toLowerCase();
        const req = kv.get('required');
        const required = req !== undefined && (req === '' || req.toLowerCase() === 'true');
        if (type === 'secret') {
          // The id defaults to the target's base name (BuildKit: `id` or basename of `target`).
          const target = kv.get('target') ?? kv.get('dst') ?? kv.get('destination');
          const id = kv.get('id') || (target ? target.replace(/\/+$/, '').split('/').pop() ?? '' : '');
          if (id) out.secrets.push({ id, line: ins.line, required });
        } else if (type === 'ssh') {
          out.ssh.push(ins.line);
        }
      }
    }
  }
  return out;
}
