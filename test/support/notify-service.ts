// The real service with notifications on, for integration tests: real auth for the EHR's CDS client, a real store
// (SQLite file or PostgreSQL schema, given so that a second service can open the same one: a restart), the backend
// token flow against a real token server (backend-token-server.ts) with the service's own ES384 key in a key file.
import { mkdtempSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import { createApp, type AppBackground } from '../../src/app.js';
import { loadServiceCatalog } from '../../src/cds/services.js';
import { CardTemplates } from '../../src/cards/render.js';
import { loadConfig, type AppConfig } from '../../src/config.js';
import { DrugDictionary } from '../../src/domain/drugs.js';
import { defaultRegistry } from '../../src/dosing/registry.js';
import { createLogger } from '../../src/observability/logger.js';
import type { NotificationQueue, Store } from '../../src/store/store.js';
import type { TestClient } from './jwt.js';
import { trustedClientsFor } from './jwt.js';
import { freePort } from './service.js';

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
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const dir = mkdtempSync(path.join(tmpdir(), 'notify-svc-'));
  const config = loadConfig(
    {},
    {
      port,
      publicBaseUrl: url,
      dataDir: dir,
      logLevel: 'silent',
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
  );
  o.ehr.trusted.fhirServers = [o.fhirUrl];
  const app = createApp({
    config,
    logger: createLogger(config.logLevel),
    catalog: loadServiceCatalog(),
    drugs: DrugDictionary.load(),
    templates: CardTemplates.load(),
    store: o.store,
    clients: trustedClientsFor(o.ehr),
    evaluators: defaultRegistry({}),
    notificationWorker: o.worker ?? true,
  });
  const background = app.locals['background'] as AppBackground;
  const server: Server = app.listen(port, '127.0.0.1');
  await new Promise<void>((r) => server.once('listening', () => r()));
  const queue = o.store.notifications!()!;
  const send = async (pathname: string, body: string, headers: Record<string, string>) => {
    const res = await fetch(`${url}${pathname}`, { method: 'POST', headers, body });
    const text = await res.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: res.status, json };
  };
  const signed = async (pathname: string, body: unknown) =>
    send(pathname, JSON.stringify(body), { 'content-type': 'application/json', authorization: await o.ehr.bearer(`${url}${pathname}`) });
  return {
    url,
    config,
    store: o.store,
    queue,
    background,
    notify: (body, secret = NOTIFY_SECRET, contentType = 'application/fhir+json') =>
      send('/notifications', typeof body === 'string' ? body : JSON.stringify(body), { 'content-type': contentType, ...(secret === null ? {} : { authorization: `Bearer ${secret}` }) }),
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
    async stop(closeStore = false) {
      await new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      });
      await background.stop();
      if (closeStore) await o.store.close();
    },
  };
}
