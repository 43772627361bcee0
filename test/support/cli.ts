// Runs the `provenance` CLI in-process (src/cli/main.ts) and captures what it prints.
import { main } from '../../src/cli/main';

export interface CliRun {
  code: number;
  out: string;
  err: string;
  json: () => any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

export async function runCli(args: string[], cwd = process.cwd(), env: NodeJS.ProcessEnv = {}): Promise<CliRun> {
  let out = '';
  let err = '';
  const code = await main(args, { out: (s) => (out += s + '\n'), err: (s) => (err += s + '\n'), isTTY: false, env, cwd });
  return { code, out, err, json: () => JSON.parse(out) };
}
