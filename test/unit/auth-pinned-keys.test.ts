// Pinned (inline) keys before jku, and the shipped clients file working offline (issue 17 scope 1).
// Rule (src/cds/auth.ts step 5, docs/operations.md "CDS client keys"):
//   - a token jku that is not on the client's allowlist is refused without a request, whatever the kid;
//   - a pinned key with the token's kid (suiting alg) is used without fetching, even when the token carries an
//     allowlisted jku (the CDS Hooks Sandbox signs ES384 with kid + jku https://sandbox.cds-hooks.org/.well-known/jwks.json);
//   - only when no pinned key matches is the allowlisted jku fetched; a failed fetch refuses with jku_fetch_failed.
import { createPublicKey } from 'node:crypto';
import path from 'node:path';
import { createCdsAuthContext, verifyCdsJwt, type AuthLogger } from '../../src/cds/auth.js';
import { loadTrustedClients, type TrustedClient } from '../../src/cds/trustedClients.js';
import { makeTestClient, startJwksServer, type JwksServer } from '../support/jwt.js';

const AUD = 'https://cds.example.org/cds-services/warfarin-dosing';
const SANDBOX_ISS = 'https://sandbox.cds-hooks.org';
const SANDBOX_JKU = 'https://sandbox.cds-hooks.org/.well-known/jwks.json';
// kid of the sandbox's ES384 signing key (cds-hooks/sandbox src/retrieve-data-helpers/jwt-generator.js; its public key
// in the repository's .well-known/jwks.json, commit c6cc0da)
const SANDBOX_KID = '44823f3d-0b01-4a6c-a80e-b9d3e8a7226f';

/** A fetch that records every URL and fails like a network without egress. */
function offlineFetch(): { fetch: typeof fetch; calls: string[] } {
  const calls: string[] = [];
  const f = (async (input: string | URL | Request) => {
    calls.push(String(input instanceof Request ? input.url : input));
    throw new TypeError('fetch failed: no egress in this test');
  }) as typeof fetch;
  return { fetch: f, calls };
}

function recordingLogger(): AuthLogger & { lines: { level: string; obj: Record<string, unknown> }[] } {
  const lines: { level: string; obj: Record<string, unknown> }[] = [];
  const rec = (level: string) => (obj: object) => void lines.push({ level, obj: obj as Record<string, unknown> });
  return { lines, debug: rec('debug'), info: rec('info'), warn: rec('warn') };
}

describe('pinned keys are tried first by kid', () => {
  let servers: JwksServer[] = [];
  afterEach(async () => {
    await Promise.all(servers.map((s) => s.close()));
    servers = [];
  });

  test('a sandbox-shaped token (ES384, kid, allowlisted jku) is accepted from the pinned key with no network', async () => {
    const sandbox = await makeTestClient({ alg: 'ES384', iss: SANDBOX_ISS, kid: SANDBOX_KID, jku: SANDBOX_JKU });
    const net = offlineFetch();
    const trusted: TrustedClient = { iss: SANDBOX_ISS, jwks: sandbox.jwks, jku: [SANDBOX_JKU] };
    const ctx = createCdsAuthContext({ clients: [trusted], jwks: { fetch: net.fetch, cooldownMs: 0 } });
    const token = await sandbox.sign(AUD);
    const header = JSON.parse(Buffer.from(token.split('.')[0] as string, 'base64url').toString()) as Record<string, unknown>;
    expect(header).toMatchObject({ alg: 'ES384', kid: SANDBOX_KID, jku: SANDBOX_JKU });
    expect(await verifyCdsJwt(token, AUD, ctx)).toMatchObject({ ok: true, client: { iss: SANDBOX_ISS }, kid: SANDBOX_KID });
    expect(net.calls).toEqual([]);
  });

  test('a pinned kid with a wrong signature is refused (bad_signature) without falling back to the jku', async () => {
    const real = await makeTestClient({ alg: 'ES384', iss: SANDBOX_ISS, kid: SANDBOX_KID, jku: SANDBOX_JKU });
    const forger = await makeTestClient({ alg: 'ES384', iss: SANDBOX_ISS, kid: SANDBOX_KID, jku: SANDBOX_JKU });
    const net = offlineFetch();
    const ctx = createCdsAuthContext({ clients: [{ iss: SANDBOX_ISS, jwks: real.jwks, jku: [SANDBOX_JKU] }], jwks: { fetch: net.fetch } });
    expect(await verifyCdsJwt(await forger.sign(AUD), AUD, ctx)).toMatchObject({ ok: false, reason: 'bad_signature' });
    expect(net.calls).toEqual([]);
  });

  test('an unlisted jku is refused without a request even when the kid matches a pinned key', async () => {
    const evil = await startJwksServer({ keys: [] });
    servers.push(evil);
    const ehr = await makeTestClient({ alg: 'ES384', kid: 'pinned-1' });
    const ctx = createCdsAuthContext({ clients: [{ iss: ehr.iss, jwks: ehr.jwks }] });
    const r = await verifyCdsJwt(await ehr.sign(AUD, { header: { jku: evil.url } }), AUD, ctx);
    expect(r).toMatchObject({ ok: false, reason: 'jku_not_allowed' });
    expect(evil.requests).toEqual([]);
  });

  test('a kid that is not pinned is looked up at the allowlisted jku (key rotation)', async () => {
    const srv = await startJwksServer(undefined);
    servers.push(srv);
    const oldKey = await makeTestClient({ alg: 'ES384', kid: 'k-old', jku: srv.url });
    const newKey = await makeTestClient({ alg: 'ES384', kid: 'k-new', jku: srv.url, iss: oldKey.iss });
    srv.setBody(newKey.jwks);
    const ctx = createCdsAuthContext({ clients: [{ iss: oldKey.iss, jwks: oldKey.jwks, jku: [srv.url] }] });
    expect((await verifyCdsJwt(await oldKey.sign(AUD), AUD, ctx)).ok).toBe(true);
    expect(srv.requests).toEqual([]); // pinned key: no request
    expect((await verifyCdsJwt(await newKey.sign(AUD), AUD, ctx)).ok).toBe(true);
    expect(srv.requests).toEqual(['GET /.well-known/jwks.json']);
  });

  test('no pinned key and the allowlisted jku unreachable → jku_fetch_failed, with the URL and error in the log', async () => {
    const sandbox = await makeTestClient({ alg: 'ES384', iss: SANDBOX_ISS, kid: 'a-kid-nobody-pinned', jku: SANDBOX_JKU });
    const pinned = await makeTestClient({ alg: 'ES384', iss: SANDBOX_ISS, kid: SANDBOX_KID });
    const net = offlineFetch();
    const log = recordingLogger();
    const ctx = createCdsAuthContext({ clients: [{ iss: SANDBOX_ISS, jwks: pinned.jwks, jku: [SANDBOX_JKU] }], jwks: { fetch: net.fetch }, logger: log });
    expect(await verifyCdsJwt(await sandbox.sign(AUD), AUD, ctx)).toMatchObject({ ok: false, reason: 'jku_fetch_failed', iss: SANDBOX_ISS });
    expect(net.calls).toEqual([SANDBOX_JKU]);
    const warn = log.lines.find((l) => l.obj['event'] === 'jwks_fetch_failed');
    expect(warn?.obj).toMatchObject({ jku: SANDBOX_JKU });
    expect(String(warn?.obj['error'])).toMatch(/no egress/);
  });

  test('a pinned key with the kid but for another alg does not capture the token: the jku is consulted', async () => {
    const srv = await startJwksServer(undefined);
    servers.push(srv);
    const rsa = await makeTestClient({ alg: 'RS384', kid: 'shared-kid', jku: srv.url });
    const ec = await makeTestClient({ alg: 'ES384', kid: 'shared-kid', iss: rsa.iss, jku: srv.url });
    srv.setBody(ec.jwks);
    const ctx = createCdsAuthContext({ clients: [{ iss: rsa.iss, jwks: rsa.jwks, jku: [srv.url] }] });
    expect((await verifyCdsJwt(await ec.sign(AUD), AUD, ctx)).ok).toBe(true);
    expect(srv.requests).toHaveLength(1);
  });
});

describe('the shipped config/cds-clients.json works offline for the CDS Hooks Sandbox', () => {
  const file = path.resolve('config/cds-clients.json');

  test('parses, and pins a P-384 ES384 public key with the sandbox kid beside its jku', () => {
    const { clients } = loadTrustedClients(file);
    const sandbox = clients.find((c) => c.iss === SANDBOX_ISS);
    expect(sandbox?.jku).toEqual([SANDBOX_JKU]);
    const key = sandbox?.jwks?.keys.find((k) => k.kid === SANDBOX_KID);
    expect(key).toMatchObject({ kty: 'EC', crv: 'P-384', alg: 'ES384', use: 'sig' });
    // a real point on P-384 (createPublicKey throws otherwise)
    const pub = createPublicKey({ key: key as unknown as import('node:crypto').JsonWebKey, format: 'jwk' });
    expect(pub.asymmetricKeyDetails?.namedCurve).toBe('secp384r1');
    // the published coordinates (cds-hooks/sandbox .well-known/jwks.json)
    expect([key?.x, key?.y]).toEqual(['dw_JGR8nB2I6XveNxUOl2qk699ZPLM2nYI5STSdiEl9avAkrm3CkfYMbrrjr8laB', 'Sm3mLE-n1zYNla_aiE3cb3nZsL51RbC7ysw3q8aJLxGm-hx79RPMYpITDjp7kgzy']);
  });

  test('a token with the sandbox header is checked against the pinned key with no request', async () => {
    // Only the sandbox has its private key, so a token signed by another key must end in bad_signature —
    // which proves the pinned key was selected and the jku never fetched (offline).
    const net = offlineFetch();
    const ctx = createCdsAuthContext({ clients: loadTrustedClients(file), jwks: { fetch: net.fetch, cooldownMs: 0 } });
    const other = await makeTestClient({ alg: 'ES384', iss: SANDBOX_ISS, kid: SANDBOX_KID, jku: SANDBOX_JKU });
    expect(await verifyCdsJwt(await other.sign(AUD), AUD, ctx)).toMatchObject({ ok: false, reason: 'bad_signature' });
    expect(net.calls).toEqual([]);
  });
});
