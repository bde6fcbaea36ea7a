// Shared builders for the phenoconversion case tables (test/unit/phenoconversion-fda-rows.test.ts): FHIR resources as
// an EHR sends them, run through the real chain — extractFacts (active only) → the drug dictionary → the CPIC engine
// and evaluator (with knowledge/phenoconversion.json) → the rendered, protocol-checked cards.
import { randomUUID } from 'node:crypto';
import type { FhirResource, MedicationRequest, Observation } from 'fhir/r4';
import { renderCard, CardTemplates } from '../../src/cards/render.js';
import type { DraftOrder } from '../../src/cds/orders.js';
import { checkCdsResponse, type Card } from '../../src/cds/protocol.js';
import { DrugDictionary } from '../../src/domain/drugs.js';
import type { PatientFacts } from '../../src/domain/facts.js';
import type { PhenoconversionTable } from '../../src/domain/phenoconversion.js';
import type { Recommendation } from '../../src/domain/recommendation.js';
import { DEFAULT_PGX_SETTINGS, evaluatePgx, medicationUses } from '../../src/dosing/pgx/evaluator.js';
import { extractFacts } from '../../src/fhir/facts.js';
import type { GatherResult } from '../../src/fhir/gather.js';
import { loadPgxKnowledge } from '../../src/knowledge/pgx.js';
import { loadPhenoconversion } from '../../src/knowledge/phenoconversion.js';

export const pgxKnowledge = loadPgxKnowledge();
export const phenoTable = loadPhenoconversion();
const drugs = DrugDictionary.load();
const templates = CardTemplates.load();
const LOINC = 'http://loinc.org';
export const RXNORM = 'http://www.nlm.nih.gov/research/umls/rxnorm';
/** an Epic-style local medication code system (no RxNorm): only its display can be read */
export const LOCAL_MEDS = 'urn:oid:1.2.840.114350.1.13.0.1.7.2.698288';
const NOW = new Date('2026-11-25T12:00:00Z');
const HGNC: Record<string, string> = { CYP2C19: 'HGNC:2621', CYP2D6: 'HGNC:2625', CYP2C9: 'HGNC:2623' };

let n = 0;
export function genotype(gene: string, text: string): Observation {
  return {
    resourceType: 'Observation',
    id: `g${++n}`,
    status: 'final',
    code: { coding: [{ system: LOINC, code: '84413-4' }] },
    subject: { reference: 'Patient/p1' },
    effectiveDateTime: '2025-03-01',
    valueCodeableConcept: { text },
    component: [{ code: { coding: [{ system: LOINC, code: '48018-6' }] }, valueCodeableConcept: { coding: [{ system: 'http://www.genenames.org', code: HGNC[gene]!, display: gene }] } }],
  };
}

/** an active co-medication with the given medicationCodeableConcept */
export function medication(concept: MedicationRequest['medicationCodeableConcept']): MedicationRequest {
  return { resourceType: 'MedicationRequest', id: `m${++n}`, status: 'active', intent: 'order', subject: { reference: 'Patient/p1' }, authoredOn: '2026-10-01', medicationCodeableConcept: concept! };
}
/** text only (no coding) */
export const asText = (text: string) => medication({ text });
/** a local code with its display, no text */
export const asLocalCode = (display: string, code: string) => medication({ coding: [{ system: LOCAL_MEDS, code, display }] });
/** a local code with no display and no text: nothing to read but the code */
export const asBareLocalCode = (code: string) => medication({ coding: [{ system: LOCAL_MEDS, code }] });
/** an RxNorm ingredient code with its display */
export const asRxnorm = (display: string, code: string) => medication({ coding: [{ system: RXNORM, code, display }], text: display });

const g = (resources: FhirResource[]): GatherResult => ({ byKey: { x: { resources, status: 'query' } }, fhirCalls: 1, fhirMs: 1 });
export function factsOf(resources: FhirResource[]): PatientFacts {
  return extractFacts(g([{ resourceType: 'Patient', id: 'p1', birthDate: '1970-01-01', gender: 'female' }, ...resources]), { patientId: 'p1', now: NOW });
}

export function draft(drug: string, rxcui: string): DraftOrder {
  const resource: MedicationRequest = { resourceType: 'MedicationRequest', id: 'mr1', status: 'draft', intent: 'order', subject: { reference: 'Patient/p1' }, medicationCodeableConcept: { coding: [{ system: RXNORM, code: rxcui, display: drug }], text: drug } };
  return { ref: 'MedicationRequest/mr1', resource, drugs: [{ ingredient: drug, rxcui, matchedBy: 'ingredient-code' }] };
}

/** Order `drug` (a CPIC drug) for a patient with `resources` on file; the recommendations, cards and the guideline one. */
export function runOrder(drug: string, resources: FhirResource[], pheno: PhenoconversionTable | null = phenoTable): { recs: Recommendation[]; cards: Card[]; main: Recommendation } {
  const rx = pgxKnowledge.drugs[drug]!.rxcui!;
  const order = draft(drug, rx);
  const f = factsOf(resources);
  const recs = evaluatePgx(pgxKnowledge, f, order, { ingredient: drug, rxcui: rx }, medicationUses(f, drugs), { settings: DEFAULT_PGX_SETTINGS, newId: randomUUID, now: NOW, ...(pheno ? { phenoconversion: pheno } : {}) });
  const cards = recs.map((r) => renderCard(r, order, { templates, newId: randomUUID })).flatMap((c) => (c ? [c.card] : []));
  expect(checkCdsResponse({ cards })).toEqual([]);
  const main = recs.find((r) => r.pgx && !['test', 'unreadable'].includes(r.pgx.action))!;
  return { recs, cards, main };
}
