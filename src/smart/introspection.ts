// OAuth 2.0 Token Introspection (RFC 7662) of the SMART app's access token, for the recommendation API: is the token
// active, and which patient was it launched for (SMART App Launch 2: the `patient` member). Used when
// SMART_INTROSPECTION_URL is configured (src/smart/router.ts); without it the API relies on the EHR's FHIR server
// enforcing the token's patient (README "SMART app", the trust assumption).
//
// - POST application/x-www-form-urlencoded `token=<token>&token_type_hint=access_token` (RFC 7662 §2.1), with HTTP
//   Basic client authentication when a client id is configured (§2.1: the endpoint MUST require some authorization).
// - A 200 JSON object with `active: true` is active; anything else with 200 is inactive (§2.2). Other statuses,
//   timeouts, redirects and non-JSON are errors (the caller answers 502), never "active".
// - Results are cached per token (by SHA-256, never the token) for `cacheSeconds`, and never past the token's `exp`.
import { createHash } from 'node:crypto';

export type Introspection =
  | { active: false }
  | { active: true; patient?: string; exp?: number };

export type IntrospectionResult = { ok: true; value: Introspection; cached: boolean } | { ok: false; status?: number };

export interface TokenIntrospectorOptions {
  url: string;
  clientId?: string;
  clientSecret?: string;
  cacheSeconds: number;
  timeoutMs: number;
  fetch?: typeof fetch;
  now?: () => number;
  maxEntries?: number;
  /** largest answer read, bytes (default 64 KiB) */
  maxBytes?: number;
}

export class TokenIntrospector {
  private readonly cache = new Map<string, { until: number; value: Introspection }>();
  private readonly fetchImpl: typeof fetch;
  private readonly now: () => number;
  constructor(private readonly o: TokenIntrospectorOptions) {
    this.fetchImpl = o.fetch ?? fetch;
    this.now = o.now ?? Date.now;
  }

  async introspect(token: string): Promise<IntrospectionResult> {
    const key = createHash('sha256').update(token).digest('base64url');
    const t = this.now();
    const hit = this.cache.get(key);
    if (hit && hit.until > t) return { ok: true, value: hit.value, cached: true };
    if (hit) this.cache.delete(key);

    const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' };
    if (this.o.clientId) {
      // RFC 6749 §2.3.1: client id and secret form-urlencoded, then base64 of "id:secret"
      const basic = `${encodeURIComponent(this.o.clientId)}:${encodeURIComponent(this.o.clientSecret ?? '')}`;
      headers['authorization'] = `Basic ${Buffer.from(basic).toString('base64')}`;
    }
    let res: Response;
    try {
      res = await this.fetchImpl(this.o.url, {
        method: 'POST',
        headers,
        body: new URLSearchParams({ token, token_type_hint: 'access_token' }).toString(),
        redirect: 'manual', // a redirect could carry the token elsewhere
        signal: AbortSignal.timeout(this.o.timeoutMs),
      });
    } catch {
      return { ok: false };
    }
    if (res.status !== 200) {
      await res.body?.cancel().catch(() => undefined);
      return { ok: false, status: res.status };
    }
    let body: unknown;
    try {
      const text = await res.text();
      if (text.length > (this.o.maxBytes ?? 64 * 1024)) return { ok: false, status: 200 };
      body = JSON.parse(text);
    } catch {
      return { ok: false, status: 200 };
    }
    const value = readIntrospection(body, t);
    if (this.o.cacheSeconds > 0) {
      let until = t + this.o.cacheSeconds * 1000;
      if (value.active && value.exp !== undefined) until = Math.min(until, value.exp * 1000);
      if (until > t) {
        if (this.cache.size >= (this.o.maxEntries ?? 10_000)) this.cache.delete(this.cache.keys().next().value!);
        this.cache.set(key, { until, value });
      }
    }
    return { ok: true, value, cached: false };
  }
}

/** RFC 7662 §2.2: only `active: true` (the boolean) is active; a past `exp` makes it inactive whatever the server says. */
export function readIntrospection(body: unknown, nowMs: number): Introspection {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return { active: false };
  const b = body as Record<string, unknown>;
  if (b['active'] !== true) return { active: false };
  const exp = typeof b['exp'] === 'number' && Number.isFinite(b['exp']) ? b['exp'] : undefined;
  if (exp !== undefined && exp * 1000 <= nowMs) return { active: false };
  const out: Introspection = { active: true };
  if (typeof b['patient'] === 'string' && b['patient'] !== '') out.patient = b['patient'];
  if (exp !== undefined) out.exp = exp;
  return out;
}
