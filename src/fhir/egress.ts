// Where the EHR's bearer token may go: a FHIR base URL is contacted only when it lies under a prefix named for the
// calling client (its `fhirServers` in the clients file) or globally (`fhir.allowedServers`). Nothing named = nothing
// contacted. Loopback hosts and plain http only with the development setting `fhir.allowInsecureLoopback`
// (env FHIR_ALLOW_INSECURE_LOOPBACK), and then plain http only on loopback.
//
// Matching is on the parsed URL (WHATWG: ".." and "%2e%2e" resolved, host lower-cased, default port dropped): same
// origin, and a path equal to the prefix's path or below it on a segment boundary. So `https://ehr.example.com.evil.org`,
// `https://ehr.example.com@evil.org`, `https://ehr.example.com:444` and `https://ehr.example.com/fhir-other` are not
// `https://ehr.example.com/fhir`. URLs with credentials, a query or a fragment are never a FHIR base.

export interface FhirServerPolicy {
  /** base URL prefixes the token may be sent to on this call (the client's fhirServers + the global list); empty = none */
  allowedServers: readonly string[];
  /** development only: loopback hosts (http or https) may be contacted, and plain http on them */
  allowInsecureLoopback: boolean;
}

/** why a FHIR base URL is refused (for logs; the caller is told the fixed phrase of FETCH_ERRORS.notAllowed) */
export type EgressRefusal = 'not_a_url' | 'credentials' | 'query_or_fragment' | 'scheme' | 'loopback' | 'not_listed';

/** The parsed base URL, or why it can never be a FHIR base (the same rules for the configured prefixes). */
export function parseFhirBase(raw: string): URL | Exclude<EgressRefusal, 'loopback' | 'not_listed'> {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    return 'not_a_url';
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') return 'scheme';
  if (u.username !== '' || u.password !== '') return 'credentials';
  if (u.search !== '' || u.hash !== '' || raw.includes('?') || raw.includes('#')) return 'query_or_fragment';
  return u;
}

/** A configured prefix is usable: an http(s) URL without credentials, query or fragment (config and clients file). */
export function isServerPrefix(raw: string): boolean {
  return typeof parseFhirBase(raw) !== 'string';
}

const trimPath = (p: string) => p.replace(/\/+$/, '');

/** `url` is `prefix` or lies below it: same origin, path equal or under it on a `/` boundary. */
export function underPrefix(url: URL, prefix: URL): boolean {
  if (url.origin !== prefix.origin) return false;
  const base = trimPath(prefix.pathname);
  const path = trimPath(url.pathname);
  return base === '' || path === base || path.startsWith(`${base}/`);
}

/** loopback and unspecified addresses, in the forms the WHATWG parser leaves them (IPv4 normalised to dotted quads) */
export function isLoopbackHost(hostname: string): boolean {
  const h = hostname.toLowerCase().replace(/\.$/, '');
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  if (/^127\.\d+\.\d+\.\d+$/.test(h) || h === '0.0.0.0') return true;
  return h === '[::1]' || h === '[::]' || /^\[::ffff:(7f[0-9a-f]{2}:[0-9a-f]{1,4}|127\.\d+\.\d+\.\d+|0:0)\]$/.test(h);
}

/** undefined = the token may be sent to this base URL; else why not. */
export function fhirServerRefusal(raw: string, policy: FhirServerPolicy): EgressRefusal | undefined {
  const u = parseFhirBase(raw);
  if (typeof u === 'string') return u;
  const loopback = isLoopbackHost(u.hostname);
  if (loopback && !policy.allowInsecureLoopback) return 'loopback';
  if (u.protocol === 'http:' && !(loopback && policy.allowInsecureLoopback)) return 'scheme';
  const listed = policy.allowedServers.some((p) => {
    const prefix = parseFhirBase(p);
    return typeof prefix !== 'string' && underPrefix(u, prefix);
  });
  return listed ? undefined : 'not_listed';
}

/** Is the service allowed to send the EHR's token to this FHIR base URL? */
export function isFhirServerAllowed(raw: string, policy: FhirServerPolicy): boolean {
  return fhirServerRefusal(raw, policy) === undefined;
}
