// knowledge/insulin.json: the basal insulins, their products (dose step per pen), and the titration rules as data.
import { readFileSync } from 'node:fs';
import path from 'node:path';

export interface InsulinProduct {
  rxcui: string;
  ingredient: string;
  name: string;
  unitsPerMl: number;
  device: 'pen' | 'vial';
  /** the smallest dose change the pen dials (units); vials with syringes: 1 */
  stepUnits: number;
}

export interface InsulinKnowledge {
  provenance: { source: string; version: string; note: string };
  ingredients: Record<string, { display: string; frequencyPerDay: number }>;
  products: InsulinProduct[];
  notBasalAlone: { why: string; words: string };
  algorithm: {
    id: string;
    name: string;
    version: string;
    citation: string;
    url: string;
    targetMgDl: { low: number; high: number; source: string };
    raiseUnits: number;
    intervalDays: number;
    lowerFraction: { level1: number; level2: number };
    fastingWindow: { fromMinutes: number; toMinutes: number };
    minFastingValues: number;
    lookbackDays: number;
    tbrDays: number;
    cgmEventMinutes: number;
  };
  tbr: { citation: string; url: string; level1MgDl: number; level2MgDl: number; targetBelow70Percent: number; targetBelow54Percent: number };
}

export function loadInsulinKnowledge(file = path.resolve(process.cwd(), 'knowledge/insulin.json')): InsulinKnowledge {
  return JSON.parse(readFileSync(file, 'utf8')) as InsulinKnowledge;
}

/** The basal insulin ingredients the evaluator is registered for. */
export const BASAL_INSULINS = ['insulin glargine', 'insulin detemir', 'insulin degludec', 'insulin isophane'] as const;
