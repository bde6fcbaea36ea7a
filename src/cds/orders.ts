// Which orders a hook call is about: selections resolved against draftOrders, all drafts on sign, medications on prescribe.
import type { Bundle, CodeableConcept, Medication, MedicationRequest } from 'fhir/r4';
import type { DrugDictionary } from '../domain/drugs.js';
import type { DraftOrder } from '../domain/order.js';
import { ProductTable } from '../domain/products.js';
import { readDraftDose } from './draftDose.js';
import { refersToPatient } from '../fhir/references.js';
import type { HookRequest } from './protocol.js';

export type { DraftOrder } from '../domain/order.js';

const EMPTY = ProductTable.empty();

function isMedicationRequest(r: unknown): r is MedicationRequest {
  return typeof r === 'object' && r !== null && (r as { resourceType?: unknown }).resourceType === 'MedicationRequest';
}

function containedMedication(mr: MedicationRequest): Medication | undefined {
  const ref = mr.medicationReference?.reference;
  if (typeof ref !== 'string' || !ref.startsWith('#')) return undefined;
  const med = (Array.isArray(mr.contained) ? mr.contained : []).find((c) => c?.resourceType === 'Medication' && c.id === ref.slice(1));
  return med && med.resourceType === 'Medication' ? med : undefined;
}

function medicationConcept(mr: MedicationRequest): CodeableConcept | undefined {
  if (mr.medicationCodeableConcept && typeof mr.medicationCodeableConcept === 'object') return mr.medicationCodeableConcept;
  const ref = mr.medicationReference?.reference;
  if (typeof ref === 'string' && ref.startsWith('#')) {
    const med = (Array.isArray(mr.contained) ? mr.contained : []).find((c) => c?.resourceType === 'Medication' && c.id === ref.slice(1));
    if (med && med.resourceType === 'Medication') return med.code;
  }
  if (typeof mr.medicationReference?.display === 'string') return { text: mr.medicationReference.display };
  return undefined;
}

/** The draft's dose per administration in mg (see readDraftDose); without a dictionary, units are read by the product's name only. */
export function currentDoseOf(mr: MedicationRequest, dict?: DrugDictionary): DraftOrder['currentDose'] {
  const concept = medicationConcept(mr);
  const drugs = dict ? dict.identifyConcept(concept) : [];
  return readDraftDose(mr, concept, containedMedication(mr), dict?.products ?? EMPTY, drugs.length === 1 ? drugs[0]!.ingredient : undefined).dose;
}

/** FHIR R4 id: 1–64 of A–Z, a–z, 0–9, "-" and ".". */
const FHIR_ID = /^[A-Za-z0-9\-.]{1,64}$/;

function entriesOf(b: Bundle | undefined): MedicationRequest[] {
  return (Array.isArray(b?.entry) ? b!.entry : []).map((e) => e?.resource).filter(isMedicationRequest);
}

/** The orders this call is about. order-select: the selected drafts; order-sign: all; medication-prescribe: medications. */
export function ordersInScope(req: HookRequest, dict: DrugDictionary): DraftOrder[] {
  let list: MedicationRequest[];
  if (req.hook === 'order-select') {
    const selected = new Set(req.context.selections ?? []);
    list = entriesOf(req.context.draftOrders).filter((mr) => typeof mr.id === 'string' && selected.has(`MedicationRequest/${mr.id}`));
  } else if (req.hook === 'order-sign') list = entriesOf(req.context.draftOrders);
  else list = entriesOf(req.context.medications);
  return list.map((resource) => toOrder(resource, dict));
}

/** One MedicationRequest as an order: its drugs identified, its dose read, a reference only when its id is valid. */
export function toOrder(resource: MedicationRequest, dict: DrugDictionary): DraftOrder {
  const concept = medicationConcept(resource);
  const drugs = dict.identifyConcept(concept);
  // the strength of a product only counts for a single-ingredient order
  const reading = readDraftDose(resource, concept, containedMedication(resource), dict.products, drugs.length === 1 ? drugs[0]!.ingredient : undefined);
  // fields assigned in the order the spread form had them ({ ref?, resource, drugs, currentDose?, doseProblem?, product? }):
  // conditional spreads allocate an object each, and this runs for every draft and every suggestion of every call
  const order = {} as DraftOrder;
  // only a valid FHIR id can be referenced by a suggestion's update/delete action (CDS Hooks resourceId "Type/id")
  if (typeof resource.id === 'string' && FHIR_ID.test(resource.id)) order.ref = `MedicationRequest/${resource.id}`;
  order.resource = resource;
  order.drugs = drugs;
  if (reading.dose) order.currentDose = reading.dose;
  if (reading.problem) order.doseProblem = reading.problem;
  if (reading.product) order.product = reading.product;
  return order;
}

/** Intents that are an actual order (not a plan or a proposal). */
const ORDER_INTENTS = new Set(['order', 'original-order', 'reflex-order', 'filler-order', 'instance-order']);

/**
 * The patient's active medication orders (patient-view monitoring): MedicationRequests that are active, an order
 * (not a plan or proposal), not "do not perform", and about this patient; one per id.
 */
export function activeOrders(resources: unknown[], patientId: string, dict: DrugDictionary, fhirServer?: string): DraftOrder[] {
  const seen = new Set<string>();
  const out: DraftOrder[] = [];
  for (const r of resources) {
    if (!isMedicationRequest(r) || r.status !== 'active' || !ORDER_INTENTS.has(String(r.intent)) || r.doNotPerform === true) continue;
    if (!refersToPatient(r.subject, patientId, fhirServer)) continue; // relative, or absolute on the call's server only
    if (typeof r.id === 'string') {
      if (seen.has(r.id)) continue;
      seen.add(r.id);
    }
    out.push(toOrder(r, dict));
  }
  return out;
}
