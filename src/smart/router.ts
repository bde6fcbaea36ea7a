// The SMART app's side of the service: the built app under /smart/ (own CSP, frameable by the EHR) and the
// recommendation API under /api/recommendations, which serves only what the app's SMART token proves it may see.
import { existsSync } from 'node:fs';
import path from 'node:path';
import express, { type Request, type RequestHandler, type Response } from 'express';
import type { Logger } from 'pino';
import type { AppConfig } from '../config.js';
import { normalizeFhirServer } from '../domain/tenant.js';
import type { Store, StoredRecommendation } from '../store/store.js';
import { TokenIntrospector } from './introspection.js';
import { AccessProver, FHIR_ID, type ProofFailure } from './proof.js';

export interface SmartRouterDeps {
  config: AppConfig;
  store: Store;
  logger: Logger;
  /** directory of the built app (vite build output); default dist/smart-app under the working directory */
  appDir?: string;
  /** injected in tests */
  prover?: AccessProver;
  introspector?: TokenIntrospector;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const LIST_LIMIT = 20;

/** One status and one fixed message per failure: nothing about the patient, the token or other recommendations. */
export const FAILURES: Record<ProofFailure | 'no-token' | 'no-context' | 'token-inactive' | 'patient-mismatch' | 'introspection-unavailable', [number, string]> = {
  'no-token': [401, 'a SMART access token is required (Authorization: Bearer)'],
  'no-context': [400, 'X-FHIR-Server and the patient id from the launch context are required'],
  'server-not-allowed': [403, 'this FHIR server is not accepted by the service'],
  'token-rejected': [401, 'the FHIR server did not accept the access token'],
  'patient-denied': [403, 'the access token does not give access to this patient'],
  'fhir-unavailable': [502, 'the FHIR server could not confirm access; try again'],
  'token-inactive': [401, 'the access token is not active (expired or revoked): launch the app again'],
  'patient-mismatch': [403, 'the access token does not give access to this patient'],
  'introspection-unavailable': [502, 'the authorization server could not confirm the access token; try again'],
};
const NOT_FOUND: [number, string] = [404, 'no such recommendation for this patient'];

function origins(urls: string[]): string[] {
  return [...new Set(urls.flatMap((u) => {
    try {
      return [new URL(u).origin];
    } catch {
      return [];
    }
  }))];
}

/** CSP of the app: scripts and styles from the bundle only, network only to us, the FHIR and authorization servers. */
export function smartAppCsp(c: AppConfig): string {
  const connect = ["'self'", ...origins([...c.smart.allowedFhirServers, ...c.smart.authorizationServers])].join(' ');
  const frame = c.smart.frameAncestors.length > 0 ? origins(c.smart.frameAncestors).join(' ') : "'none'";
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    `connect-src ${connect}`,
    `frame-ancestors ${frame}`,
    "base-uri 'none'",
    "form-action 'none'",
  ].join('; ');
}

function summaryOf(s: StoredRecommendation) {
  const r = s.recommendation;
  // orderRef: the app groups the list per order (the latest marked, earlier ones folded as superseded)
  return { id: r.id, drug: r.drug.name, kind: r.kind, severity: r.severity, headline: r.headline, method: { name: r.method.name, version: r.method.version }, createdAt: s.createdAt, ...(r.orderRef ? { orderRef: r.orderRef } : {}) };
}

export function createSmartRouter(d: SmartRouterDeps): express.Router {
  const c = d.config;
  const log = d.logger.child({ component: 'smart' });
  const prover =
    d.prover ??
    new AccessProver({
      allowedServers: c.smart.allowedFhirServers,
      allowInsecureLoopback: c.fhir.allowInsecureLoopback,
      cacheSeconds: c.smart.proofCacheSeconds,
      timeoutMs: c.smart.proofTimeoutMs,
      maxResponseBytes: c.fhir.maxResponseBytes,
    });
  // RFC 7662 introspection where the EHR offers it: the token's own patient, not only the FHIR server's enforcement
  const introspector =
    d.introspector ??
    (c.smart.introspectionUrl
      ? new TokenIntrospector({
          url: c.smart.introspectionUrl,
          ...(c.smart.introspectionClientId ? { clientId: c.smart.introspectionClientId, clientSecret: c.smart.introspectionClientSecret } : {}),
          cacheSeconds: c.smart.introspectionCacheSeconds,
          timeoutMs: c.smart.proofTimeoutMs,
        })
      : undefined);
  if (c.smart.allowedFhirServers.length === 0) {
    log.warn({ event: 'smart_api_disabled' }, 'SMART_ALLOWED_FHIR_SERVERS is empty: the recommendation API refuses every request');
  }
  const router = express.Router();

  // ---- recommendation API --------------------------------------------------------------------------------------
  const fail = (res: Response, [status, error]: [number, string], event: string, t0: number) => {
    log.info({ event: 'smart_api', outcome: event, status, ms: Math.round(performance.now() - t0) });
    if (status === 401) res.setHeader('WWW-Authenticate', 'Bearer');
    // reason: the stable failure code, so the app can say in plain words what happened (error stays for people)
    res.status(status).json({ error, reason: event });
  };

  /**
   * Proves the caller's access to the patient of its launch at its FHIR server; returns that patient id and the
   * (normalized) server, or answers the failure. Only records of that server are ever served.
   */
  const proveAccess = async (req: Request, res: Response, t0: number, patientParam?: string): Promise<{ patientId: string; fhirServer: string } | undefined> => {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(req.get('authorization') ?? '');
    if (!m) return void fail(res, FAILURES['no-token'], 'no-token', t0);
    const fhirServer = req.get('x-fhir-server')?.trim();
    const patientId = (req.get('x-patient-id') ?? patientParam ?? '').trim();
    if (!fhirServer || !patientId) return void fail(res, FAILURES['no-context'], 'no-context', t0);
    if (!FHIR_ID.test(patientId)) return void fail(res, FAILURES['patient-denied'], 'patient-denied', t0);
    if (introspector) {
      // the token is sent to the authorization server only for a FHIR server the service accepts
      if (!prover.serverAllowed(fhirServer)) return void fail(res, FAILURES['server-not-allowed'], 'server-not-allowed', t0);
      const i = await introspector.introspect(m[1]!);
      if (!i.ok) return void fail(res, FAILURES['introspection-unavailable'], 'introspection-unavailable', t0);
      if (!i.value.active) return void fail(res, FAILURES['token-inactive'], 'token-inactive', t0);
      // SMART App Launch 2: `patient` is the patient of the launch; no patient, or another one, gets nothing
      if (i.value.patient !== patientId) return void fail(res, FAILURES['patient-mismatch'], 'patient-mismatch', t0);
    }
    const proof = await prover.prove({ token: m[1]!, fhirServer, patientId });
    if (!proof.ok) return void fail(res, FAILURES[proof.reason], proof.reason, t0);
    return { patientId, fhirServer: normalizeFhirServer(fhirServer)! };
  };

  const api = express.Router();
  api.get('/recommendations/:id', async (req: Request<{ id: string }>, res: Response) => {
    const t0 = performance.now();
    const proven = await proveAccess(req, res, t0);
    if (proven === undefined) return;
    const found = UUID.test(req.params.id) ? await d.store.getRecommendation(req.params.id) : undefined;
    // unknown, another patient's and another FHIR server's recommendation (or one whose server is not known) answer
    // alike: the id's existence is not disclosed
    if (!found || found.patientId !== d.store.patientKey(proven.patientId) || found.fhirServer === undefined || found.fhirServer !== proven.fhirServer) {
      return fail(res, NOT_FOUND, 'not-found', t0);
    }
    log.info({ event: 'smart_api', outcome: 'served', status: 200, ms: Math.round(performance.now() - t0) });
    res.json({ recommendation: found.recommendation, createdAt: found.createdAt });
  });
  api.get('/recommendations', async (req: Request, res: Response) => {
    const t0 = performance.now();
    const q = req.query['patient'];
    const proven = await proveAccess(req, res, t0, typeof q === 'string' ? q : undefined);
    if (proven === undefined) return;
    const rows = await d.store.recommendationsForPatient(proven.patientId, proven.fhirServer, LIST_LIMIT);
    const mine = rows.filter((s) => s.patientId === d.store.patientKey(proven.patientId) && s.fhirServer === proven.fhirServer);
    log.info({ event: 'smart_api', outcome: 'listed', status: 200, count: mine.length, ms: Math.round(performance.now() - t0) });
    res.json({ recommendations: mine.map(summaryOf) });
  });
  router.use('/api', api);

  // ---- the app ---------------------------------------------------------------------------------------------------
  const appDir = d.appDir ?? path.resolve(process.cwd(), 'dist/smart-app');
  const built = existsSync(path.join(appDir, 'launch.html'));
  if (!built) log.warn({ event: 'smart_app_missing', appDir }, 'SMART app not built (npm run build): /smart/ answers 404');
  const csp = smartAppCsp(c);
  const appHeaders: RequestHandler = (_req, res, next) => {
    res.setHeader('Content-Security-Policy', csp);
    if (c.smart.frameAncestors.length > 0) res.removeHeader('X-Frame-Options'); // frame-ancestors decides
    res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
    next();
  };
  const app = express.Router();
  app.use(appHeaders);
  // client id and scopes come from the deployment's configuration, not from the bundle
  app.get('/config.json', (_req, res) => {
    res.json({ clientId: c.smart.clientId, scope: c.smart.scope });
  });
  if (built) {
    app.use(
      express.static(appDir, {
        index: 'index.html',
        dotfiles: 'ignore',
        fallthrough: true,
        setHeaders(res, file) {
          // hashed file names: cache for good; the HTML pages keep no-store (set for every response in app.ts)
          if (file.includes(`${path.sep}assets${path.sep}`)) res.setHeader('Cache-Control', 'public, max-age=31536000, immutable');
        },
      }),
    );
  }
  router.use('/smart', app);
  return router;
}
