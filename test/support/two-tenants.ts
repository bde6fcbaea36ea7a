// The real service (real auth, the production store wiring: AuditedStore over SQLite with the audit writer thread, or
// over PostgreSQL) trusted by two EHR clients with different issuers and FHIR servers, for the tenancy, hostile-string
// and concurrency suites. Both "FHIR servers" are the same FHIR test server process reached by two base URLs
// (127.0.0.1 and localhost): to the service they are two servers (src/domain/tenant.ts), with the same patient ids.
import path from 'node:path';
import type { FhirResource } from 'fhir/r4';
import type { AppConfig } from '../../src/config.js';
import { SqliteWorkerWriter } from '../../src/store/auditWriter.js';
import { PgStore } from '../../src/store/postgres.js';
import { AuditedStore } from '../../src/store/resilient.js';
import { SqliteStore } from '../../src/store/sqlite.js';
import { createPgSchema, type PgSchema } from '../store/helpers.js';
import { startFhirServer, type RunningFhirServer } from './fhir-server/index.js';
import { makeTestClient, type TestClient } from './jwt.js';
import { startApp } from './start-app.js';

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
  const fhirPort = new URL(fhirUrl).port;
  const a: Ehr = { client: await makeTestClient({ iss: 'https://ehr-a.test.local' }), fhirServer: `http://127.0.0.1:${fhirPort}` };
  const c: Ehr = { client: await makeTestClient({ iss: 'https://ehr-c.test.local' }), fhirServer: `http://localhost:${fhirPort}` };
  // each EHR's token may go to its own FHIR server only (issue 21 scope 2)
  a.client.trusted.fhirServers = [a.fhirServer];
  c.client.trusted.fhirServers = [c.fhirServer];
  let schema: PgSchema | undefined;
  const s = await startApp({
    tempDir: { prefix: 'pgx-tenancy-' },
    config: {
      'fhir.deadlineMs': 1500, requestDeadlineMs: 3000, 'fhir.allowInsecureLoopback': true,
      'smart.allowedFhirServers': [a.fhirServer, c.fhirServer],
      ...overrides,
    },
    async store({ dir }) {
      const file = path.join(dir!, 'pgx-dosing.sqlite');
      let backend;
      if (kind === 'sqlite') backend = new SqliteStore(file);
      else {
        schema = await createPgSchema();
        backend = new PgStore({ connectionString: schema.url });
      }
      const store = new AuditedStore({ backend, spoolDir: dir!, retryIntervalMs: 200 });
      await store.init();
      if (kind === 'sqlite') store.useWriter(await SqliteWorkerWriter.start(file, (r) => store.backend.recordHook(r)));
      return store;
    },
    async closeStore(store) {
      await store.close();
      await schema?.drop();
    },
    clients: [a.client, c.client],
  });
  return {
    url: s.url, config: s.config, store: s.store, a, c,
    async post(as, pathname, body, raw) {
      const { status, json, headers } = await s.request(pathname, { body: raw ?? JSON.stringify(body), as: as.client });
      return { status, json, headers };
    },
    async get(pathname, headers) {
      const { status, json } = await s.request(pathname, { headers });
      return { status, json };
    },
    async readyz() {
      const { status, json } = await s.request('/readyz');
      return { status, json };
    },
    stop: () => s.close(),
  };
}

/**
 * Jest hooks for a file that runs its tests on each store: one FHIR test server process for the file (accepting `token`,
 * seeded with `seed`), and a describe block per store kind with the two-tenant service started on it before its tests
 * and stopped after. `body` declares the tests; `env.svc` is the service of its block, `env.kind` its store.
 */
export function describeEachStore(fhirOpts: { token: string; seed: FhirResource[] }, body: (env: { readonly kind: StoreKind; readonly svc: TwoTenantService }) => void): void {
  let fhir: RunningFhirServer | undefined;
  beforeAll(async () => {
    fhir = await startFhirServer(fhirOpts);
  }, 30000);
  afterAll(async () => {
    await fhir?.stop();
  });
  describe.each(['sqlite', 'postgres'] as StoreKind[])('%s', (kind) => {
    let svc: TwoTenantService | undefined;
    beforeAll(async () => {
      svc = await startTwoTenantService(kind, fhir!.url);
    }, 30000);
    afterAll(async () => {
      await svc?.stop();
    });
    body({
      kind,
      get svc() {
        return svc!;
      },
    });
  });
}
