// Like startTestService (test/support/service.ts), but with the store the real server uses: openStore(config), i.e.
// the AuditedStore (queue + spool) over SQLite in a temp data directory. For outage/recovery tests of the audit path.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createApp } from '../../src/app.js';
import { loadServiceCatalog } from '../../src/cds/services.js';
import { CardTemplates } from '../../src/cards/render.js';
import { loadConfig, type AppConfig } from '../../src/config.js';
import { DrugDictionary } from '../../src/domain/drugs.js';
import { defaultRegistry } from '../../src/dosing/registry.js';
import { createLogger } from '../../src/observability/logger.js';
import { openStore } from '../../src/store/open.js';
import type { AuditedStore } from '../../src/store/resilient.js';
import { makeTestClient, trustedClientsFor, type TestClient } from './jwt.js';
import { freePort } from './service.js';

export interface ProductionStoreService {
  url: string;
  config: AppConfig;
  store: AuditedStore;
  ehr: TestClient;
  post(pathname: string, body: string): Promise<{ status: number; json: any; text: string; ms: number }>;
  close(): Promise<void>;
}

export async function startProductionStoreService(overrides: Record<string, unknown> = {}): Promise<ProductionStoreService> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const dir = mkdtempSync(path.join(tmpdir(), 'pgx-cds-prodstore-'));
  const config = loadConfig({}, { port, publicBaseUrl: url, dataDir: dir, logLevel: 'silent', 'fhir.allowInsecureLoopback': true, ...overrides });
  const ehr = await makeTestClient({ alg: 'ES384', iss: 'https://ehr.test.local' });
  const logger = createLogger(config.logLevel);
  const store = openStore(config, logger);
  await store.init();
  const app = createApp({
    config,
    logger,
    catalog: loadServiceCatalog(),
    drugs: DrugDictionary.load(),
    templates: CardTemplates.load(),
    store,
    clients: trustedClientsFor(ehr),
    evaluators: defaultRegistry({}),
  });
  const server = app.listen(port, '127.0.0.1');
  await new Promise<void>((r) => server.once('listening', () => r()));
  return {
    url,
    config,
    store,
    ehr,
    async post(pathname, body) {
      const t0 = performance.now();
      const res = await fetch(`${url}${pathname}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: await ehr.bearer(`${url}${pathname}`) },
        body,
      });
      const text = await res.text();
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
      }
      return { status: res.status, json, text, ms: performance.now() - t0 };
    },
    async close() {
      await new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      });
      await store.close(1000);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
