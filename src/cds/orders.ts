// Which orders a hook call is about: selections resolved against draftOrders, all drafts on sign, medications on prescribe.
import type { Bundle, CodeableConcept, MedicationRequest } from 'fhir/r4';
import type { DrugDictionary, IdentifiedDrug } from '../domain/drugs.js';
import { refersToPatient } from '../fhir/facts.js';
import type { HookRequest } from './protocol.js';

export interface DraftOrder {
  /** "MedicationRequest/103" when the draft has an id */
  ref?: string;
  resource: MedicationRequest;
  /** ingredients recognised in the order; empty when the draft has no medication yet or it is unknown */
  drugs: IdentifiedDrug[];
  /** the draft's current dose per administration, when it has one in mg */
  currentDose?: { value: number; unit: string; frequencyPerDay?: number };
}

function isMedicationRequest(r: unknown): r is MedicationRequest {
  return typeof r === 'object' && r !== null && (r as { resourceType?: unknown }).resourceType === 'MedicationRequest';
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

/** The draft's dose, if written as a UCUM mass quantity; frequency per day from timing when it is daily-based. */
export function currentDoseOf(mr: MedicationRequest): DraftOrder['currentDose'] {
  const di = Array.isArray(mr.dosageInstruction) ? mr.dosageInstruction[0] : undefined;
  const dr = Array.isArray(di?.doseAndRate) ? di!.doseAndRate[0] : undefined;
  const q = dr?.doseQuantity;
  if (!q || typeof q.value !== 'number' || !Number.isFinite(q.value) || q.value <= 0) return undefined;
  const unit = q.code ?? q.unit;
  if (unit !== 'mg') return undefined;
  const rep = di?.timing?.repeat;
  let frequencyPerDay: number | undefined;
  if (rep && typeof rep.frequency === 'number' && typeof rep.period === 'number' && rep.period > 0) {
    const perUnit: Record<string, number> = { h: 24, d: 1, wk: 1 / 7 };
    const f = perUnit[String(rep.periodUnit)];
    if (f !== undefined) frequencyPerDay = (rep.frequency / rep.period) * f;
  }
  return { value: q.value, unit: 'mg', ...(frequencyPerDay !== undefined ? { frequencyPerDay } : {}) };
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
  const currentDose = currentDoseOf(resource);
  return {
    // only a valid FHIR id can be referenced by a suggestion's update/delete action (CDS Hooks resourceId "Type/id")
    ...(typeof resource.id === 'string' && FHIR_ID.test(resource.id) ? { ref: `MedicationRequest/${resource.id}` } : {}),
    resource,
    drugs: dict.identifyConcept(medicationConcept(resource)),
    ...(currentDose ? { currentDose } : {}),
  };
}

/** Intents that are an actual order (not a plan or a proposal). */
const ORDER_INTENTS = new Set(['order', 'original-order', 'reflex-order', 'filler-order', 'instance-order']);

/**
 * The patient's active medication orders (patient-view monitoring): MedicationRequests that are active, an order
 * (not a plan or proposal), not "do not perform", and about this patient; one per id.
 */
export function activeOrders(resources: unknown[], patientId: string, dict: DrugDictionary): DraftOrder[] {
  const seen = new Set<string>();
  const out: DraftOrder[] = [];
  for (const r of resources) {
    if (!isMedicationRequest(r) || r.status !== 'active' || !ORDER_INTENTS.has(String(r.intent)) || r.doNotPerform === true) continue;
    if (!refersToPatient(r.subject, patientId)) continue;
    if (typeof r.id === 'string') {
      if (seen.has(r.id)) continue;
      seen.add(r.id);
    }
    out.push(toOrder(r, dict));
  }
  return out;
}
