// Test helpers: real key pairs and real signed CDS client JWTs.
//
//   const ehr = await makeTestClient({ alg: 'ES384' });
//   const auth = cdsAuth({ publicBaseUrl: BASE, clients: trustedClientsFor(ehr) });
//   await fetch(`${BASE}/cds-services`, { headers: { authorization: await ehr.bearer(`${BASE}/cds-services`) } });
//
// Every `sign()` gets a fresh `jti`, so the replay check never gets in the way of ordinary tests.
import { KeyObject, randomUUID, sign as nodeSign } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CompactSign, exportJWK, generateKeyPair, type CryptoKey, type JWK } from 'jose';
import type { PublicJwk, TrustedClient, TrustedClients } from '../../src/cds/trustedClients.js';

export type TestAlg = 'ES384' | 'RS384' | 'ES256' | 'RS256';

export interface SignOverrides {
  /** Merged into the claims; a value of `undefined` removes the claim (e.g. `{ jti: undefined }`). */
  claims?: Record<string, unknown>;
  /** Merged into the protected header; `undefined` removes a member (e.g. `{ typ: undefined }`). */
  header?: Record<string, unknown>;
  /** exp - iat in seconds (default 300, like the CDS Hooks sandbox). */
  lifetimeSec?: number;
  /** "Now" in epoch seconds for iat (default: the real clock). */
  nowSec?: number;
}

export interface TestClient {
  iss: string;
  kid: string;
  alg: TestAlg;
  /** If set, tokens carry this `jku` header (and `trusted` allowlists it instead of inlining the keys). */
  jku?: string;
  /** Public key set ({ keys: [jwk] }), what the EHR would publish. */
  jwks: { keys: PublicJwk[] };
  privateKey: CryptoKey;
  /** Entry for the trusted-clients config: inline `jwks`, or `jku` allowlist when the client uses `jku`. */
  trusted: TrustedClient;
  /** A signed JWT for a call to `aud` (the exact endpoint URL). */
  sign(aud: string | string[], overrides?: SignOverrides): Promise<string>;
  /** `Bearer <jwt>`, ready for an Authorization header. */
  bearer(aud: string | string[], overrides?: SignOverrides): Promise<string>;
}

export interface MakeTestClientOptions {
  alg?: TestAlg;
  iss?: string;
  kid?: string;
  jku?: string;
}

let counter = 0;

export async function makeTestClient(opts: MakeTestClientOptions = {}): Promise<TestClient> {
  const alg = opts.alg ?? 'ES384';
  const n = ++counter;
  const iss = opts.iss ?? `https://ehr-${n}.test.example`;
  const kid = opts.kid ?? `test-key-${n}-${alg}`;
  const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true });
  const pub = (await exportJWK(publicKey)) as JWK;
  const jwk: PublicJwk = { ...(pub as Omit<PublicJwk, 'kid'>), kid, alg, use: 'sig' } as PublicJwk;
  const jwks = { keys: [jwk] };
  const jku = opts.jku;

  const sign = async (aud: string | string[], o: SignOverrides = {}): Promise<string> => {
    const iat = o.nowSec ?? Math.floor(Date.now() / 1000);
    const claims = strip({ iss, aud, iat, exp: iat + (o.lifetimeSec ?? 300), jti: randomUUID(), ...o.claims });
    const header = strip({ alg, typ: 'JWT', kid, ...(jku !== undefined ? { jku } : {}), ...o.header });
    return new CompactSign(new TextEncoder().encode(JSON.stringify(claims)))
      .setProtectedHeader(header as { alg: string })
      .sign(privateKey);
  };
  const trusted: TrustedClient = jku !== undefined ? { iss, name: `test ${alg} client`, jku: [jku] } : { iss, name: `test ${alg} client`, jwks };
  const client: TestClient = {
    iss,
    kid,
    alg,
    jwks,
    privateKey,
    trusted,
    sign,
    bearer: async (aud, o) => `Bearer ${await sign(aud, o)}`,
  };
  if (jku !== undefined) client.jku = jku;
  return client;
}

/** A trusted-clients config containing these test clients. */
export function trustedClientsFor(...clients: TestClient[]): TrustedClients {
  return { clients: clients.map((c) => c.trusted) };
}

/**
 * A compact JWS with any protected header over `payloadSegment` exactly as given (base64url or raw, RFC 7797), signed
 * by node:crypto with the client's real key: jose refuses to sign headers it does not understand (`crit`, `b64`).
 */
export function signRawJws(client: TestClient, header: Record<string, unknown>, payloadSegment: string): string {
  const h = b64urlJson({ alg: client.alg, typ: 'JWT', kid: client.kid, ...header });
  const key = KeyObject.from(client.privateKey);
  const hash = `sha${client.alg.slice(2)}`;
  const opts = client.alg.startsWith('ES') ? { key, dsaEncoding: 'ieee-p1363' as const } : key;
  return `${h}.${payloadSegment}.${nodeSign(hash, Buffer.from(`${h}.${payloadSegment}`), opts).toString('base64url')}`;
}

/** base64url(JSON) — for hand-crafted tokens. */
export function b64urlJson(v: unknown): string {
  return Buffer.from(JSON.stringify(v)).toString('base64url');
}

/** Assemble a compact JWS from parts (signature already base64url, may be empty). */
export function craftToken(header: Record<string, unknown>, claims: Record<string, unknown>, signatureB64url = ''): string {
  return `${b64urlJson(header)}.${b64urlJson(claims)}.${signatureB64url}`;
}

/** Standard CDS claims for a hand-crafted token. */
export function standardClaims(iss: string, aud: string | string[], lifetimeSec = 300): Record<string, unknown> {
  const iat = Math.floor(Date.now() / 1000);
  return { iss, aud, iat, exp: iat + lifetimeSec, jti: randomUUID() };
}

function strip(o: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) out[k] = v;
  return out;
}

/** A local key-set server (127.0.0.1, ephemeral port) that counts the requests it receives. */
export interface JwksServer {
  /** URL of the key set, e.g. http://127.0.0.1:PORT/.well-known/jwks.json */
  url: string;
  requests: string[];
  /** Replace what is served (e.g. rotate keys); `undefined` → 500. */
  setBody(body: unknown): void;
  close(): Promise<void>;
}

export async function startJwksServer(body: unknown, path = '/.well-known/jwks.json'): Promise<JwksServer> {
  let current = body;
  const requests: string[] = [];
  const server: Server = createServer((req: IncomingMessage, res) => {
    requests.push(`${req.method} ${req.url}`);
    if (req.url !== path || current === undefined) {
      res.writeHead(req.url !== path ? 404 : 500).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(current));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}${path}`,
    requests,
    setBody(b) {
      current = b;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}
