// Typed configuration: config/default.json (or CONFIG_FILE) overlaid by environment variables, validated at start.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { isFhirServerAllowed, isServerPrefix } from './fhir/egress.js';
import { isTimeZone } from './fhir/timezone.js';

/** SMART Backend Services scopes the notification path needs: read the patient's data, create the alert. */
export const COMMUNICATION_SCOPE = 'system/Communication.c';
export const BACKEND_SCOPE = 'system/Patient.rs system/Observation.rs system/MedicationRequest.rs system/MedicationStatement.rs system/Condition.rs system/Procedure.rs system/MedicationAdministration.rs system/Device.rs system/DetectedIssue.c';

const ConfigSchema = z
  .object({
    port: z.number().int().min(0).max(65535),
    host: z.string().min(1),
    publicBaseUrl: z
      .string()
      .url()
      .transform((u) => u.replace(/\/+$/, '')),
    cdsClientsFile: z.string().min(1),
    auth: z
      .object({
        mode: z.enum(['enforce', 'disabled']),
        clockSkewSeconds: z.number().int().min(0).max(300),
        /** tokens the in-memory replay cache remembers (12 bytes each, at most 24 MiB at the default 1 000 000); when full, tokens are refused (fail closed) */
        replayCacheMaxEntries: z.number().int().min(1000).max(16_000_000).default(1_000_000),
      })
      .strict(),
    dataDir: z.string().min(1),
    databaseUrl: z.string(),
    fhir: z
      .object({
        deadlineMs: z.number().int().min(50).max(30000),
        maxPages: z.number().int().min(1).max(50),
        /** byte cap on the body of each FHIR answer the service reads itself; over it the query fails ("response too large") */
        maxResponseBytes: z
          .number()
          .int()
          .min(64 * 1024)
          .max(256 * 1024 * 1024)
          .default(8 * 1024 * 1024),
        /** FHIR base URL prefixes the service may send any client's token to (besides each client's fhirServers); empty = none */
        allowedServers: z.array(z.string().refine(isServerPrefix, 'must be an http(s) FHIR base URL without credentials, query or fragment')),
        /** development only: loopback hosts may be contacted, plain http on them (env FHIR_ALLOW_INSECURE_LOOPBACK) */
        allowInsecureLoopback: z.boolean(),
      })
      .strict(),
    /** hard deadline for a whole hook call; must exceed fhir.deadlineMs */
    requestDeadlineMs: z.number().int().min(100).max(60000),
    bodyLimit: z.string().regex(/^\d+(b|kb|mb)$/i, 'bodyLimit must look like 512kb or 1mb'),
    logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
    /** SMART app launch URL for card links; empty = "<publicBaseUrl>/smart/launch.html" when smart.allowedFhirServers is set */
    smartLaunchUrl: z.string(),
    /** the SMART "Dosing details" app and its recommendation API (src/smart/) */
    smart: z
      .object({
        /** OAuth client id registered for the app in the EHR's authorization server */
        clientId: z.string().min(1),
        /** scopes the app requests: only what it reads */
        scope: z.string().min(1),
        /**
         * FHIR base URLs whose tokens prove access to a patient. Empty = the recommendation API refuses every request:
         * "any https server" would let anyone with their own FHIR server prove access to any patient id.
         */
        allowedFhirServers: z.array(z.string().url()),
        /** origins of the EHR's authorization servers (the app posts to their token endpoint from the browser) */
        authorizationServers: z.array(z.string().url()),
        /** origins allowed to frame the app (CSP frame-ancestors); empty = not frameable */
        frameAncestors: z.array(z.string().url()),
        /** how long a successful access proof (token + FHIR server + patient) is reused */
        proofCacheSeconds: z.number().int().min(0).max(600),
        /** deadline for the proof's FHIR read (and for the token introspection) */
        proofTimeoutMs: z.number().int().min(100).max(30000),
        /**
         * RFC 7662 token introspection endpoint of the EHR's authorization server; empty = not used (the FHIR server
         * is trusted to enforce the token's patient). When set, inactive tokens get 401 and a token whose `patient`
         * is not the requested patient (or that has none) gets 403.
         */
        introspectionUrl: z.union([z.literal(''), z.string().url()]),
        /** client credentials of this service at the introspection endpoint (HTTP Basic); empty id = none sent */
        introspectionClientId: z.string(),
        introspectionClientSecret: z.string(),
        /** how long an introspection answer is reused per token (never past the token's exp) */
        introspectionCacheSeconds: z.number().int().min(0).max(300),
      })
      .strict(),
    cards: z.object({ warfarinRoundingMgPerDay: z.number().positive().max(5) }).strict(),
    /** pharmacogenomic (CPIC) guidance: which cards are shown, and when a genotype test is suggested */
    pgx: z
      .object({
        /** show "use standard dosing" / "no recommendation" rows as info cards (default: SMART app only) */
        informationalCards: z.boolean(),
        /** show rows that ask for caution or monitoring without changing the order, as info cards */
        cautionCards: z.boolean(),
        /** suggest the genotype test when no result is on file: for drugs with a Strong actionable CPIC row, any, or never */
        suggestTestFor: z.enum(['strong', 'all', 'none']),
        /** guideline sources, the first one leads (its row gives the card's suggestion); absent: ["cpic", "dpwg"] */
        sources: z
          .array(z.enum(['cpic', 'dpwg']))
          .min(1)
          .max(2)
          .refine((a) => new Set(a).size === a.length, { message: 'each source at most once' })
          .optional(),
      })
      .strict(),
    /** IANA time zone for glucose readings sent in UTC when the Patient names none (basal insulin); empty = UTC clock time */
    patientTimeZoneDefault: z
      .string()
      .default('')
      .refine((z) => z === '' || isTimeZone(z), { message: 'must be an IANA time zone name (e.g. America/New_York) or empty' }),
    /** kidney-function dose bands: a serum creatinine older than this is not used (absent: knowledge/renal-bands.json policy, 30 days) */
    renal: z.object({ creatinineMaxAgeDays: z.number().int().min(1).max(365) }).strict().optional(),
    /** audit trail: retention, patient-id pseudonymization, spooling while the database is unavailable */
    audit: z
      .object({
        retentionDays: z.number().int().min(1).max(36500),
        pseudonymizePatientIds: z.boolean(),
        /** HMAC key for patient-id pseudonyms (from env PATIENT_ID_KEY; never in a committed file) */
        patientIdKey: z.string(),
        retryIntervalMs: z.number().int().min(100).max(600000),
        maxQueue: z.number().int().min(1).max(1000000),
        /** SQLite: write hook audit records on a worker thread, off the event loop (absent: true) */
        writerThread: z.boolean().optional(),
      })
      .strict(),
    database: z.object({ poolSize: z.number().int().min(1).max(100), connectTimeoutMs: z.number().int().min(100).max(60000) }).strict(),
    /** bearer token for /admin/* (from env ADMIN_TOKEN); empty = admin endpoints answer 404 */
    admin: z.object({ token: z.string() }).strict(),
    metrics: z.object({ requireAdminToken: z.boolean() }).strict(),
    /** FHIR subscription notifications (POST /notifications, src/notify/): off while the token is empty */
    notify: z
      .object({
        /** the secret the Subscription's channel.header carries as `Authorization: Bearer …` (env NOTIFY_TOKEN); empty = endpoint off */
        token: z.string().default(''),
        /** the CDS client (iss) of the EHR: its overrides keep an alert from being written again; the write-back is audited under it */
        clientIss: z.string().default(''),
        /** how often the queue is polled when idle */
        pollMs: z.number().int().min(10).max(60000).default(1000),
        /** a claimed item is claimed again by any process after this long (a process that died holding it) */
        leaseMs: z.number().int().min(1000).max(3600000).default(120000),
        /** tries before an item is parked */
        maxAttempts: z.number().int().min(1).max(50).default(6),
        /** first retry delay; doubled on each try */
        retryBaseMs: z.number().int().min(10).max(3600000).default(2000),
        /** beside each DetectedIssue, a Communication to the order's requester (src/notify/communication.ts) */
        communication: z.boolean().default(false),
      })
      .strict()
      .prefault({}),
    /** the service's own access to the EHR's FHIR server (SMART Backend Services), for notifications */
    backend: z
      .object({
        fhirUrl: z.string().default(''),
        tokenUrl: z.string().default(''),
        clientId: z.string().default(''),
        /** private JWK (RS384 or ES384, with its kid) signing the client assertion; its public half is at /.well-known/jwks.json */
        keyFile: z.string().default(''),
        /** development and tests only: a static bearer token instead of the token flow */
        staticToken: z.string().default(''),
        scope: z.string().min(1).default(BACKEND_SCOPE),
      })
      .strict()
      .prefault({}),
  })
  .strict()
  .refine((c) => !c.audit.pseudonymizePatientIds || c.audit.patientIdKey.length >= 16, {
    message: 'pseudonymizing patient ids needs a key of at least 16 characters',
    path: ['audit', 'patientIdKey'],
  })
  .refine((c) => c.admin.token === '' || c.admin.token.length >= 16, { message: 'the admin token must be at least 16 characters', path: ['admin', 'token'] })
  .refine((c) => !c.metrics.requireAdminToken || c.admin.token !== '', { message: 'metrics.requireAdminToken needs ADMIN_TOKEN', path: ['metrics', 'requireAdminToken'] })
  .refine((c) => [...c.smart.frameAncestors, ...c.smart.authorizationServers].every(isOrigin), {
    message: 'SMART frame ancestors and authorization servers must be origins (scheme://host[:port], no path)',
    path: ['smart'],
  })
  .refine((c) => c.notify.token === '' || c.notify.token.length >= 16, { message: 'the notification token must be at least 16 characters', path: ['notify', 'token'] })
  .refine((c) => c.notify.token === '' || (c.backend.fhirUrl !== '' && c.notify.clientIss !== ''), {
    message: 'notifications need BACKEND_FHIR_URL and NOTIFY_CLIENT_ISS',
    path: ['notify'],
  })
  // the service's own token goes only where an EHR's token may go (src/fhir/egress.ts)
  .refine((c) => c.backend.fhirUrl === '' || isFhirServerAllowed(c.backend.fhirUrl, { allowedServers: c.fhir.allowedServers, allowInsecureLoopback: c.fhir.allowInsecureLoopback }), {
    message: 'the backend FHIR server must be under FHIR_ALLOWED_SERVERS (https; loopback only with FHIR_ALLOW_INSECURE_LOOPBACK)',
    path: ['backend', 'fhirUrl'],
  })
  .refine((c) => c.backend.fhirUrl === '' || c.backend.staticToken !== '' || (c.backend.tokenUrl !== '' && c.backend.clientId !== '' && c.backend.keyFile !== ''), {
    message: 'backend access needs BACKEND_TOKEN_URL, BACKEND_CLIENT_ID and BACKEND_KEY_FILE (or, for development only, BACKEND_FHIR_TOKEN)',
    path: ['backend'],
  })
  .refine((c) => c.smart.introspectionUrl === '' || introspectionUrlOk(c.smart.introspectionUrl, c.fhir.allowInsecureLoopback), {
    message: 'SMART_INTROSPECTION_URL must be https (plain http only for a loopback host with FHIR_ALLOW_INSECURE_LOOPBACK), without credentials',
    path: ['smart', 'introspectionUrl'],
  })
  .refine((c) => c.requestDeadlineMs > c.fhir.deadlineMs, {
    message: 'requestDeadlineMs must be larger than fhir.deadlineMs',
    path: ['requestDeadlineMs'],
  });

export type AppConfig = z.infer<typeof ConfigSchema>;

/** The token goes there: https, or http to a loopback host in development; no credentials in the URL. */
function introspectionUrlOk(u: string, allowInsecureLoopback: boolean): boolean {
  try {
    const x = new URL(u);
    if (x.username || x.password || x.hash) return false;
    if (x.protocol === 'https:') return true;
    return x.protocol === 'http:' && allowInsecureLoopback && ['127.0.0.1', 'localhost', '[::1]'].includes(x.hostname);
  } catch {
    return false;
  }
}

/** An http(s) origin without path, query or credentials: safe to place in a CSP directive. */
function isOrigin(u: string): boolean {
  try {
    const x = new URL(u);
    return (x.protocol === 'https:' || x.protocol === 'http:') && x.origin === u.replace(/\/$/, '');
  } catch {
    return false;
  }
}

/**
 * The app's launch URL for card links: SMART_LAUNCH_URL, or the app served by this service once its recommendation API
 * can work (SMART_ALLOWED_FHIR_SERVERS set); undefined = cards carry no link (it would open an app that must refuse).
 */
export function smartLaunchUrl(c: AppConfig): string | undefined {
  if (c.smartLaunchUrl) return c.smartLaunchUrl;
  return c.smart.allowedFhirServers.length > 0 ? `${c.publicBaseUrl}/smart/launch.html` : undefined;
}

/** Environment variables that override the file, with the config path they set. */
export const ENV_OVERRIDES: { env: string; path: string; parse: (s: string) => unknown; description: string }[] = [
  { env: 'PORT', path: 'port', parse: Number, description: 'TCP port to listen on' },
  { env: 'HOST', path: 'host', parse: String, description: 'interface to bind (0.0.0.0 in containers)' },
  { env: 'PUBLIC_BASE_URL', path: 'publicBaseUrl', parse: String, description: 'externally visible base URL; the JWT `aud` must equal this + the endpoint path' },
  { env: 'CDS_CLIENTS_FILE', path: 'cdsClientsFile', parse: String, description: 'JSON file of trusted CDS clients (iss + jwks or allowlisted jku)' },
  { env: 'DATABASE_URL', path: 'databaseUrl', parse: String, description: 'PostgreSQL URL; empty = embedded SQLite in DATA_DIR' },
  { env: 'DATA_DIR', path: 'dataDir', parse: String, description: 'directory for the SQLite database' },
  { env: 'CDS_AUTH_MODE', path: 'auth.mode', parse: String, description: '`enforce` (default) or `disabled` (development only; logged loudly)' },
  { env: 'CDS_REPLAY_CACHE_MAX_ENTRIES', path: 'auth.replayCacheMaxEntries', parse: Number, description: 'CDS client tokens (jti) remembered against replay until they expire (default 1000000, 12 bytes each; ~2,700 calls/s sustained with 5-min tokens); when full, new tokens are refused' },
  { env: 'FHIR_DEADLINE_MS', path: 'fhir.deadlineMs', parse: Number, description: 'deadline for all FHIR queries of one hook call' },
  { env: 'FHIR_MAX_RESPONSE_BYTES', path: 'fhir.maxResponseBytes', parse: Number, description: 'byte cap on each FHIR answer the service reads itself (64 KiB to 256 MiB); a larger answer fails that query' },
  { env: 'FHIR_ALLOWED_SERVERS', path: 'fhir.allowedServers', parse: (s) => s.split(',').map((x) => x.trim()).filter(Boolean), description: 'comma-separated FHIR base URL prefixes any trusted client\'s token may be sent to, besides each client\'s `fhirServers`; empty (default) = only those' },
  { env: 'FHIR_ALLOW_INSECURE_LOOPBACK', path: 'fhir.allowInsecureLoopback', parse: parseBool, description: 'development only: `true` = FHIR servers on loopback hosts may be contacted, over plain http too (default false)' },
  { env: 'REQUEST_DEADLINE_MS', path: 'requestDeadlineMs', parse: Number, description: 'hard deadline for a whole hook call' },
  { env: 'LOG_LEVEL', path: 'logLevel', parse: String, description: 'pino log level' },
  { env: 'SMART_LAUNCH_URL', path: 'smartLaunchUrl', parse: String, description: 'SMART app launch URL used in card links' },
  { env: 'SMART_CLIENT_ID', path: 'smart.clientId', parse: String, description: 'OAuth client id of the SMART app, as registered in the EHR' },
  { env: 'SMART_SCOPE', path: 'smart.scope', parse: String, description: 'scopes the SMART app requests' },
  { env: 'SMART_ALLOWED_FHIR_SERVERS', path: 'smart.allowedFhirServers', parse: list, description: 'comma-separated FHIR base URLs whose SMART tokens the recommendation API accepts; empty = the API refuses all requests' },
  { env: 'SMART_AUTH_SERVERS', path: 'smart.authorizationServers', parse: list, description: 'comma-separated origins of the EHR authorization servers (token endpoint), allowed in the app\'s CSP connect-src' },
  { env: 'SMART_FRAME_ANCESTORS', path: 'smart.frameAncestors', parse: list, description: 'comma-separated EHR origins allowed to embed the SMART app (CSP frame-ancestors); empty = not frameable' },
  { env: 'SMART_INTROSPECTION_URL', path: 'smart.introspectionUrl', parse: String, description: 'RFC 7662 token introspection endpoint of the EHR\'s authorization server; set = the recommendation API refuses inactive tokens (401) and tokens launched for another patient (403); empty = the EHR\'s FHIR server is trusted to enforce the token\'s patient' },
  { env: 'SMART_INTROSPECTION_CLIENT_ID', path: 'smart.introspectionClientId', parse: String, description: 'client id of this service at the introspection endpoint (HTTP Basic); empty = no client authentication sent' },
  { env: 'SMART_INTROSPECTION_CLIENT_SECRET', path: 'smart.introspectionClientSecret', parse: String, description: 'client secret for SMART_INTROSPECTION_CLIENT_ID' },
  { env: 'RETENTION_DAYS', path: 'audit.retentionDays', parse: Number, description: 'audit/feedback records older than this are deleted by `npm run purge`' },
  { env: 'PSEUDONYMIZE_PATIENT_IDS', path: 'audit.pseudonymizePatientIds', parse: parseBool, description: 'store patient ids as keyed HMAC-SHA256 pseudonyms (needs PATIENT_ID_KEY)' },
  { env: 'PATIENT_ID_KEY', path: 'audit.patientIdKey', parse: String, description: 'secret HMAC key for patient-id pseudonyms (≥ 16 characters; same on every replica)' },
  { env: 'AUDIT_RETRY_MS', path: 'audit.retryIntervalMs', parse: Number, description: 'while the database is unavailable, how often to retry writing spooled audit records' },
  { env: 'AUDIT_WRITER_THREAD', path: 'audit.writerThread', parse: parseBool, description: 'SQLite store: `false` = write hook audit records on the main thread instead of a worker thread' },
  { env: 'DATABASE_POOL_SIZE', path: 'database.poolSize', parse: Number, description: 'PostgreSQL connections per replica' },
  { env: 'ADMIN_TOKEN', path: 'admin.token', parse: String, description: 'bearer token for `/admin/*` (≥ 16 characters); empty = admin endpoints answer 404' },
  { env: 'PATIENT_TIME_ZONE_DEFAULT', path: 'patientTimeZoneDefault', parse: String, description: 'IANA time zone (e.g. America/New_York) for CGM/meter glucose readings sent in UTC when the Patient names none (basal insulin fasting window 04:00–08:00 local); empty (default) = their UTC clock time, said on the card' },
  { env: 'RENAL_CREATININE_MAX_AGE_DAYS', path: 'renal.creatinineMaxAgeDays', parse: Number, description: 'renal dose bands: a serum creatinine older than this many days is not used (default 30)' },
  { env: 'NOTIFY_TOKEN', path: 'notify.token', parse: String, description: 'secret the FHIR Subscription sends as `Authorization: Bearer …` (its channel.header) to `POST /notifications` (≥ 16 characters); empty (default) = the endpoint answers 404' },
  { env: 'NOTIFY_COMMUNICATION', path: 'notify.communication', parse: parseBool, description: '`true` = beside each DetectedIssue written back, a Communication (category alert, to the order\'s requester, about the DetectedIssue and the order, written once per facts); an order without a requester gets none (audited). Default `false`; the default `BACKEND_SCOPE` then asks for `system/Communication.c` too' },
  { env: 'NOTIFY_CLIENT_ISS', path: 'notify.clientIss', parse: String, description: 'the EHR\'s CDS client `iss`: its overrides keep an alert from being written back again; write-backs are audited under it' },
  { env: 'BACKEND_FHIR_URL', path: 'backend.fhirUrl', parse: String, description: 'the EHR\'s FHIR base URL the service reads and writes with its own credentials (must be under FHIR_ALLOWED_SERVERS)' },
  { env: 'BACKEND_TOKEN_URL', path: 'backend.tokenUrl', parse: String, description: 'the EHR\'s OAuth2 token endpoint (SMART Backend Services; also the assertion\'s `aud`)' },
  { env: 'BACKEND_CLIENT_ID', path: 'backend.clientId', parse: String, description: 'the service\'s client id at the EHR (assertion `iss` and `sub`)' },
  { env: 'BACKEND_KEY_FILE', path: 'backend.keyFile', parse: String, description: 'private JWK (JSON, RS384 or ES384, with `kid`) signing the client assertion; the public key is served at `/.well-known/jwks.json`' },
  { env: 'BACKEND_SCOPE', path: 'backend.scope', parse: String, description: 'scopes requested (default: system/Patient.rs, Observation.rs, MedicationRequest.rs, … , DetectedIssue.c)' },
  { env: 'BACKEND_FHIR_TOKEN', path: 'backend.staticToken', parse: String, description: 'development and tests only: a static bearer token instead of the token flow (logged as a warning at start)' },
  { env: 'PGX_SOURCES', path: 'pgx.sources', parse: list, description: 'pharmacogenomic guideline sources, comma-separated, the first one leads: `cpic,dpwg` (default), `dpwg,cpic`, `cpic` or `dpwg`' },
  { env: 'METRICS_REQUIRE_TOKEN', path: 'metrics.requireAdminToken', parse: parseBool, description: '`true` = `/metrics` needs the admin token' },
];

function list(s: string): string[] {
  return s.split(',').map((x) => x.trim()).filter(Boolean);
}

function parseBool(s: string): unknown {
  const v = s.trim().toLowerCase();
  return ['1', 'true', 'yes'].includes(v) ? true : ['0', 'false', 'no'].includes(v) ? false : s;
}

function setPath(target: Record<string, unknown>, dotted: string, value: unknown): void {
  const keys = dotted.split('.');
  let node: Record<string, unknown> = target;
  for (const k of keys.slice(0, -1)) {
    const next = node[k];
    if (typeof next !== 'object' || next === null) node[k] = {};
    node = node[k] as Record<string, unknown>;
  }
  node[keys[keys.length - 1]!] = value;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Load and validate configuration; throws ConfigError with every problem listed. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, overrides: Partial<Record<string, unknown>> = {}): AppConfig {
  const file = env['CONFIG_FILE'] ?? path.resolve(process.cwd(), 'config/default.json');
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch (e) {
    throw new ConfigError(`cannot read configuration file ${file}: ${(e as Error).message}`);
  }
  for (const o of ENV_OVERRIDES) {
    const v = env[o.env];
    if (v !== undefined && v !== '') setPath(raw, o.path, o.parse(v));
    else if (v === '' && o.env === 'DATABASE_URL') setPath(raw, o.path, '');
  }
  for (const [k, v] of Object.entries(overrides)) setPath(raw, k, v);
  const parsed = ConfigSchema.safeParse(raw);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => {
      const p = i.path.join('.');
      const envName = ENV_OVERRIDES.find((o) => p === o.path || p.startsWith(`${o.path}.`))?.env; // array items: fhir.allowedServers.1
      return `  - ${p}${envName ? ` (env ${envName})` : ''}: ${i.message}`;
    });
    throw new ConfigError(`invalid configuration (${file}):\n${lines.join('\n')}`);
  }
  const c = parsed.data;
  // the Communication needs its create scope; an operator's own BACKEND_SCOPE is taken as written
  if (c.notify.communication && c.backend.scope === BACKEND_SCOPE) c.backend.scope = `${BACKEND_SCOPE} ${COMMUNICATION_SCOPE}`;
  return c;
}
