// A real OAuth2 authorization server (oauth2-mock-server) playing the EHR's SMART authorization server for tests and
// the demo: authorization code + PKCE, signed JWT access tokens, and the EHR launch context: a `launch` id registered
// by the "EHR" maps to the patient (and the card's appContext) in the token response and the access token.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
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
        },
      } as never);
    },
    stop: () => server.stop(),
  };
}
