// SMART Backend Services (SMART App Launch 2.x, "Backend Services"): the service's own access token for the EHR's
// FHIR server. client_credentials grant, authenticated by a private_key_jwt client assertion (RFC 7523) signed with
// the service's own key (RS384 or ES384); the public key is published at /.well-known/jwks.json for the EHR to
// register. The token is cached until shortly before it expires. For development and tests only, a static token.
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { importJWK, SignJWT, type JWK } from 'jose';

const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
/** the assertion lives at most 5 minutes (SMART Backend Services: exp no more than five minutes in the future) */
const ASSERTION_LIFETIME_SEC = 300;
/** a token is renewed this long before it expires (never used in its last minute) */
export const TOKEN_RENEW_BEFORE_MS = 60_000;

export class BackendAuthError extends Error {
  override name = 'BackendAuthError';
}

export interface BackendCredentials {
  /** bearer token for the backend FHIR server */
  token(): Promise<string>;
  /** the public JWKS to publish (empty for a static token) */
  jwks(): { keys: JWK[] };
  /** drop the cached token (the FHIR server refused it) */
  invalidate(): void;
}

/** A private JWK (RSA or EC P-384) with a kid; alg RS384 or ES384 (default by key type). */
export interface SigningKey {
  alg: 'RS384' | 'ES384';
  kid: string;
  privateJwk: JWK;
  publicJwk: JWK;
}

export async function loadSigningKey(file: string): Promise<SigningKey> {
  let jwk: JWK;
  try {
    jwk = JSON.parse(readFileSync(file, 'utf8')) as JWK;
  } catch (e) {
    throw new BackendAuthError(`BACKEND_KEY_FILE could not be read as a JWK (JSON): ${(e as Error).name}`);
  }
  const alg = jwk.alg ?? (jwk.kty === 'RSA' ? 'RS384' : jwk.kty === 'EC' && jwk.crv === 'P-384' ? 'ES384' : undefined);
  if (alg !== 'RS384' && alg !== 'ES384') throw new BackendAuthError('BACKEND_KEY_FILE: the key must be RS384 (RSA) or ES384 (EC P-384)');
  if (!jwk.kid) throw new BackendAuthError('BACKEND_KEY_FILE: the key needs a "kid" (the EHR finds the key by it)');
  if (!jwk.d) throw new BackendAuthError('BACKEND_KEY_FILE: a private key is needed (it has no "d")');
  await importJWK(jwk, alg); // fails here, at start, if the key is not usable
  const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, oth: _oth, ...pub } = jwk;
  return { alg: alg as SigningKey['alg'], kid: jwk.kid, privateJwk: jwk, publicJwk: { ...pub, alg, use: 'sig', kid: jwk.kid } };
}

export interface TokenClientOptions {
  tokenUrl: string;
  clientId: string;
  scope: string;
  key: SigningKey;
  /** request timeout (ms) */
  timeoutMs?: number;
  /** the clock the cache runs on (tests); the assertion's claims always use the real clock */
  now?: () => number;
}

/** The client_credentials flow with a signed assertion; one token at a time, shared by concurrent callers. */
export class BackendTokenClient implements BackendCredentials {
  private cached: { token: string; renewAt: number } | undefined;
  private pending: Promise<string> | undefined;
  constructor(private readonly o: TokenClientOptions) {}

  jwks(): { keys: JWK[] } {
    return { keys: [this.o.key.publicJwk] };
  }

  invalidate(): void {
    this.cached = undefined;
  }

  async token(): Promise<string> {
    const now = (this.o.now ?? Date.now)();
    if (this.cached && now < this.cached.renewAt) return this.cached.token;
    this.pending ??= this.fetchToken().finally(() => (this.pending = undefined));
    return this.pending;
  }

  /** The signed client assertion (exported for tests of the token server). */
  async assertion(): Promise<string> {
    const k = this.o.key;
    const now = Math.floor(Date.now() / 1000); // the real clock: the token server checks exp against its own
    return new SignJWT({})
      .setProtectedHeader({ alg: k.alg, kid: k.kid, typ: 'JWT' })
      .setIssuer(this.o.clientId)
      .setSubject(this.o.clientId)
      .setAudience(this.o.tokenUrl)
      .setIssuedAt(now)
      .setExpirationTime(now + ASSERTION_LIFETIME_SEC)
      .setJti(randomUUID())
      .sign(await importJWK(k.privateJwk, k.alg));
  }

  private async fetchToken(): Promise<string> {
    const body = new URLSearchParams({
      grant_type: 'client_credentials',
      scope: this.o.scope,
      client_assertion_type: ASSERTION_TYPE,
      client_assertion: await this.assertion(),
    });
    let res: Response;
    try {
      res = await fetch(this.o.tokenUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        body,
        signal: AbortSignal.timeout(this.o.timeoutMs ?? 5000),
      });
    } catch (e) {
      throw new BackendAuthError(`token endpoint unreachable (${(e as Error).name})`);
    }
    const json = (await res.json().catch(() => undefined)) as { access_token?: unknown; expires_in?: unknown; token_type?: unknown; error?: unknown } | undefined;
    if (!res.ok || typeof json?.access_token !== 'string' || !json.access_token) {
      // the OAuth error code (e.g. invalid_client) is safe to log; the description may not be
      throw new BackendAuthError(`token refused (${res.status}${typeof json?.error === 'string' ? ` ${json.error.slice(0, 64)}` : ''})`);
    }
    if (typeof json.token_type === 'string' && json.token_type.toLowerCase() !== 'bearer') throw new BackendAuthError('token_type is not Bearer');
    const lifetimeMs = (typeof json.expires_in === 'number' && json.expires_in > 0 ? json.expires_in : 300) * 1000;
    const now = (this.o.now ?? Date.now)();
    // renewed a minute before expiry, or at half its life when it lives less than two minutes
    this.cached = { token: json.access_token, renewAt: now + Math.max(lifetimeMs - TOKEN_RENEW_BEFORE_MS, lifetimeMs / 2) };
    return json.access_token;
  }
}

/** Development and tests only (BACKEND_FHIR_TOKEN). */
export class StaticBackendToken implements BackendCredentials {
  constructor(private readonly value: string) {}
  async token(): Promise<string> {
    return this.value;
  }
  jwks(): { keys: JWK[] } {
    return { keys: [] };
  }
  invalidate(): void {}
}

/** The credentials configuration asks for: the token flow with the key file, or (development only) the static token. */
export async function backendCredentialsFrom(c: { tokenUrl: string; clientId: string; keyFile: string; staticToken: string; scope: string }): Promise<BackendCredentials> {
  if (c.tokenUrl && c.clientId && c.keyFile) return new BackendTokenClient({ tokenUrl: c.tokenUrl, clientId: c.clientId, scope: c.scope, key: await loadSigningKey(c.keyFile) });
  if (c.staticToken) return new StaticBackendToken(c.staticToken);
  throw new BackendAuthError('no backend credentials configured');
}
