// The real service with notifications on, for integration tests: real auth for the EHR's CDS client, a real store
// (SQLite file or PostgreSQL schema, given so that a second service can open the same one: a restart), the backend
// token flow against a real token server (backend-token-server.ts) with the service's own ES384 key in a key file.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import type { AppBackground } from '../../src/app.js';
import type { AppConfig } from '../../src/config.js';
import { defaultRegistry } from '../../src/dosing/registry.js';
import type { NotificationQueue, Store } from '../../src/store/store.js';
import type { TestClient } from './jwt.js';
import { startApp } from './start-app.js';

export const NOTIFY_SECRET = 'notify-secret-0123456789abcdef';
export const BACKEND_CLIENT_ID = 'pgx-dosing-backend';

/** A private ES384 JWK with a kid, written to a file (what BACKEND_KEY_FILE names). */
export async function writeBackendKey(dir: string, kid = 'backend-key-1'): Promise<string> {
  const { privateKey } = await generateKeyPair('ES384', { extractable: true });
  const jwk: JWK = { ...(await exportJWK(privateKey)), kid, alg: 'ES384' };
  const file = path.join(dir, 'backend-key.json');
  writeFileSync(file, JSON.stringify(jwk), { mode: 0o600 });
  return file;
}

export interface NotifyService {
  url: string;
  config: AppConfig;
  store: Store;
  queue: NotificationQueue;
  background: AppBackground;
  /** POST /notifications with the given secret (default: the right one) */
  notify(body: unknown, secret?: string | null, contentType?: string): Promise<{ status: number; json: any }>;
  /** a CDS hook call signed by the EHR */
  hook(serviceId: string, body: unknown): Promise<{ status: number; json: any }>;
  feedback(serviceId: string, body: unknown): Promise<{ status: number; json: any }>;
  /** until nothing is pending or being worked on */
  idle(timeoutMs?: number): Promise<void>;
  /** stop the HTTP server and the worker; the store stays open unless closeStore */
  stop(closeStore?: boolean): Promise<void>;
}

export async function startNotifyService(o: {
  store: Store;
  ehr: TestClient;
  fhirUrl: string;
  tokenUrl: string;
  keyFile: string;
  worker?: boolean;
  overrides?: Record<string, unknown>;
}): Promise<NotifyService> {
  o.ehr.trusted.fhirServers = [o.fhirUrl];
  const s = await startApp({
    // the data directory is left for the suite's own clean-up of its temp area
    tempDir: { prefix: 'notify-svc-', keep: true },
    config: {
      'fhir.allowInsecureLoopback': true,
      'fhir.allowedServers': [o.fhirUrl],
      'notify.token': NOTIFY_SECRET,
      'notify.clientIss': o.ehr.iss,
      'notify.pollMs': 50,
      'notify.leaseMs': 1000,
      'notify.retryBaseMs': 50,
      'notify.maxAttempts': 3,
      'backend.fhirUrl': o.fhirUrl,
      'backend.tokenUrl': o.tokenUrl,
      'backend.clientId': BACKEND_CLIENT_ID,
      'backend.keyFile': o.keyFile,
      ...(o.overrides ?? {}),
    },
    store: o.store,
    closeStore: (store) => store.close(),
    clients: [o.ehr],
    deps: { evaluators: defaultRegistry({}), notificationWorker: o.worker ?? true },
  });
  const queue = o.store.notifications!()!;
  const signed = async (pathname: string, body: unknown) => {
    const { status, json } = await s.request(pathname, { body: JSON.stringify(body), as: o.ehr });
    return { status, json };
  };
  return {
    url: s.url,
    config: s.config,
    store: o.store,
    queue,
    background: s.background,
    async notify(body, secret = NOTIFY_SECRET, contentType = 'application/fhir+json') {
      const headers = { 'content-type': contentType, ...(secret === null ? {} : { authorization: `Bearer ${secret}` }) };
      const { status, json } = await s.request('/notifications', { body: typeof body === 'string' ? body : JSON.stringify(body), headers });
      return { status, json };
    },
    hook: (id, body) => signed(`/cds-services/${id}`, body),
    feedback: (id, body) => signed(`/cds-services/${id}/feedback`, body),
    async idle(timeoutMs = 15000) {
      const until = Date.now() + timeoutMs;
      for (;;) {
        const c = await queue.counts();
        if (c.pending + c.working === 0) return;
        if (Date.now() > until) throw new Error(`notification queue not idle: ${JSON.stringify(c)}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    stop: (closeStore = false) => s.close({ store: closeStore }),
  };
}
