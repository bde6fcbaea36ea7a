// A real OAuth2 token endpoint for SMART Backend Services, for tests: client_credentials with a private_key_jwt client
// assertion (RFC 7523, SMART App Launch 2.x "Backend Services" §Authorize), VERIFIED: the client is registered with
// its JWKS URL; the assertion's signature is checked against that JWKS (fetched over HTTP from the service's
// /.well-known/jwks.json), iss = sub = client_id, aud = this token URL, exp present and at most 5 minutes ahead, jti
// never seen before. oauth2-mock-server (smart-auth.ts) cannot do this: its hooks are synchronous and it accepts any
// assertion. Issued access tokens are ES256 JWTs signed by this server's key (its JWKS at /jwks), so the test FHIR
// server can check them (startFhirServer({ jwksUrl })).
import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import express from 'express';
import { createRemoteJWKSet, decodeJwt, exportJWK, generateKeyPair, jwtVerify, SignJWT, type JWK } from 'jose';

export interface BackendTokenServer {
  url: string;
  tokenUrl: string;
  jwksUrl: string;
  /** register a backend client: its id and where its public keys are published */
  registerClient(clientId: string, jwksUrl: string): void;
  /** access tokens issued from now on live this long (seconds) */
  setTokenLifetime(seconds: number): void;
  /** tokens issued, and assertions refused with the reason (newest last) */
  readonly issued: { clientId: string; scope: string }[];
  readonly refused: string[];
  stop(): Promise<void>;
}

const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const MAX_ASSERTION_LIFETIME_SEC = 300;

export async function startBackendTokenServer(): Promise<BackendTokenServer> {
  const clients = new Map<string, ReturnType<typeof createRemoteJWKSet>>();
  const seenJti = new Set<string>();
  const issued: { clientId: string; scope: string }[] = [];
  const refused: string[] = [];
  let lifetime = 300;
  const { privateKey, publicKey } = await generateKeyPair('ES256');
  const jwk: JWK = { ...(await exportJWK(publicKey)), kid: 'token-server', alg: 'ES256', use: 'sig' };

  const app = express();
  const server: Server = app.listen(0, '127.0.0.1');
  await new Promise<void>((r) => server.once('listening', () => r()));
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  const tokenUrl = `${url}/token`;

  app.get('/jwks', (_req, res) => void res.json({ keys: [jwk] }));
  app.post('/token', express.urlencoded({ extended: false }), async (req, res) => {
    const b = (req.body ?? {}) as Record<string, string | undefined>;
    const refuse = (error: string, reason: string) => {
      refused.push(reason);
      res.status(error === 'invalid_client' ? 401 : 400).json({ error, error_description: reason });
    };
    if (b['grant_type'] !== 'client_credentials') return refuse('unsupported_grant_type', 'grant_type must be client_credentials');
    if (b['client_assertion_type'] !== ASSERTION_TYPE || !b['client_assertion']) return refuse('invalid_request', 'a jwt-bearer client_assertion is required');
    let clientId: string;
    try {
      clientId = String(decodeJwt(b['client_assertion']).iss ?? '');
    } catch {
      return refuse('invalid_client', 'assertion is not a JWT');
    }
    const jwks = clients.get(clientId);
    if (!jwks) return refuse('invalid_client', 'unknown client');
    let payload;
    try {
      ({ payload } = await jwtVerify(b['client_assertion'], jwks, {
        issuer: clientId,
        subject: clientId,
        audience: tokenUrl,
        algorithms: ['RS384', 'ES384'],
        requiredClaims: ['exp', 'jti'],
      }));
    } catch (e) {
      return refuse('invalid_client', `assertion not verified: ${(e as { code?: string }).code ?? (e as Error).name}`);
    }
    const now = Math.floor(Date.now() / 1000);
    if (payload.exp! > now + MAX_ASSERTION_LIFETIME_SEC + 5) return refuse('invalid_client', 'assertion exp more than 5 minutes ahead');
    if (seenJti.has(payload.jti!)) return refuse('invalid_client', 'assertion jti replayed');
    seenJti.add(payload.jti!);
    const scope = (b['scope'] ?? '').split(/\s+/).filter((s) => s.startsWith('system/')).join(' ');
    if (!scope) return refuse('invalid_scope', 'only system/ scopes are granted');
    const access = await new SignJWT({ scope, client_id: clientId })
      .setProtectedHeader({ alg: 'ES256', kid: 'token-server' })
      .setIssuer(url)
      .setSubject(clientId)
      .setIssuedAt(now)
      .setExpirationTime(now + lifetime)
      .setJti(randomUUID())
      .sign(privateKey);
    issued.push({ clientId, scope });
    res.json({ access_token: access, token_type: 'bearer', expires_in: lifetime, scope });
  });

  return {
    url,
    tokenUrl,
    jwksUrl: `${url}/jwks`,
    registerClient(id, jwksUrl) {
      clients.set(id, createRemoteJWKSet(new URL(jwksUrl), { cacheMaxAge: 0 }));
    },
    setTokenLifetime(s) {
      lifetime = s;
    },
    issued,
    refused,
    stop: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}
