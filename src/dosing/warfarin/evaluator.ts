// Warfarin initiation dose (pure): the IWPC-trained dose model when it could be run and the model card says it
// serves the patient's genotype stratum; otherwise the IWPC equation of that stratum (pharmacogenetic when VKORC1 is
// known, clinical when it is not: iwpcForStratum). The card names the stratum and the method that served it.
import type { GeneResult, PatientFacts } from '../../domain/facts.js';
import { genotypeStratum, STRATUM_EQUATION, STRATUM_LABELS, type GenotypeStratum } from '../../domain/genotypeStratum.js';
import { resultForGene } from '../../fhir/genomics/index.js';
import type { DrugDictionary } from '../../domain/drugs.js';
import type { DoseFactor, Evidence, Recommendation, RecommendationInput } from '../../domain/recommendation.js';
import { REFERENCE_PATIENT_TEXT } from '../../model/features.js';
import type { WarfarinPrediction } from '../../model/warfarinModel.js';
import type { ModelInputBasis } from './modelInput.js';
import { tabletSchedule } from './schedule.js';
import { anticoagulationKnowledge, targetInr } from '../anticoagulation/indications.js';
import { cpicWarfarinAdult, cpicWarfarinPediatric, warfarinCpicKnowledge, type CpicWarfarin } from './cpic.js';
import type { DraftOrder } from '../../cds/orders.js';
import {
  IWPC_CITATION,
  IWPC_URL,
  iwpcAgeDecade,
  iwpcClinical,
  iwpcForStratum,
  iwpcPharmacogenetic,
  type Cyp2c9IwpcGenotype,
  type IwpcInputs,
  type IwpcResult,
  type Vkorc1Genotype,
} from './iwpc.js';

export const WARFARIN_METHOD_VERSION = '1.0.0';
export const CPIC_WARFARIN = {
  citation: 'Johnson JA et al. Clinical Pharmacogenetics Implementation Consortium (CPIC) Guideline for Pharmacogenetics-Guided Warfarin Dosing: 2017 Update. Clin Pharmacol Ther 2017;102:397-404',
  url: 'https://cpicpgx.org/guidelines/guideline-for-warfarin-and-cyp2c9-and-vkorc1/',
};

const ENZYME_INDUCERS = ['carbamazepine', 'phenytoin', 'fosphenytoin', 'rifampin'];
const IWPC_CYP2C9 = new Set<string>(['*1/*1', '*1/*2', '*1/*3', '*2/*2', '*2/*3', '*3/*3']);
const AFRICAN_DECREASED = new Set(warfarinCpicKnowledge().alleles.africanDecreased);
/** The IWPC cohort's adult range; outside it the equations are extrapolations. */
const ADULT_MIN_AGE = 18;
/** Safe bounds of a proposed starting dose, mg/day (outside: clamped and said). */
export const WARFARIN_DAILY_BOUNDS = { min: 0.5, max: 15 };

/** What happened when the service tried the dose model for this patient (computed at the edge, passed in). */
export type WarfarinModelOutcome =
  | { status: 'predicted'; prediction: WarfarinPrediction; model: { name: string; version: string; summary: string } }
  | { status: 'withheld'; reasons: string[] }
  /** the model card says the IWPC equation serves this genotype stratum (with its calibrated 80% interval) */
  | { status: 'equation'; stratum: GenotypeStratum; reason: string; interval80?: { low: number; high: number } }
  | { status: 'unavailable'; reason: string };

export interface WarfarinOptions {
  roundingMgPerDay: number;
  newId: () => string;
  model?: WarfarinModelOutcome;
}

/** The most specific result for a gene (diplotype before phenotype, …), as the genomics reader ranks them. */
function geneResult(facts: PatientFacts, gene: string): GeneResult | undefined {
  return resultForGene(facts.genes, gene);
}

/**
 * A CYP2C9 or VKORC1 result on file that could not be interpreted is said on the card (never "no genotype"): the
 * dose treats that gene as unknown until the result is reviewed.
 */
function unreadGenotypeNotes(facts: PatientFacts): string[] {
  const out: string[] = [];
  for (const u of facts.unreadGenes ?? []) {
    const genes = u.genes.filter((g) => g === 'CYP2C9' || g === 'VKORC1' || g === 'CYP4F2');
    if (genes.length === 0) continue;
    out.push(`A ${genes.join('/')} result is on file (${u.source.reference}${u.source.date ? `, ${u.source.date.slice(0, 10)}` : ''}${u.text ? `: "${u.text}"` : ''}) but could not be interpreted (${u.reason}); review it: until then ${genes.join('/')} is treated as unknown in this dose`);
  }
  return out;
}

/** VKORC1: the rs9923231 genotype when one is on file, whatever other VKORC1 variants are listed before it. */
function vkorc1Result(facts: PatientFacts): GeneResult | undefined {
  return facts.genes.find((g) => g.gene === 'VKORC1' && g.variant?.rsid === 'rs9923231') ?? geneResult(facts, 'VKORC1');
}

/** CYP2C9 diplotype in the IWPC equation's categories; other alleles (*5, *6, *8, *11 …) count as unknown. */
export function cyp2c9ForIwpc(g: GeneResult | undefined): { value?: Cyp2c9IwpcGenotype; note?: string } {
  if (!g?.diplotype) {
    if (g?.phenotype) return { note: `CYP2C9 phenotype "${g.phenotype}" without a diplotype cannot be used by the IWPC equation (treated as unknown)` };
    return {};
  }
  const [a, b] = g.diplotype.split('/');
  const sorted = [a, b].sort((x, y) => Number(x?.replace(/\D/g, '')) - Number(y?.replace(/\D/g, ''))).join('/');
  if (IWPC_CYP2C9.has(sorted)) return { value: sorted as Cyp2c9IwpcGenotype };
  // CPIC 2017 (Figure 2): *5, *6, *8, *11 are not in the algorithms: calculate with *2/*3 (the others as *1), then
  // decrease the dose (src/dosing/warfarin/cpic.ts)
  const asStar1 = [a, b].map((x) => (x && AFRICAN_DECREASED.has(x) ? '*1' : x));
  const mapped = asStar1.sort((x, y) => Number(x?.replace(/\D/g, '')) - Number(y?.replace(/\D/g, ''))).join('/');
  if (IWPC_CYP2C9.has(mapped)) return { value: mapped as Cyp2c9IwpcGenotype, note: `CYP2C9 ${g.diplotype}: *5, *6, *8 and *11 are not in the dosing algorithms; calculated as ${mapped}, then decreased as CPIC 2017 advises` };
  return { note: `CYP2C9 ${g.diplotype} includes an allele the IWPC equation does not model (treated as unknown); CPIC advises caution, particularly for *5, *6, *8, *11 in patients of African ancestry` };
}

export function vkorc1ForIwpc(g: GeneResult | undefined): Vkorc1Genotype | undefined {
  const v = g?.variant;
  if (!v || v.rsid !== 'rs9923231') return undefined;
  return v.genotype === 'G/G' || v.genotype === 'A/G' || v.genotype === 'A/A' ? v.genotype : undefined;
}

function roundTo(v: number, step: number): number {
  return Math.round(v / step) * step;
}

function fmt(v: number, digits = 1): string {
  return Number(v.toFixed(digits)).toString();
}

/** The reference patient factors are measured against (a typical adult in the IWPC cohort). */
export const IWPC_REFERENCE: IwpcInputs = {
  ageDecade: 6,
  heightCm: 170,
  weightKg: 80,
  race: 'White',
  enzymeInducer: false,
  amiodarone: false,
  vkorc1: 'G/G',
  cyp2c9: '*1/*1',
};
export const IWPC_REFERENCE_TEXT = '60–69 years, 170 cm, 80 kg, White, CYP2C9 *1/*1, VKORC1 G/G, no interacting drugs';

/**
 * Exact additive split of the squared equation into mg/week relative to the reference patient:
 * dose − refDose = (s − r)(s + r) = Σ (tᵢ − rᵢ)(s + r), with s = Σ tᵢ and r = Σ rᵢ the two square roots.
 */
export function iwpcFactors(r: IwpcResult, ref: IwpcResult): { base: number; factors: DoseFactor[] } {
  const s = Math.max(0, r.sqrtDose);
  const rs = Math.max(0, ref.sqrtDose);
  const refTerm = new Map(ref.terms.map((t) => [t.key, t.sqrtContribution]));
  const factors = r.terms
    .map((t) => ({ key: t.key, label: t.label, contribution: (t.sqrtContribution - (refTerm.get(t.key) ?? 0)) * (s + rs), unit: 'mg/wk' }))
    .filter((f) => Math.abs(f.contribution) > 1e-9)
    .sort((a, b) => Math.abs(b.contribution) - Math.abs(a.contribution));
  // when a square root is clamped at zero the identity no longer holds exactly: put the remainder in its own line
  const rest = r.weeklyDoseMg - ref.weeklyDoseMg - factors.reduce((a, f) => a + f.contribution, 0);
  if (Math.abs(rest) > 1e-6) factors.push({ key: 'nonlinear', label: 'Floor at zero dose', contribution: rest, unit: 'mg/wk' });
  return { base: ref.weeklyDoseMg, factors };
}

/** The facts a warfarin dose is computed from, with their sources, and what is missing (pure). */
export interface WarfarinBasis extends ModelInputBasis {
  inputs: RecommendationInput[];
  missing: string[];
  notes: string[];
  /** set when a dose may be computed: age, height and weight present and the patient is an adult */
  iwpc?: IwpcInputs;
  /** why no dose may be computed (missing data or outside the equations' population) */
  withheldHeadline?: string;
  /** the CPIC 2017 flowchart branch and its adjustments */
  cpic: CpicWarfarin;
}

export function warfarinBasis(facts: PatientFacts, dict: DrugDictionary): WarfarinBasis {
  const inputs: RecommendationInput[] = [];
  const missing: string[] = [];
  const notes: string[] = [];

  if (facts.ageYears) inputs.push({ key: 'age', label: 'Age', value: facts.ageYears.value, unit: 'a', source: facts.ageYears.source });
  else missing.push('age (Patient.birthDate)');
  if (facts.height) inputs.push({ key: 'height', label: 'Height', value: Number(facts.height.value.value.toFixed(1)), unit: 'cm', source: facts.height.source });
  else missing.push('body height (LOINC 8302-2)');
  if (facts.weight) inputs.push({ key: 'weight', label: 'Weight', value: Number(facts.weight.value.value.toFixed(1)), unit: 'kg', source: facts.weight.source });
  else missing.push('body weight (LOINC 29463-7)');

  const race = facts.race?.value ?? 'MissingOrMixed';
  inputs.push({
    key: 'race',
    label: 'Race (IWPC group)',
    value: race === 'MissingOrMixed' ? 'missing or mixed' : race,
    ...(facts.race ? { source: facts.race.source } : { note: 'no US Core race recorded' }),
  });

  const cyp = geneResult(facts, 'CYP2C9');
  let cypIwpc = cyp2c9ForIwpc(cyp);
  if (cypIwpc.note) notes.push(cypIwpc.note);
  inputs.push({
    key: 'cyp2c9',
    label: 'CYP2C9',
    value: cypIwpc.value ?? (cyp ? `${cyp.text} (not usable)` : 'no result on file'),
    ...(cyp ? { source: cyp.source } : {}),
  });
  const vk = vkorc1Result(facts);
  let vkIwpc = vkorc1ForIwpc(vk);
  if (vk && !vkIwpc) notes.push('A VKORC1 result is on file but is not an rs9923231 (-1639G>A) genotype; treated as unknown');
  inputs.push({
    key: 'vkorc1',
    label: 'VKORC1 rs9923231 (-1639G>A)',
    value: vkIwpc ?? (vk ? `${vk.text} (not usable)` : 'no result on file'),
    ...(vk ? { source: vk.source } : {}),
  });
  for (const g of [cyp, vk]) for (const n of g?.notes ?? []) notes.push(n);

  const others = facts.medications.filter((m) => !dict.identify(m.rxnorm, m.text).some((d) => d.ingredient === 'warfarin'));
  const taking = (names: string[]) => others.find((m) => dict.identify(m.rxnorm, m.text).some((d) => names.includes(d.ingredient)));
  const amio = taking(['amiodarone']);
  const inducer = taking(ENZYME_INDUCERS);
  const medsUnavailable = facts.unavailable.some((u) => u.startsWith('medicationRequests') || u.startsWith('medicationStatements'));
  inputs.push({
    key: 'amiodarone',
    label: 'Amiodarone',
    value: amio ? 'taking' : 'not taking',
    ...(amio ? { source: amio.source } : { note: medsUnavailable ? 'medication list could not be fully retrieved: counted as not taking' : 'no active order or statement found' }),
  });
  inputs.push({
    key: 'enzymeInducer',
    label: 'Enzyme inducer (carbamazepine, phenytoin, rifampin)',
    value: inducer ? 'taking' : 'not taking',
    ...(inducer ? { source: inducer.source } : { note: medsUnavailable ? 'medication list could not be fully retrieved: counted as not taking' : 'no active order or statement found' }),
  });
  if (facts.unavailable.some((u) => u.startsWith('genomics'))) notes.push('Genomic results could not be retrieved; genotypes were treated as unknown');
  notes.push(...unreadGenotypeNotes(facts));

  // the CPIC 2017 flowchart: branch, genotypes usable or not, adjustments (cpic.ts)
  const adult = !facts.ageYears || facts.ageYears.value >= ADULT_MIN_AGE;
  const cpic = adult ? cpicWarfarinAdult(facts, { vkorc1: vkIwpc !== undefined, cyp2c9: cypIwpc.value !== undefined, ...(cyp ? { cyp } : {}) }) : cpicWarfarinPediatric();
  notes.push(...cpic.notes);
  if (cpic.maskGenotypes) {
    vkIwpc = undefined;
    cypIwpc = {};
    for (const key of ['cyp2c9', 'vkorc1']) {
      const row = inputs.find((i) => i.key === key);
      if (row) row.note = 'on file, not used: CPIC 2017 doses clinically without the CYP2C9 *5/*6/*8/*11 results (African ancestry)';
    }
  }

  const basis: WarfarinBasis = {
    cpic,
    inputs,
    missing,
    notes,
    amiodarone: amio !== undefined,
    enzymeInducer: inducer !== undefined,
    ...(vkIwpc ? { vkorc1: vkIwpc } : {}),
    ...(cypIwpc.value ? { cyp2c9: cypIwpc.value } : {}),
  };
  if (missing.length > 0) {
    basis.withheldHeadline = `Warfarin dose not personalized: missing ${missing.map((m) => m.replace(/ \(.*\)$/, '')).join(', ')}`;
    return basis;
  }
  if (facts.ageYears!.value < ADULT_MIN_AGE) {
    notes.push('The IWPC equations and the dose model were derived in adults; no dose is proposed for patients under 18 years');
    basis.withheldHeadline = 'Warfarin dose not personalized: the dosing methods apply to adults only';
    return basis;
  }
  basis.iwpc = {
    ageDecade: iwpcAgeDecade(facts.ageYears!.value),
    heightCm: facts.height!.value.value,
    weightKg: facts.weight!.value.value,
    race,
    enzymeInducer: inducer !== undefined,
    amiodarone: amio !== undefined,
    ...(vkIwpc ? { vkorc1: vkIwpc } : {}),
    ...(cypIwpc.value ? { cyp2c9: cypIwpc.value } : {}),
  };
  return basis;
}

export function evaluateWarfarin(
  facts: PatientFacts,
  order: DraftOrder,
  dict: DrugDictionary,
  o: WarfarinOptions,
  precomputed?: WarfarinBasis,
): Recommendation {
  const warfarin = dict.ingredient('warfarin')!;
  const basis = precomputed ?? warfarinBasis(facts, dict);
  const { inputs, missing } = basis;
  const notes = [...basis.notes];
  const method = { id: 'iwpc-2009', name: 'IWPC warfarin dosing equation', version: WARFARIN_METHOD_VERSION };
  const evidence: Evidence[] = [
    { citation: IWPC_CITATION, url: IWPC_URL },
    { citation: CPIC_WARFARIN.citation, url: CPIC_WARFARIN.url, strength: 'Strong (use a pharmacogenetic algorithm when genotypes are known)' },
  ];
  const base = {
    id: o.newId(),
    drug: { name: 'warfarin', rxnorm: warfarin.rxcui },
    ...(order.ref ? { orderRef: order.ref } : {}),
    method,
    evidence,
    inputs,
    missing,
    notes,
  };
  // the target INR the indications on file call for: stated on the card (the equations assume 2–3)
  const t = targetInr(facts.conditions);
  const target: NonNullable<Recommendation['targetInr']> = { range: t.row.range, goal: t.row.goal, because: t.row.when, source: t.row.source, conditions: t.because.map((c) => c.source) };
  inputs.push({ key: 'targetInr', label: 'Target INR assumed', value: `${fmt(t.row.range[0])}–${fmt(t.row.range[1])}`, ...(t.because[0] ? { source: t.because[0].source } : {}), note: t.row.when });
  if (t.row.range[0] > 2) notes.push(`Target INR ${fmt(t.row.range[0])}–${fmt(t.row.range[1])} (${t.row.when}): ${anticoagulationKnowledge().equationTargetNote}`);
  if (!basis.iwpc) return { ...base, kind: 'missing-data', severity: 'info', headline: basis.withheldHeadline ?? 'Warfarin dose not personalized', targetInr: target, cpicBranch: basis.cpic.branch };

  const iw = basis.iwpc;
  const stratum = genotypeStratum(iw);
  const pgx = STRATUM_EQUATION[stratum] === 'pharmacogenetic';
  const iwpc = iwpcForStratum(iw);
  const iwpcName = pgx
    ? `IWPC pharmacogenetic equation${stratum === 'vkorc1Only' ? ' (CYP2C9 unknown)' : ''}`
    : `IWPC clinical equation (${basis.cpic.maskGenotypes ? 'CPIC: dose clinically' : stratum === 'none' ? 'no genotype on file' : 'no VKORC1 genotype on file'})`;
  // the stratum as the prescriber should read it: genotypes set aside by the CPIC flowchart are on file, just not used
  const stratumLabel = basis.cpic.maskGenotypes ? `${STRATUM_LABELS[stratum]} used (the results on file are set aside, CPIC 2017)` : STRATUM_LABELS[stratum];
  if (stratum === 'none' && !basis.cpic.maskGenotypes) notes.push('No CYP2C9 or VKORC1 genotype on file: CPIC recommends genotype-guided dosing when results are available');

  let estimateWeekly: number;
  let factors: DoseFactor[];
  let factorBase: NonNullable<Recommendation['factorBase']>;
  let interval: Recommendation['interval'];
  const comparators: NonNullable<Recommendation['comparators']> = [];
  let shortMethod: string;
  const m = o.model;
  if (m?.status === 'predicted') {
    const p = m.prediction;
    method.id = m.model.name;
    method.name = 'Warfarin dose model trained on IWPC data (IWPC-style equation + boosted trees)';
    method.version = m.model.version;
    shortMethod = 'IWPC-trained dose model';
    estimateWeekly = p.weeklyDoseMg;
    factors = p.contributions.map((c) => ({ key: c.key, label: c.label, contribution: c.mgPerWeek, unit: 'mg/wk' }));
    factorBase = { dose: { value: Number(p.baseValueMg.toFixed(2)), unit: 'mg/wk' }, description: `the model’s dose for the reference patient (${REFERENCE_PATIENT_TEXT})` };
    interval = { low: { value: Number(p.interval80.low.toFixed(1)), unit: 'mg/wk' }, high: { value: Number(p.interval80.high.toFixed(1)), unit: 'mg/wk' }, level: 0.8 };
    comparators.push({ method: iwpcName, dose: { value: Number(iwpc.weeklyDoseMg.toFixed(1)), unit: 'mg/wk' } });
    notes.push(`Genotype on file: ${stratumLabel}; dose from the dose model, which beat the ${iwpcName} in cross-validation for these patients`);
    for (const w of p.warnings) notes.push(w);
    evidence.push({ citation: m.model.summary });
  } else {
    if (m?.status === 'equation') {
      notes.push(`Genotype on file: ${stratumLabel}; dose from the ${iwpcName}: the dose model did not beat it in cross-validation for these patients (model card), so it is not used`);
      if (m.interval80) interval = { low: { value: Number(m.interval80.low.toFixed(1)), unit: 'mg/wk' }, high: { value: Number(m.interval80.high.toFixed(1)), unit: 'mg/wk' }, level: 0.8 };
    }
    if (m?.status === 'withheld') notes.push(`Dose model not used (${m.reasons.join('; ')}); the ${iwpcName} is shown instead`);
    if (m?.status === 'unavailable') notes.push(`Dose model unavailable (${m.reason}); the ${iwpcName} is shown instead`);
    method.id = pgx ? 'iwpc-2009-pharmacogenetic' : 'iwpc-2009-clinical';
    method.name = pgx ? 'IWPC pharmacogenetic warfarin equation' : `IWPC clinical warfarin equation (${basis.cpic.maskGenotypes ? 'CPIC: dose clinically' : stratum === 'none' ? 'no genotype on file' : 'no VKORC1 genotype on file'})`;
    shortMethod = `IWPC ${pgx ? 'pharmacogenetic' : 'clinical'} equation`;
    estimateWeekly = iwpc.weeklyDoseMg;
    const reference = pgx ? iwpcPharmacogenetic(IWPC_REFERENCE) : iwpcClinical(IWPC_REFERENCE);
    factors = iwpcFactors(iwpc, reference).factors;
    factorBase = { dose: { value: Number(reference.weeklyDoseMg.toFixed(2)), unit: 'mg/wk' }, description: IWPC_REFERENCE_TEXT };
    if (pgx) comparators.push({ method: 'IWPC clinical equation (without genotype)', dose: { value: Number(iwpcClinical(iw).weeklyDoseMg.toFixed(1)), unit: 'mg/wk' } });
  }

  // CPIC 2017 adjustments (the middle of each range), applied to the calculated dose and its interval
  let cpicFactor = 1;
  for (const a of basis.cpic.adjustments) {
    factors.push({ key: a.key, label: `CPIC: ${a.label}, ${a.percent > 0 ? '+' : '−'}${Math.abs(a.percent)}% (range ${a.range[0]}–${a.range[1]}%)`, contribution: estimateWeekly * cpicFactor * (a.factor - 1), unit: 'mg/wk' });
    cpicFactor *= a.factor;
  }
  if (cpicFactor !== 1) {
    notes.push(`CPIC 2017 adjustment applied: × ${fmt(cpicFactor, 3)} (${basis.cpic.adjustments.map((a) => `${a.label} ${a.percent > 0 ? '+' : '−'}${Math.abs(a.percent)}%`).join('; ')}); ${fmt(estimateWeekly, 1)} → ${fmt(estimateWeekly * cpicFactor, 1)} mg/week`);
    estimateWeekly *= cpicFactor;
    if (interval) interval = { ...interval, low: { ...interval.low, value: Number((interval.low.value * cpicFactor).toFixed(1)) }, high: { ...interval.high, value: Number((interval.high.value * cpicFactor).toFixed(1)) } };
  }
  const estimateDaily = estimateWeekly / 7;
  let daily = roundTo(estimateDaily, o.roundingMgPerDay);
  if (daily < WARFARIN_DAILY_BOUNDS.min || daily > WARFARIN_DAILY_BOUNDS.max) {
    const clamped = Math.min(WARFARIN_DAILY_BOUNDS.max, Math.max(WARFARIN_DAILY_BOUNDS.min, daily));
    notes.push(`The ${shortMethod} gives ${fmt(estimateDaily, 2)} mg/day, outside the ${WARFARIN_DAILY_BOUNDS.min}–${WARFARIN_DAILY_BOUNDS.max} mg/day range this service proposes; ${clamped} mg/day is shown — review carefully`);
    daily = clamped;
  }
  const schedule = tabletSchedule(daily * 7, order.product?.ingredient === 'warfarin' && order.product.unit === 'tablet' ? order.product.strengthMg : undefined);

  const current = order.currentDose;
  const currentDaily = current && current.frequencyPerDay !== undefined ? current.value * current.frequencyPerDay : undefined;
  // A proposal that differs from the order by more than 20% is worth interrupting for; otherwise informational.
  const differs = currentDaily !== undefined && Math.abs(currentDaily - daily) / daily > 0.2;
  // a dose on the order that could not be read cannot be said to match: the prescriber is told (src/cards/render.ts)
  const unread = current === undefined && order.doseProblem !== undefined;
  if (unread) notes.push(`The draft's dose could not be compared with this proposal (${order.doseProblem}).`);
  return {
    ...base,
    targetInr: target,
    cpicBranch: basis.cpic.branch,
    kind: 'dose',
    severity: differs || unread ? 'warning' : 'info',
    headline: `Warfarin ${fmt(daily)} mg daily (${fmt(daily * 7)} mg/week) suggested by the ${shortMethod}`,
    proposedDose: {
      perDose: { value: daily, unit: 'mg' },
      perWeek: { value: Number((daily * 7).toFixed(2)), unit: 'mg/wk' },
      frequencyText: 'once daily',
      timing: { frequency: 1, period: 1, periodUnit: 'd' },
      estimate: { value: Number(estimateWeekly.toFixed(2)), unit: 'mg/wk' },
      roundingNote: `rounded to the nearest ${o.roundingMgPerDay} mg/day`,
      ...(schedule ? { scheduleText: `${schedule.text}, ${fmt(schedule.weeklyMg)} mg/week`, tabletStrengthMg: schedule.strengthMg } : {}),
    },
    ...(interval ? { interval } : {}),
    ...(comparators.length > 0 ? { comparators } : {}),
    factors,
    factorBase,
  };
}
