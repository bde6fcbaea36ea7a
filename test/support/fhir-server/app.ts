// A real FHIR R4 server for integration tests and the demo: Medplum's FhirRouter + MemoryRepository
// served over plain node:http at the root path, plus what the repository does not do itself:
// a CapabilityStatement (capability.ts), paging links (_count/_offset) with fullUrls (search.ts), validation of
// POST/PUT bodies and seed data (validation.ts, fhir-api.ts), an optional bearer-token check (auth.ts), fault
// injection (faults.ts) and a request log (request-log.ts) under /__admin (admin.ts, not FHIR); optionally Backport IG
// subscription topics (advertised, defined: topics.ts) and notifications to matching Subscriptions (delivery.ts).
// This file holds the options and wires the parts together.
//
// Node 20 needs `--experimental-websocket` to load Medplum 5 (index.ts starts server.ts with it).
import { createServer, type IncomingMessage, type ServerResponse, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { badRequest, getStatus, normalizeOperationOutcome, OperationOutcomeError } from '@medplum/core';
import { FhirRouter, MemoryRepository, type FhirRequest } from '@medplum/fhir-router';
import { createRemoteJWKSet } from 'jose';
import type { Bundle, OperationOutcome } from '@medplum/fhirtypes';
import { ADMIN_PREFIX, handleAdmin } from './admin.js';
import type { SmartOptions } from './capability.js';
import type { ServerContext, ServerState } from './context.js';
import { createDelivery } from './delivery.js';
import { applyFault } from './faults.js';
import { handleFhir } from './fhir-api.js';
import { HttpError, sendOutcome } from './http.js';
import { logRequest } from './request-log.js';
import { topicBasic, type SubscriptionTopicOffer } from './topics.js';
import { loadFhirDefinitions, seedItems } from './validation.js';

export type { SmartOptions } from './capability.js';
export type { FaultConfig, FaultMode } from './faults.js';
export { HttpError } from './http.js';
export type { RequestLogEntry } from './request-log.js';
export type { SubscriptionTopicOffer } from './topics.js';
export { loadFhirDefinitions } from './validation.js';

export interface FhirTestServerOptions {
  /** Port to listen on; 0 (default) = ephemeral. */
  port?: number;
  /** Interface to listen on; default 127.0.0.1. */
  host?: string;
  /** Accepted bearer tokens; empty/undefined = no auth check. */
  tokens?: string[];
  /** Resources to load at start: a Bundle (transaction/batch/collection/searchset) or an array of resources. */
  seed?: unknown;
  /** When given, /metadata advertises these OAuth endpoints (SMART oauth-uris extension) and
   * /.well-known/smart-configuration is served. */
  smart?: SmartOptions;
  /** Page size when the client gives no _count (default 20, like most real servers). */
  defaultCount?: number;
  /** Upper bound for _count (default 1000). */
  maxCount?: number;
  /**
   * Also accept bearer JWTs signed by a key of this JWKS (an authorization server's, e.g. oauth2-mock-server), checked
   * for signature and expiry. A token with a `patient` claim may read only that Patient (others: 403), like a
   * patient-scoped SMART token.
   */
  jwksUrl?: string;
  /**
   * Subscription topics to offer (Subscriptions R5 Backport IG, R4): each is advertised in /metadata
   * (rest.resource Subscription: supportedProfile backport-subscription, extension
   * capabilitystatement-subscriptiontopic-canonical); `define` also stores its definition in the IG's R4 shape, a
   * Basic (code fhir-types#SubscriptionTopic) with the cross-version extensions SubscriptionTopic.url and
   * .resourceTrigger (kept across /__admin/reset). Notifications are sent only with `deliverNotifications`.
   */
  subscriptionTopics?: SubscriptionTopicOffer[];
  /**
   * Send Subscription notifications (Backport IG R4 shape) for creates and updates made through the FHIR API, to
   * matching rest-hook Subscriptions, criteria-based or on an offered topic (delivery.ts). Off by default.
   */
  deliverNotifications?: boolean;
}

export interface FhirTestServer {
  url: string;
  port: number;
  server: Server;
  repo: MemoryRepository;
  /** Loads resources (see FhirTestServerOptions.seed); returns the number of resources stored. */
  seed(data: unknown): Promise<number>;
  close(): Promise<void>;
}

export async function createFhirTestServer(opts: FhirTestServerOptions = {}): Promise<FhirTestServer> {
  loadFhirDefinitions();
  const router = new FhirRouter();
  const repo = new MemoryRepository();
  const state: ServerState = { tokens: (opts.tokens ?? []).filter((t) => t !== ''), fault: { mode: 'none' }, log: [], seq: 0 };

  const ctx: ServerContext = {
    opts,
    repo,
    state,
    jwks: opts.jwksUrl ? createRemoteJWKSet(new URL(opts.jwksUrl)) : undefined,
    defaultCount: opts.defaultCount ?? 20,
    maxCount: opts.maxCount ?? 1000,
    delivery: opts.deliverNotifications ? createDelivery(repo, opts.subscriptionTopics ?? []) : undefined,
    async fhir(method, url, body, headers) {
      const req: FhirRequest = { method, url, pathname: '', body, params: {}, query: {}, ...(headers ? { headers } : {}) };
      const [outcome, resource] = await router.handleRequest(req, repo);
      const status = getStatus(outcome);
      return { status, resource: resource ?? outcome };
    },
    seed,
    defineTopics,
    baseUrl: (req) => `http://${req.headers.host ?? `${opts.host ?? '127.0.0.1'}:${port}`}`,
  };

  async function seed(data: unknown): Promise<number> {
    const { bundle, resources } = seedItems(data);
    if (bundle) {
      const { status, resource } = await ctx.fhir('POST', '', bundle);
      if (status >= 400) throw new HttpError(status, resource as OperationOutcome);
      const failed = ((resource as Bundle).entry ?? []).filter((e) => !/^2/.test(e.response?.status ?? ''));
      if (failed.length) {
        throw new HttpError(400, badRequest(`seed Bundle: ${failed.length} entries failed: ${JSON.stringify(failed.map((e) => e.response))}`));
      }
      return (bundle.entry ?? []).length;
    }
    for (const r of resources) {
      if (r.id) {
        let exists = true;
        try {
          await repo.readResource(r.resourceType, r.id);
        } catch {
          exists = false;
        }
        if (exists) await repo.updateResource(r);
        else await repo.createResource(r, { assignedId: true });
      } else {
        await repo.createResource(r);
      }
    }
    return resources.length;
  }

  async function defineTopics(): Promise<void> {
    const defined = (opts.subscriptionTopics ?? []).map((t, i) => ({ t, i })).filter(({ t }) => t.define !== false);
    if (defined.length > 0) await seed(defined.map(({ t, i }) => topicBasic(t, `subscription-topic-${i + 1}`)));
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname.startsWith(ADMIN_PREFIX)) return handleAdmin(ctx, req, res, url.pathname.replace(/\/+$/, ''));
    // browser clients (SMART apps) read it cross-origin, like a real SMART-enabled FHIR server
    res.setHeader('Access-Control-Allow-Origin', '*');
    if (req.method === 'OPTIONS') {
      res.writeHead(204, {
        'Access-Control-Allow-Methods': 'GET, POST, PUT, DELETE, PATCH',
        'Access-Control-Allow-Headers': 'Authorization, Content-Type, Accept, Prefer, If-Match',
        'Access-Control-Max-Age': '600',
      });
      res.end();
      return;
    }
    const entry = await logRequest(state, req, res, url);
    if (await applyFault(state, req, res, entry)) return;
    return handleFhir(ctx, req, res, url, entry);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (err instanceof HttpError) return sendOutcome(res, err.status, err.outcome);
      if (err instanceof OperationOutcomeError) return sendOutcome(res, getStatus(err.outcome), err.outcome);
      const oo = normalizeOperationOutcome(err);
      return sendOutcome(res, 500, oo);
    });
  });
  // idle connections are kept as a production FHIR server behind a load balancer keeps them; with 2 s, every client
  // request opened a new connection: the server announces `Keep-Alive: timeout=2`, and undici (fetch) subtracts its
  // keepAliveTimeoutThreshold of 2 s from that hint, so it never reused a socket
  server.keepAliveTimeout = 65_000;

  await defineTopics();
  if (opts.seed !== undefined) await seed(opts.seed);

  const port = await new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
  const hostForUrl = (opts.host ?? '127.0.0.1') === '0.0.0.0' ? '127.0.0.1' : (opts.host ?? '127.0.0.1');

  return {
    url: `http://${hostForUrl}:${port}`,
    port,
    server,
    repo,
    seed,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}
