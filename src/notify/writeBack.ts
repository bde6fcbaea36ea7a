// A write-back to the EHR's FHIR server with the service's own token: a FHIR R4 conditional create
// (If-None-Exist on the facts fingerprint identifier), so the same facts are never written twice — 201 written now,
// 200 written before; anything else is refused (and the notification is retried). Used for the DetectedIssue and the
// optional Communication.
import { isFhirServerAllowed } from '../fhir/egress.js';
import { ifNoneExist } from './detectedIssue.js';
import type { NotifyEngine } from './reevaluate.js';

/** A write that takes longer counts as refused (and is retried). */
const WRITE_TIMEOUT_MS = 10_000;

export type WriteResult = { result: 'created' | 'exists'; ref?: string } | { result: 'refused'; reason: string };

export async function conditionalCreate(e: NotifyEngine, type: 'DetectedIssue' | 'Communication', resource: object, fingerprint: string): Promise<WriteResult> {
  const base = e.config.backend.fhirUrl;
  if (!isFhirServerAllowed(base, { allowedServers: e.config.fhir.allowedServers, allowInsecureLoopback: e.config.fhir.allowInsecureLoopback })) return { result: 'refused', reason: 'server not allowed' };
  let token: string;
  try {
    token = await e.credentials.token();
  } catch {
    return { result: 'refused', reason: 'no backend token' };
  }
  let res: Response;
  try {
    res = await fetch(`${new URL(base).href.replace(/\/+$/, '')}/${type}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/fhir+json', accept: 'application/fhir+json', 'if-none-exist': ifNoneExist(fingerprint) },
      body: JSON.stringify(resource),
      redirect: 'manual',
      signal: AbortSignal.timeout(WRITE_TIMEOUT_MS),
    });
  } catch (err) {
    return { result: 'refused', reason: (err as Error).name === 'TimeoutError' ? 'timeout' : 'unreachable' };
  }
  const body = (await res.json().catch(() => undefined)) as { resourceType?: string; id?: unknown } | undefined;
  if (res.status === 401) e.credentials.invalidate();
  if (res.status !== 201 && res.status !== 200) return { result: 'refused', reason: `HTTP ${res.status}` };
  const ref = body?.resourceType === type && typeof body.id === 'string' ? `${type}/${body.id}` : undefined;
  return { result: res.status === 201 ? 'created' : 'exists', ...(ref ? { ref } : {}) };
}
