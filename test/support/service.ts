// Starts the real service in-process (real auth, real SQLite in a temp dir) on a free port, for integration tests.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createApp } from '../../src/app.js';
import { loadServiceCatalog } from '../../src/cds/services.js';
import { CardTemplates } from '../../src/cards/render.js';
import { loadConfig, type AppConfig } from '../../src/config.js';
import { DrugDictionary } from '../../src/domain/drugs.js';
import { defaultRegistry, type EvaluatorDependencies } from '../../src/dosing/registry.js';
import { createLogger } from '../../src/observability/logger.js';
import { SqliteStore } from '../../src/store/sqlite.js';
import { makeTestClient, trustedClientsFor, type TestClient } from './jwt.js';
import { startFhirServer, type RunningFhirServer } from './fhir-server/index.js';

export async function freePort(): Promise<number> {
  const s: Server = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

export interface TestService {
  url: string;
  config: AppConfig;
  store: SqliteStore;
  ehr: TestClient;
  /**
   * Name a FHIR base URL for the test EHR (its `fhirServers` entry, read by the service at call time): the service sends
   * the EHR's token to no other server. Tests name the servers they run, as a deployment's clients file does.
   */
  allowFhirServer(...urls: string[]): void;
  /** POST a hook call signed by the test EHR (ES384) */
  hook(serviceId: string, body: unknown): Promise<{ status: number; json: any; ms: number }>;
  post(pathname: string, body: string, headers?: Record<string, string>): Promise<{ status: number; json: any; text: string }>;
  close(): Promise<void>;
}

/** Start the service; `deps` are the evaluators' start-up dependencies (default: none, i.e. no dose model). */
export async function startTestService(overrides: Record<string, unknown> = {}, extraClients: TestClient[] = [], deps: EvaluatorDependencies = {}, opts: { smartAppDir?: string } = {}): Promise<TestService> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const dir = mkdtempSync(path.join(tmpdir(), 'pgx-cds-test-'));
  // the test FHIR servers listen on 127.0.0.1 over http: the development setting, set explicitly (default false)
  const config = loadConfig({}, { port, publicBaseUrl: url, dataDir: dir, logLevel: 'silent', 'fhir.allowInsecureLoopback': true, ...overrides });
  const ehr = await makeTestClient({ alg: 'ES384', iss: 'https://ehr.test.local' });
  const store = new SqliteStore(path.join(dir, 'test.sqlite'));
  const app = createApp({
    config,
    logger: createLogger(config.logLevel),
    catalog: loadServiceCatalog(),
    drugs: DrugDictionary.load(),
    templates: CardTemplates.load(),
    store,
    clients: trustedClientsFor(ehr, ...extraClients),
    evaluators: defaultRegistry(deps),
    ...(opts.smartAppDir ? { smartAppDir: opts.smartAppDir } : {}),
  });
  const server = app.listen(port, '127.0.0.1');
  await new Promise<void>((r) => server.once('listening', () => r()));
  const post = async (pathname: string, body: string, headers: Record<string, string> = {}) => {
    const res = await fetch(`${url}${pathname}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: await ehr.bearer(`${url}${pathname}`), ...headers },
      body,
    });
    const text = await res.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: res.status, json, text };
  };
  return {
    url,
    config,
    store,
    ehr,
    allowFhirServer(...urls) {
      (ehr.trusted.fhirServers ??= []).push(...urls);
    },
    async hook(serviceId, body) {
      const t0 = performance.now();
      const r = await post(`/cds-services/${serviceId}`, JSON.stringify(body));
      return { status: r.status, json: r.json, ms: performance.now() - t0 };
    },
    post,
    async close() {
      await new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      });
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Jest hooks for an integration test file: the real FHIR test server (accepting `token`, seeded with `seed()`) and the
 * service, started together before the tests and stopped after; the FHIR request log is cleared before each test.
 */
export function useFhirAndService(token: string, seed: () => object[]): { readonly fhir: RunningFhirServer; readonly svc: TestService } {
  let fhir: RunningFhirServer | undefined;
  let svc: TestService | undefined;
  beforeAll(async () => {
    [fhir, svc] = await Promise.all([startFhirServer({ token, seed: seed() }), startTestService({ 'fhir.deadlineMs': 1500, requestDeadlineMs: 3000 })]);
    svc.allowFhirServer(fhir.url);
  }, 30000);
  afterAll(async () => {
    await Promise.all([fhir?.stop(), svc?.close()]);
  });
  beforeEach(async () => {
    await fhir!.admin.clearRequests();
  });
  return {
    get fhir() {
      return fhir!;
    },
    get svc() {
      return svc!;
    },
  };
}
