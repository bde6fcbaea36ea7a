// P-384 / P-521 signatures are verified on libuv's thread pool (node:crypto's callback form, src/cds/auth.ts) rather
// than on the event loop: the same answers as the synchronous path, for many calls in flight at once, and JWS's
// signature encoding rules kept (RFC 7518 §3.4: an ECDSA JWS signature is R || S, each the curve's size, not DER).
import { KeyObject, randomUUID, sign as nodeSign } from 'node:crypto';
import { CompactSign, exportJWK, generateKeyPair } from 'jose';
import { createCdsAuthContext, verifyCdsJwt, type CdsAuthContext } from '../../src/cds/auth.js';
import type { PublicJwk } from '../../src/cds/trustedClients.js';
import { b64urlJson, makeTestClient, trustedClientsFor, type TestClient } from '../support/jwt.js';

const AUD = 'https://cds.example.org/cds-services/warfarin-dosing';
const reason = (r: Awaited<ReturnType<typeof verifyCdsJwt>>) => (r.ok ? 'ok' : r.reason);
/** Flip one bit of a base64url segment's decoded bytes, re-encoded canonically. */
const flipBit = (seg: string, byte: number) => {
  const b = Buffer.from(seg, 'base64url');
  b[byte % b.length]! ^= 0x01;
  return b.toString('base64url');
};

let es384: TestClient;
let rs384: TestClient;
let ctx: CdsAuthContext;
beforeAll(async () => {
  [es384, rs384] = await Promise.all([makeTestClient({ alg: 'ES384' }), makeTestClient({ alg: 'RS384' })]);
});
beforeEach(() => {
  ctx = createCdsAuthContext({ clients: trustedClientsFor(es384, rs384) });
});

describe('ES384 on the thread pool', () => {
  test('a DER-encoded ECDSA signature over the right bytes is refused (JWS wants raw R || S, 96 bytes for P-384)', async () => {
    const h = b64urlJson({ alg: 'ES384', typ: 'JWT', kid: es384.kid });
    const now = Math.floor(Date.now() / 1000);
    const p = b64urlJson({ iss: es384.iss, aud: AUD, iat: now, exp: now + 300, jti: randomUUID() });
    const key = KeyObject.from(es384.privateKey);
    const der = nodeSign('sha384', Buffer.from(`${h}.${p}`), key).toString('base64url');
    const raw = nodeSign('sha384', Buffer.from(`${h}.${p}`), { key, dsaEncoding: 'ieee-p1363' }).toString('base64url');
    expect(reason(await verifyCdsJwt(`${h}.${p}.${der}`, AUD, ctx))).toBe('bad_signature');
    expect(reason(await verifyCdsJwt(`${h}.${p}.${raw.slice(0, -4)}`, AUD, ctx))).toBe('bad_signature'); // 93 bytes
    expect(reason(await verifyCdsJwt(`${h}.${p}.${raw}`, AUD, ctx))).toBe('ok'); // the same bytes, encoded as JWS says
  });

  test('200 calls in flight at once, every other one tampered (signature bit, payload bit): each gets its own answer; a second use of each accepted token is refused', async () => {
    const tokens = await Promise.all(Array.from({ length: 200 }, () => es384.sign(AUD)));
    const sent = tokens.map((t, i) => {
      if (i % 2 === 0) return { token: t, want: 'ok' };
      const [h, p, s] = t.split('.') as [string, string, string];
      return { token: i % 4 === 1 ? `${h}.${p}.${flipBit(s, i)}` : `${h}.${flipBit(p, 2)}.${s}`, want: i % 4 === 1 ? 'bad_signature' : 'x' };
    });
    const results = await Promise.all(sent.map((x) => verifyCdsJwt(x.token, AUD, ctx)));
    results.forEach((r, i) => {
      // a flipped payload bit may break the JSON or a claim before the signature is checked: it is refused either way
      if (sent[i]!.want === 'x') expect(r.ok).toBe(false);
      else expect(reason(r)).toBe(sent[i]!.want);
    });
    const again = await Promise.all(sent.filter((x) => x.want === 'ok').map((x) => verifyCdsJwt(x.token, AUD, ctx)));
    expect(again.map(reason)).toEqual(Array(100).fill('replayed_jti'));
  });

  test('ES384 and RS384 calls interleaved: the pool path and the synchronous path answer alike', async () => {
    const mixed = await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 ? rs384 : es384).sign(AUD)));
    const forged = await makeTestClient({ alg: 'ES384', iss: es384.iss, kid: es384.kid }); // same iss and kid, other key
    const results = await Promise.all([...mixed, await forged.sign(AUD)].map((t) => verifyCdsJwt(t, AUD, ctx)));
    expect(results.map(reason)).toEqual([...Array(40).fill('ok'), 'bad_signature']);
  });
});

describe('ES512 (P-521, when enabled) takes the same path', () => {
  test('accepted with its key, refused with a flipped signature bit or another key', async () => {
    const mk = async () => {
      const { publicKey, privateKey } = await generateKeyPair('ES512', { extractable: true });
      return { jwk: { ...(await exportJWK(publicKey)), kid: 'p521', alg: 'ES512', use: 'sig' } as PublicJwk, privateKey };
    };
    const [k, other] = await Promise.all([mk(), mk()]);
    const iss = 'https://ehr-p521.test.example';
    const c = createCdsAuthContext({ clients: [{ iss, jwks: { keys: [k.jwk] } }], algorithms: ['ES512'] });
    const sign = (key: typeof k.privateKey) => {
      const now = Math.floor(Date.now() / 1000);
      return new CompactSign(new TextEncoder().encode(JSON.stringify({ iss, aud: AUD, iat: now, exp: now + 300, jti: randomUUID() })))
        .setProtectedHeader({ alg: 'ES512', typ: 'JWT', kid: 'p521' })
        .sign(key);
    };
    expect(reason(await verifyCdsJwt(await sign(k.privateKey), AUD, c))).toBe('ok');
    const [h, p, s] = (await sign(k.privateKey)).split('.') as [string, string, string];
    expect(reason(await verifyCdsJwt(`${h}.${p}.${flipBit(s, 7)}`, AUD, c))).toBe('bad_signature');
    expect(reason(await verifyCdsJwt(await sign(other.privateKey), AUD, c))).toBe('bad_signature');
  });
});
