// An EHR for notification tests: the real FHIR test server (a process) with the seed, accepting the EHR's own token
// and the backend tokens of a real token server (backend-token-server.ts) that verifies the service's
// private_key_jwt assertion against the JWKS the service publishes; the EHR's signed CDS client; a temp folder with
// the service's backend key file; and services with notifications on started against all of it (notify-service.ts).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Store } from '../../src/store/store.js';
import { startBackendTokenServer, type BackendTokenServer } from './backend-token-server.js';
import { startFhirServer, type RunningFhirServer, type StartFhirServerOptions } from './fhir-server/index.js';
import { searchResources, waitForResources } from './fhir-search.js';
import { makeTestClient, type TestClient } from './jwt.js';
import { BACKEND_CLIENT_ID, startNotifyService, writeBackendKey, type NotifyService } from './notify-service.js';

export interface NotifyEhrOptions {
  /** Names the EHR: its CDS client's iss is https://ehr.<name>.test; the temp folder is notify-<name>-… */
  name: string;
  /** The EHR's bearer token on its FHIR server (what the tests read with). */
  ehrToken: string;
  seed: object[];
  /** More FHIR server options (subscription topics, notification delivery). */
  fhir?: Omit<StartFhirServerOptions, 'token' | 'jwksUrl' | 'seed'>;
  /** A token server to share between EHRs (stop() leaves it running); default: one of its own. */
  tokens?: BackendTokenServer;
}

export interface NotifyEhr {
  fhir: RunningFhirServer;
  tokens: BackendTokenServer;
  ehr: TestClient;
  /** The temp folder (removed by stop()): the key file, and room for SQLite files. */
  dir: string;
  /** The service's private backend key (BACKEND_KEY_FILE). */
  keyFile: string;
  /** A service with notifications on, reading this EHR's FHIR server with backend tokens from its token server. */
  service(o: { store: Store; worker?: boolean; overrides?: Record<string, unknown> }): Promise<NotifyService>;
  /** Registers the service's backend client with the token server: the JWKS that service publishes. */
  trust(svc: NotifyService): void;
  /** The DetectedIssues (by patient) or Communications (by subject) of a patient on the EHR's server, up to 50. */
  search(type: 'DetectedIssue' | 'Communication', patientId: string): Promise<any[]>;
  /** search('DetectedIssue', …) again until there are n or the time is up. */
  waitForIssues(patientId: string, n?: number, timeoutMs?: number): Promise<any[]>;
  /** Stops the FHIR server and the token server (unless shared) and removes the temp folder. */
  stop(): Promise<void>;
}

export async function startNotifyEhr(o: NotifyEhrOptions): Promise<NotifyEhr> {
  const tokens = o.tokens ?? (await startBackendTokenServer());
  const fhir = await startFhirServer({ ...o.fhir, token: o.ehrToken, jwksUrl: tokens.jwksUrl, seed: o.seed });
  const ehr = await makeTestClient({ alg: 'ES384', iss: `https://ehr.${o.name}.test` });
  const dir = mkdtempSync(path.join(tmpdir(), `notify-${o.name}-`));
  const keyFile = await writeBackendKey(dir);
  const search = (type: 'DetectedIssue' | 'Communication', p: string) =>
    searchResources(fhir.url, o.ehrToken, `${type}?${type === 'DetectedIssue' ? 'patient' : 'subject'}=Patient/${p}&_count=50`);
  return {
    fhir,
    tokens,
    ehr,
    dir,
    keyFile,
    service: (s) => startNotifyService({ ...s, ehr, fhirUrl: fhir.url, tokenUrl: tokens.tokenUrl, keyFile }),
    trust: (svc) => tokens.registerClient(BACKEND_CLIENT_ID, `${svc.url}/.well-known/jwks.json`),
    search,
    waitForIssues: (p, n = 1, timeoutMs = 15000) => waitForResources(() => search('DetectedIssue', p), n, timeoutMs),
    async stop() {
      await Promise.all([fhir.stop(), o.tokens ? undefined : tokens.stop()]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
