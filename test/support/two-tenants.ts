// The real service (real auth, the production store wiring: AuditedStore over SQLite with the audit writer thread, or
// over PostgreSQL) trusted by two EHR clients with different issuers and FHIR servers, for the tenancy, hostile-string
// and concurrency suites. Both "FHIR servers" are the same FHIR test server process reached by two base URLs
// (127.0.0.1 and localhost): to the service they are two servers (src/domain/tenant.ts), with the same patient ids.
import path from 'node:path';
import { createApp } from '../../src/app.js';
import { loadServiceCatalog } from '../../src/cds/services.js';
import { CardTemplates } from '../../src/cards/render.js';
import { loadConfig, type AppConfig } from '../../src/config.js';
import { DrugDictionary } from '../../src/domain/drugs.js';
import { createLogger } from '../../src/observability/logger.js';
import { SqliteWorkerWriter } from '../../src/store/auditWriter.js';
import { PgStore } from '../../src/store/postgres.js';
import { AuditedStore } from '../../src/store/resilient.js';
import { SqliteStore } from '../../src/store/sqlite.js';
import { createPgSchema, tempDir, type PgSchema } from '../store/helpers.js';
import { makeTestClient, trustedClientsFor, type TestClient } from './jwt.js';
import { freePort } from './service.js';

export type StoreKind = 'sqlite' | 'postgres';

export interface Ehr {
  client: TestClient;
  /** this EHR's FHIR base URL (what its hook calls send as fhirServer and its SMART app as X-FHIR-Server) */
  fhirServer: string;
}

export interface TwoTenantService {
  url: string;
  config: AppConfig;
  store: AuditedStore;
  a: Ehr;
  c: Ehr;
  /** POST as one EHR's client (signed JWT); `raw` is sent as is when given */
  post(as: Ehr, pathname: string, body: unknown, raw?: string): Promise<{ status: number; json: any; headers: Headers }>;
  get(pathname: string, headers: Record<string, string>): Promise<{ status: number; json: any }>;
  readyz(): Promise<{ status: number; json: any }>;
  stop(): Promise<void>;
}

export async function startTwoTenantService(kind: StoreKind, fhirUrl: string, overrides: Record<string, unknown> = {}): Promise<TwoTenantService> {
  const t = tempDir('pgx-tenancy-');
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const fhirPort = new URL(fhirUrl).port;
  const a: Ehr = { client: await makeTestClient({ iss: 'https://ehr-a.test.local' }), fhirServer: `http://127.0.0.1:${fhirPort}` };
  const c: Ehr = { client: await makeTestClient({ iss: 'https://ehr-c.test.local' }), fhirServer: `http://localhost:${fhirPort}` };
  // each EHR's token may go to its own FHIR server only (issue 21 scope 2)
  a.client.trusted.fhirServers = [a.fhirServer];
  c.client.trusted.fhirServers = [c.fhirServer];
  let schema: PgSchema | undefined;
  let backend;
  const file = path.join(t.dir, 'pgx-dosing.sqlite');
  if (kind === 'sqlite') backend = new SqliteStore(file);
  else {
    schema = await createPgSchema();
    backend = new PgStore({ connectionString: schema.url });
  }
  const config = loadConfig({}, {
    port, publicBaseUrl: url, dataDir: t.dir, logLevel: 'silent',
    'fhir.deadlineMs': 1500, requestDeadlineMs: 3000, 'fhir.allowInsecureLoopback': true,
    'smart.allowedFhirServers': [a.fhirServer, c.fhirServer],
    ...overrides,
  });
  const store = new AuditedStore({ backend, spoolDir: t.dir, retryIntervalMs: 200 });
  await store.init();
  if (kind === 'sqlite') store.useWriter(await SqliteWorkerWriter.start(file, (r) => store.backend.recordHook(r)));
  const app = createApp({
    config, logger: createLogger(config.logLevel), catalog: loadServiceCatalog(), drugs: DrugDictionary.load(), templates: CardTemplates.load(),
    store, clients: trustedClientsFor(a.client, c.client),
  });
  const server = app.listen(port, '127.0.0.1');
  await new Promise<void>((r) => server.once('listening', () => r()));
  const parse = (text: string) => {
    try {
      return JSON.parse(text);
    } catch {
      return undefined;
    }
  };
  return {
    url, config, store, a, c,
    async post(as, pathname, body, raw) {
      const res = await fetch(`${url}${pathname}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: await as.client.bearer(`${url}${pathname}`) },
        body: raw ?? JSON.stringify(body),
      });
      return { status: res.status, json: parse(await res.text()), headers: res.headers };
    },
    async get(pathname, headers) {
      const res = await fetch(`${url}${pathname}`, { headers });
      return { status: res.status, json: parse(await res.text()) };
    },
    async readyz() {
      const res = await fetch(`${url}/readyz`);
      return { status: res.status, json: parse(await res.text()) };
    },
    async stop() {
      await new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      });
      await store.close();
      await schema?.drop();
      t.remove();
    },
  };
}
