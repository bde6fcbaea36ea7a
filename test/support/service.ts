// Starts the real service in-process (real auth, real SQLite in a temp dir) on a free port, for integration tests.
import path from 'node:path';
import type { AppConfig } from '../../src/config.js';
import { defaultRegistry, type EvaluatorDependencies } from '../../src/dosing/registry.js';
import { SqliteStore } from '../../src/store/sqlite.js';
import type { TestClient } from './jwt.js';
import { startFhirServer, type RunningFhirServer } from './fhir-server/index.js';
import { startApp, testEhr } from './start-app.js';

export { freePort } from './start-app.js';

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
  const ehr = await testEhr();
  const s = await startApp({
    tempDir: { prefix: 'pgx-cds-test-' },
    // the test FHIR servers listen on 127.0.0.1 over http: the development setting, set explicitly (default false)
    config: { 'fhir.allowInsecureLoopback': true, ...overrides },
    store: ({ dir }) => new SqliteStore(path.join(dir!, 'test.sqlite')),
    closeStore: (store) => store.close(),
    clients: [ehr, ...extraClients],
    deps: { evaluators: defaultRegistry(deps), ...(opts.smartAppDir ? { smartAppDir: opts.smartAppDir } : {}) },
  });
  const post = async (pathname: string, body: string, headers: Record<string, string> = {}) => {
    const { status, json, text } = await s.request(pathname, { body, as: ehr, headers });
    return { status, json, text };
  };
  return {
    url: s.url,
    config: s.config,
    store: s.store,
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
    close: () => s.close(),
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
