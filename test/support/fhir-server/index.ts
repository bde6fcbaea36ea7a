// Starts the test FHIR server (./server.ts) as a child process on an ephemeral port, for jest integration tests.
//
//   const fhir = await startFhirServer({ token: 'abc', seed: [patient, obs] });
//   ... fhir.url ... await fhir.admin.setFault({ mode: 'error500' }) ... await fhir.admin.requests()
//   await fhir.stop();
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import type { FaultConfig, RequestLogEntry, SubscriptionTopicOffer } from './app.js';
import type { Delivery } from './delivery.js';

export type { FaultConfig, FaultMode, RequestLogEntry, SubscriptionTopicOffer } from './app.js';
export type { Delivery } from './delivery.js';

export interface StartFhirServerOptions {
  /** Accepted bearer token(s); when set, every request except /metadata needs `Authorization: Bearer <token>`. */
  token?: string | string[];
  /** Resources loaded before the promise resolves: an array of resources or a Bundle (transaction/batch/collection). */
  seed?: object[] | object;
  /** Advertise SMART OAuth endpoints in /metadata and /.well-known/smart-configuration. */
  smart?: { authorizeUrl: string; tokenUrl: string };
  /** Also accept bearer JWTs signed by this JWKS (e.g. the SMART authorization server's); see app.ts. */
  jwksUrl?: string;
  /** Page size when the client sends no _count (server default 20). */
  defaultCount?: number;
  /** Backport IG topics to advertise in /metadata (and define as R4 Basic resources); see app.ts. */
  subscriptionTopics?: SubscriptionTopicOffer[];
  /** Notify matching rest-hook Subscriptions of creates and updates made through the FHIR API (delivery.ts). */
  deliverNotifications?: boolean;
  /** Start-up timeout in ms (default 20000). */
  timeoutMs?: number;
}

export interface FhirAdmin {
  setFault(fault: FaultConfig): Promise<void>;
  requests(): Promise<RequestLogEntry[]>;
  clearRequests(): Promise<void>;
  /** Deletes every resource, the request log and the fault. */
  reset(): Promise<void>;
  /** Replaces the accepted bearer tokens ([] = no auth check). */
  setTokens(tokens: string[]): Promise<void>;
  /** The notifications sent so far (deliverNotifications), once those queued have been sent. */
  deliveries(): Promise<Delivery[]>;
}

export interface RunningFhirServer {
  /** Base URL, e.g. http://127.0.0.1:41234 (no trailing slash, FHIR at the root path). */
  url: string;
  pid: number;
  admin: FhirAdmin;
  /** Validates and stores resources (array of resources or Bundle); rejects with the server's OperationOutcome text. */
  seed(resources: object[] | object): Promise<void>;
  stop(): Promise<void>;
}

const SERVER_ENTRY = fileURLToPath(new URL('./server.ts', import.meta.url));
const PROJECT_ROOT = path.resolve(path.dirname(SERVER_ENTRY), '../../..');

const live = new Set<ChildProcess>();
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const c of live) c.kill('SIGKILL');
  });
}

async function adminCall(base: string, method: string, route: string, body?: unknown): Promise<unknown> {
  const res = await fetch(`${base}/__admin/${route}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  if (!res.ok) {
    let detail = text;
    try {
      const oo = JSON.parse(text) as { resourceType?: string; issue?: { diagnostics?: string; details?: { text?: string } }[] };
      if (oo.resourceType === 'OperationOutcome') detail = (oo.issue ?? []).map((i) => i.diagnostics ?? i.details?.text).join('; ');
    } catch {
      /* keep the raw text */
    }
    throw new Error(`FHIR test server admin ${method} /__admin/${route} failed (${res.status}): ${detail}`);
  }
  return text ? JSON.parse(text) : undefined;
}

export async function startFhirServer(opts: StartFhirServerOptions = {}): Promise<RunningFhirServer> {
  installExitHook();
  const tokens = opts.token === undefined ? [] : Array.isArray(opts.token) ? opts.token : [opts.token];
  if (tokens.some((t) => t.includes(','))) throw new Error('startFhirServer: tokens must not contain commas');
  const args = ['--experimental-websocket', '--no-warnings', '--import', 'tsx', SERVER_ENTRY, '--port', '0', '--exit-on-stdin-close'];
  if (opts.smart) args.push('--smart-authorize', opts.smart.authorizeUrl, '--smart-token', opts.smart.tokenUrl);
  if (opts.defaultCount !== undefined) args.push('--default-count', String(opts.defaultCount));
  if (opts.jwksUrl) args.push('--jwks-url', opts.jwksUrl);
  if (opts.subscriptionTopics) args.push('--subscription-topics', JSON.stringify(opts.subscriptionTopics));
  if (opts.deliverNotifications) args.push('--deliver-notifications');
  const env: NodeJS.ProcessEnv = { ...process.env, FHIR_BEARER_TOKEN: tokens.join(',') };
  // Options meant for the parent (jest's --experimental-vm-modules etc.) must not leak into the child.
  delete env['NODE_OPTIONS'];
  delete env['FHIR_SEED_FILE'];
  delete env['FHIR_PORT'];
  delete env['FHIR_JWKS_URL'];
  delete env['FHIR_SUBSCRIPTION_TOPICS'];
  delete env['FHIR_DELIVER_NOTIFICATIONS'];

  const child = spawn(process.execPath, args, { cwd: PROJECT_ROOT, env, stdio: ['pipe', 'pipe', 'pipe'] });
  live.add(child);
  let stderr = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (d: string) => {
    stderr = (stderr + d).slice(-8000);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.once('exit', () => live.delete(child));

  const kill = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const t = setTimeout(() => child.kill('SIGKILL'), 2000);
    await exited;
    clearTimeout(t);
  };

  const timeoutMs = opts.timeoutMs ?? 20000;
  let ready: { url: string; pid: number };
  try {
    ready = await new Promise((resolve, reject) => {
      let buf = '';
      const timer = setTimeout(() => reject(new Error(`FHIR test server did not become ready within ${timeoutMs} ms. stderr:\n${stderr}`)), timeoutMs);
      child.stdout!.setEncoding('utf8');
      child.stdout!.on('data', (d: string) => {
        buf += d;
        let nl: number;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, nl).trim();
          buf = buf.slice(nl + 1);
          if (!line.startsWith('{')) continue;
          try {
            const msg = JSON.parse(line) as { ready?: boolean; url?: string; pid?: number; error?: string };
            clearTimeout(timer);
            if (msg.ready && msg.url) resolve({ url: msg.url, pid: msg.pid ?? child.pid ?? 0 });
            else reject(new Error(`FHIR test server failed to start: ${msg.error ?? line}\nstderr:\n${stderr}`));
          } catch {
            /* not our line */
          }
        }
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`FHIR test server exited before ready (code ${code}, signal ${signal}). stderr:\n${stderr}`));
      });
      child.once('error', (err) => {
        clearTimeout(timer);
        reject(new Error(`FHIR test server could not be spawned: ${err.message}`));
      });
    });
  } catch (err) {
    await kill();
    throw err;
  }
  // Keep draining stdout; don't let the child keep the parent's event loop alive.
  child.stdout!.resume();
  child.unref();
  for (const s of [child.stdin, child.stdout, child.stderr]) (s as unknown as { unref?: () => void } | null)?.unref?.();

  const base = ready.url;
  const seed = async (resources: object[] | object): Promise<void> => {
    await adminCall(base, 'POST', 'seed', resources);
  };
  const server: RunningFhirServer = {
    url: base,
    pid: ready.pid,
    seed,
    admin: {
      setFault: async (fault) => void (await adminCall(base, 'POST', 'fault', fault)),
      requests: async () => (await adminCall(base, 'GET', 'requests')) as RequestLogEntry[],
      clearRequests: async () => void (await adminCall(base, 'DELETE', 'requests')),
      reset: async () => void (await adminCall(base, 'POST', 'reset')),
      setTokens: async (t) => void (await adminCall(base, 'PUT', 'tokens', { tokens: t })),
      deliveries: async () => (await adminCall(base, 'GET', 'deliveries')) as Delivery[],
    },
    stop: kill,
  };
  if (opts.seed !== undefined) {
    try {
      await seed(opts.seed);
    } catch (err) {
      await kill();
      throw err;
    }
  }
  return server;
}
