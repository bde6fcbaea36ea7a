// JWT signature verification, per call: jose's compactVerify with an imported WebCrypto CryptoKey (what a bare
// express handler with jose does) against node:crypto `verify` with a KeyObject, synchronous (the service's path,
// src/cds/auth.ts) and asynchronous (callback form: the work runs on libuv's thread pool), for ES384 (P-384, as the
// CDS Hooks Sandbox signs), RS384 (RSA 2048) and ES256.
// `npx tsx bench/jwt-verify.bench.ts [--quick]`. Per variant: main-thread CPU per call (/proc/self/task/<pid>/stat),
// whole-process CPU per call (process.cpuUsage), latency one call at a time (p50/p99), and verifications/s with 16
// in flight. Absolute figures depend on the machine and its load: compare variants as ratios within one run.
import { createPublicKey, generateKeyPairSync, randomUUID, sign, verify } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { compactVerify, importJWK, type JWK } from 'jose';

const QUICK = process.argv.includes('--quick');
const N = QUICK ? 300 : 2000;
/** Passes over the tokens per variant: the cheap algorithms need more calls for the 10 ms CPU clock ticks to resolve. */
const REPS: Record<string, number> = { ES384: 1, RS384: 10, ES256: 8 };
type Alg = 'ES384' | 'RS384' | 'ES256';
const ALGS: Alg[] = ['ES384', 'RS384', 'ES256'];
const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');

function setup(alg: Alg) {
  const { privateKey, publicKey } = alg === 'RS384' ? generateKeyPairSync('rsa', { modulusLength: 2048 }) : generateKeyPairSync('ec', { namedCurve: alg === 'ES384' ? 'P-384' : 'P-256' });
  const hash = alg === 'ES256' ? 'sha256' : 'sha384';
  const ec = alg !== 'RS384';
  const header = b64({ alg, typ: 'JWT', kid: 'k' });
  const now = Math.floor(Date.now() / 1000);
  const tokens = Array.from({ length: N }, () => {
    const body = `${header}.${b64({ iss: 'i', aud: 'a', iat: now, exp: now + 300, jti: randomUUID() })}`;
    return `${body}.${sign(hash, Buffer.from(body), ec ? { key: privateKey, dsaEncoding: 'ieee-p1363' } : privateKey).toString('base64url')}`;
  });
  const jwk = { ...publicKey.export({ format: 'jwk' }), alg } as JWK;
  return { hash, ec, tokens, jwk, keyObject: createPublicKey({ key: jwk as import('node:crypto').JsonWebKey, format: 'jwk' }) };
}

const mainCpuMs = () => {
  const f = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(f[11]) + Number(f[12])) * 10;
};
const procCpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

type Verify = (token: string) => Promise<boolean> | boolean;
function split(t: string) {
  const i = t.lastIndexOf('.');
  return { data: Buffer.from(t.slice(0, i)), sig: Buffer.from(t.slice(i + 1), 'base64url') };
}
function variants(s: ReturnType<typeof setup>, cryptoKey: Awaited<ReturnType<typeof importJWK>>, alg: Alg): [string, Verify][] {
  const key = s.ec ? { key: s.keyObject, dsaEncoding: 'ieee-p1363' as const } : s.keyObject;
  return [
    ['jose compactVerify, WebCrypto CryptoKey (async)', async (t) => { await compactVerify(t, cryptoKey, { algorithms: [alg] }); return true; }],
    ['node:crypto verify, KeyObject, sync', (t) => { const { data, sig } = split(t); return verify(s.hash, data, key, sig); }],
    ['node:crypto verify, KeyObject, async (thread pool)', (t) => { const { data, sig } = split(t); return new Promise<boolean>((res, rej) => verify(s.hash, data, key, sig, (e, ok) => (e ? rej(e) : res(ok)))); }],
  ];
}

interface Fig { name: string; mainMs: number; procMs: number; p50: number; p99: number; perSec16: number }
async function measure(name: string, f: Verify, once: string[], reps: number): Promise<Fig> {
  const tokens = Array.from({ length: reps }, () => once).flat();
  for (let i = 0; i < Math.min(50, once.length); i++) if (!(await f(once[i]!))) throw new Error(`${name}: did not verify`);
  // one at a time
  const lat: number[] = [];
  const m0 = mainCpuMs();
  const p0 = procCpuMs();
  for (const t of tokens) {
    const s = performance.now();
    await f(t);
    lat.push(performance.now() - s);
  }
  const mainMs = (mainCpuMs() - m0) / tokens.length;
  const procMs = (procCpuMs() - p0) / tokens.length;
  lat.sort((a, b) => a - b);
  // 16 in flight
  let next = 0;
  const t0 = performance.now();
  await Promise.all(Array.from({ length: 16 }, async () => {
    while (next < tokens.length) await f(tokens[next++]!);
  }));
  const perSec16 = tokens.length / ((performance.now() - t0) / 1000);
  return { name, mainMs, procMs, p50: lat[Math.floor(lat.length / 2)]!, p99: lat[Math.floor(lat.length * 0.99)]!, perSec16 };
}

const load0 = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
console.log(`# JWT verification, ${N} tokens per variant (ES384 once, RS384 ×${REPS['RS384']}, ES256 ×${REPS['ES256']}), Node ${process.version}, OpenSSL ${process.versions.openssl}; load average ${load0} at the start`);
console.log('(CPU per call is read in 10 ms clock ticks over all calls of a variant; ratios are to node:crypto sync of the same algorithm)\n');
console.log('| alg | variant | main-thread CPU per call ms | process CPU per call ms | latency p50 / p99 ms, 1 in flight | verifications/s, 16 in flight | main CPU ratio | process CPU ratio | rate ratio |');
console.log('|---|---|---|---|---|---|---|---|---|');
for (const alg of ALGS) {
  const s = setup(alg);
  const cryptoKey = await importJWK(s.jwk, alg);
  const figs: Fig[] = [];
  for (const [name, f] of variants(s, cryptoKey, alg)) figs.push(await measure(name, f, s.tokens, REPS[alg]!));
  const ref = figs[1]!;
  for (const x of figs) {
    console.log(`| ${alg} | ${x.name} | ${x.mainMs.toFixed(3)} | ${x.procMs.toFixed(3)} | ${x.p50.toFixed(3)} / ${x.p99.toFixed(3)} | ${x.perSec16.toFixed(0)} | ${(x.mainMs / ref.mainMs).toFixed(2)} | ${(x.procMs / ref.procMs).toFixed(2)} | ${(x.perSec16 / ref.perSec16).toFixed(2)} |`);
  }
}
console.log(`\nload average at the end: ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`);
