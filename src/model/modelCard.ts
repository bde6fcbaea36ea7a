// Model card of the warfarin dose model (models/warfarin-dose-v2.card.json). The serving code reads the input
// ranges, the ONNX file's sha256, which method serves each genotype stratum and the equation's interval from it;
// everything else is documentation for people.
import type { GenotypeStratum, StratumServedBy } from '../domain/genotypeStratum.js';
import type { IntervalCurve } from './spec.js';
import type { StratumFigures } from './strataMetrics.js';

export interface FeatureDoc {
  key: string;
  label: string;
  type: 'number' | 'boolean' | 'category';
  unit?: string;
  range?: { min: number; max: number };
  values?: string[];
  /** where the service reads it from in FHIR R4 / US Core */
  fhirSource: string;
  /** what happens when it is absent */
  whenMissing: string;
  /** model input columns built from it */
  columns: string[];
}

export interface BandFigures {
  n: number;
  mae: number;
  pw20: number;
  coverage80: number;
  iwpc_n: number;
  iwpc_mae: number;
  iwpc_pw20: number;
  mae_complete: number;
  pw20_complete: number;
}

export interface ModelCard {
  name: string;
  version: string;
  modelFile: string;
  modelSha256: string;
  modelBytes: number;
  description: string;
  intendedUse: string[];
  outOfScope: string[];
  output: { name: string; unit: string; doseBounds: { min: number; max: number }; interval: string; explanation: string };
  inputRanges: Record<'ageYears' | 'heightCm' | 'weightKg', { min: number; max: number; unit: string }>;
  features: FeatureDoc[];
  inputColumns: string[];
  trainingData: {
    citation: string;
    doi: string;
    source: string;
    licence: string;
    file: string;
    sha256: string;
    rows: number;
    /** rows trained on (positive dose, confirmed stable) */
    rowsUsed: number;
    cleaning: string[];
  };
  training: {
    command: string;
    procedure: string[];
    hyperparameters: Record<string, unknown>;
    /** blend with the IWPC equation (src/model/train/blend.ts), already folded into the ONNX model */
    blend?: { wLinear: number; wTrees: number; shift: { all: number; vkorc1Unknown: number; cyp2c9Unknown: number } };
    rounds: number;
    trees: number;
    seed: number;
  };
  evaluation: {
    method: string;
    folds: number;
    foldRounds: number[];
    iwpcNote: string;
    overall: Record<string, number>;
    byBand: Record<string, BandFigures>;
    perFold: { fold: number; n_complete: number; mae_complete: number; iwpc_mae: number; pw20_complete: number; iwpc_pw20: number }[];
    targets: Record<string, string>;
    /** by genotype on file (issue 16): held-out patients with both genotypes, shown in each stratum */
    strata: { method: string; table: StratumFigures[] };
  };
  /**
   * Which method the service uses in each genotype stratum: the model where it beat the IWPC equation in the
   * nested CV, the equation (iwpcForStratum) elsewhere. Read by the serving code.
   */
  servedBy: Record<GenotypeStratum, StratumServedBy>;
  /** 80% interval of the IWPC equation per stratum (sqrt scale, as the model's), for strata the equation serves */
  equationIntervals: Record<GenotypeStratum, IntervalCurve>;
  limitations: string[];
  onnx: { opsets: Record<string, number>; inputs: string[]; outputs: string[] };
}
