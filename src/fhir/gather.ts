// Data gathering: use each prefetch key as sent, fetch what is absent or failed from the FHIR server, under one deadline.
import { Client } from 'fhir-kit-client';
import type { Bundle, FhirResource, OperationOutcome } from 'fhir/r4';
import type { FhirAuthorization } from '../cds/protocol.js';
import { jsonDeeperThan } from '../util/jsonDepth.js';

export type KeyStatus = 'prefetch' | 'query' | 'failed';

export interface GatheredKey {
  resources: FhirResource[];
  status: KeyStatus;
  /** the search returned more pages than we could read (deadline or page cap) */
  incomplete?: boolean;
  /** short, PHI-free reason when failed, e.g. "timeout", "HTTP 500" */
  error?: string;
}

export interface GatherResult {
  byKey: Record<string, GatheredKey>;
  fhirCalls: number;
  fhirMs: number;
}

export interface FhirServerPolicy {
  /** URL prefixes allowed; empty = any https server (and http on loopback when allowInsecureLoopback) */
  allowedServers: string[];
  allowInsecureLoopback: boolean;
}

export interface GatherOptions {
  /** key → rendered query (relative to fhirServer), or undefined when the template could not be rendered */
  queries: Record<string, string | undefined>;
  prefetch: Record<string, unknown> | undefined;
  fhirServer: string | undefined;
  fhirAuthorization: FhirAuthorization | undefined;
  deadlineMs: number;
  maxPages: number;
  policy: FhirServerPolicy;
  /** observes each FHIR call (for metrics/logs): PHI-free */
  onCall?: (e: { key: string; ms: number; ok: boolean; status?: number }) => void;
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);

/** Is the service allowed to send the EHR's token to this FHIR base URL? */
export function isFhirServerAllowed(url: string, policy: FhirServerPolicy): boolean {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return false;
  }
  if (u.username || u.password) return false;
  if (policy.allowedServers.length > 0) {
    const norm = u.href.replace(/\/+$/, ''); // the normalised URL (".." resolved) is what will be contacted
    const prefixes = policy.allowedServers.map((p) => new URL(p).href.replace(/\/+$/, ''));
    if (!prefixes.some((p) => norm === p || norm.startsWith(`${p}/`))) return false;
  }
  if (u.protocol === 'https:') return true;
  return u.protocol === 'http:' && policy.allowInsecureLoopback && LOOPBACK.has(u.hostname);
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

/** Only follow paging links on the same origin as the FHIR server: the bearer token must not leak elsewhere. */
function sameOrigin(link: string, base: string): boolean {
  try {
    const a = new URL(link, base);
    const b = new URL(base);
    return a.origin === b.origin;
  } catch {
    return false;
  }
}

function errorReason(e: unknown): string {
  const err = e as { name?: string; response?: { status?: number }; status?: number; message?: string; cause?: { code?: string } };
  if (err?.name === 'AbortError' || err?.name === 'TimeoutError') return 'timeout';
  const status = err?.response?.status ?? err?.status;
  if (typeof status === 'number') return `HTTP ${status}`;
  if (err?.cause?.code) return String(err.cause.code);
  if (err instanceof SyntaxError) return 'invalid JSON';
  return err?.name ?? 'error';
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
  const client = canQuery
    ? new Client({ baseUrl: o.fhirServer!.replace(/\/+$/, ''), ...(o.fhirAuthorization ? { bearerToken: o.fhirAuthorization.access_token } : {}) })
    : undefined;

  const call = async (key: string, url: string): Promise<FhirResource> => {
    const t0 = performance.now();
    fhirCalls++;
    try {
      // redirect: 'manual' — a 3xx is a failure ("HTTP 307"), never followed: it could lead off the allowed servers
      const r = (await client!.request(url, { options: { signal: controller.signal, headers: { accept: 'application/fhir+json' }, redirect: 'manual' } })) as unknown;
      if (!isResource(r)) throw new SyntaxError('not a FHIR resource');
      if (jsonDeeperThan(r)) throw new SyntaxError('FHIR answer nested too deeply');
      o.onCall?.({ key, ms: performance.now() - t0, ok: true });
      return r;
    } catch (e) {
      const status = (e as { response?: { status?: number } })?.response?.status;
      o.onCall?.({ key, ms: performance.now() - t0, ok: false, ...(status ? { status } : {}) });
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
      if (!client || !sameOrigin(next, o.fhirServer!) || n >= o.maxPages) return true;
      const r = await call(key, new URL(next, o.fhirServer!.replace(/\/?$/, '/')).toString());
      if (r.resourceType !== 'Bundle') return true;
      page = r as Bundle;
      resources.push(...bundleResources(page));
    }
  };

  const fetchKey = async (key: string): Promise<GatheredKey> => {
    const q = o.queries[key];
    if (!client) return { resources: [], status: 'failed', error: o.fhirServer ? 'FHIR server not allowed' : 'no FHIR server' };
    if (!q) return { resources: [], status: 'failed', error: 'query could not be built from the context' };
    try {
      const r = await call(key, q);
      if (r.resourceType === 'Bundle') {
        const resources = bundleResources(r as Bundle);
        const more = await followPages(key, r as Bundle, resources).catch(() => true);
        const incomplete = capped(resources) || more;
        return { resources, status: 'query', ...(incomplete ? { incomplete } : {}) };
      }
      if (outcomeIsError(r)) return { resources: [], status: 'failed', error: 'OperationOutcome' };
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
