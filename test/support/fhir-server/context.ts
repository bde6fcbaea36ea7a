// What the parts of the test FHIR server (app.ts) share: the options, the repository, the state the admin endpoints
// change (tokens, fault, request log), and the calls into the FHIR router.
import type { IncomingMessage } from 'node:http';
import type { HttpMethod, MemoryRepository } from '@medplum/fhir-router';
import type { Resource } from '@medplum/fhirtypes';
import type { FhirTestServerOptions } from './app.js';
import type { Jwks } from './auth.js';
import type { createDelivery } from './delivery.js';
import type { FaultConfig } from './faults.js';
import type { RequestLogEntry } from './request-log.js';

/** What /__admin changes while the server runs. */
export interface ServerState {
  /** Accepted bearer tokens; empty = no token check (unless a JWKS is configured). */
  tokens: string[];
  fault: FaultConfig;
  log: RequestLogEntry[];
  seq: number;
}

export interface ServerContext {
  opts: FhirTestServerOptions;
  repo: MemoryRepository;
  state: ServerState;
  jwks: Jwks | undefined;
  defaultCount: number;
  maxCount: number;
  delivery: ReturnType<typeof createDelivery> | undefined;
  /** One request through Medplum's FhirRouter on the memory repository. */
  fhir(method: HttpMethod, url: string, body: unknown, headers?: Record<string, string>): Promise<{ status: number; resource: Resource }>;
  seed(data: unknown): Promise<number>;
  /** Stores the definitions of the offered subscription topics (at start and after /__admin/reset). */
  defineTopics(): Promise<void>;
  baseUrl(req: IncomingMessage): string;
}
