// Child processes of the bench that announce their port on stdout: the cached-answer FHIR stand-in
// (bench/fhir-replay.ts), used by `npm run bench` (bench/run.ts) and the notification bench (bench/notify.ts).
import { spawn, type ChildProcess } from 'node:child_process';

export interface Proc { child: ChildProcess; url: string; pid: number }

export function waitLine(child: ChildProcess, re: RegExp, ms: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let buf = '';
    const t = setTimeout(() => reject(new Error(`timeout waiting for ${re}: ${buf.slice(-500)}`)), ms);
    const on = (d: Buffer) => {
      buf += String(d);
      const m = re.exec(buf);
      if (m) {
        clearTimeout(t);
        resolve(m[0]);
      }
    };
    child.stdout?.on('data', on);
    child.stderr?.on('data', on);
  });
}

/** The cached-answer FHIR stand-in (bench/fhir-replay.ts) in front of `upstream`, accepting `bearer`. */
export async function startFhirReplay(upstream: string, bearer: string): Promise<Proc> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/fhir-replay.ts', upstream, bearer], { env: { ...process.env, NODE_OPTIONS: '' }, stdio: ['ignore', 'pipe', 'pipe'] });
  const line = await waitLine(child, /\{"ready":true,"port":\d+\}/, 20000);
  const port = (JSON.parse(line) as { port: number }).port;
  return { child, url: `http://127.0.0.1:${port}`, pid: child.pid! };
}
