// Trusted CDS clients (EHRs): which `iss` values we accept and where their public keys come from.
//
// File format (path in env CDS_CLIENTS_FILE, default config/cds-clients.json):
//   { "clients": [ { "iss": "https://ehr.example.org",
//                    "name": "optional label", "note": "optional free text",
//                    "jwks": { "keys": [ <public JWK with kid>, ... ] },      // inline key set, and/or
//                    "jku":  [ "https://ehr.example.org/.well-known/jwks.json" ],  // allowlisted key-set URLs
//                    "fhirServers": [ "https://ehr.example.org/fhir" ],   // where its FHIR token may be sent
//                    "openFhirServers": [ ... ] } ] }   // public test servers it may have queried WITHOUT a token
// Each client needs `jwks` or `jku` (or both). `fhirServers` are FHIR base URL prefixes (origin + path, matched on
// segment boundaries, src/fhir/egress.ts); without them the service never contacts a FHIR server for this client
// (prefetch only). A call with `fhirServer` but no `fhirAuthorization` is answered from prefetch only (CDS Hooks 2.0:
// a service presents a valid access token with every FHIR call), unless that server is also under the client's
// `openFhirServers` — public, synthetic-data servers such as the CDS Hooks Sandbox's default, which it calls without a
// token; such a server must also be in `fhirServers`. Only public asymmetric keys (EC, RSA, OKP) are accepted;
// a key with private members or a symmetric (`oct`) key is a configuration error, not something to ignore.
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { isServerPrefix } from '../fhir/egress.js';

/** A public JWK as it appears in a key set. Unknown members are kept (jose reads them). */
export interface PublicJwk {
  kty: 'EC' | 'RSA' | 'OKP';
  kid: string;
  alg?: string;
  use?: string;
  crv?: string;
  x?: string;
  y?: string;
  n?: string;
  e?: string;
  [member: string]: unknown;
}

export interface TrustedClient {
  iss: string;
  name?: string;
  note?: string;
  /** Inline key set configured out of band. */
  jwks?: { keys: PublicJwk[] };
  /** Allowlisted key-set URLs, normalised with `normalizeJku`. */
  jku?: string[];
  /** FHIR base URL prefixes the EHR's bearer token may be sent to for this client; absent = none */
  fhirServers?: string[];
  /** FHIR base URL prefixes with public test data that may be queried without a token when the client sends none */
  openFhirServers?: string[];
}

export interface TrustedClients {
  clients: TrustedClient[];
}

/** JWK members that only private (or symmetric) keys carry. */
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'] as const;

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

/**
 * Canonical form used to compare a token's `jku` with the allowlist (lower-case scheme/host, default port
 * dropped). Returns undefined for anything that is not an absolute http(s) URL without credentials/fragment.
 */
export function normalizeJku(raw: string): string | undefined {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    return undefined;
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') return undefined;
  if (u.username !== '' || u.password !== '' || u.hash !== '') return undefined;
  return u.href;
}

const jwkSchema = z
  .object({
    kty: z.enum(['EC', 'RSA', 'OKP'], {
      error: (iss) =>
        iss.input === 'oct'
          ? 'symmetric ("oct") keys are not allowed: CDS clients must sign with an asymmetric key'
          : 'kty must be "EC", "RSA" or "OKP"',
    }),
    kid: z.string({ error: 'every key needs a "kid" (tokens are matched to keys by kid)' }).min(1, 'kid must not be empty'),
    alg: z.string().optional(),
    use: z.string().optional(),
  })
  .loose()
  .superRefine((jwk, ctx) => {
    for (const m of PRIVATE_MEMBERS) {
      if (m in jwk) {
        ctx.addIssue({ code: 'custom', message: `key "${jwk.kid}" contains private key material ("${m}"): put only PUBLIC keys here` });
        return;
      }
    }
    if (jwk.use !== undefined && jwk.use !== 'sig') {
      ctx.addIssue({ code: 'custom', message: `key "${jwk.kid}" has use "${jwk.use}", expected "sig"` });
    }
    if (jwk.alg !== undefined && /^(none|HS\d+)$/i.test(jwk.alg)) {
      ctx.addIssue({ code: 'custom', message: `key "${jwk.kid}" has alg "${jwk.alg}": only asymmetric signature algorithms are allowed` });
    }
  });

const jkuSchema = z.string().superRefine((s, ctx) => {
  const norm = normalizeJku(s);
  if (norm === undefined) {
    ctx.addIssue({ code: 'custom', message: `"${s}" is not an absolute https URL (no credentials, no fragment)` });
    return;
  }
  const u = new URL(norm);
  if (u.protocol === 'http:' && !LOOPBACK_HOSTS.has(u.hostname)) {
    ctx.addIssue({ code: 'custom', message: `"${s}" must use https (plain http is only allowed for loopback hosts)` });
  }
});

const clientSchema = z
  .object({
    iss: z.string({ error: '"iss" is required (the exact issuer string the EHR puts in its JWTs)' }).min(1, '"iss" must not be empty'),
    name: z.string().optional(),
    note: z.string().optional(),
    jwks: z
      .object({ keys: z.array(jwkSchema, { error: '"jwks.keys" must be an array of JWKs' }) }, { error: '"jwks" must be an object {"keys": [...]}' })
      .loose()
      .optional(),
    jku: z.array(jkuSchema, { error: '"jku" must be an array of URLs' }).optional(),
    fhirServers: z
      .array(
        z.string().refine(isServerPrefix, { error: (i) => `"${String(i.input)}" is not an http(s) FHIR base URL (no credentials, query or fragment)` }),
        { error: '"fhirServers" must be an array of FHIR base URLs' },
      )
      .optional(),
    openFhirServers: z
      .array(
        z.string().refine(isServerPrefix, { error: (i) => `"${String(i.input)}" is not an http(s) FHIR base URL (no credentials, query or fragment)` }),
        { error: '"openFhirServers" must be an array of FHIR base URLs' },
      )
      .optional(),
  })
  .loose()
  .superRefine((c, ctx) => {
    const hasJwks = c.jwks !== undefined && c.jwks.keys.length > 0;
    const hasJku = c.jku !== undefined && c.jku.length > 0;
    if (!hasJwks && !hasJku) {
      ctx.addIssue({ code: 'custom', message: `client "${c.iss}" needs a non-empty "jwks" or "jku" (where do its public keys come from?)` });
    }
  });

const fileSchema = z
  .object({ clients: z.array(clientSchema, { error: '"clients" must be an array' }) }, { error: 'expected an object {"clients": [...]}' })
  .loose()
  .superRefine((f, ctx) => {
    const seen = new Set<string>();
    f.clients.forEach((c, i) => {
      if (seen.has(c.iss)) ctx.addIssue({ code: 'custom', path: ['clients', i, 'iss'], message: `duplicate iss "${c.iss}"` });
      seen.add(c.iss);
    });
  });

/**
 * Lenient check used for keys in a FETCHED key set (one bad key there must not break the others): a public
 * asymmetric signing key with a kid.
 */
export function isUsablePublicJwk(x: unknown): x is PublicJwk {
  if (typeof x !== 'object' || x === null || Array.isArray(x)) return false;
  const k = x as Record<string, unknown>;
  if (k['kty'] !== 'EC' && k['kty'] !== 'RSA' && k['kty'] !== 'OKP') return false;
  if (typeof k['kid'] !== 'string' || k['kid'] === '') return false;
  if (k['use'] !== undefined && k['use'] !== 'sig') return false;
  for (const m of PRIVATE_MEMBERS) if (m in k) return false;
  return true;
}

export class TrustedClientsError extends Error {
  override readonly name = 'TrustedClientsError';
}

function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out === '' ? String(p) : `.${String(p)}`;
  return out === '' ? '(root)' : out;
}

/** Validates already-parsed JSON. `source` only appears in error messages. */
export function parseTrustedClients(data: unknown, source = 'trusted clients'): TrustedClients {
  const r = fileSchema.safeParse(data);
  if (!r.success) {
    const lines = r.error.issues.map((i) => `  - ${formatPath(i.path)}: ${i.message}`);
    throw new TrustedClientsError(`Invalid CDS clients file ${source}:\n${lines.join('\n')}`);
  }
  const clients: TrustedClient[] = r.data.clients.map((c) => {
    const out: TrustedClient = { iss: c.iss };
    if (c.name !== undefined) out.name = c.name;
    if (c.note !== undefined) out.note = c.note;
    if (c.jwks !== undefined && c.jwks.keys.length > 0) out.jwks = { keys: c.jwks.keys as PublicJwk[] };
    if (c.jku !== undefined && c.jku.length > 0) out.jku = c.jku.map((u) => normalizeJku(u) as string);
    if (c.fhirServers !== undefined && c.fhirServers.length > 0) out.fhirServers = [...c.fhirServers];
    if (c.openFhirServers !== undefined && c.openFhirServers.length > 0) out.openFhirServers = [...c.openFhirServers];
    return out;
  });
  return { clients };
}

/** Reads and validates the trusted-clients JSON file (e.g. `process.env.CDS_CLIENTS_FILE`). Throws `TrustedClientsError`. */
export function loadTrustedClients(path: string): TrustedClients {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new TrustedClientsError(`Cannot read CDS clients file ${path}: ${(e as Error).message}`);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new TrustedClientsError(`CDS clients file ${path} is not valid JSON: ${(e as Error).message}`);
  }
  return parseTrustedClients(data, path);
}
