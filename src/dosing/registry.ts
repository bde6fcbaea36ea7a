// Which evaluators apply to which ingredient. Evaluators are pure: PatientFacts + order in, Recommendations out.
import type { AppConfig } from '../config.js';
import type { DraftOrder } from '../cds/orders.js';
import type { DrugDictionary, IdentifiedDrug } from '../domain/drugs.js';
import type { PatientFacts } from '../domain/facts.js';
import type { Recommendation } from '../domain/recommendation.js';
import { evaluateWarfarin } from './warfarin/evaluator.js';

export interface EvaluationContext {
  facts: PatientFacts;
  order: DraftOrder;
  drug: IdentifiedDrug;
  drugs: DrugDictionary;
  config: AppConfig;
  newId: () => string;
}

/**
 * An evaluator returns the Recommendations for one ordered ingredient. The clinical logic it calls is pure; an
 * evaluator may be async only to consult a loaded model session (e.g. onnxruntime) before calling it.
 */
export type Evaluator = (ctx: EvaluationContext) => Recommendation[] | Promise<Recommendation[]>;

export class EvaluatorRegistry {
  private readonly byIngredient = new Map<string, Evaluator[]>();

  register(ingredient: string, evaluator: Evaluator): this {
    const list = this.byIngredient.get(ingredient) ?? [];
    list.push(evaluator);
    this.byIngredient.set(ingredient, list);
    return this;
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
  [k: string]: unknown;
}

/** The evaluators the service runs. */
export function defaultRegistry(_deps: EvaluatorDependencies = {}): EvaluatorRegistry {
  return new EvaluatorRegistry().register('warfarin', (c) => [
    evaluateWarfarin(c.facts, c.order, c.drugs, { roundingMgPerDay: c.config.cards.warfarinRoundingMgPerDay, newId: c.newId }),
  ]);
}
