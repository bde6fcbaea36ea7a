// Dialysis as the chart records it: the Procedure codes read (and queried by the `dialysis` prefetch template) and the
// Procedure → DialysisProcedureFact reader used by extractFacts.
import type { Procedure } from 'fhir/r4';
import type { DialysisKind, DialysisProcedureFact, SourceRef } from '../domain/facts.js';
import { encodeToken } from './genomics/codes.js';
import { referenceOf } from './references.js';
import { codingsOf, FUTURE_TOLERANCE_MS, validDate } from './resourceValues.js';

export const SNOMED = 'http://snomed.info/sct';
export const CPT = 'http://www.ama-assn.org/go/cpt';
export const ICD10_PCS = 'http://www.cms.gov/Medicare/Coding/ICD10';

/**
 * Dialysis Procedure codes: the one list read by extractFacts and queried by the `dialysis` prefetch template in
 * config/services.json (a unit test checks the template lists exactly these). Meanings checked from the SNOMED CT
 * International release, CPT 2024 and ICD-10-PCS (FY2017+ 5A1D codes) as recalled, not against a terminology server.
 * Kinds: CPT 90945/90947 ("dialysis procedure other than hemodialysis", e.g. peritoneal dialysis, hemofiltration or
 * other CRRT) and SNOMED "renal dialysis" do not name the modality → `dialysis`; ICD-10-PCS prolonged intermittent
 * (6–18 h/day, e.g. SLED) is grouped with CRRT, which the label tables do not cover either.
 */
export const DIALYSIS_PROCEDURES: readonly { system: string; code: string; display: string; kind: DialysisKind }[] = [
  { system: SNOMED, code: '302497006', display: 'Hemodialysis', kind: 'hemodialysis' },
  { system: SNOMED, code: '233575001', display: 'Intermittent hemodialysis', kind: 'hemodialysis' },
  { system: SNOMED, code: '71192002', display: 'Peritoneal dialysis', kind: 'peritoneal' },
  { system: SNOMED, code: '225230008', display: 'Chronic peritoneal dialysis', kind: 'peritoneal' },
  { system: SNOMED, code: '238318009', display: 'Continuous ambulatory peritoneal dialysis', kind: 'peritoneal' },
  { system: SNOMED, code: '428648006', display: 'Automated peritoneal dialysis', kind: 'peritoneal' },
  { system: SNOMED, code: '265764009', display: 'Renal dialysis', kind: 'dialysis' },
  { system: SNOMED, code: '714749008', display: 'Continuous renal replacement therapy', kind: 'crrt' },
  { system: CPT, code: '90935', display: 'Hemodialysis procedure with single evaluation', kind: 'hemodialysis' },
  { system: CPT, code: '90937', display: 'Hemodialysis procedure requiring repeated evaluation', kind: 'hemodialysis' },
  { system: CPT, code: '90945', display: 'Dialysis procedure other than hemodialysis, single evaluation', kind: 'dialysis' },
  { system: CPT, code: '90947', display: 'Dialysis procedure other than hemodialysis, repeated evaluations', kind: 'dialysis' },
  { system: ICD10_PCS, code: '5A1D70Z', display: 'Performance of urinary filtration, intermittent, less than 6 hours per day', kind: 'hemodialysis' },
  { system: ICD10_PCS, code: '5A1D80Z', display: 'Performance of urinary filtration, prolonged intermittent, 6-18 hours per day', kind: 'crrt' },
  { system: ICD10_PCS, code: '5A1D90Z', display: 'Performance of urinary filtration, continuous, greater than 18 hours per day', kind: 'crrt' },
];
/** Procedure statuses that mean the procedure was performed (FHIR: "stopped" = ended after the main activity began). */
export const DIALYSIS_PROCEDURE_STATUSES: ReadonlySet<string> = new Set(['completed', 'in-progress', 'stopped']);

/** The `code` search parameter value of the dialysis prefetch/query: "system|code,…". */
export function dialysisProcedureCodeParam(): string {
  return DIALYSIS_PROCEDURES.map((c) => encodeToken(c.system, c.code)).join(',');
}

/** A Procedure with a dialysis code → DialysisProcedureFact, the reason it is not usable, or undefined (not dialysis). */
export function dialysisProcedureFact(r: Procedure, via: SourceRef['via'], nowMs: number): DialysisProcedureFact | { ignored: string } | undefined {
  let match: (typeof DIALYSIS_PROCEDURES)[number] | undefined;
  for (const c of codingsOf(r.code)) {
    match = DIALYSIS_PROCEDURES.find((d) => d.system === c.system && d.code === (typeof c.code === 'string' ? c.code.trim().toUpperCase() : undefined));
    if (match) break;
  }
  if (!match) return undefined;
  const status = String(r.status);
  if (!DIALYSIS_PROCEDURE_STATUSES.has(status)) return { ignored: `status ${String(status).slice(0, 32)}` };
  const start = validDate(r.performedPeriod?.start);
  const end = validDate(r.performedPeriod?.end);
  const at = validDate(r.performedDateTime);
  const ongoing = status === 'in-progress';
  // in progress: shown with its start; done: dated by its end (or the one date-time recorded)
  const date = ongoing ? start ?? at : end ?? at ?? start;
  if (!date && !ongoing) return { ignored: 'no performed date' };
  for (const d of [start, end, at]) if (d && Date.parse(d) > nowMs + FUTURE_TOLERANCE_MS) return { ignored: 'dated in the future' };
  return {
    kind: match.kind,
    code: { system: match.system, code: match.code, display: match.display },
    status: status as DialysisProcedureFact['status'],
    ...(date ? { date } : {}),
    ongoing,
    source: { reference: referenceOf(r), ...(date ? { date } : {}), via },
  };
}
