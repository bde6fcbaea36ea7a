// What the service subscribes to: the Observation filters of the prefetch templates (config/services.json) — the
// same codes the evaluators' data are gathered by, one definition. Used by scripts/create-subscriptions.ts (R4
// criteria `Observation?code=…`) and by the catch-up query after missed events (`&_lastUpdated=gt…`).
import type { ServiceCatalog } from '../cds/services.js';

/** Parameters of a prefetch template that select the patient or shape the page, not which Observations. */
const NOT_A_FILTER = new Set(['patient', 'subject', '_sort', '_count', '_include', '_revinclude', '_elements', '_summary']);

export interface ObservationFilter {
  /** the prefetch key it comes from, e.g. "renal" */
  key: string;
  /** the query without the patient and paging, e.g. "code=http%3A%2F%2Floinc.org%7C2160-0,…" */
  filter: string;
}

/** One filter per Observation prefetch key (code or category), as the gatherer queries them. */
export function observationFilters(catalog: ServiceCatalog): ObservationFilter[] {
  const out: ObservationFilter[] = [];
  for (const [key, template] of Object.entries(catalog.prefetch)) {
    const m = /^Observation\?(.*)$/.exec(template);
    if (!m) continue;
    const kept = m[1]!.split('&').filter((p) => !NOT_A_FILTER.has(decodeURIComponent(p.split('=')[0]!)));
    if (kept.length > 0) out.push({ key, filter: kept.join('&') });
  }
  return out;
}

/** An R4 Subscription (rest-hook) for one filter, posting to the service with the notification secret. */
export function subscriptionFor(f: ObservationFilter, endpoint: string, token: string, payload: 'full-resource' | 'id-only' | 'empty' = 'id-only'): Record<string, unknown> {
  return {
    resourceType: 'Subscription',
    status: 'requested',
    reason: `Personalized dosing: re-check active orders when a new result arrives (${f.key})`,
    criteria: `Observation?${f.filter}`,
    channel: {
      type: 'rest-hook',
      endpoint,
      // R4 Subscriptions carry the payload MIME type; id-only / empty are Backport IG extensions on the payload
      payload: 'application/fhir+json',
      _payload: { extension: [{ url: 'http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/backport-payload-content', valueCode: payload }] },
      header: [`Authorization: Bearer ${token}`],
    },
  };
}

export interface CreateSubscriptionsResult {
  created: string[];
  /** filters that already had a Subscription to this endpoint with the same criteria */
  existing: string[];
}

/**
 * Create the Subscriptions on the EHR's FHIR server (R4, criteria-based: one per Observation filter), skipping any
 * that already exist for the same endpoint and criteria. `token` is the service's backend token.
 */
export async function createSubscriptions(o: {
  fhirUrl: string;
  token: string;
  endpoint: string;
  notifyToken: string;
  catalog: ServiceCatalog;
  payload?: 'full-resource' | 'id-only' | 'empty';
}): Promise<CreateSubscriptionsResult> {
  const base = o.fhirUrl.replace(/\/+$/, '');
  const headers = { authorization: `Bearer ${o.token}`, accept: 'application/fhir+json' };
  const res = await fetch(`${base}/Subscription?url=${encodeURIComponent(o.endpoint)}&_count=100`, { headers, redirect: 'manual' });
  if (!res.ok) throw new Error(`Subscription search failed (HTTP ${res.status})`);
  const found = ((await res.json()) as { entry?: { resource?: { criteria?: string; status?: string } }[] }).entry ?? [];
  const have = new Set(found.map((e) => e.resource).filter((s) => s && s.status !== 'off' && s.status !== 'error').map((s) => s!.criteria));
  const out: CreateSubscriptionsResult = { created: [], existing: [] };
  for (const f of observationFilters(o.catalog)) {
    const sub = subscriptionFor(f, o.endpoint, o.notifyToken, o.payload);
    if (have.has(sub['criteria'] as string)) {
      out.existing.push(f.key);
      continue;
    }
    const r = await fetch(`${base}/Subscription`, { method: 'POST', headers: { ...headers, 'content-type': 'application/fhir+json' }, body: JSON.stringify(sub), redirect: 'manual' });
    if (r.status !== 201 && r.status !== 200) throw new Error(`Subscription for ${f.key} refused (HTTP ${r.status}): ${(await r.text()).slice(0, 300)}`);
    out.created.push(f.key);
  }
  return out;
}
