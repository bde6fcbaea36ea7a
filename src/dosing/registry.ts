// Which evaluators apply to which ingredient. Evaluators are pure: PatientFacts + order in, Recommendations out.
import type { AppConfig } from '../config.js';
import type { DraftOrder } from '../cds/orders.js';
import type { DrugDictionary, IdentifiedDrug } from '../domain/drugs.js';
import type { PatientFacts } from '../domain/facts.js';
import type { Recommendation } from '../domain/recommendation.js';
import type { WarfarinModel } from '../model/warfarinModel.js';
import type { GenotypeStratum } from '../domain/genotypeStratum.js';
import { evaluateWarfarin, warfarinBasis, type WarfarinModelOutcome } from './warfarin/evaluator.js';
import { registerPgxEvaluators } from './pgx/register.js';
import { registerRenalEvaluators } from './renal/register.js';
import { registerTdmEvaluators } from './tdm/register.js';
import { registerInsulinEvaluators } from './insulin/register.js';
import { warfarinGeneFindings } from './warfarin/genes.js';
import { GENOMIC_PREFETCH_KEYS } from '../fhir/genomics/codes.js';
import { defaultPgxKnowledge, type PgxKnowledge } from '../knowledge/pgx.js';
import { warfarinModelInput } from './warfarin/modelInput.js';
import { warfarinMonitorRecommendations } from './warfarin/monitor.js';
import { refineWarfarin } from './warfarin/refine.js';

export interface EvaluationContext {
  facts: PatientFacts;
  order: DraftOrder;
  drug: IdentifiedDrug;
  drugs: DrugDictionary;
  config: AppConfig;
  newId: () => string;
  /**
   * "order" (default): a drug is being ordered (order-select / order-sign / medication-prescribe).
   * "monitor": the order is an active MedicationRequest re-checked on patient-view; an evaluator returns only what
   * calls for action now (e.g. no warfarin initiation dose), and the hook keeps only warning/critical cards.
   */
  mode?: 'order' | 'monitor';
}

/**
 * An evaluator returns the Recommendations for one ordered ingredient. The clinical logic it calls is pure; an
 * evaluator may be async only to consult a loaded model session (e.g. onnxruntime) before calling it.
 */
export type Evaluator = (ctx: EvaluationContext) => Recommendation[] | Promise<Recommendation[]>;

export class EvaluatorRegistry {
  private readonly byIngredient = new Map<string, Evaluator[]>();
  private readonly needsByIngredient = new Map<string, Set<string>>();
  private readonly declaredKeys = new Set<string>();

  /**
   * `needs`: the prefetch keys (config/services.json) this evaluator reads beyond the shared ones, e.g. weight, the
   * genomics results or vancomycin levels; such a key is read (or queried) only when a drug whose evaluator needs it is
   * in scope, so an order for a drug that needs no weight sends no weight query to the EHR. Keys nobody declares
   * (patient, medication requests and statements, conditions) are used for every drug: patient-view needs the active
   * MedicationRequests before it knows the drugs. test/unit/prefetch-needs.test.ts checks that each evaluator gives the
   * same recommendations from its declared keys as from every key.
   */
  register(ingredient: string, evaluator: Evaluator, needs: readonly string[] = []): this {
    const list = this.byIngredient.get(ingredient) ?? [];
    list.push(evaluator);
    this.byIngredient.set(ingredient, list);
    const n = this.needsByIngredient.get(ingredient) ?? new Set<string>();
    for (const k of needs) {
      n.add(k);
      this.declaredKeys.add(k);
    }
    this.needsByIngredient.set(ingredient, n);
    return this;
  }

  /** The prefetch keys some evaluator declared as its own. */
  declaredPrefetchKeys(): string[] {
    return [...this.declaredKeys];
  }

  /** Is this prefetch key used for these ingredients (a key no evaluator declared is used for every drug)? */
  usesPrefetchKey(key: string, ingredients: ReadonlySet<string>): boolean {
    if (!this.declaredKeys.has(key)) return true;
    for (const i of ingredients) if (this.needsByIngredient.get(i)?.has(key)) return true;
    return false;
  }

  has(ingredient: string): boolean {
    return this.byIngredient.has(ingredient);
  }

  async evaluate(ctx: EvaluationContext): Promise<Recommendation[]> {
    const out: Recommendation[] = [];
    for (const e of this.byIngredient.get(ctx.drug.ingredient) ?? []) out.push(...(await e(ctx)));
    return out;
  }
}

/** What the evaluators need that is loaded once at start-up (models, knowledge). */
export interface EvaluatorDependencies {
  /** the warfarin dose model session, loaded once at start-up */
  warfarinModel?: WarfarinModel;
  /** why the model is not available (file missing, corrupt), shown on cards that fall back to the IWPC equation */
  warfarinModelUnavailable?: string;
  /** observes each model inference (metrics) */
  onModelInference?: (seconds: number) => void;
  /** the CPIC knowledge (src/knowledge/pgx.ts); loaded once from ./knowledge when not given */
  pgx?: import('../knowledge/pgx.js').PgxKnowledge;
  [k: string]: unknown;
}

/** One-line summary of the model's validation in the patient's genotype stratum, cited on every card that uses it. */
function modelSummary(m: WarfarinModel, stratum: GenotypeStratum): string {
  const t = m.card.evaluation.strata.table.find((x) => x.stratum === stratum);
  const fig = t
    ? `genotype on file: ${t.label}: cross-validated MAE ${t.model.mae} mg/week (${t.equationName} ${t.equation.mae}), ${t.model.pw20}% within 20% (equation ${t.equation.pw20}%), 80% interval coverage ${t.model.coverage80}% (n ${t.n})`
    : `cross-validated on ${m.card.evaluation.overall['n'] ?? '?'} IWPC patients`;
  return `Model card ${m.card.name} v${m.card.version}: ${fig} (models/${m.card.name}.card.md)`;
}

/** Run the model for this patient when a dose may be computed at all; any failure falls back to the equation. */
async function warfarinModelOutcome(c: EvaluationContext, deps: EvaluatorDependencies, basis: ReturnType<typeof warfarinBasis>): Promise<WarfarinModelOutcome | undefined> {
  if (!basis.iwpc) return undefined;
  const model = deps.warfarinModel;
  if (!model) return { status: 'unavailable', reason: deps.warfarinModelUnavailable ?? 'model not loaded' };
  const t0 = performance.now();
  try {
    const r = await model.predict(warfarinModelInput(c.facts, c.order, basis));
    if ('withheld' in r) return { status: 'withheld', reasons: r.reasons };
    if ('servedBy' in r) return { status: 'equation', stratum: r.stratum, reason: r.reason, ...(r.interval80 ? { interval80: r.interval80 } : {}) };
    return { status: 'predicted', prediction: r, model: { name: model.card.name, version: model.version, summary: modelSummary(model, r.stratum) } };
  } catch {
    return { status: 'unavailable', reason: 'inference failed' };
  } finally {
    deps.onModelInference?.((performance.now() - t0) / 1000);
  }
}

/** The evaluators the service runs. */
export function defaultRegistry(deps: EvaluatorDependencies = {}): EvaluatorRegistry {
  let pgxKnowledge: PgxKnowledge | undefined;
  const base = registerInsulinEvaluators(registerTdmEvaluators(registerRenalEvaluators(registerPgxEvaluators(new EvaluatorRegistry(), deps), deps), deps), deps);
  return base.register('warfarin', async (c) => {
    const basis = warfarinBasis(c.facts, c.drugs);
    const withGenes = (rec: Recommendation): Recommendation => {
      const genes = warfarinGeneFindings(rec, c.facts, (pgxKnowledge ??= deps.pgx ?? defaultPgxKnowledge()));
      return genes.length > 0 ? { ...rec, genes } : rec;
    };
    // Lenzini 2010 refinement from the day-4/5 INR and the doses given (src/dosing/warfarin/refine.ts)
    const now = new Date();
    const refinement = refineWarfarin(c.facts, c.order, c.drugs, { roundingMgPerDay: c.config.cards.warfarinRoundingMgPerDay, newId: c.newId, now }, basis);
    // an active order re-checked on patient-view: refinement and INR out of range only, never an initiation dose
    if (c.mode === 'monitor') return warfarinMonitorRecommendations(refinement, c.facts, c.order, c.drugs, { newId: c.newId, now }).map(withGenes);
    if (refinement.status === 'refined') return [withGenes(refinement.recommendation)];
    const model = await warfarinModelOutcome(c, deps, basis);
    const rec = evaluateWarfarin(c.facts, c.order, c.drugs, { roundingMgPerDay: c.config.cards.warfarinRoundingMgPerDay, newId: c.newId, ...(model ? { model } : {}) }, basis);
    if (refinement.status === 'not-applicable') rec.notes.push(`INR-based refinement (Lenzini 2010) not computed: ${refinement.reason}`);
    return [withGenes(rec)];
    // IWPC/model inputs, genotypes, the day-4/5 INR with the doses actually given (Lenzini refinement), and the
    // patient's devices (a home INR meter: the INR is shown as point-of-care)
  }, ['weight', 'height', ...GENOMIC_PREFETCH_KEYS, 'inr', 'medicationAdministrations', 'devices']);
}
