// Builds the model card (JSON + Markdown) of the warfarin dose model.
import { DOSE_BOUNDS, FEATURE_COLUMNS, INPUT_RANGES } from '../features.js';
import { GENOTYPE_STRATA, STRATUM_LABELS, type GenotypeStratum } from '../../domain/genotypeStratum.js';
import type { FeatureDoc, ModelCard } from '../modelCard.js';
import { EQUATION_NAMES, strataMarkdown } from '../strataMetrics.js';
import type { BlendWeights } from './blend.js';
import { curveInterval, type WarfarinModelSpec } from '../spec.js';

const cols = (factor: string): string[] => FEATURE_COLUMNS.filter((c) => c.factor === factor).map((c) => c.name);

export const FEATURE_DOCS: FeatureDoc[] = [
  {
    key: 'ageYears',
    label: 'Age',
    type: 'number',
    unit: 'a (years); used as the IWPC age decade floor(age/10), capped at 9',
    range: { min: INPUT_RANGES.ageYears.min, max: INPUT_RANGES.ageYears.max },
    fhirSource: 'Patient.birthDate → age in whole years at the time of the hook call',
    whenMissing: 'predicted without it (training mean in the linear part, learned NaN branch in the trees)',
    columns: cols('age'),
  },
  {
    key: 'sex',
    label: 'Sex',
    type: 'category',
    values: ['male', 'female'],
    fhirSource: 'Patient.gender (other/unknown → missing)',
    whenMissing: 'predicted without it',
    columns: cols('sex'),
  },
  {
    key: 'heightCm',
    label: 'Height',
    type: 'number',
    unit: 'cm',
    range: { min: INPUT_RANGES.heightCm.min, max: INPUT_RANGES.heightCm.max },
    fhirSource: 'latest Observation LOINC 8302-2 (body height), converted by UCUM unit',
    whenMissing: 'predicted without it',
    columns: cols('height'),
  },
  {
    key: 'weightKg',
    label: 'Weight',
    type: 'number',
    unit: 'kg',
    range: { min: INPUT_RANGES.weightKg.min, max: INPUT_RANGES.weightKg.max },
    fhirSource: 'latest Observation LOINC 29463-7 (body weight), converted by UCUM unit',
    whenMissing: 'predicted without it',
    columns: cols('weight'),
  },
  {
    key: 'race',
    label: 'Race (IWPC groups)',
    type: 'category',
    values: ['White', 'Asian', 'Black', 'MissingOrMixed'],
    fhirSource: 'US Core race extension, ombCategory (2106-3 White, 2028-9 Asian, 2054-5 Black or African American; other, several or none → MissingOrMixed)',
    whenMissing: 'MissingOrMixed',
    columns: cols('race'),
  },
  {
    key: 'raceDetail',
    label: 'Detailed race (Asian subgroups)',
    type: 'category',
    values: ['Japanese', 'Korean', 'Chinese', 'Malay', 'AsianIndian'],
    fhirSource:
      'US Core race extension, detailed (CDC Race & Ethnicity code system): 2039-6 Japanese, 2040-4 Korean, 2034-7 Chinese and 2035-4 Taiwanese → Chinese, 2042-0 Malaysian → Malay, 2029-7 Asian Indian (raceDetailFromCdcCodes in src/model/features.ts). In IWPC: "Race (Reported)" Japanese, Korean, Han Chinese/Chinese, Malay, Indian',
    whenMissing: 'none of the subgroups (all indicator columns 0); several different subgroups → none',
    columns: cols('raceDetail'),
  },
  {
    key: 'indications',
    label: 'Indication for warfarin',
    type: 'category',
    values: ['VTE', 'AtrialFibrillation', 'HeartValve', 'Stroke', 'PostOrthopedic'],
    fhirSource:
      "MedicationRequest.reasonCode / active Conditions (SNOMED CT): DVT or pulmonary embolism → VTE; atrial fibrillation/flutter; heart valve disease or prosthetic valve; stroke/TIA; orthopaedic surgery (hip/knee replacement) → PostOrthopedic. Several may be present",
    whenMissing: 'none recorded (all indicator columns 0; in IWPC "NA" was treated the same way)',
    columns: cols('indication'),
  },
  {
    key: 'vkorc1',
    label: 'VKORC1 rs9923231 (-1639 G>A)',
    type: 'category',
    values: ['G/G', 'A/G', 'A/A'],
    fhirSource:
      'Genomics Reporting Observation for VKORC1 rs9923231 (gene strand; plus-strand C/C, C/T, T/T = G/G, A/G, A/A); other VKORC1 SNPs are not used',
    whenMissing: 'unknown (indicator column; NaN allele count in the trees)',
    columns: cols('vkorc1'),
  },
  {
    key: 'cyp2c9',
    label: 'CYP2C9 diplotype',
    type: 'category',
    values: ['*1/*1', '*1/*2', '*1/*3', '*2/*2', '*2/*3', '*3/*3'],
    fhirSource: 'Genomics Reporting Observation for CYP2C9 (diplotype); other star alleles (*5, *6, *8, *11, …) → unknown',
    whenMissing: 'unknown (indicator column; NaN allele counts in the trees)',
    columns: cols('cyp2c9'),
  },
  {
    key: 'targetInr',
    label: 'Target INR',
    type: 'number',
    unit: 'INR (goal of the target range); used as target INR − 2.5',
    fhirSource:
      'the target INR the card states, from active Conditions (src/dosing/anticoagulation/indications.ts targetInr: mechanical mitral valve 3.0, mechanical aortic valve 2.5 or 3.0 with AF, valve of unstated type/position 3.0, bioprosthetic valve, AF or VTE 2.5). In IWPC: "Target INR" (recorded for about a quarter of the patients)',
    whenMissing: 'no indication on file (IWPC: not recorded) → 2.5 assumed (column 0), so that "not recorded" cannot stand for the sites that recorded it',
    columns: cols('targetInr'),
  },
  {
    key: 'amiodarone',
    label: 'Amiodarone',
    type: 'boolean',
    fhirSource: 'active MedicationRequest/MedicationStatement with RxNorm ingredient 703 (amiodarone)',
    whenMissing: 'not taking',
    columns: cols('amiodarone'),
  },
  {
    key: 'enzymeInducer',
    label: 'Enzyme inducer',
    type: 'boolean',
    fhirSource: 'active order of carbamazepine (RxNorm 2002), phenytoin (8183) or rifampin (9384)',
    whenMissing: 'not taking',
    columns: cols('enzymeInducer'),
  },
];

export interface CardInputs {
  version: string;
  modelFile: string;
  modelSha256: string;
  modelBytes: number;
  trainingFile: string;
  trainingSha256: string;
  rows: number;
  rowsUsed: number;
  hyperparameters: Record<string, unknown>;
  rounds: number;
  trees: number;
  seed: number;
  /** blend with the IWPC equation chosen by the final fit's inner CV (folded into the ONNX model) */
  blend: BlendWeights;
  /** the final model's interval curves (for the worked examples in the text) */
  interval: WarfarinModelSpec['interval'];
  evaluation: ModelCard['evaluation'];
  servedBy: ModelCard['servedBy'];
  equationIntervals: ModelCard['equationIntervals'];
}

export function buildCard(c: CardInputs): ModelCard {
  return {
    name: 'warfarin-dose-v2',
    version: c.version,
    modelFile: c.modelFile,
    modelSha256: c.modelSha256,
    modelBytes: c.modelBytes,
    description:
      'Stable weekly warfarin dose (mg/week) for adults starting warfarin, with or without CYP2C9/VKORC1 genotypes: IWPC-style linear model on the square-root scale (with genotype-unknown × covariate terms), re-fitted, plus gradient-boosted trees on its residuals, trained with genotype-masking augmentation so that an unknown genotype is learned from every patient; 80% prediction interval calibrated per genotype stratum; per-factor contributions in mg/week against a reference patient. In a genotype stratum where it did not beat the IWPC equation in cross-validation the service uses the equation (servedBy).',
    intendedUse: [
      'Decision support for the initial warfarin dose of adults (18+) at the time of prescribing, shown next to the IWPC pharmacogenetic equation.',
      'The clinician reviews the inputs, the contributions and the interval; INR monitoring and dose titration remain necessary.',
    ],
    outOfScope: [
      'Children and adolescents (paediatric patients were excluded from the service; IWPC has only 10 patients aged 10–19).',
      'Dose adjustment from observed INR values (the model predicts the stable dose from baseline data only).',
      'Patients outside the input ranges below (the service then withholds the model and falls back to the IWPC equation).',
    ],
    output: {
      name: 'weekly warfarin dose',
      unit: 'mg/wk',
      doseBounds: { min: DOSE_BOUNDS.min, max: DOSE_BOUNDS.max },
      interval:
        `80% prediction interval: asymmetric offsets on the sqrt scale, piecewise linear in the predicted sqrt dose, one curve per genotype stratum (both genotypes, VKORC1 only, CYP2C9 only, none), each calibrated on the inner cross-validation residuals of the validation patients shown in that stratum (bin quantiles of the predicted sqrt dose, one scale factor per side) so that about 10% of doses fall below and 10% above it in each stratum. The offsets are on the sqrt scale: ${intervalExamples(c.interval)}; without VKORC1 the lower tail is longer (the unknown genotype may be A/A, which needs much less). Interval ends are clamped to the dose bounds.`,
      explanation:
        'Contributions are exact Shapley values against ONE reference patient (60–69 years, 170 cm, 80 kg, White man, CYP2C9 *1/*1, VKORC1 G/G, no interacting drugs, no indication recorded — the wild-type reference of IWPC-style tables), so that "VKORC1 A/G: −x mg/week" means: compared with a VKORC1 G/G patient. Computed on the sqrt(dose) scale (linear terms w·(x − reference), tree leaves by the baseline-Shapley formula, src/model/baselineShap.ts), grouped by factor, then mapped to mg/week by distributing dose − base value proportionally (dose − base = (√dose − √base)(√dose + √base)), so they sum exactly to prediction − base value. Base value = the model output for the reference patient. An unknown genotype shows as its own contribution against the known wild-type reference. When the dose is clamped, the clamp appears as its own contribution.',
    },
    inputRanges: {
      ageYears: { ...INPUT_RANGES.ageYears },
      heightCm: { ...INPUT_RANGES.heightCm },
      weightKg: { ...INPUT_RANGES.weightKg },
    },
    features: FEATURE_DOCS,
    inputColumns: FEATURE_COLUMNS.map((f) => f.name),
    trainingData: {
      citation:
        'International Warfarin Pharmacogenetics Consortium. Estimation of the warfarin dose with clinical and pharmacogenetic data. N Engl J Med 2009;360:753-64.',
      doi: '10.1056/NEJMoa0809329',
      source: 'PharmGKB/ClinPGx "IWPC Data" (5,700 patients, 21 sites); training portion of a fixed split',
      licence:
        'CC BY-SA 4.0 (PharmGKB/ClinPGx data; attribution and share-alike; PharmGKB asks that its data not be sold). This model is trained on it and carries the same attribution.',
      file: c.trainingFile,
      sha256: c.trainingSha256,
      rows: c.rows,
      rowsUsed: c.rowsUsed,
      cleaning: [
        'Derived cleaned columns of the file are used (age_decade, height_cm, weight_kg, race_iwpc, vkorc1_rs9923231, cyp2c9_iwpc, enzyme_inducer, amiodarone, target_inr_num, dose_mg_week); "Race (Reported)" for the detailed Asian subgroups; Gender.',
        'Rows without a positive dose are skipped; missing height/weight/age/sex/genotypes are kept as missing (NaN); NA co-medication = not taking.',
        'Never used: identifiers, Project Site, split columns, pred_* columns, INR on the therapeutic dose, other post-dose fields.',
      ],
    },
    training: {
      command: 'npm run train:warfarin [-- <csv>]',
      procedure: [
        'Linear part: ridge regression (λ = 1) of sqrt(weekly dose) on the IWPC columns (age decade, height, weight, race, VKORC1 and CYP2C9 categories with "unknown", amiodarone, enzyme inducer) plus sex, detailed Asian subgroups, indication and target INR − 2.5; NaN → training mean.',
        'Linear part: also genotype-unknown × covariate columns (race, age, height, weight, sex, amiodarone, enzyme inducer, detailed Asian subgroup, heart valve indication, each × VKORC1 unknown and × CYP2C9 unknown), so that without a genotype race and the other covariates carry what it would have said; fitted with Huber loss (3 IRLS iterations, δ = 0.3).',
        'Genotype-masking augmentation: every training patient is also trained on with VKORC1, CYP2C9 and both set to unknown (only copies that differ from the row; inner folds are drawn over patients so that a patient\'s copies stay together).',
        'Boosted trees (depth ≤ 4, ≥ 30 rows per leaf, learning rate 0.03, L2 leaf penalty λ = 5, 70% row subsampling, Huber loss with δ = 0.3 on the sqrt scale) on the residuals; missing values follow a learned branch.',
        'Sample weights (linear part and trees): 1.05 for actual doses ≤ 21 mg/week, 1.25 for ≥ 49, 1 otherwise — counteracts the shrinkage of predictions towards the middle that makes every IWPC-type model worst in the high-dose tail.',
        'Rows whose dose was not confirmed stable ("Subject Reached Stable Dose of Warfarin" = 0) are not trained on (they are still evaluated).',
        'Number of trees chosen by inner 5-fold CV (minimum MAE in mg/week over the validation patients in every stratum); the inner out-of-fold residuals calibrate the interval, separately per genotype stratum.',
        blendText(c.blend),
        'Served by, per genotype stratum: the model where its nested-CV MAE is lower and PW20 higher than the IWPC equation the stratum would otherwise get, the equation elsewhere; the equation\'s 80% interval per stratum is calibrated on the training rows (equationIntervals).',
        'Deterministic: seeded PRNG (mulberry32), fixed fold assignment; same data → same bytes.',
      ],
      hyperparameters: c.hyperparameters,
      blend: c.blend,
      rounds: c.rounds,
      trees: c.trees,
      seed: c.seed,
    },
    evaluation: c.evaluation,
    servedBy: c.servedBy,
    equationIntervals: c.equationIntervals,
    limitations: [
      'IWPC patients are mostly White (54%) and Asian (29%); Black patients are few (about 8%) and African-specific CYP2C9 alleles (*5, *6, *8, *11) are treated as unknown — estimates for Black patients are less reliable.',
      'Paediatric patients are excluded; very old patients (90+) are few.',
      'Detailed Asian subgroups (Japanese, Korean, Chinese, Malay, Asian Indian) are each largely from one or two IWPC sites, so their effect mixes biology with local practice (e.g. lower target INR in Japan).',
      'Other co-medications (statins, aspirin, acetaminophen), diabetes and heart failure are not used (adding them improved the cross-validated worst-stratum MAE by less than 0.1 point); current smoking is not used either: as an input it improved the MAE gain by about 0.1 point with both genotypes and with VKORC1 only, not at all with no genotype, and lowered the PW20 gain with VKORC1 only below 1 point (nested CV, docs/warfarin-model.md), so the service does not read the US Core smoking status Observation. Target INR is used, as the chart\'s indications give it (most IWPC patients have none recorded and are treated as 2.5).',
      'Gains over the IWPC equation are small (see the genotype strata table: between about 1% and 6% MAE); the sample weights deliberately favour the high-dose tail. The IWPC equations were derived on IWPC data that include most of these training patients, which favours the equations in this cross-validation.',
      'Accuracy is similar to the IWPC equation for most patients; about half of the patients get a dose more than 20% away from their stable dose. The 80% interval is calibrated on IWPC data only.',
      'IWPC equation figures are over complete cases only (age, height and weight present): the equation cannot be computed otherwise.',
      'The 80% interval is calibrated per genotype stratum, not per actual dose band: patients whose stable dose turns out to be ≥ 49 mg/week are inside it only about half the time (v1 forced 80% in each actual band, which made the offsets swing from knot to knot and gave lower bounds of 3 mg/week for 20–25 mg/week estimates).',
      targetText(c.evaluation),
    ],
    onnx: {
      opsets: { '': 17, 'ai.onnx.ml': 3 },
      inputs: ['features: float32 [N, ' + FEATURE_COLUMNS.length + '] (NaN = missing; column order = inputColumns)'],
      outputs: ['sqrt_dose [N,1]', 'dose_mg_week [N,1] (unclamped)', 'interval_low [N,1]', 'interval_high [N,1]'],
    },
  };
}

function intervalExamples(iv: WarfarinModelSpec['interval']): string {
  const at = (s: GenotypeStratum, dose: number): string => {
    const i = curveInterval(iv.strata[s], Math.sqrt(dose));
    return `${Math.round(i.low)}–${Math.round(i.high)}`;
  };
  const names: Record<GenotypeStratum, string> = { both: 'with both genotypes', vkorc1Only: 'with VKORC1 only', cyp2c9Only: 'with CYP2C9 only', none: 'with none' };
  return [17.5, 42]
    .map((d) => `around a ${d} mg/week estimate the interval is about ${GENOTYPE_STRATA.map((s) => `${at(s, d)} ${names[s]}`).join(', ')} (mg/week)`)
    .join('; ');
}

function blendText(b: BlendWeights): string {
  if (b.wLinear === 1 && b.wTrees === 1) return 'No blend with the IWPC equation.';
  const sh = b.shift;
  return `Blend with the IWPC equation on the sqrt scale, folded into the model (src/model/train/blend.ts): sqrt dose = ${b.wLinear} × linear part + ${Number((1 - b.wLinear).toFixed(4))} × the stratum's IWPC equation (on the model's columns; with CYP2C9 only the clinical equation plus the pharmacogenetic CYP2C9 term relative to its "unknown" term) + ${b.wTrees} × trees` +
    (sh.all || sh.vkorc1Unknown || sh.cyp2c9Unknown ? ` + shifts (median calibration: ${sh.all} for all, ${sh.vkorc1Unknown} more without VKORC1, ${sh.cyp2c9Unknown} more without CYP2C9)` : '') +
    '; the weights (grid of 0.05 steps, lowest worst-stratum ratio of model MAE to equation MAE) and shifts (lowest MAE in mg/week) are chosen on the inner-CV out-of-fold predictions, as the number of trees is; the interval is calibrated on the blended predictions.';
}

function targetText(e: ModelCard['evaluation']): string {
  const t = e.strata.table;
  if (!t.length) return 'The issue 16 target (MAE ≥ 2% below and PW20 ≥ 1 point above the IWPC equation in every genotype stratum) was not evaluated (no cross-validation run).';
  const met = t.filter((r) => r.targetMet).map((r) => r.label);
  const short = t.filter((r) => !r.targetMet).map((r) => `${r.label}: MAE ${r.maeGainPct.toFixed(2)}% below, PW20 ${r.pw20GainPoints >= 0 ? '+' : ''}${r.pw20GainPoints.toFixed(2)} points`);
  return short.length === 0
    ? 'The issue 16 target (MAE ≥ 2% below and PW20 ≥ 1 point above the IWPC equation, coverage 77–83%) is met in every genotype stratum (see targets).'
    : `The issue 16 target (MAE ≥ 2% below and PW20 ≥ 1 point above the IWPC equation, coverage 77–83%, in every genotype stratum) is ${met.length ? `met with ${met.join(', ')} on file but ` : ''}not met with ${short.join('; ')} (see targets).`;
}

const fmt = (v: number | undefined): string => (v === undefined || Number.isNaN(v) ? '–' : v.toFixed(2));

export function cardMarkdown(card: ModelCard): string {
  const e = card.evaluation;
  const o = e.overall;
  const lines: string[] = [];
  lines.push(`# Model card: ${card.name} (version ${card.version})`, '');
  lines.push(card.description, '');
  lines.push(`- Model file: \`models/${card.modelFile}\` (${card.modelBytes} bytes, sha256 \`${card.modelSha256}\`)`);
  lines.push(`- Training data: ${card.trainingData.citation} doi:${card.trainingData.doi}. ${card.trainingData.source}.`);
  lines.push(`- Licence of the data: ${card.trainingData.licence}`);
  lines.push(`- Training file sha256: \`${card.trainingData.sha256}\` (${card.trainingData.rows} rows, ${card.trainingData.rowsUsed} trained on; all rows with a dose are evaluated)`);
  lines.push(`- Train: \`${card.training.command}\`; evaluate: \`npm run --silent evaluate:warfarin -- <csv>\``, '');
  lines.push('## Intended use', '', ...card.intendedUse.map((s) => `- ${s}`), '', '## Out of scope', '', ...card.outOfScope.map((s) => `- ${s}`), '');
  lines.push('## Inputs', '', '| input | type / unit | allowed | FHIR source | when missing |', '|---|---|---|---|---|');
  for (const f of card.features) {
    const allowed = f.range ? `${f.range.min}–${f.range.max}` : (f.values ?? []).join(', ');
    lines.push(`| ${f.label} (\`${f.key}\`) | ${f.type}${f.unit ? `, ${f.unit}` : ''} | ${allowed} | ${f.fhirSource} | ${f.whenMissing} |`);
  }
  lines.push('', `Output: ${card.output.name} in ${card.output.unit}, clamped to ${card.output.doseBounds.min}–${card.output.doseBounds.max} mg/week.`, '');
  lines.push(`Interval: ${card.output.interval}`, '', `Explanation: ${card.output.explanation}`, '');
  lines.push('## Training', '', ...card.training.procedure.map((s) => `- ${s}`), '');
  lines.push(`Trees in the final model: ${card.training.trees}. Hyperparameters: \`${JSON.stringify(card.training.hyperparameters)}\``, '');
  lines.push('## Cross-validated performance (out-of-fold, nested 5-fold CV on the training file)', '');
  lines.push(e.method, '', e.iwpcNote, '');
  lines.push('| | n | model MAE | model PW20 % | coverage80 % | IWPC MAE | IWPC PW20 % |', '|---|---|---|---|---|---|---|');
  lines.push(`| all rows | ${o['n']} | ${fmt(o['mae'])} | ${fmt(o['pw20'])} | ${fmt(o['coverage80'])} | | |`);
  lines.push(
    `| complete cases | ${o['n_complete']} | ${fmt(o['mae_complete'])} | ${fmt(o['pw20_complete'])} | ${fmt(o['coverage80_complete'])} | ${fmt(o['iwpc_mae_complete'])} | ${fmt(o['iwpc_pw20_complete'])} |`,
  );
  for (const [band, g] of Object.entries(e.byBand)) {
    lines.push(`| dose ${band} (all rows) | ${g.n} | ${fmt(g.mae)} | ${fmt(g.pw20)} | ${fmt(g.coverage80)} | | |`);
    lines.push(`| dose ${band} (complete) | ${g.iwpc_n} | ${fmt(g.mae_complete)} | ${fmt(g.pw20_complete)} | | ${fmt(g.iwpc_mae)} | ${fmt(g.iwpc_pw20)} |`);
  }
  lines.push('', 'Per fold (complete cases):', '', '| fold | n | model MAE | IWPC MAE | model PW20 | IWPC PW20 |', '|---|---|---|---|---|---|');
  for (const f of e.perFold)
    lines.push(`| ${f.fold} | ${f.n_complete} | ${fmt(f.mae_complete)} | ${fmt(f.iwpc_mae)} | ${fmt(f.pw20_complete)} | ${fmt(f.iwpc_pw20)} |`);
  lines.push('', '## By genotype on file', '', e.strata.method, '', ...strataMarkdown(e.strata.table), '');
  lines.push('Served by (read by the serving code, `servedBy` in the JSON card):', '');
  for (const g of GENOTYPE_STRATA)
    lines.push(`- genotype on file: ${STRATUM_LABELS[g]} → ${card.servedBy[g] === 'model' ? 'the dose model' : `the ${EQUATION_NAMES[g]} equation (the model did not beat it in cross-validation)`}`);
  lines.push('', 'Targets and whether they are met:', '', ...Object.entries(e.targets).map(([k, v]) => `- ${k}: ${v}`), '');
  lines.push('## Known limits', '', ...card.limitations.map((s) => `- ${s}`), '');
  lines.push('## ONNX', '', `Opsets: ${JSON.stringify(card.onnx.opsets)}.`, `Inputs: ${card.onnx.inputs.join('; ')}.`, `Outputs: ${card.onnx.outputs.join('; ')}.`);
  lines.push(`Input columns: ${card.inputColumns.map((c) => `\`${c}\``).join(', ')}.`, '');
  return lines.join('\n');
}
