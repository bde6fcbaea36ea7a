// Like startTestService (test/support/service.ts), but with the store the real server uses: openStore(config), i.e.
// the AuditedStore (queue + spool) over SQLite in a temp data directory. For outage/recovery tests of the audit path.
import type { AppConfig } from '../../src/config.js';
import { defaultRegistry } from '../../src/dosing/registry.js';
import { openStore } from '../../src/store/open.js';
import type { AuditedStore } from '../../src/store/resilient.js';
import type { TestClient } from './jwt.js';
import { startApp, testEhr } from './start-app.js';

export interface ProductionStoreService {
  url: string;
  config: AppConfig;
  store: AuditedStore;
  ehr: TestClient;
  post(pathname: string, body: string): Promise<{ status: number; json: any; text: string; ms: number }>;
  close(): Promise<void>;
}

export async function startProductionStoreService(overrides: Record<string, unknown> = {}): Promise<ProductionStoreService> {
  const ehr = await testEhr();
  const s = await startApp({
    tempDir: { prefix: 'pgx-cds-prodstore-' },
    config: { 'fhir.allowInsecureLoopback': true, ...overrides },
    store: async ({ config, logger }) => {
      const store = openStore(config, logger);
      await store.init();
      return store;
    },
    closeStore: (store) => store.close(1000),
    clients: [ehr],
    deps: { evaluators: defaultRegistry({}) },
  });
  return {
    url: s.url,
    config: s.config,
    store: s.store,
    ehr,
    async post(pathname, body) {
      const t0 = performance.now();
      const { status, json, text } = await s.request(pathname, { body, as: ehr });
      return { status, json, text, ms: performance.now() - t0 };
    },
    close: () => s.close(),
  };
}
