// Client JWTs for the load generators of bench/run.ts, signed BEFORE each warm-up and measured run, on both cores
// (worker threads), so during a measured run the generator only takes the next token: RSA signing (~0.8 ms per token)
// or P-384 signing would otherwise steal CPU from the process under test on this 2-core machine.
import { Worker } from 'node:worker_threads';
import os from 'node:os';
import { ISS, KEYS, token, type BenchAlg } from './requests.js';

const SIGNERS = Math.max(1, os.cpus().length);
const signerCode = `
const { parentPort, workerData } = require('node:worker_threads');
const { createPrivateKey, randomUUID, sign } = require('node:crypto');
const keys = Object.fromEntries(Object.entries(workerData.keys).map(([alg, k]) => [alg, { header: k.header, key: createPrivateKey(k.pem) }]));
const b64 = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
parentPort.on('message', ({ aud, n, iss, alg, lifetime }) => {
  const { header, key } = keys[alg];
  const opts = alg.startsWith('ES') ? { key, dsaEncoding: 'ieee-p1363' } : key;
  const now = Math.floor(Date.now() / 1000);
  const out = new Array(n);
  for (let i = 0; i < n; i++) {
    const body = header + '.' + b64({ iss, aud, iat: now, exp: now + lifetime, jti: randomUUID(), sub: 'bench' });
    out[i] = body + '.' + sign('sha384', Buffer.from(body), opts).toString('base64url');
  }
  parentPort.postMessage(out);
});`;
let signers: Worker[] | undefined;
function signerPool(): Worker[] {
  const keys = Object.fromEntries(Object.values(KEYS).map((k) => [k.alg, { header: k.header, pem: k.privateKey.export({ format: 'pem', type: 'pkcs8' }) }]));
  signers ??= Array.from({ length: SIGNERS }, () => new Worker(signerCode, { eval: true, workerData: { keys } }));
  return signers;
}
export async function stopSigners(): Promise<void> {
  await Promise.all((signers ?? []).map((w) => w.terminate()));
  signers = undefined;
}

/** n unique tokens for `aud`, valid 5 min (as EHRs issue them; the replay caches keep each jti until exp + skew). */
export async function signTokens(aud: string, n: number, alg: BenchAlg): Promise<string[]> {
  const ws = signerPool();
  const per = Math.ceil(n / ws.length);
  const parts = await Promise.all(
    ws.map((w) => new Promise<string[]>((resolve) => {
      w.once('message', resolve);
      w.postMessage({ aud, n: per, iss: ISS, alg, lifetime: 300 });
    })),
  );
  return parts.flat().slice(0, n);
}

/** Where a run's Authorization headers come from: a consumed pool (each jti used once) or a cycled one (baseline (a)). */
export class TokenSource {
  private i = 0;
  short = 0;
  aud = '';
  constructor(private readonly tokens: string[], private readonly cycle: boolean, readonly alg: BenchAlg) {}
  next(): string {
    if (this.cycle) return this.tokens[this.i++ % this.tokens.length]!;
    if (this.i < this.tokens.length) return this.tokens[this.i++]!;
    this.short++; // pool exhausted: a replayed token (401) would be wrong, so sign on the fly and report it
    return token(this.aud, this.alg);
  }
}

/** Highest rate seen so far (req/s) per series, used to size the next token pool. */
const rateSeen = new Map<string, number>();
export const noteRate = (key: string, rps: number) => rateSeen.set(key, Math.max(rateSeen.get(key) ?? 0, rps));
export const bumpRate = (key: string, factor: number) => rateSeen.set(key, (rateSeen.get(key) ?? 0) * factor);
/** A pool big enough for `seconds` at 1.4× the best rate seen (at least `floor` req/s), plus headroom. */
export async function poolFor(key: string, aud: string, seconds: number, floor: number, alg: BenchAlg): Promise<TokenSource> {
  const rate = Math.max(rateSeen.get(key) ?? 0, floor);
  const src = new TokenSource(await signTokens(aud, Math.ceil(rate * 1.4 * seconds) + 200, alg), false, alg);
  src.aud = aud;
  return src;
}
/** Exactly `n` unique tokens (an open-loop run knows how many calls it will send). */
export async function exactPool(aud: string, n: number, alg: BenchAlg): Promise<TokenSource> {
  const src = new TokenSource(await signTokens(aud, n, alg), false, alg);
  src.aud = aud;
  return src;
}
/** A cycled set of 1 000 tokens (for a process that ignores them: the generator does the same work per request). */
export async function cycledTokens(aud: string, alg: BenchAlg): Promise<TokenSource> {
  const src = new TokenSource(await signTokens(aud, 1000, alg), true, alg);
  src.aud = aud;
  return src;
}
