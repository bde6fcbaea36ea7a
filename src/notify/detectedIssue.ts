// The alert written back to the EHR for a monitor-mode result that calls for action: a FHIR R4 DetectedIssue
// (status preliminary: the service proposes, a clinician decides), identified by the facts fingerprint so a
// conditional create (If-None-Exist) never writes the same facts twice.
import type { DetectedIssue, Reference } from 'fhir/r4';
import type { EvaluatedCard } from '../cds/monitoring.js';

/** identifier system of the facts fingerprint (src/cds/monitoring.ts factsFingerprint) */
export const FINGERPRINT_SYSTEM = 'urn:pgx-dosing-cds:facts-fingerprint';

/** v3 ActCode "DOSE" (Dosage problem: proposed dosage instructions differ from standard practice), the DetectedIssue code */
const DOSE_CODE = { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'DOSE', display: 'Dosage problem' };

/** card indicator → DetectedIssue.severity (R4 detectedissue-severity: high | moderate | low) */
const SEVERITY: Record<string, DetectedIssue['severity']> = { critical: 'high', warning: 'moderate' };

/** The Observations the result was computed from (inputs and genotype results): DetectedIssue.evidence.detail. */
export function evidenceOf(x: EvaluatedCard): Reference[] {
  const refs = [...x.rec.inputs.map((i) => i.source?.reference), ...(x.rec.genes ?? []).map((g) => g.source?.reference)];
  return [...new Set(refs.filter((r): r is string => typeof r === 'string' && r.startsWith('Observation/')))].map((reference) => ({ reference }));
}

/** What the prescriber reads: the card's summary, and the proposed dose when there is one. */
export function issueDetail(x: EvaluatedCard): string {
  const d = x.rec.proposedDose;
  const dose = d ? ` Proposed dose: ${d.perDose.value} ${d.perDose.unit} ${d.frequencyText}${d.scheduleText ? ` (${d.scheduleText})` : ''}.` : '';
  return `${x.card.summary}${dose}`;
}

export function detectedIssueFor(x: EvaluatedCard, patientId: string, now: Date): DetectedIssue {
  const evidence = evidenceOf(x);
  return {
    resourceType: 'DetectedIssue',
    identifier: [{ system: FINGERPRINT_SYSTEM, value: x.record.factsFingerprint! }],
    status: 'preliminary',
    code: { coding: [DOSE_CODE], text: x.card.summary },
    severity: SEVERITY[x.card.indicator] ?? 'moderate',
    patient: { reference: `Patient/${patientId}` },
    identifiedDateTime: now.toISOString(),
    author: { display: 'Personalized dosing CDS service' },
    ...(x.order.ref ? { implicated: [{ reference: x.order.ref }] } : {}),
    ...(evidence.length ? { evidence: [{ detail: evidence }] } : {}),
    detail: issueDetail(x),
  };
}

/** The If-None-Exist query of the conditional create. */
export function ifNoneExist(fingerprint: string): string {
  return `identifier=${encodeURIComponent(`${FINGERPRINT_SYSTEM}|${fingerprint}`)}`;
}
