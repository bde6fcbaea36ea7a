// PatientFacts → the warfarin model's inputs (the FHIR sources are those listed in the model card).
import type { Coding } from 'fhir/r4';
import type { DraftOrder } from '../../cds/orders.js';
import type { ConditionFact, PatientFacts } from '../../domain/facts.js';
import { raceDetailFromCdcCodes, type WarfarinIndication, type WarfarinModelInput } from '../../model/features.js';
import { targetInr } from '../anticoagulation/indications.js';
import type { Cyp2c9IwpcGenotype, Vkorc1Genotype } from './iwpc.js';

const SNOMED = 'http://snomed.info/sct';
const ICD10 = ['http://hl7.org/fhir/sid/icd-10-cm', 'http://hl7.org/fhir/sid/icd-10'];

/** Indications by SNOMED CT concept, ICD-10 prefix, and a text pattern (last resort). */
const INDICATIONS: { indication: WarfarinIndication; snomed: string[]; icd10: string[]; text: RegExp }[] = [
  { indication: 'VTE', snomed: ['128053003', '59282003', '429098002'], icd10: ['I26', 'I80', 'I82'], text: /deep vein thrombosis|deep venous thrombosis|pulmonary embol|venous thromboembol|\bDVT\b|\bVTE\b/i },
  { indication: 'AtrialFibrillation', snomed: ['49436004', '5370000', '195080001'], icd10: ['I48'], text: /atrial fibrillation|atrial flutter/i },
  { indication: 'HeartValve', snomed: ['368009'], icd10: ['I05', 'I06', 'I07', 'I08', 'I34', 'I35', 'I36', 'I37', 'I38', 'I39', 'Z95.2', 'Z952'], text: /heart valve|valve replacement|prosthetic valve|mitral|aortic valve/i },
  { indication: 'Stroke', snomed: ['230690007', '266257000', '422504002'], icd10: ['I63', 'I64', 'G45'], text: /stroke|transient ischemic attack|transient ischaemic attack|cerebrovascular accident|\bTIA\b/i },
  { indication: 'PostOrthopedic', snomed: ['52734007', '609588000'], icd10: ['Z96.64', 'Z96.65', 'Z9664', 'Z9665'], text: /hip replacement|knee replacement|arthroplasty/i },
];

function indicationsOf(codings: { system?: string; code?: string; display?: string }[], text: string): WarfarinIndication[] {
  const found = new Set<WarfarinIndication>();
  for (const spec of INDICATIONS) {
    const coded = codings.some(
      (c) =>
        (c.system === SNOMED && c.code !== undefined && spec.snomed.includes(c.code)) ||
        (c.system !== undefined && ICD10.includes(c.system) && c.code !== undefined && spec.icd10.some((p) => c.code!.toUpperCase().startsWith(p))),
    );
    if (coded || spec.text.test(text.slice(0, 300))) found.add(spec.indication);
  }
  return [...found];
}

/** Indications from active Conditions and the draft order's reasonCode. */
export function warfarinIndications(conditions: ConditionFact[], order: DraftOrder): WarfarinIndication[] {
  const all = new Set<WarfarinIndication>();
  for (const c of conditions) for (const i of indicationsOf(c.codes, c.text)) all.add(i);
  for (const rc of Array.isArray(order.resource.reasonCode) ? order.resource.reasonCode : []) {
    const codings = (Array.isArray(rc?.coding) ? rc.coding : []).filter((c): c is Coding => typeof c === 'object' && c !== null);
    const text = [rc?.text, ...codings.map((c) => c.display)].filter((s): s is string => typeof s === 'string').join(' ');
    for (const i of indicationsOf(codings as { system?: string; code?: string; display?: string }[], text)) all.add(i);
  }
  return [...all].sort();
}

export interface ModelInputBasis {
  vkorc1?: Vkorc1Genotype;
  cyp2c9?: Cyp2c9IwpcGenotype;
  amiodarone: boolean;
  enzymeInducer: boolean;
}

export function warfarinModelInput(facts: PatientFacts, order: DraftOrder, b: ModelInputBasis): WarfarinModelInput {
  // the model's own mapping of CDC detailed race codes (one subgroup, or none when several differ)
  const raceDetail = facts.raceDetailed ? raceDetailFromCdcCodes(facts.raceDetailed.value) : undefined;
  const indications = warfarinIndications(facts.conditions, order);
  const sex = facts.sex?.value;
  // the target INR the card states (from the chart's Conditions); none on file → the model assumes 2.5
  const target = targetInr(facts.conditions);
  return {
    ...(facts.ageYears ? { ageYears: facts.ageYears.value } : {}),
    ...(sex === 'male' || sex === 'female' ? { sex } : {}),
    ...(facts.height ? { heightCm: facts.height.value.value } : {}),
    ...(facts.weight ? { weightKg: facts.weight.value.value } : {}),
    race: facts.race?.value ?? 'MissingOrMixed',
    ...(raceDetail ? { raceDetail } : {}),
    ...(indications.length > 0 ? { indications } : {}),
    ...(target.because.length > 0 ? { targetInr: target.row.goal } : {}),
    ...(b.vkorc1 ? { vkorc1: b.vkorc1 } : {}),
    ...(b.cyp2c9 ? { cyp2c9: b.cyp2c9 } : {}),
    amiodarone: b.amiodarone,
    enzymeInducer: b.enzymeInducer,
  };
}
