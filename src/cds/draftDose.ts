// A draft's dose as EHRs write it: mg/g/mcg quantities, tablet or capsule counts with the product's strength, mL of a
// solution, or a simple free-text instruction; frequency from Timing.repeat or Timing.code. What cannot be read is
// said (doseProblem), never taken as "no dose".
import type { CodeableConcept, Dosage, MedicationRequest, Medication } from 'fhir/r4';
import type { DraftDose } from '../domain/order.js';
import type { Product, ProductTable } from '../domain/products.js';
import { RXNORM_SYSTEM } from '../domain/drugs.js';
import { parseProductName } from '../knowledge/productName.js';

export interface DoseReading {
  dose?: DraftDose;
  problem?: string;
  product?: Product;
}

const MASS: Record<string, number> = { mg: 1, g: 1000, mcg: 0.001, ug: 0.001, 'µg': 0.001, 'μg': 0.001, milligram: 1, milligrams: 1, gram: 1000, grams: 1000, microgram: 0.001, micrograms: 0.001 };
/** Count units for one tablet / capsule / syringe as EHRs send them (UCUM annotations, NCI/HL7 orderable units, words). */
const COUNT: Record<string, 'tablet' | 'capsule' | 'any' | 'syringe'> = {
  // not "1", "{unit}" or "{dose}": a dimensionless count says nothing about what is counted
  '{pill}': 'any', pill: 'any', pills: 'any',
  '{tbl}': 'tablet', '{tab}': 'tablet', '{tablet}': 'tablet', '{tablets}': 'tablet', tab: 'tablet', tabs: 'tablet', tablet: 'tablet', tablets: 'tablet', tbl: 'tablet', '385055001': 'tablet', '732936001': 'tablet', c48542: 'tablet',
  '{capsule}': 'capsule', '{capsules}': 'capsule', '{cap}': 'capsule', cap: 'capsule', caps: 'capsule', capsule: 'capsule', capsules: 'capsule', '385049006': 'capsule', '732937005': 'capsule', c48480: 'capsule',
  '{syringe}': 'syringe', syringe: 'syringe', syringes: 'syringe', c43451: 'syringe',
};
const ML = new Set(['ml', 'milliliter', 'milliliters', 'millilitre']);

/** Per day of one Timing.repeat period unit (UCUM). */
const PER_DAY: Record<string, number> = { s: 86400, min: 1440, h: 24, d: 1, wk: 1 / 7, mo: 1 / 30, a: 1 / 365 };
/** EventTiming codes that name one time of day (HL7 v3 TimingEvent / FHIR event-timing). */
const ONE_TIME_OF_DAY = new Set(['MORN', 'MORN.early', 'MORN.late', 'NOON', 'AFT', 'AFT.early', 'AFT.late', 'EVE', 'EVE.early', 'EVE.late', 'NIGHT', 'PHS', 'HS', 'WAKE', 'CM', 'CD', 'CV', 'ACM', 'ACD', 'ACV', 'PCM', 'PCD', 'PCV']);
/** HL7 TimingAbbreviation codes → administrations per day. */
const ABBREVIATION: Record<string, number> = { QD: 1, AM: 1, PM: 1, BID: 2, TID: 3, QID: 4, QOD: 0.5, Q1H: 24, Q2H: 12, Q3H: 8, Q4H: 6, Q6H: 4, Q8H: 3, Q12H: 2, Q24H: 1, QHS: 1, HS: 1 };

export function frequencyPerDayOf(di: Dosage | undefined): number | undefined {
  const rep = di?.timing?.repeat;
  if (rep && typeof rep.period === 'number' && rep.period > 0) {
    const f = PER_DAY[String(rep.periodUnit)];
    // FHIR: frequency absent means once per period
    const n = typeof rep.frequency === 'number' && rep.frequency > 0 ? rep.frequency : 1;
    if (f !== undefined) return (n / rep.period) * f;
  }
  // times of day alone ("MORN", "EVE", "HS"): one administration each; generic meal codes (C, AC, PC) are not counted
  if (rep && rep.period === undefined && Array.isArray(rep.when) && rep.when.length > 0 && rep.frequency === undefined && rep.when.every((w) => ONE_TIME_OF_DAY.has(String(w))))
    return new Set(rep.when).size;
  const codings = di?.timing?.code?.coding;
  for (const c of Array.isArray(codings) ? codings : []) {
    const v = typeof c?.code === 'string' ? ABBREVIATION[c.code.toUpperCase()] : undefined;
    if (v !== undefined) return v;
  }
  const t = di?.timing?.code?.text;
  if (typeof t === 'string') {
    const v = ABBREVIATION[t.trim().toUpperCase()];
    if (v !== undefined) return v;
  }
  return undefined;
}

/** The product of the draft: an RxNorm code the table knows, else a strength in the product's name or Medication. */
export function productOf(concept: CodeableConcept | undefined, med: Medication | undefined, products: ProductTable, ingredient: string | undefined): { product?: Product; from?: 'product table' | 'product name' | 'Medication strength' } {
  const codings = Array.isArray(concept?.coding) ? concept!.coding : [];
  for (const c of codings) {
    if (c?.system === RXNORM_SYSTEM && typeof c.code === 'string') {
      const p = products.get(c.code);
      if (p) return { product: p, from: 'product table' };
    }
  }
  // a strength in the name ("warfarin sodium 5 MG Oral Tablet", "Coumadin 5 mg tablet"): documented fallback
  const names = [concept?.text, ...codings.map((c) => c?.display)].filter((s): s is string => typeof s === 'string');
  for (const n of names) {
    const p = parseProductName(normalizeName(n));
    if (!('skip' in p) && ingredient) return { product: { rxcui: '', name: n, ingredient, strengthMg: p.strengthMg, form: p.form, route: p.route, unit: p.unit, ...(p.perMl ? { perMl: true } : {}) }, from: 'product name' };
  }
  // a contained Medication with ingredient strength "5 mg / 1 tablet"
  const ing = Array.isArray(med?.ingredient) && med!.ingredient.length === 1 ? med!.ingredient[0] : undefined;
  const num = ing?.strength?.numerator;
  const den = ing?.strength?.denominator;
  const factor = MASS[String(num?.code ?? num?.unit ?? '').toLowerCase()];
  const unit = COUNT[String(den?.code ?? den?.unit ?? '').toLowerCase()];
  if (ingredient && factor !== undefined && typeof num?.value === 'number' && num.value > 0 && (den?.value ?? 1) === 1 && (unit === 'tablet' || unit === 'capsule')) {
    return { product: { rxcui: '', name: names[0] ?? ingredient, ingredient, strengthMg: num.value * factor, form: unit === 'tablet' ? 'Oral Tablet' : 'Oral Capsule', route: 'oral', unit }, from: 'Medication strength' };
  }
  return {};
}

/** "Warfarin Sodium 5 mg Oral tablet" → RxNorm's casing of units and forms, so the name parser reads it. */
function normalizeName(n: string): string {
  return n
    .replace(/(\d)\s*(mg|mcg|MG|MCG)\b/g, '$1 $2')
    .replace(/\b(mg|Mg)\b/g, 'MG')
    .replace(/\bmcg\b/gi, 'MCG')
    .replace(/\b(oral)\b/gi, 'Oral')
    .replace(/\b(tablets?|tab)\b/gi, 'Tablet')
    .replace(/\b(capsules?|cap)\b/gi, 'Capsule')
    .replace(/(MG|MCG) Tablet$/, '$1 Oral Tablet')
    .replace(/(MG|MCG) Capsule$/, '$1 Oral Capsule');
}

const WORD_NUMBERS: Record<string, number> = { half: 0.5, '½': 0.5, one: 1, two: 2, three: 3, four: 4, a: 1 };
/** Most specific first: "twice daily" also contains "daily". */
const TEXT_FREQ: [RegExp, number][] = [
  [/\b(twice (a )?daily|twice a day|two times (a |per )?day|bid|every 12 hours)\b/i, 2],
  [/\b(three times (a |per )?day|three times daily|tid|every 8 hours)\b/i, 3],
  [/\b(four times (a |per )?day|four times daily|qid|every 6 hours)\b/i, 4],
  [/\b(once (a )?daily|once a day|every day|daily|qd|every 24 hours|at bedtime|nightly|every (morning|evening))\b/i, 1],
];

/** A simple instruction: "Take 1 tablet by mouth twice daily", "5 mg once daily", "2 capsules at bedtime". */
function fromText(text: string): { amount: number; unit: string; frequencyPerDay?: number } | 'unreadable' | undefined {
  const amounts = [...text.matchAll(/(?:^|[^\w.])(\d+(?:\.\d+)?|half|½|one|two|three|four)\s*(mg|milligrams?|mcg|micrograms?|g|tablets?|tabs?|capsules?|caps?|pills?|ml)\b/gi)];
  if (amounts.length === 0) return /\d/.test(text) ? 'unreadable' : undefined;
  // a dose range, a taper or two doses in one text: not a single dose
  if (amounts.length > 1 || /\d\s*(-|–|to|or)\s*\d/.test(text) || /\bthen\b/i.test(text)) return 'unreadable';
  const [, n, u] = amounts[0]! as unknown as [string, string, string];
  const amount = WORD_NUMBERS[n.toLowerCase()] ?? Number(n);
  const freq = TEXT_FREQ.find(([re]) => re.test(text))?.[1];
  return { amount, unit: u.toLowerCase(), ...(freq !== undefined ? { frequencyPerDay: freq } : {}) };
}

function unitsToMg(count: number, unitWord: string, kind: 'tablet' | 'capsule' | 'any' | 'syringe', product: Product | undefined, from: NonNullable<DraftDose['units']>['strengthFrom']): DraftDose | string {
  if (!product) return `the dose is ${count} ${unitWord} but the product's strength is not known (no RxNorm product code the service knows and no strength in its name)`;
  if (product.perMl) return `the dose is ${count} ${unitWord} of a ${product.form.toLowerCase()}: give the dose in mg or mL`;
  if (kind !== 'any' && kind !== product.unit) return `the dose is ${count} ${unitWord} but the product is a ${product.unit} (${product.name})`;
  return { value: Number((count * product.strengthMg).toPrecision(10)), unit: 'mg', units: { count, unit: product.unit, strengthMg: product.strengthMg, strengthFrom: from } };
}

/** Read the draft's dose per administration as mg. */
export function readDraftDose(mr: MedicationRequest, concept: CodeableConcept | undefined, med: Medication | undefined, products: ProductTable, ingredient: string | undefined): DoseReading {
  const { product, from } = productOf(concept, med, products, ingredient);
  const withProduct = (r: DoseReading): DoseReading => (product ? { ...r, product } : r);
  const di = Array.isArray(mr.dosageInstruction) ? mr.dosageInstruction[0] : undefined;
  if (!di) return withProduct({});
  const frequencyPerDay = frequencyPerDayOf(di);
  const freq = frequencyPerDay !== undefined ? { frequencyPerDay } : {};
  const dr = Array.isArray(di.doseAndRate) ? di.doseAndRate[0] : undefined;
  if (dr?.doseRange) return withProduct({ problem: 'the draft gives a dose range, not one dose' });
  const q = dr?.doseQuantity;
  if (q) {
    if (typeof q.value !== 'number' || !Number.isFinite(q.value) || q.value <= 0) return withProduct({ problem: 'the dose quantity has no positive value' });
    const words = [q.code, q.unit].filter((s): s is string => typeof s === 'string').map((s) => s.trim());
    for (const w of words) {
      const m = MASS[w] ?? MASS[w.toLowerCase()];
      // "MG" is not UCUM but EHRs send it for mg in unit text
      if (m !== undefined) return withProduct({ dose: { value: Number((q.value * m).toPrecision(10)), unit: 'mg', ...freq } });
    }
    for (const w of words) {
      const kind = COUNT[w.toLowerCase()];
      if (kind) {
        const r = unitsToMg(q.value, unitLabel(q.unit ?? w, q.value), kind, product, from ?? 'product table');
        return withProduct(typeof r === 'string' ? { problem: r } : { dose: { ...r, ...freq } });
      }
      if (ML.has(w.toLowerCase())) {
        if (product?.perMl) return withProduct({ dose: { value: Number((q.value * product.strengthMg).toPrecision(10)), unit: 'mg', ...freq } });
        return withProduct({ problem: `the dose is ${q.value} mL but the concentration of the product is not known` });
      }
    }
    return withProduct({ problem: `the dose unit "${(words[0] ?? '(none)').slice(0, 40)}" is not a mass or a tablet/capsule count` });
  }
  if (typeof di.text === 'string' && di.text.trim() !== '') {
    const t = fromText(di.text.slice(0, 500));
    if (t === undefined) return withProduct({});
    if (t === 'unreadable') return withProduct({ problem: 'the dose is only in the free-text instruction and could not be read from it' });
    const f = frequencyPerDay ?? t.frequencyPerDay;
    const freqText = f !== undefined ? { frequencyPerDay: f } : {};
    const m = MASS[t.unit];
    if (m !== undefined) return withProduct({ dose: { value: Number((t.amount * m).toPrecision(10)), unit: 'mg', ...freqText, fromText: true } });
    if (ML.has(t.unit)) return withProduct(product?.perMl ? { dose: { value: t.amount * product.strengthMg, unit: 'mg', ...freqText, fromText: true } } : { problem: 'the free-text dose is in mL and the concentration is not known' });
    const kind = COUNT[t.unit] ?? COUNT[`${t.unit}s`] ?? 'any';
    const r = unitsToMg(t.amount, unitLabel(t.unit, t.amount), kind, product, from ?? 'product table');
    return withProduct(typeof r === 'string' ? { problem: r } : { dose: { ...r, ...freqText, fromText: true } });
  }
  return withProduct({});
}

function unitLabel(u: string, n: number): string {
  const w = u.replace(/[{}]/g, '').toLowerCase();
  const base = /^(tab|tbl|tablet)/.test(w) || w === '385055001' ? 'tablet' : /^cap/.test(w) ? 'capsule' : /^syringe/.test(w) ? 'syringe' : w === 'pill' || w === 'pills' ? 'pill' : 'unit';
  return n === 1 ? base : `${base}s`;
}
