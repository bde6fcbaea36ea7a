// Hook calls for the pharmacogenomic integration tests (CPIC: test/integration/pgx.test.ts, DPWG: dpwg.test.ts): the
// prefetch an EHR would send for one patient of a seeded resource list, a drafted order, the hook body, and the call
// with the checks both make.
import { randomUUID } from 'node:crypto';
import type { Bundle, FhirResource, MedicationRequest, Observation } from 'fhir/r4';
import { checkCdsResponse } from '../../src/cds/protocol.js';
import type { RunningFhirServer } from './fhir-server/index.js';
import type { TestService } from './service.js';

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

/**
 * An order-select (default) or order-sign call to `svc` for a patient of `resources` (seeded on `fhir`), with the full
 * prefetch or none; checks the answer (200, a valid CDS Hooks response) and the FHIR traffic: none with the prefetch,
 * otherwise the genotype query (LOINC 84413-4) and only requests with the bearer token. Clears no request log.
 */
export async function pgxCall(o: {
  svc: TestService;
  fhir: RunningFhirServer;
  token: string;
  resources: FhirResource[];
  patientId: string;
  order: MedicationRequest;
  withPrefetch: boolean;
  hook?: 'order-select' | 'order-sign';
}): Promise<{ cards: any[] }> {
  const hook = o.hook ?? 'order-select';
  const body = pgxHookBody({ hook, fhirServer: o.fhir.url, token: o.token, patientId: o.patientId, order: o.order, ...(o.withPrefetch ? { prefetch: pgxPrefetch(o.resources, o.patientId) } : {}) });
  const r = await o.svc.hook(hook === 'order-select' ? 'dosing-order-select' : 'dosing-order-sign', body);
  expect(r.status).toBe(200);
  expect(checkCdsResponse(r.json)).toEqual([]);
  const requests = await o.fhir.admin.requests();
  if (o.withPrefetch) expect(requests).toHaveLength(0);
  else {
    expect(requests.some((e) => e.url.includes('84413-4'))).toBe(true);
    expect(requests.every((e) => e.bearer)).toBe(true);
  }
  return r.json as { cards: any[] };
}
