// Hook calls for the pharmacogenomic integration tests (CPIC: test/integration/pgx.test.ts, DPWG: dpwg.test.ts): the
// prefetch an EHR would send for one patient of a seeded resource list, a drafted order, and the hook body.
import { randomUUID } from 'node:crypto';
import type { Bundle, FhirResource, MedicationRequest, Observation } from 'fhir/r4';

const RXNORM = 'http://www.nlm.nih.gov/research/umls/rxnorm';
const UCUM = 'http://unitsofmeasure.org';

export const searchset = (rs: FhirResource[]): Bundle => ({ resourceType: 'Bundle', type: 'searchset', entry: rs.map((resource) => ({ resource })) });

/**
 * Every prefetch key, filled from the patient's own resources: genomic Observations, Conditions, and the active
 * MedicationRequests and MedicationStatements (as the status=active templates of config/services.json select); the
 * rest empty.
 */
export function pgxPrefetch(all: FhirResource[], patientId: string): Record<string, unknown> {
  const mine = all.filter((r) => (r.resourceType === 'Patient' ? r.id === patientId : (r as { subject?: { reference?: string } }).subject?.reference === `Patient/${patientId}`));
  return {
    patient: mine.find((r) => r.resourceType === 'Patient'),
    weight: searchset([]),
    height: searchset([]),
    renal: searchset([]),
    inr: searchset([]),
    genomics: searchset(mine.filter((r): r is Observation => r.resourceType === 'Observation')),
    genomicsCategory: searchset(mine.filter((r): r is Observation => r.resourceType === 'Observation' && (r.category ?? []).some((c) => c.coding?.some((x) => x.code === 'GE')))),
    medicationRequests: searchset(mine.filter((r) => r.resourceType === 'MedicationRequest' && r.status === 'active')),
    medicationStatements: searchset(mine.filter((r) => r.resourceType === 'MedicationStatement' && r.status === 'active')),
    conditions: searchset(mine.filter((r) => r.resourceType === 'Condition')),
  };
}

/** A drafted order of an RxNorm product, optionally `doseMg` twice daily. */
export function pgxDraft(id: string, patientId: string, code: string, display: string, doseMg?: number): MedicationRequest {
  return {
    resourceType: 'MedicationRequest',
    id,
    status: 'draft',
    intent: 'order',
    subject: { reference: `Patient/${patientId}` },
    medicationCodeableConcept: { coding: [{ system: RXNORM, code, display }], text: display },
    ...(doseMg !== undefined
      ? { dosageInstruction: [{ text: `${doseMg} mg twice daily`, timing: { repeat: { frequency: 2, period: 1, periodUnit: 'd' } }, doseAndRate: [{ doseQuantity: { value: doseMg, unit: 'mg', system: UCUM, code: 'mg' } }] }] }
      : {}),
  } as MedicationRequest;
}

/** An order-select / order-sign call with the EHR's token for `fhirServer`, and the prefetch when given. */
export function pgxHookBody(o: { hook: 'order-select' | 'order-sign'; fhirServer: string; token: string; patientId: string; order: MedicationRequest; prefetch?: Record<string, unknown> }) {
  return {
    hook: o.hook,
    hookInstance: randomUUID(),
    fhirServer: o.fhirServer,
    fhirAuthorization: { access_token: o.token, token_type: 'Bearer', expires_in: 300, scope: 'patient/*.read', subject: 'cds-service', patient: o.patientId },
    context: {
      userId: 'Practitioner/example',
      patientId: o.patientId,
      ...(o.hook === 'order-select' ? { selections: [`MedicationRequest/${o.order.id}`] } : {}),
      draftOrders: { resourceType: 'Bundle', type: 'collection', entry: [{ resource: o.order }] },
    },
    ...(o.prefetch ? { prefetch: o.prefetch } : {}),
  };
}
