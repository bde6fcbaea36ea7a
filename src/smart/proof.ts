// Proof that a SMART app's access token may see a patient: read Patient/<id> on an allowlisted FHIR server with it.
import { createHash } from 'node:crypto';
import { isFhirServerAllowed } from '../fhir/egress.js';
import { capDispatcher, DEFAULT_MAX_RESPONSE_BYTES } from '../fhir/gather.js';

export interface AccessClaim {
  /** the app's SMART access token (never logged, never stored: only a hash keys the cache) */
  token: string;
  /** FHIR base URL from the launch (`iss`) */
  fhirServer: string;
  /** patient id from the launch context */
  patientId: string;
}

export type ProofFailure =
  | 'server-not-allowed' // 403: the FHIR server is not on smart.allowedFhirServers
  | 'token-rejected' // 401: the FHIR server answered 401 (expired, revoked, invalid)
  | 'patient-denied' // 403: the FHIR server refused or does not know the patient (403/404) or answered another patient
  | 'fhir-unavailable'; // 502: no usable answer in time

export type ProofResult = { ok: true; cached: boolean } | { ok: false; reason: ProofFailure; status?: number };

export interface AccessProverOptions {
  allowedServers: string[];
  allowInsecureLoopback: boolean;
  cacheSeconds: number;
  timeoutMs: number;
  fetch?: typeof fetch;
  /** byte cap on the Patient answer (config fhir.maxResponseBytes); over it the proof fails as fhir-unavailable */
  maxResponseBytes?: number;
  now?: () => number;
  /** upper bound of cached proofs (oldest evicted first) */
  maxEntries?: number;
}

/** Patient ids as FHIR defines them: anything else never reaches a URL. */
export const FHIR_ID = /^[A-Za-z0-9\-.]{1,64}$/;

export class AccessProver {
  private readonly cache = new Map<string, number>(); // hash → expiry (ms)
  private readonly fetchImpl: typeof fetch;
  private readonly now: () => number;
  constructor(private readonly o: AccessProverOptions) {
    this.fetchImpl = o.fetch ?? fetch;
    this.now = o.now ?? Date.now;
  }

  /** Empty allowlist = nothing is accepted (an unlisted server could "prove" access to any patient id). */
  serverAllowed(url: string): boolean {
    return this.o.allowedServers.length > 0 && isFhirServerAllowed(url, { allowedServers: this.o.allowedServers, allowInsecureLoopback: this.o.allowInsecureLoopback });
  }

  async prove(c: AccessClaim): Promise<ProofResult> {
    if (!this.serverAllowed(c.fhirServer) || !FHIR_ID.test(c.patientId)) return { ok: false, reason: 'server-not-allowed' };
    const base = new URL(c.fhirServer).href.replace(/\/+$/, '');
    const key = createHash('sha256').update(`${c.token}\n${base}\n${c.patientId}`).digest('base64url');
    const t = this.now();
    const exp = this.cache.get(key);
    if (exp !== undefined && exp > t) return { ok: true, cached: true };
    if (exp !== undefined) this.cache.delete(key);

    let res: Response;
    try {
      // the answer is capped like every FHIR answer the service reads (src/fhir/gather.ts): uncompressed, at most
      // maxResponseBytes; over it fetch or res.json() fails → fhir-unavailable. (RequestInit does not declare dispatcher.)
      const init = {
        headers: { authorization: `Bearer ${c.token}`, accept: 'application/fhir+json', 'accept-encoding': 'identity' },
        redirect: 'manual' as const, // a redirect could carry the token off the allowlisted server
        signal: AbortSignal.timeout(this.o.timeoutMs),
        dispatcher: capDispatcher(this.o.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES),
      };
      res = await this.fetchImpl(`${base}/Patient/${encodeURIComponent(c.patientId)}`, init as RequestInit);
    } catch {
      return { ok: false, reason: 'fhir-unavailable' };
    }
    if (res.status === 401) return drain(res, { ok: false, reason: 'token-rejected', status: 401 });
    if (res.status === 403 || res.status === 404 || res.status === 410) return drain(res, { ok: false, reason: 'patient-denied', status: res.status });
    if (res.status !== 200) return drain(res, { ok: false, reason: 'fhir-unavailable', status: res.status });
    let body: unknown;
    try {
      body = await res.json();
    } catch {
      return { ok: false, reason: 'fhir-unavailable', status: 200 };
    }
    const p = body as { resourceType?: unknown; id?: unknown };
    if (p?.resourceType !== 'Patient' || p.id !== c.patientId) return { ok: false, reason: 'patient-denied', status: 200 };
    if (this.o.cacheSeconds > 0) {
      if (this.cache.size >= (this.o.maxEntries ?? 10_000)) this.cache.delete(this.cache.keys().next().value!);
      // never past the token's own expiry, when the token says it (a JWT's exp): an expired token must not keep
      // working from the cache. Read unverified, and only ever used to shorten the cached time.
      const tokenExp = jwtExpiryMs(c.token);
      const until = Math.min(t + this.o.cacheSeconds * 1000, tokenExp ?? Infinity);
      if (until > t) this.cache.set(key, until);
    }
    return { ok: true, cached: false };
  }
}

/** `exp` of a JWT-shaped token in ms, without verifying it (opaque tokens and malformed ones: undefined). */
export function jwtExpiryMs(token: string): number | undefined {
  const parts = token.split('.');
  if (parts.length !== 3 || parts[1]!.length > 8192) return undefined;
  try {
    const exp = (JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8')) as { exp?: unknown }).exp;
    return typeof exp === 'number' && Number.isFinite(exp) ? exp * 1000 : undefined;
  } catch {
    return undefined;
  }
}

async function drain<T>(res: Response, out: T): Promise<T> {
  await res.body?.cancel().catch(() => undefined);
  return out;
}
