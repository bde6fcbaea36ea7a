// The service's recommendation API, called with the SMART token, the FHIR server and the patient of this launch.
// Every call ends: an answer, an ApiError with the HTTP status and the service's reason code, a network failure or
// a timeout (never a promise that stays pending).
import type Client from 'fhirclient/lib/Client';
import type { Recommendation } from '../../src/domain/recommendation.js';
import { ApiError } from './errors.js';

export { ApiError };

/** Longer than the service's own deadlines (the FHIR proof: 3 s by default), short enough not to leave the user waiting. */
export const API_TIMEOUT_MS = 20000;

export interface RecommendationSummary {
  id: string;
  drug: string;
  kind: string;
  severity: string;
  headline: string;
  method: { name: string; version: string };
  createdAt: string;
  /** the draft order the recommendation is about, e.g. "MedicationRequest/103" (absent for some kinds) */
  orderRef?: string;
}

/** One GET with a deadline: network failures and timeouts become ApiErrors too. */
export async function getJson<T>(url: URL, headers: Record<string, string>, timeoutMs = API_TIMEOUT_MS): Promise<T> {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), timeoutMs);
  try {
    let res: Response;
    try {
      res = await fetch(url, { headers, credentials: 'omit', signal: abort.signal });
    } catch (e) {
      if (abort.signal.aborted) throw new ApiError(-1, 'timeout', `no answer within ${timeoutMs / 1000} s`);
      throw new ApiError(0, 'network', e instanceof Error ? e.message : String(e));
    }
    const body = (await res.json().catch(() => undefined)) as (T & { error?: unknown; reason?: unknown }) | undefined;
    if (!res.ok) {
      const reason = typeof body?.reason === 'string' ? body.reason : `http-${res.status}`;
      throw new ApiError(res.status, reason, typeof body?.error === 'string' ? body.error : `HTTP ${res.status}`);
    }
    if (body === undefined) throw new ApiError(res.status, 'bad-answer', 'the answer was not JSON');
    return body;
  } catch (e) {
    if (abort.signal.aborted && !(e instanceof ApiError)) throw new ApiError(-1, 'timeout', `no answer within ${timeoutMs / 1000} s`);
    throw e;
  } finally {
    clearTimeout(timer);
  }
}

export function api(client: Client) {
  const token = client.getState('tokenResponse.access_token') as string | undefined;
  const headers = { authorization: `Bearer ${token ?? ''}`, 'x-fhir-server': client.state.serverUrl, 'x-patient-id': client.patient.id ?? '', accept: 'application/json' };
  const apiBase = new URL('../api/', location.href); // the app lives at <service>/smart/
  const get = async <T>(url: URL): Promise<T> => {
    for (let attempt = 0; ; attempt++) {
      try {
        return await getJson<T>(url, headers);
      } catch (e) {
        // a recommendation is recorded just after its card is sent: give the audit write a moment
        if (e instanceof ApiError && e.status === 404 && attempt < 2) {
          await new Promise((r) => setTimeout(r, 700));
          continue;
        }
        throw e;
      }
    }
  };
  return {
    one: (id: string) => get<{ recommendation: Recommendation; createdAt: string }>(new URL(`recommendations/${encodeURIComponent(id)}`, apiBase)),
    list: () => get<{ recommendations: RecommendationSummary[] }>(new URL('recommendations', apiBase)),
  };
}
