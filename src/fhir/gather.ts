// Data gathering: use each prefetch key as sent, fetch what is absent or failed from the FHIR server, under one deadline.
import { Client } from 'fhir-kit-client';
import type { Bundle, FhirResource, OperationOutcome } from 'fhir/r4';
import { Agent, DecoratorHandler, type Dispatcher } from 'undici';
import type { FhirAuthorization } from '../cds/protocol.js';
import { jsonDeeperThan } from '../util/jsonDepth.js';
import { isFhirServerAllowed, type FhirServerPolicy } from './egress.js';
import { FETCH_ERRORS, type FetchError } from './fetchErrors.js';
import { encodeSearchQuery } from './searchUrl.js';

export { isFhirServerAllowed, type FhirServerPolicy } from './egress.js';

export type KeyStatus = 'prefetch' | 'query' | 'failed';

export interface GatheredKey {
  resources: FhirResource[];
  status: KeyStatus;
  /** the search returned more pages than we could read (deadline or page cap) */
  incomplete?: boolean;
  /** why it failed, a fixed phrase (FETCH_ERRORS): never a network code or status, which would let a caller probe */
  error?: FetchError;
}

export interface GatherResult {
  byKey: Record<string, GatheredKey>;
  fhirCalls: number;
  fhirMs: number;
}

export interface GatherOptions {
  /** key → rendered query (relative to fhirServer), or undefined when the template could not be rendered */
  queries: Record<string, string | undefined>;
  prefetch: Record<string, unknown> | undefined;
  fhirServer: string | undefined;
  fhirAuthorization: FhirAuthorization | undefined;
  deadlineMs: number;
  maxPages: number;
  /** byte cap on each FHIR answer's body (config fhir.maxResponseBytes); default DEFAULT_MAX_RESPONSE_BYTES */
  maxResponseBytes?: number;
  policy: FhirServerPolicy;
  /** observes each FHIR call (for metrics/logs): PHI-free; `reason` is the low-level one, for the service's log only */
  onCall?: (e: { key: string; ms: number; ok: boolean; status?: number; reason?: string }) => void;
}

/** Default byte cap on one FHIR answer (a search page of a few hundred resources is well under 1 MB). */
export const DEFAULT_MAX_RESPONSE_BYTES = 8 * 1024 * 1024;

/** error codes of an answer refused by ResponseGuard (errorReason turns them into the key's reason) */
const TOO_LARGE = 'FHIR_RESPONSE_TOO_LARGE';
const ENCODED_RESPONSE = 'FHIR_ENCODED_RESPONSE';

/**
 * A plain Error with a code: fetch keeps it as the `cause` of its TypeError only when it looks like a plain Error of
 * its own realm, which undici's error classes do not under jest's VM realm; a plain Error passes in both.
 */
function refusal(code: typeof TOO_LARGE | typeof ENCODED_RESPONSE): Error {
  return Object.assign(new Error(code === TOO_LARGE ? 'FHIR answer over the byte cap' : 'content-encoded FHIR answer'), { code });
}

type ForwardingHandler = {
  onConnect(abort: (err?: Error) => void, ...rest: unknown[]): void;
  onHeaders(statusCode: number, headers: Buffer[], resume: () => void, statusText: string): boolean;
  onError(err: Error): void;
};
// undici's DecoratorHandler forwards every handler callback; its type declares none of them
const Forwarding = DecoratorHandler as unknown as new (handler: Dispatcher.DispatchHandlers) => ForwardingHandler;

/**
 * Refuses an answer at its headers when its Content-Length is over the cap (instead of reading up to the cap first), or
 * when it is content-encoded: we ask for `identity`, and fetch would otherwise inflate a small compressed body into
 * any size behind the cap's back. A body without Content-Length is cut by the Agent's maxResponseSize.
 */
class ResponseGuard extends Forwarding {
  #abort: ((err?: Error) => void) | undefined;
  constructor(
    handler: Dispatcher.DispatchHandlers,
    private readonly maxBytes: number,
  ) {
    super(handler);
  }
  override onConnect(abort: (err?: Error) => void, ...rest: unknown[]): void {
    this.#abort = abort;
    return super.onConnect(abort, ...rest);
  }
  override onHeaders(statusCode: number, headers: Buffer[], resume: () => void, statusText: string): boolean {
    let refused: Error | undefined;
    for (let i = 0; i + 1 < headers.length && !refused; i += 2) {
      const name = headers[i]!.toString('latin1').toLowerCase();
      const value = headers[i + 1]!.toString('latin1').trim().toLowerCase();
      if (name === 'content-length' && Number(value) > this.maxBytes) refused = refusal(TOO_LARGE);
      else if (name === 'content-encoding' && value !== '' && value !== 'identity') refused = refusal(ENCODED_RESPONSE);
    }
    if (!refused) return super.onHeaders(statusCode, headers, resume, statusText);
    if (!this.#abort) throw refused; // undici aborts the request when a handler throws
    this.#abort(refused); // → onError(refused) → fetch rejects; the socket is destroyed, nothing more is read
    return false;
  }
  override onError(err: Error): void {
    // the Agent's maxResponseSize cut a body sent without Content-Length (chunked, or up to the connection's close)
    super.onError((err as { code?: unknown })?.code === 'UND_ERR_RES_EXCEEDED_MAX_SIZE' ? refusal(TOO_LARGE) : err);
  }
}

const dispatchers = new Map<number, Dispatcher>();

/**
 * One pooled keep-alive Agent per cap (in practice one, from the configuration), used by fetch instead of the global
 * dispatcher: fhir-kit-client passes unknown request options into `new Request(url, init)`, and Node's fetch uses
 * `init.dispatcher`. undici is pinned to the version bundled with Node, so its Agent speaks fetch's handler API.
 * Also used for the SMART access proof's Patient read (src/smart/proof.ts). Ask for `accept-encoding: identity` with it.
 */
export function capDispatcher(maxBytes: number): Dispatcher {
  let d = dispatchers.get(maxBytes);
  if (!d) {
    d = new Agent({ maxResponseSize: maxBytes }).compose((dispatch) => (opts, handler) => dispatch(opts, new ResponseGuard(handler, maxBytes)));
    dispatchers.set(maxBytes, d);
  }
  return d;
}

function isResource(v: unknown): v is FhirResource {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && typeof (v as { resourceType?: unknown }).resourceType === 'string';
}

/** Resources of a search Bundle, without OperationOutcome entries (search.mode "outcome") or entries without resources. */
export function bundleResources(b: Bundle): FhirResource[] {
  const out: FhirResource[] = [];
  for (const e of Array.isArray(b.entry) ? b.entry : []) {
    const r = e?.resource;
    if (!isResource(r) || r.resourceType === 'OperationOutcome' || e.search?.mode === 'outcome') continue;
    out.push(r);
  }
  return out;
}

function nextLink(b: Bundle): string | undefined {
  const l = Array.isArray(b.link) ? b.link.find((x) => x?.relation === 'next') : undefined;
  return typeof l?.url === 'string' && l.url.length > 0 ? l.url : undefined;
}

/**
 * Only follow paging links on the same origin as the FHIR server, and allowed by the policy themselves: the bearer
 * token must not leak elsewhere.
 */
function followable(link: string, base: string, policy: FhirServerPolicy): boolean {
  try {
    const a = new URL(link, base);
    return a.origin === new URL(base).origin && isFhirServerAllowed(a.href.replace(/[?#].*$/, ''), policy);
  } catch {
    return false;
  }
}

type ErrorLike = { name?: string; code?: string; response?: { status?: number }; status?: number; message?: string; cause?: { code?: string } };

/** The low-level reason, for the service's own log and metrics only ("timeout", "HTTP 500", "ECONNREFUSED"). */
function lowLevelReason(e: unknown): string {
  const err = e as ErrorLike;
  if (err?.name === 'AbortError' || err?.name === 'TimeoutError') return 'timeout';
  const code = err?.cause?.code ?? err?.code;
  if (code === TOO_LARGE || code === 'UND_ERR_RES_EXCEEDED_MAX_SIZE') return 'response too large';
  if (code === ENCODED_RESPONSE) return 'unrequested content encoding';
  const status = err?.response?.status ?? err?.status;
  if (typeof status === 'number') return `HTTP ${status}`;
  if (code) return String(code);
  if (err instanceof SyntaxError) return 'invalid JSON';
  return err?.name ?? 'error';
}

/** What the caller is told: a fixed phrase. */
function errorReason(e: unknown): FetchError {
  const err = e as ErrorLike;
  if (err?.name === 'AbortError' || err?.name === 'TimeoutError') return FETCH_ERRORS.timeout;
  const code = err?.cause?.code ?? err?.code;
  if (code === TOO_LARGE || code === 'UND_ERR_RES_EXCEEDED_MAX_SIZE') return FETCH_ERRORS.tooLarge;
  if (code === ENCODED_RESPONSE) return FETCH_ERRORS.encoded;
  const status = err?.response?.status ?? err?.status;
  if (typeof status === 'number') return status >= 500 ? FETCH_ERRORS.serverError : FETCH_ERRORS.refused;
  if (err instanceof SyntaxError) return FETCH_ERRORS.invalid;
  return FETCH_ERRORS.unreachable;
}

function outcomeIsError(r: FhirResource): boolean {
  const issues: unknown = r.resourceType === 'OperationOutcome' ? (r as OperationOutcome).issue : undefined;
  return Array.isArray(issues) && issues.some((i: OperationOutcome['issue'][number] | null) => i?.severity === 'error' || i?.severity === 'fatal');
}

/**
 * At most this many resources are kept per key (a FHIR server or prefetch may send far more than any search asks for:
 * the templates ask for ≤ 100 per page, newest first). Beyond it the key is marked incomplete, which the facts and
 * cards say; the work per call stays bounded whatever the server sends.
 */
export const MAX_RESOURCES_PER_KEY = 1000;

/** Keep the first MAX_RESOURCES_PER_KEY resources; `true` when some were dropped. */
function capped(resources: FhirResource[]): boolean {
  if (resources.length <= MAX_RESOURCES_PER_KEY) return false;
  resources.length = MAX_RESOURCES_PER_KEY;
  return true;
}

/** Gather every key: prefetch as sent (resource, Bundle, empty Bundle, null), else a query of our own. */
export async function gatherData(o: GatherOptions): Promise<GatherResult> {
  const started = performance.now();
  const byKey: Record<string, GatheredKey> = {};
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new DOMException('deadline', 'TimeoutError')), o.deadlineMs);
  let fhirCalls = 0;
  const canQuery = o.fhirServer !== undefined && isFhirServerAllowed(o.fhirServer, o.policy);
  // the parsed (normalised) URL is what was checked, so it is what is contacted
  const client = canQuery
    ? new Client({ baseUrl: new URL(o.fhirServer!).href.replace(/\/+$/, ''), ...(o.fhirAuthorization ? { bearerToken: o.fhirAuthorization.access_token } : {}) })
    : undefined;
  const dispatcher = capDispatcher(o.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES);

  const call = async (key: string, url: string): Promise<FhirResource> => {
    const t0 = performance.now();
    fhirCalls++;
    try {
      // redirect: 'manual' — a 3xx is a failure ("refused"), never followed: it could lead off the allowed servers.
      // dispatcher: the body is capped at maxResponseBytes (over it the call fails, "response too large", and nothing
      // of it is used); identity encoding, so the cap bounds what is parsed, not just what crosses the wire.
      // (fhir-kit-client hands unknown options to `new Request`; its RequestInit type does not declare `dispatcher`)
      const options = { signal: controller.signal, headers: { accept: 'application/fhir+json', 'accept-encoding': 'identity' }, redirect: 'manual' as const, dispatcher };
      const r = (await client!.request(url, { options })) as unknown;
      if (!isResource(r)) throw new SyntaxError('not a FHIR resource');
      if (jsonDeeperThan(r)) throw new SyntaxError('FHIR answer nested too deeply');
      o.onCall?.({ key, ms: performance.now() - t0, ok: true });
      return r;
    } catch (e) {
      const status = (e as { response?: { status?: number } })?.response?.status;
      o.onCall?.({ key, ms: performance.now() - t0, ok: false, ...(status ? { status } : {}), reason: lowLevelReason(e) });
      throw e;
    }
  };

  /** Read the remaining pages of a search Bundle, within the deadline and page cap. */
  const followPages = async (key: string, first: Bundle, resources: FhirResource[]): Promise<boolean> => {
    let page = first;
    for (let n = 1; ; n++) {
      // enough kept: no further pages (the caller caps what is over)
      if (resources.length >= MAX_RESOURCES_PER_KEY) return nextLink(page) !== undefined;
      const next = nextLink(page);
      if (!next) return false;
      if (!client || !followable(next, o.fhirServer!, o.policy) || n >= o.maxPages) return true;
      // a server's next link may carry raw token values: encoded like our own queries (src/fhir/searchUrl.ts)
      const r = await call(key, encodeSearchQuery(new URL(next, o.fhirServer!.replace(/\/?$/, '/')).toString()));
      if (r.resourceType !== 'Bundle') return true;
      page = r as Bundle;
      resources.push(...bundleResources(page));
    }
  };

  const fetchKey = async (key: string): Promise<GatheredKey> => {
    const q = o.queries[key];
    if (!client) return { resources: [], status: 'failed', error: o.fhirServer ? FETCH_ERRORS.notAllowed : FETCH_ERRORS.noServer };
    if (!q) return { resources: [], status: 'failed', error: FETCH_ERRORS.noQuery };
    try {
      const r = await call(key, encodeSearchQuery(q));
      if (r.resourceType === 'Bundle') {
        const resources = bundleResources(r as Bundle);
        const more = await followPages(key, r as Bundle, resources).catch(() => true);
        const incomplete = capped(resources) || more;
        return { resources, status: 'query', ...(incomplete ? { incomplete } : {}) };
      }
      if (outcomeIsError(r)) return { resources: [], status: 'failed', error: FETCH_ERRORS.serverError };
      return { resources: [r], status: 'query' };
    } catch (e) {
      return { resources: [], status: 'failed', error: errorReason(e) };
    }
  };

  const useKey = async (key: string): Promise<GatheredKey> => {
    const hasKey = o.prefetch !== undefined && Object.prototype.hasOwnProperty.call(o.prefetch, key);
    const v = hasKey ? o.prefetch![key] : undefined;
    if (hasKey && v === null) return { resources: [], status: 'prefetch' };
    if (isResource(v) && !outcomeIsError(v) && v.resourceType !== 'OperationOutcome') {
      if (v.resourceType !== 'Bundle') return { resources: [v], status: 'prefetch' };
      const resources = bundleResources(v as Bundle);
      if (!nextLink(v as Bundle)) return { resources, status: 'prefetch', ...(capped(resources) ? { incomplete: true } : {}) };
      try {
        const more = await followPages(key, v as Bundle, resources);
        const incomplete = capped(resources) || more;
        return { resources, status: 'prefetch', ...(incomplete ? { incomplete } : {}) };
      } catch (e) {
        capped(resources);
        return { resources, status: 'prefetch', incomplete: true, error: errorReason(e) };
      }
    }
    // absent, an OperationOutcome (the client's fetch failed), or not a resource at all: query it ourselves
    return fetchKey(key);
  };

  try {
    const keys = Object.keys(o.queries);
    const results = await Promise.all(keys.map((k) => useKey(k)));
    keys.forEach((k, i) => (byKey[k] = results[i]!));
  } finally {
    clearTimeout(timer);
  }
  return { byKey, fhirCalls, fhirMs: performance.now() - started };
}
