// CDS client authentication: real key pairs, real signed JWTs, real HTTP (express app + fetch, local jku servers).
import { createHmac, createPublicKey, randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import express from 'express';
import {
  AUTH_DISABLED_CLIENT,
  cdsAuth,
  createAuthMiddleware,
  createCdsAuthContext,
  expectedAudience,
  verifyCdsJwt,
  type AuthLogger,
  type CdsAuthConfig,
  type CdsAuthContext,
} from '../../src/cds/auth.js';
import { InMemoryReplayCache } from '../../src/cds/replayCache.js';
import { loadTrustedClients, parseTrustedClients, TrustedClientsError } from '../../src/cds/trustedClients.js';
import {
  b64urlJson,
  craftToken,
  makeTestClient,
  signRawJws,
  standardClaims,
  startJwksServer,
  trustedClientsFor,
  type JwksServer,
  type TestAlg,
  type TestClient,
} from '../support/jwt.js';

const BASE = 'https://cds.example.org';
const AUD = `${BASE}/cds-services/warfarin-dosing`;
const nowSec = (): number => Math.floor(Date.now() / 1000);

interface LogLine {
  level: 'debug' | 'info' | 'warn';
  obj: Record<string, unknown>;
  msg: string | undefined;
}
function recordingLogger(): AuthLogger & { lines: LogLine[] } {
  const lines: LogLine[] = [];
  const rec = (level: LogLine['level']) => (obj: object, msg?: string) => {
    lines.push({ level, obj: obj as Record<string, unknown>, msg });
  };
  return { lines, debug: rec('debug'), info: rec('info'), warn: rec('warn') };
}

let es384: TestClient;
let rs384: TestClient;
let es256: TestClient;
let rs256: TestClient;
let attacker: TestClient;
let ctx: CdsAuthContext;

function newCtx(extra: Partial<CdsAuthConfig> = {}, ...clients: TestClient[]): CdsAuthContext {
  return createCdsAuthContext({ clients: trustedClientsFor(...(clients.length ? clients : [es384, rs384, es256, rs256])), ...extra });
}

beforeAll(async () => {
  [es384, rs384, es256, rs256, attacker] = await Promise.all([
    makeTestClient({ alg: 'ES384' }),
    makeTestClient({ alg: 'RS384' }),
    makeTestClient({ alg: 'ES256' }),
    makeTestClient({ alg: 'RS256' }),
    makeTestClient({ alg: 'ES384' }),
  ]);
});
beforeEach(() => {
  ctx = newCtx();
});

describe('verifyCdsJwt: valid tokens', () => {
  test.each<TestAlg>(['ES384', 'RS384', 'ES256', 'RS256'])('%s token is accepted', async (alg) => {
    const c = { ES384: es384, RS384: rs384, ES256: es256, RS256: rs256 }[alg];
    const token = await c.sign(AUD, { claims: { sub: 'Practitioner/1', tenant: 'site-7' } });
    const r = await verifyCdsJwt(token, AUD, ctx);
    expect(r).toEqual({
      ok: true,
      kid: c.kid,
      client: { iss: c.iss, sub: 'Practitioner/1', tenant: 'site-7', jti: expect.any(String), name: `test ${alg} client` },
    });
  });

  test('aud as an array containing the endpoint URL is accepted', async () => {
    const r = await verifyCdsJwt(await es384.sign([`${BASE}/other`, AUD]), AUD, ctx);
    expect(r.ok).toBe(true);
  });

  test('typ is compared case-insensitively ("jwt", "application/jwt")', async () => {
    expect((await verifyCdsJwt(await es384.sign(AUD, { header: { typ: 'jwt' } }), AUD, ctx)).ok).toBe(true);
    expect((await verifyCdsJwt(await es384.sign(AUD, { header: { typ: 'application/JWT' } }), AUD, ctx)).ok).toBe(true);
  });

  test('expiry within the clock skew (60 s) is tolerated; nbf slightly ahead too', async () => {
    const r1 = await verifyCdsJwt(await es384.sign(AUD, { nowSec: nowSec() - 330 }), AUD, ctx); // exp 30 s ago
    expect(r1.ok).toBe(true);
    const r2 = await verifyCdsJwt(await es384.sign(AUD, { claims: { nbf: nowSec() + 30 } }), AUD, ctx);
    expect(r2.ok).toBe(true);
  });

  test('a JWK set with several keys for one kid: the one fitting alg is used', async () => {
    const other = await makeTestClient({ alg: 'RS384', kid: es384.kid, iss: es384.iss });
    const c = createCdsAuthContext({ clients: [{ iss: es384.iss, jwks: { keys: [...other.jwks.keys, ...es384.jwks.keys] } }] });
    expect((await verifyCdsJwt(await es384.sign(AUD), AUD, c)).ok).toBe(true);
    expect((await verifyCdsJwt(await other.sign(AUD), AUD, c)).ok).toBe(true);
  });
});

describe('verifyCdsJwt: rejections (reason codes)', () => {
  const reasonOf = async (token: string, aud = AUD, c = ctx) => {
    const r = await verifyCdsJwt(token, aud, c);
    return r.ok ? 'ok' : r.reason;
  };

  test('expired', async () => {
    expect(await reasonOf(await es384.sign(AUD, { nowSec: nowSec() - 400 }))).toBe('expired');
  });
  test('not yet valid (nbf beyond skew)', async () => {
    expect(await reasonOf(await rs384.sign(AUD, { claims: { nbf: nowSec() + 120 } }))).toBe('not_yet_valid');
  });
  test('iat in the future beyond skew', async () => {
    expect(await reasonOf(await es384.sign(AUD, { nowSec: nowSec() + 120 }))).toBe('iat_in_future');
  });
  test('lifetime longer than 1 h', async () => {
    expect(await reasonOf(await es384.sign(AUD, { lifetimeSec: 3601 }))).toBe('lifetime_too_long');
    expect(await reasonOf(await es384.sign(AUD, { lifetimeSec: 3600 }))).toBe('ok');
  });
  test('wrong aud (other endpoint, trailing slash, array without it, missing)', async () => {
    expect(await reasonOf(await es384.sign(`${BASE}/cds-services/other`))).toBe('aud_mismatch');
    expect(await reasonOf(await es384.sign(`${AUD}/`))).toBe('aud_mismatch');
    expect(await reasonOf(await es384.sign([BASE, `${BASE}/cds-services`]))).toBe('aud_mismatch');
    expect(await reasonOf(await es384.sign(AUD, { claims: { aud: undefined } }))).toBe('aud_mismatch');
  });
  test('unknown iss', async () => {
    expect(await reasonOf(await attacker.sign(AUD))).toBe('unknown_iss');
  });
  test('unknown kid', async () => {
    expect(await reasonOf(await es384.sign(AUD, { header: { kid: 'no-such-key' } }))).toBe('unknown_kid');
  });
  test('missing kid / missing typ / wrong typ', async () => {
    expect(await reasonOf(await es384.sign(AUD, { header: { kid: undefined } }))).toBe('missing_kid');
    expect(await reasonOf(await es384.sign(AUD, { header: { typ: undefined } }))).toBe('bad_typ');
    expect(await reasonOf(await es384.sign(AUD, { header: { typ: 'at+jwt' } }))).toBe('bad_typ');
  });
  test('missing jti / exp / iat / iss', async () => {
    expect(await reasonOf(await es384.sign(AUD, { claims: { jti: undefined } }))).toBe('missing_jti');
    expect(await reasonOf(await es384.sign(AUD, { claims: { jti: '' } }))).toBe('missing_jti');
    expect(await reasonOf(await es384.sign(AUD, { claims: { exp: undefined } }))).toBe('missing_exp');
    expect(await reasonOf(await es384.sign(AUD, { claims: { iat: undefined } }))).toBe('missing_iat');
    expect(await reasonOf(await es384.sign(AUD, { claims: { iss: undefined } }))).toBe('missing_iss');
  });
  test('replayed jti is rejected; the same jti from another iss is a different token', async () => {
    const jti = randomUUID();
    const t1 = await es384.sign(AUD, { claims: { jti } });
    expect(await reasonOf(t1)).toBe('ok');
    expect(await reasonOf(t1)).toBe('replayed_jti');
    expect(await reasonOf(await es384.sign(AUD, { claims: { jti } }))).toBe('replayed_jti');
    expect(await reasonOf(await rs384.sign(AUD, { claims: { jti } }))).toBe('ok');
  });
  test('a token that fails verification does not burn its jti', async () => {
    const jti = randomUUID();
    expect(await reasonOf(await es384.sign(`${BASE}/x`, { claims: { jti } }))).toBe('aud_mismatch');
    const forged = craftToken({ alg: 'ES384', typ: 'JWT', kid: es384.kid }, { ...standardClaims(es384.iss, AUD), jti }, 'AAAA');
    expect(await reasonOf(forged)).toBe('bad_signature');
    expect(await reasonOf(await es384.sign(AUD, { claims: { jti } }))).toBe('ok');
  });
  test('alg "none" (hand-crafted, empty and non-empty signature)', async () => {
    const claims = standardClaims(es384.iss, AUD);
    expect(await reasonOf(craftToken({ alg: 'none', typ: 'JWT', kid: es384.kid }, claims))).toBe('malformed_token');
    expect(await reasonOf(craftToken({ alg: 'none', typ: 'JWT', kid: es384.kid }, claims, 'AA'))).toBe('alg_not_allowed');
    expect(await reasonOf(craftToken({ alg: 'NONE', typ: 'JWT', kid: es384.kid }, claims, 'AA'))).toBe('alg_not_allowed');
  });
  test('HS256/384/512 signed with the public key as the HMAC secret (key-confusion attack)', async () => {
    for (const c of [rs384, es384]) {
      const jwk = c.jwks.keys[0]!;
      const pem = createPublicKey({ key: jwk as unknown as import('node:crypto').JsonWebKey, format: 'jwk' }).export({ type: 'spki', format: 'pem' });
      for (const [alg, hash] of [['HS256', 'sha256'], ['HS384', 'sha384'], ['HS512', 'sha512']] as const) {
        for (const secret of [pem, JSON.stringify(jwk)]) {
          const h = b64urlJson({ alg, typ: 'JWT', kid: c.kid });
          const p = b64urlJson(standardClaims(c.iss, AUD));
          const sig = createHmac(hash, secret).update(`${h}.${p}`).digest('base64url');
          expect(await reasonOf(`${h}.${p}.${sig}`)).toBe('alg_not_allowed');
        }
      }
    }
  });
  test('HMAC or none cannot be enabled through the algorithms option', () => {
    expect(() => newCtx({ algorithms: ['HS256'] })).toThrow(/not allowed/);
    expect(() => newCtx({ algorithms: ['none'] })).toThrow(/not allowed/);
  });
  test('alg not enabled (ES512) and alg that does not fit the key (header says RS384, key is EC)', async () => {
    expect(await reasonOf(craftToken({ alg: 'ES512', typ: 'JWT', kid: es384.kid }, standardClaims(es384.iss, AUD), 'AAAA'))).toBe('alg_not_allowed');
    expect(await reasonOf(craftToken({ alg: 'RS384', typ: 'JWT', kid: es384.kid }, standardClaims(es384.iss, AUD), 'AAAA'))).toBe('key_alg_mismatch');
  });
  test('signature by another key claiming a trusted iss and kid', async () => {
    const impostor = await makeTestClient({ alg: 'ES384', iss: es384.iss, kid: es384.kid });
    expect(await reasonOf(await impostor.sign(AUD))).toBe('bad_signature');
  });
  test('tampered payload', async () => {
    const [h, , s] = (await es384.sign(AUD)).split('.');
    const p = b64urlJson({ ...standardClaims(es384.iss, AUD), sub: 'Practitioner/admin' });
    expect(await reasonOf(`${h}.${p}.${s}`)).toBe('bad_signature');
  });
  test('b64:false (RFC 7797 unencoded payload) and any crit header are refused before the signature is checked', async () => {
    // a real signature over a raw payload that also reads as base64url JSON: jose would verify it, we would decode it
    const raw = b64urlJson(standardClaims(es384.iss, AUD));
    const unencoded = signRawJws(es384, { b64: false, crit: ['b64'] }, raw);
    expect(await reasonOf(unencoded)).toBe('unencoded_payload');
    expect(await reasonOf(signRawJws(es384, { crit: ['x-ours'], 'x-ours': 1 }, b64urlJson(standardClaims(es384.iss, AUD))))).toBe('unsupported_crit');
    expect(await reasonOf(signRawJws(es384, { crit: [] }, b64urlJson(standardClaims(es384.iss, AUD))))).toBe('unsupported_crit');
    expect(await reasonOf(await es384.sign(AUD, { header: { b64: true } }))).toBe('ok');
    expect(await reasonOf(signRawJws(es384, {}, b64urlJson(standardClaims(es384.iss, AUD))))).toBe('ok'); // the helper signs validly
  });
  test('oversized and malformed tokens', async () => {
    const big = await es384.sign(AUD, { claims: { pad: 'x'.repeat(9000) } });
    expect(await reasonOf(big)).toBe('token_too_large');
    for (const t of ['', 'garbage', 'a.b', 'a.b.c.d', '!!.??.**', `${b64urlJson([1])}.${b64urlJson({})}.AA`, 'eyJ.eyJ.AA']) {
      expect(await reasonOf(t)).toBe('malformed_token');
    }
  });
});

describe('verifyCdsJwt: key sets from jku', () => {
  let servers: JwksServer[] = [];
  afterEach(async () => {
    await Promise.all(servers.map((s) => s.close().catch(() => {})));
    servers = [];
  });
  const serve = async (body: unknown) => {
    const s = await startJwksServer(body);
    servers.push(s);
    return s;
  };

  test('a jku that is not on the allowlist is rejected and never requested', async () => {
    const evil = await serve(attacker.jwks);
    // attacker signs as a trusted iss, pointing jku at its own key set (with the trusted kid)
    const evilKey = await makeTestClient({ alg: 'ES384', iss: es384.iss, kid: es384.kid, jku: evil.url });
    evil.setBody(evilKey.jwks);
    const r = await verifyCdsJwt(await evilKey.sign(AUD), AUD, ctx);
    expect(r).toMatchObject({ ok: false, reason: 'jku_not_allowed', iss: es384.iss });
    // allowlisted for ANOTHER iss is not enough either
    const other = await makeTestClient({ alg: 'ES384', jku: evil.url });
    const c2 = createCdsAuthContext({ clients: [es384.trusted, other.trusted] });
    const r2 = await verifyCdsJwt(await evilKey.sign(AUD), AUD, c2);
    expect(r2).toMatchObject({ ok: false, reason: 'jku_not_allowed' });
    // lookalike URLs
    for (const jku of [`${evil.url}?x=1`, `${evil.url}#k`, evil.url.replace('127.0.0.1', 'user@127.0.0.1'), `${evil.url}/`]) {
      const r3 = await verifyCdsJwt(await other.sign(AUD, { header: { jku } }), AUD, c2);
      expect(r3).toMatchObject({ ok: false, reason: 'jku_not_allowed' });
    }
    expect(evil.requests).toEqual([]);
  });

  test('an allowlisted jku works, and keeps working from cache after its server is gone', async () => {
    const srv = await serve(undefined);
    const ehr = await makeTestClient({ alg: 'ES384', jku: srv.url });
    srv.setBody(ehr.jwks);
    const log = recordingLogger();
    // ttl 0 / cooldown 0: every call tries to refresh, so the test proves stale keys survive failed refreshes
    const c = createCdsAuthContext({ clients: trustedClientsFor(ehr), jwks: { ttlMs: 0, cooldownMs: 0, timeoutMs: 500 }, logger: log });
    expect((await verifyCdsJwt(await ehr.sign(AUD), AUD, c)).ok).toBe(true);
    expect(srv.requests).toEqual(['GET /.well-known/jwks.json']);
    await srv.close();
    for (let i = 0; i < 3; i++) {
      expect((await verifyCdsJwt(await ehr.sign(AUD), AUD, c)).ok).toBe(true);
      await new Promise((r) => setTimeout(r, 20)); // let the background refresh fail
    }
    expect(log.lines.some((l) => l.level === 'warn' && l.obj['event'] === 'jwks_fetch_failed')).toBe(true);
    // an unknown kid cannot be found while the server is down
    expect(await verifyCdsJwt(await ehr.sign(AUD, { header: { kid: 'rotated' } }), AUD, c)).toMatchObject({ ok: false, reason: 'unknown_kid' });
  });

  test('with default TTLs the key set is fetched once for many tokens', async () => {
    const srv = await serve(undefined);
    const ehr = await makeTestClient({ alg: 'RS384', jku: srv.url });
    srv.setBody(ehr.jwks);
    const c = createCdsAuthContext({ clients: trustedClientsFor(ehr) });
    const results = await Promise.all(Array.from({ length: 20 }, async () => verifyCdsJwt(await ehr.sign(AUD), AUD, c)));
    expect(results.every((r) => r.ok)).toBe(true);
    expect(srv.requests).toHaveLength(1);
  });

  test('key rotation: an unknown kid triggers one re-fetch (respecting the cooldown)', async () => {
    const srv = await serve(undefined);
    const oldKey = await makeTestClient({ alg: 'ES384', jku: srv.url, kid: 'k1' });
    const newKey = await makeTestClient({ alg: 'ES384', jku: srv.url, kid: 'k2', iss: oldKey.iss });
    srv.setBody(oldKey.jwks);
    const c = createCdsAuthContext({ clients: trustedClientsFor(oldKey), jwks: { cooldownMs: 0 } });
    expect((await verifyCdsJwt(await oldKey.sign(AUD), AUD, c)).ok).toBe(true);
    srv.setBody({ keys: [...oldKey.jwks.keys, ...newKey.jwks.keys] });
    expect((await verifyCdsJwt(await newKey.sign(AUD), AUD, c)).ok).toBe(true);
    expect(srv.requests).toHaveLength(2);

    const c2 = createCdsAuthContext({ clients: trustedClientsFor(oldKey), jwks: { cooldownMs: 60_000 } });
    srv.setBody(oldKey.jwks);
    expect((await verifyCdsJwt(await oldKey.sign(AUD), AUD, c2)).ok).toBe(true);
    for (let i = 0; i < 5; i++) {
      expect(await verifyCdsJwt(await oldKey.sign(AUD, { header: { kid: `forged-${i}` } }), AUD, c2)).toMatchObject({ reason: 'unknown_kid' });
    }
    expect(srv.requests).toHaveLength(3); // no re-fetch storm from forged kids
  });

  test('without jku in the token, the allowlisted key sets of the iss are searched', async () => {
    const srv = await serve(undefined);
    const ehr = await makeTestClient({ alg: 'ES256', jku: srv.url });
    srv.setBody(ehr.jwks);
    const c = createCdsAuthContext({ clients: trustedClientsFor(ehr) });
    expect((await verifyCdsJwt(await ehr.sign(AUD, { header: { jku: undefined } }), AUD, c)).ok).toBe(true);
  });

  test('a key-set URL that fails (500, not a JWK set, private keys only) → jku_fetch_failed / unknown_kid', async () => {
    const srv = await serve(undefined);
    const ehr = await makeTestClient({ alg: 'ES384', jku: srv.url });
    const c = createCdsAuthContext({ clients: trustedClientsFor(ehr), jwks: { cooldownMs: 0 } });
    expect(await verifyCdsJwt(await ehr.sign(AUD), AUD, c)).toMatchObject({ ok: false, reason: 'jku_fetch_failed' });
    srv.setBody({ not: 'a key set' });
    expect(await verifyCdsJwt(await ehr.sign(AUD), AUD, c)).toMatchObject({ ok: false, reason: 'jku_fetch_failed' });
    srv.setBody({ keys: [{ ...ehr.jwks.keys[0], d: 'private' }, { kty: 'oct', kid: ehr.kid, k: 'c2VjcmV0' }] });
    expect(await verifyCdsJwt(await ehr.sign(AUD), AUD, c)).toMatchObject({ ok: false, reason: 'unknown_kid' });
    srv.setBody(ehr.jwks);
    expect((await verifyCdsJwt(await ehr.sign(AUD), AUD, c)).ok).toBe(true);
  });

  test('a slow key-set server is cut off by the fetch timeout', async () => {
    const { createServer } = await import('node:http');
    let hits = 0;
    const slow: Server = createServer(() => {
      hits++; // never answers
    });
    await new Promise<void>((r) => slow.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(slow.address() as AddressInfo).port}/jwks.json`;
    try {
      const ehr = await makeTestClient({ alg: 'ES384', jku: url });
      const c = createCdsAuthContext({ clients: trustedClientsFor(ehr), jwks: { timeoutMs: 200 } });
      const t0 = Date.now();
      expect(await verifyCdsJwt(await ehr.sign(AUD), AUD, c)).toMatchObject({ ok: false, reason: 'jku_fetch_failed' });
      expect(Date.now() - t0).toBeLessThan(2000);
      expect(hits).toBe(1);
    } finally {
      slow.closeAllConnections();
      await new Promise((r) => slow.close(r));
    }
  });
});

describe('InMemoryReplayCache', () => {
  test('entries expire; a full cache refuses instead of evicting live entries', () => {
    let now = 1_000_000;
    const cache = new InMemoryReplayCache({ maxEntries: 2, now: () => now });
    expect(cache.checkAndStore('i', 'a', now + 1000)).toBe('new');
    expect(cache.checkAndStore('i', 'a', now + 1000)).toBe('replayed');
    expect(cache.checkAndStore('j', 'a', now + 5000)).toBe('new');
    expect(cache.checkAndStore('i', 'b', now + 1000)).toBe('full');
    now += 2000; // 'i|a' expired
    expect(cache.checkAndStore('i', 'b', now + 1000)).toBe('new');
    expect(cache.checkAndStore('i', 'a', now + 1000)).toBe('full'); // j|a and i|b still live
    now += 2000;
    expect(cache.checkAndStore('i', 'a', now + 1000)).toBe('new');
    expect(cache.size).toBeLessThanOrEqual(2);
  });
  test('a full replay store makes verification fail closed', async () => {
    const c = newCtx({ replayStore: new InMemoryReplayCache({ maxEntries: 1 }) });
    expect((await verifyCdsJwt(await es384.sign(AUD), AUD, c)).ok).toBe(true);
    expect(await verifyCdsJwt(await es384.sign(AUD), AUD, c)).toMatchObject({ ok: false, reason: 'replay_cache_full' });
  });
});

// ---------------------------------------------------------------------------------------------------------------
describe('cdsAuth middleware (express app over real HTTP)', () => {
  let server: Server;
  let base: string;
  let log: ReturnType<typeof recordingLogger>;

  beforeAll(async () => {
    log = recordingLogger();
    const app = express();
    server = await new Promise<Server>((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    // publicBaseUrl with a trailing slash: must not produce "//" in the audience
    app.use(cdsAuth({ publicBaseUrl: `${base}/`, clients: trustedClientsFor(es384, rs384), logger: log }));
    app.use((req, res) => {
      res.json({ path: req.path, client: res.locals.cdsClient });
    });
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });
  beforeEach(() => {
    log.lines.length = 0;
  });

  const call = (p: string, authorization?: string, method = 'POST') =>
    fetch(`${base}${p}`, {
      method,
      headers: { 'content-type': 'application/json', ...(authorization !== undefined ? { authorization } : {}) },
      ...(method === 'POST' ? { body: '{}' } : {}),
    });

  const expect401 = async (res: Response) => {
    expect(res.status).toBe(401);
    expect(await res.text()).toBe('{"error":"unauthorized"}');
    expect(res.headers.get('www-authenticate')).toBe('Bearer');
  };

  test('valid ES384 and RS384 tokens pass; identity lands in res.locals.cdsClient', async () => {
    for (const c of [es384, rs384]) {
      const res = await call('/cds-services/warfarin', await c.bearer(`${base}/cds-services/warfarin`, { claims: { sub: 'u1' } }));
      expect(res.status).toBe(200);
      const body = (await res.json()) as { client: Record<string, unknown> };
      expect(body.client).toMatchObject({ iss: c.iss, sub: 'u1' });
      expect(typeof body.client['jti']).toBe('string');
    }
    const get = await call('/cds-services', await es384.bearer(`${base}/cds-services`), 'GET');
    expect(get.status).toBe(200);
  });

  test('audience is base URL + path; the query string is ignored', async () => {
    const res = await call('/cds-services/warfarin/feedback?x=1&y=2', await es384.bearer(`${base}/cds-services/warfarin/feedback`));
    expect(res.status).toBe(200);
    expect(expectedAudience('https://a.example/cds/', '/cds-services/x?q=1')).toBe('https://a.example/cds/cds-services/x');
  });

  test('a token for another endpoint is refused', async () => {
    await expect401(await call('/cds-services/warfarin/feedback', await es384.bearer(`${base}/cds-services/warfarin`)));
    expect(log.lines).toContainEqual(expect.objectContaining({ level: 'info', obj: expect.objectContaining({ reason: 'aud_mismatch', iss: es384.iss, kid: es384.kid }) }));
  });

  test('replaying a captured request is refused', async () => {
    const h = await es384.bearer(`${base}/cds-services/warfarin`);
    expect((await call('/cds-services/warfarin', h)).status).toBe(200);
    await expect401(await call('/cds-services/warfarin', h));
  });

  test('malformed Authorization values → 401 with the generic body', async () => {
    const token = await es384.sign(`${base}/cds-services/warfarin`);
    const values: (string | undefined)[] = [
      undefined,
      '',
      'Bearer',
      'Bearer ',
      'Basic dXNlcjpwYXNz',
      'garbage',
      `Token ${token}`,
      `Bearer ${token} extra`,
      `Bearer ${token}.x`,
      'Bearer a.b',
      'Bearer ....',
    ];
    for (const v of values) await expect401(await call('/cds-services/warfarin', v));
  });

  test('"bearer" scheme is case-insensitive', async () => {
    const res = await call('/cds-services/warfarin', `bearer ${await es384.sign(`${base}/cds-services/warfarin`)}`);
    expect(res.status).toBe(200);
  });

  test('an oversized Authorization header is rejected before parsing', async () => {
    await expect401(await call('/cds-services/warfarin', `Bearer ${'A'.repeat(9000)}`));
    const big = await es384.bearer(`${base}/cds-services/warfarin`, { claims: { pad: 'x'.repeat(9000) } });
    await expect401(await call('/cds-services/warfarin', big));
    expect(log.lines.map((l) => l.obj['reason'])).toEqual(['token_too_large', 'token_too_large']);
  });

  test('alg none / HS256 / unknown iss over HTTP: 401, and the log never contains the token', async () => {
    const aud = `${base}/cds-services/warfarin`;
    const none = craftToken({ alg: 'none', typ: 'JWT', kid: es384.kid }, standardClaims(es384.iss, aud), 'AA');
    const h = b64urlJson({ alg: 'HS256', typ: 'JWT', kid: rs384.kid });
    const p = b64urlJson(standardClaims(rs384.iss, aud));
    const hs = `${h}.${p}.${createHmac('sha256', JSON.stringify(rs384.jwks.keys[0])).update(`${h}.${p}`).digest('base64url')}`;
    const unknown = await attacker.sign(aud);
    const expired = await es384.sign(aud, { nowSec: nowSec() - 1000 });
    for (const t of [none, hs, unknown, expired]) await expect401(await call('/cds-services/warfarin', `Bearer ${t}`));
    expect(log.lines.map((l) => l.obj['reason'])).toEqual(['alg_not_allowed', 'alg_not_allowed', 'unknown_iss', 'expired']);
    const logged = JSON.stringify(log.lines);
    for (const t of [none, hs, unknown, expired]) {
      expect(logged).not.toContain(t);
      expect(logged).not.toContain(t.split('.')[1]);
      expect(logged).not.toContain(t.split('.')[2]);
    }
  });

  test('CORS preflight passes through unauthenticated; a plain OPTIONS does not', async () => {
    const pre = await fetch(`${base}/cds-services/warfarin`, {
      method: 'OPTIONS',
      headers: { origin: 'https://sandbox.cds-hooks.org', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization' },
    });
    expect(pre.status).toBe(200);
    await expect401(await call('/cds-services/warfarin', undefined, 'OPTIONS'));
  });
});

describe('createAuthMiddleware modes', () => {
  test('disabled: loud warning at creation, every request passes as AUTH_DISABLED_CLIENT', async () => {
    const log = recordingLogger();
    const mw = createAuthMiddleware({ mode: 'disabled', logger: log });
    expect(log.lines).toHaveLength(1);
    expect(log.lines[0]).toMatchObject({ level: 'warn', obj: { event: 'cds_auth_disabled' } });
    expect(log.lines[0]!.msg).toMatch(/DISABLED/);
    const app = express();
    app.use(mw);
    app.use((_req, res) => {
      res.json({ client: res.locals.cdsClient });
    });
    const server = await new Promise<Server>((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    try {
      const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/cds-services`);
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ client: { ...AUTH_DISABLED_CLIENT } });
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });

  test('enforce is the default; bad configuration fails at creation', () => {
    expect(() => createAuthMiddleware({ publicBaseUrl: BASE })).toThrow(/clients/);
    expect(() => createAuthMiddleware({ publicBaseUrl: 'cds.example.org', clients: [] })).toThrow(/publicBaseUrl/);
    expect(() => createAuthMiddleware({ mode: 'off' as 'enforce', publicBaseUrl: BASE, clients: [] })).toThrow(/unknown mode/);
    expect(typeof createAuthMiddleware({ publicBaseUrl: BASE, clients: [] })).toBe('function');
  });
});

// ---------------------------------------------------------------------------------------------------------------
describe('loadTrustedClients', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'cds-clients-'));
  let n = 0;
  const write = (content: unknown): string => {
    const f = path.join(dir, `clients-${++n}.json`);
    writeFileSync(f, typeof content === 'string' ? content : JSON.stringify(content));
    return f;
  };
  const errorOf = (content: unknown): string => {
    try {
      loadTrustedClients(write(content));
    } catch (e) {
      expect(e).toBeInstanceOf(TrustedClientsError);
      return (e as Error).message;
    }
    throw new Error('expected an error');
  };

  test('the default config/cds-clients.json trusts the CDS Hooks sandbox by jku (and its pinned key)', () => {
    const cfg = loadTrustedClients(path.resolve('config/cds-clients.json'));
    expect(cfg.clients).toEqual([
      expect.objectContaining({ iss: 'https://sandbox.cds-hooks.org', jku: ['https://sandbox.cds-hooks.org/.well-known/jwks.json'] }),
    ]);
  });

  test('a valid file with inline jwks and jku loads and works with verifyCdsJwt', async () => {
    const cfg = loadTrustedClients(write({ clients: [{ iss: es384.iss, name: 'EHR', jwks: es384.jwks }, { iss: 'https://x.example', jku: ['https://X.example:443/jwks.json'] }] }));
    expect(cfg.clients[1]!.jku).toEqual(['https://x.example/jwks.json']);
    expect((await verifyCdsJwt(await es384.sign(AUD), AUD, createCdsAuthContext({ clients: cfg }))).ok).toBe(true);
  });

  test('clear error messages', () => {
    expect(loadTryMissing()).toMatch(/Cannot read CDS clients file .*does-not-exist\.json/);
    expect(errorOf('{ not json')).toMatch(/is not valid JSON/);
    expect(errorOf([])).toMatch(/\(root\): expected an object \{"clients": \[\.\.\.\]\}/);
    expect(errorOf({ clients: {} })).toMatch(/clients: "clients" must be an array/);
    expect(errorOf({ clients: [{ jku: ['https://a.example/j'] }] })).toMatch(/clients\[0\]\.iss: "iss" is required/);
    expect(errorOf({ clients: [{ iss: 'https://a.example' }] })).toMatch(/client "https:\/\/a\.example" needs a non-empty "jwks" or "jku"/);
    expect(errorOf({ clients: [{ iss: 'a', jku: ['http://ehr.example/jwks'] }] })).toMatch(/clients\[0\]\.jku\[0\]: .*must use https/);
    expect(errorOf({ clients: [{ iss: 'a', jku: ['not a url'] }] })).toMatch(/clients\[0\]\.jku\[0\]: "not a url" is not an absolute https URL/);
    expect(errorOf({ clients: [{ iss: 'a', jku: 'https://a.example/j' }] })).toMatch(/"jku" must be an array of URLs/);
    expect(errorOf({ clients: [{ iss: 'a', jwks: { keys: [{ kty: 'oct', kid: 'k', k: 'c2VjcmV0' }] } }] })).toMatch(
      /clients\[0\]\.jwks\.keys\[0\]\.kty: symmetric \("oct"\) keys are not allowed/,
    );
    expect(errorOf({ clients: [{ iss: 'a', jwks: { keys: [{ ...es384.jwks.keys[0], d: 'secret' }] } }] })).toMatch(/contains private key material \("d"\)/);
    expect(errorOf({ clients: [{ iss: 'a', jwks: { keys: [{ kty: 'EC', crv: 'P-384' }] } }] })).toMatch(/keys\[0\]\.kid: every key needs a "kid"/);
    expect(errorOf({ clients: [{ iss: 'a', jwks: es384.jwks }, { iss: 'a', jwks: es384.jwks }] })).toMatch(/clients\[1\]\.iss: duplicate iss "a"/);
    // several problems are all reported
    const multi = errorOf({ clients: [{ iss: '' , jwks: es384.jwks }, { iss: 'b' }] });
    expect(multi).toMatch(/clients\[0\]\.iss/);
    expect(multi).toMatch(/"b" needs/);
  });

  test('loopback http jku is allowed (local testing)', () => {
    expect(parseTrustedClients({ clients: [{ iss: 'a', jku: ['http://127.0.0.1:8080/jwks.json', 'http://localhost/j'] }] }).clients[0]!.jku).toHaveLength(2);
  });

  function loadTryMissing(): string {
    try {
      loadTrustedClients(path.join(dir, 'does-not-exist.json'));
    } catch (e) {
      return (e as Error).message;
    }
    return '';
  }
});
