// Percent-encoding of FHIR search URLs before they are sent. The service's own queries (config/services.json, and
// src/fhir/genomics/codes.ts encodeToken) are written encoded already; this makes the rest the same: a next-page link
// a server returns with raw token values ("code=http://loinc.org|29463-7"). A proxy that collapses "//" in the raw
// request target (the SMART launcher v2 FHIR proxy does) would otherwise turn "http://loinc.org" into "http:/loinc.org"
// and find nothing. Only "/", ":" and "|" of the query are encoded (RFC 3986 allows them raw in a query, so a FHIR
// server decodes both forms to the same value); commas (FHIR's OR separator), "&", "=" and existing escapes are kept.

/** The URL with "/", ":" and "|" in its query percent-encoded (path, fragment and everything else unchanged). */
export function encodeSearchQuery(url: string): string {
  const q = url.indexOf('?');
  if (q === -1) return url;
  const h = url.indexOf('#', q);
  const query = url.slice(q + 1, h === -1 ? undefined : h);
  const encoded = query.replace(/[/:|]/g, (c) => (c === '/' ? '%2F' : c === ':' ? '%3A' : '%7C'));
  return `${url.slice(0, q + 1)}${encoded}${h === -1 ? '' : url.slice(h)}`;
}
