// A real OAuth2 authorization server (oauth2-mock-server) playing the EHR's SMART authorization server for tests and
// the demo: authorization code + PKCE, signed JWT access tokens, and the EHR launch context: a `launch` id registered
// by the "EHR" maps to the patient (and the card's appContext) in the token response and the access token.
import { createPublicKey, randomUUID, verify, type JsonWebKey } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { urlencoded } from 'express';
import { OAuth2Server } from 'oauth2-mock-server';

export interface LaunchContext {
  patient: string;
  /** CDS Hooks Link.appContext, passed through the launch as the token response's `appContext` */
  appContext?: string;
}

export interface SmartAuthServer {
  /** issuer / origin, e.g. http://127.0.0.1:41234 */
  url: string;
  authorizeUrl: string;
  tokenUrl: string;
  jwksUrl: string;
  /** What the EHR does before opening the app: remember the context, hand the app an opaque launch id. */
  registerLaunch(ctx: LaunchContext): string;
  /** Next access tokens expire this many seconds after issue (negative = already expired). Default 3600. */
  setTokenLifetime(seconds: number): void;
  /** Sign an access token directly (API tests), with the same keys and claims as the token endpoint. */
  accessToken(claims: { patient: string; scope?: string }, lifetimeSec?: number): Promise<string>;
  /** RFC 7662 introspection endpoint: active = a token this server signed, not expired, not revoked; with its `patient`. */
  introspectUrl: string;
  /** The client credentials the introspection endpoint requires (HTTP Basic, RFC 7662 §2.1). */
  introspectionClient: { id: string; secret: string };
  /** Revoke a token: introspection says inactive from now on (its signature still verifies). */
  revoke(token: string): void;
  /** Introspection requests received (for cache tests). */
  introspections(): number;
  stop(): Promise<void>;
}

export async function startSmartAuthServer(host = '127.0.0.1'): Promise<SmartAuthServer> {
  const server = new OAuth2Server();
  await server.issuer.keys.generate('RS256');
  await server.start(0, host);
  // the issuer defaults to http://localhost:<port>; the browser tests resolve only 127.0.0.1
  server.issuer.url = `http://${host}:${server.address().port}`;
  const url = server.issuer.url;
  const launches = new Map<string, LaunchContext>();
  const codes = new Map<string, LaunchContext>();
  let lifetime = 3600;
  const revoked = new Set<string>();
  const introspectionClient = { id: 'pgx-dosing-cds-introspection', secret: randomUUID() };
  let introspectionCount = 0;

  // oauth2-mock-server answers POST /introspect with {"active": true} for anything and does not read the request body.
  // Minimal extension through its own app and hook: the form body parsed first (express's urlencoded parser placed
  // before its routes), then the answer made in the beforeIntrospect hook from the token itself.
  const app = server.service.requestHandler as unknown as { use(path: string, h: unknown): void; router: { stack: unknown[] } };
  app.use('/introspect', urlencoded({ extended: false }));
  app.router.stack.unshift(app.router.stack.pop());
  /** The claims of a token this server signed (RS256 with its own key), else undefined. */
  const ownClaims = (token: string): Record<string, unknown> | undefined => {
    const [h, p, sig] = token.split('.');
    if (!h || !p || !sig) return undefined;
    try {
      const header = JSON.parse(Buffer.from(h, 'base64url').toString()) as { kid?: string; alg?: string };
      const jwk = (server.issuer.keys.toJSON() as (JsonWebKey & { kid?: string })[]).find((k) => k.kid === header.kid);
      if (!jwk || header.alg !== 'RS256') return undefined;
      if (!verify('sha256', Buffer.from(`${h}.${p}`), createPublicKey({ key: jwk, format: 'jwk' }), Buffer.from(sig, 'base64url'))) return undefined;
      return JSON.parse(Buffer.from(p, 'base64url').toString()) as Record<string, unknown>;
    } catch {
      return undefined;
    }
  };
  server.service.on('beforeIntrospect', (response: { body: Record<string, unknown>; statusCode: number }, req: IncomingMessage & { body?: Record<string, unknown> }) => {
    introspectionCount++;
    const expected = `Basic ${Buffer.from(`${introspectionClient.id}:${introspectionClient.secret}`).toString('base64')}`;
    if (req.headers.authorization !== expected) {
      response.statusCode = 401;
      response.body = { error: 'invalid_client' };
      return;
    }
    const token = typeof req.body?.['token'] === 'string' ? req.body['token'] : '';
    const claims = ownClaims(token);
    const exp = typeof claims?.['exp'] === 'number' ? claims['exp'] : 0;
    if (!claims || revoked.has(token) || exp <= Date.now() / 1000) {
      response.body = { active: false };
      return;
    }
    response.body = { active: true, token_type: 'Bearer', scope: claims['scope'], sub: claims['sub'], iss: claims['iss'], exp, iat: claims['iat'], ...(typeof claims['patient'] === 'string' ? { patient: claims['patient'] } : {}) };
  });

  server.service.on('beforeAuthorizeRedirect', (redirect: { url: URL }, req: IncomingMessage) => {
    const q = new URL(req.url ?? '/', url).searchParams;
    const ctx = launches.get(q.get('launch') ?? '');
    const code = redirect.url.searchParams.get('code');
    if (!ctx || !code) {
      // an EHR launch without a known launch id gets no code
      redirect.url.searchParams.delete('code');
      redirect.url.searchParams.set('error', 'invalid_request');
      redirect.url.searchParams.set('error_description', 'unknown launch');
      return;
    }
    codes.set(code, ctx);
  });
  server.service.on('beforeTokenSigning', (token: { payload: Record<string, unknown> }, req: IncomingMessage & { body?: Record<string, unknown> }) => {
    const ctx = codes.get(String(req.body?.['code'] ?? ''));
    if (ctx) token.payload['patient'] = ctx.patient;
    const now = Math.floor(Date.now() / 1000);
    token.payload['exp'] = now + lifetime;
  });
  server.service.on('beforeResponse', (response: { body: Record<string, unknown>; statusCode: number }, req: IncomingMessage & { body?: Record<string, unknown> }) => {
    const code = String(req.body?.['code'] ?? '');
    const ctx = codes.get(code);
    if (!ctx) return;
    codes.delete(code);
    response.body['patient'] = ctx.patient;
    response.body['need_patient_banner'] = false; // the app shows the patient itself
    if (ctx.appContext) response.body['appContext'] = ctx.appContext;
    response.body['expires_in'] = lifetime;
  });

  return {
    url,
    authorizeUrl: `${url}/authorize`,
    tokenUrl: `${url}/token`,
    jwksUrl: `${url}/jwks`,
    introspectUrl: `${url}/introspect`,
    introspectionClient,
    revoke(token) {
      revoked.add(token);
    },
    introspections: () => introspectionCount,
    registerLaunch(ctx) {
      const id = randomUUID();
      launches.set(id, ctx);
      return id;
    },
    setTokenLifetime(s) {
      lifetime = s;
    },
    async accessToken(claims, lifetimeSec = 3600) {
      return server.issuer.buildToken({
        expiresIn: lifetimeSec,
        scopesOrTransform: (_h: unknown, p: Record<string, unknown>) => {
          p['patient'] = claims.patient;
          p['scope'] = claims.scope ?? 'launch openid fhirUser patient/Patient.rs';
          p['sub'] = 'test-user';
          p['jti'] = randomUUID(); // two tokens signed in the same second are different tokens (revocation is per token)
        },
      } as never);
    },
    stop: () => server.stop(),
  };
}
