// Whose a stored record is: the CDS client (JWT `iss`) that made the call and the FHIR server the call concerns.
// Two EHRs sharing the service never see, suppress or answer each other's records: every lookup matches on both.

export interface Tenant {
  /** the CDS client's `iss` (a trusted client, src/cds/trustedClients.ts) */
  iss: string;
  /** the hook's `fhirServer`, normalized (normalizeFhirServer); absent when the call sent none */
  fhirServer?: string;
}

/**
 * One spelling per FHIR server: scheme and host lower-case, default port dropped, no trailing slash, no fragment
 * ("HTTPS://EHR.example/fhir/" and "https://ehr.example/fhir" are the same server). The path keeps its case.
 */
export function normalizeFhirServer(url: string | undefined | null): string | undefined {
  if (!url) return undefined;
  const raw = url.trim();
  try {
    const u = new URL(raw);
    return `${u.protocol}//${u.host}${u.pathname.replace(/\/+$/, '')}${u.search}`;
  } catch {
    return raw.replace(/\/+$/, '');
  }
}

export function tenantOf(iss: string, fhirServer: string | undefined): Tenant {
  const s = normalizeFhirServer(fhirServer);
  return { iss, ...(s ? { fhirServer: s } : {}) };
}
