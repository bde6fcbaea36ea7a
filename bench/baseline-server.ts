// The floors the service is compared with (bench/run.ts), one express app in two modes:
//   (a) BASELINE_VERIFY unset: parses the same hook request JSON and returns a fixed small card (no authentication);
//   (b) BASELINE_VERIFY=ES384|RS384: (a) plus what any CDS service must do with the client's JWT, as a bare handler
//       would with jose: `jwtVerify` against the same public key (imported once, from BASELINE_JWKS), restricted to
//       that algorithm, iss / aud (this endpoint's URL) / exp / iat checked with 60 s of skew, and the jti kept in
//       memory until exp + skew so a replayed token is refused (401, like the service).
import express from 'express';
import { importJWK, jwtVerify, type JWK } from 'jose';

const VERIFY = process.env['BASELINE_VERIFY'];
const ISS = process.env['BASELINE_ISS'] ?? 'https://bench-ehr.local';
const SKEW = 60;

const app = express();
app.disable('x-powered-by');
const CARD = {
  cards: [
    {
      uuid: '4a6a9d76-8a2f-4d1a-9c1e-0f1f3b6c7d01',
      summary: 'Warfarin 5 mg daily suggested',
      indicator: 'info',
      source: { label: 'baseline' },
    },
  ],
};
let origin = '';

if (VERIFY) {
  const keys = (JSON.parse(process.env['BASELINE_JWKS'] ?? '{"keys":[]}') as { keys: JWK[] }).keys.filter((k) => k.alg === VERIFY);
  if (keys.length !== 1) throw new Error(`baseline: BASELINE_JWKS must hold one ${VERIFY} key`);
  const key = await importJWK(keys[0]!, VERIFY);
  const seen = new Map<string, number>(); // jti -> expiry (s)
  setInterval(() => {
    const now = Date.now() / 1000;
    for (const [jti, exp] of seen) if (exp < now) seen.delete(jti);
  }, 10_000).unref();
  const deny = (res: express.Response) => res.status(401).json({ error: 'unauthorized' });
  app.use('/cds-services', (req, res, next) => {
    const m = /^Bearer +([A-Za-z0-9._-]+)$/.exec(req.headers.authorization ?? '');
    if (!m) return void deny(res);
    jwtVerify(m[1]!, key, { algorithms: [VERIFY], issuer: ISS, audience: `${origin}${req.originalUrl.split('?')[0]}`, clockTolerance: SKEW, requiredClaims: ['exp', 'iat', 'jti'] }).then(
      ({ payload }) => {
        const jti = payload.jti!;
        if (seen.has(jti)) return void deny(res);
        seen.set(jti, payload.exp! + SKEW);
        next();
      },
      () => deny(res),
    );
  });
}

// after authentication, as in the service
app.use(express.json({ limit: '1mb' }));
app.post('/cds-services/:id', (req, res) => {
  // touch the body so the parse cannot be skipped
  res.json(typeof req.body?.hook === 'string' ? CARD : { cards: [] });
});
app.get('/readyz', (_req, res) => {
  res.json({ status: 'ready' });
});
const server = app.listen(Number(process.env['PORT'] ?? 0), '127.0.0.1', () => {
  const a = server.address();
  const port = typeof a === 'object' && a ? a.port : 0;
  origin = `http://127.0.0.1:${port}`;
  process.stdout.write(`${JSON.stringify({ ready: true, port })}\n`);
});
server.keepAliveTimeout = 65_000; // as the service (src/server.ts)
server.headersTimeout = 66_000;
process.on('SIGTERM', () => server.close(() => process.exit(0)));
