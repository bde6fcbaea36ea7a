// The DPWG knowledge (knowledge/dpwg-recommendations.json, built by scripts/build-dpwg.ts): types and a loader that
// presents each DPWG guideline as a PgxKnowledge over the CPIC gene tables, so that the CPIC engine (the same
// genotype → phenotype step) finds its rows.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { GeneKnowledge, GuidelineKnowledge, PgxKnowledge, Provenance, RecommendationRow } from './pgx.js';
import { defaultPgxKnowledge, pgxKnowledgeFrom } from './pgx.js';

export interface DpwgRow extends RecommendationRow {
  /** the lookup key as DPWG states it (lookup holds the CPIC-vocabulary key; empty for diplotype and unreachable rows) */
  dpwgLookup: Record<string, unknown>;
  /** allele-count rows: the exact diplotype they apply to (used instead of the phenotype row when the lab reports it) */
  diplotype?: { gene: string; diplotype: string };
  /** why no genotype reaches this row */
  unreachable?: string;
}

export interface DpwgGuideline extends GuidelineKnowledge {
  file: string;
  /** date of the PharmCAT data the file comes from (YYYY-MM-DD) */
  dataDate: string;
  guidelineVersion: number;
}

export interface DpwgFile {
  provenance: Provenance;
  source: 'DPWG';
  guidelines: Record<string, DpwgGuideline>;
  drugs: Record<string, { name: string; rxcui?: string; synonyms: string[]; guidelines: string[]; genes: string[] }>;
  /** gene → why its results cannot be interpreted for DPWG rows */
  uninterpretableGenes: Record<string, string>;
  unreachable: { id: string; guideline: string; lookup: string; reason: string }[];
  texts: string[];
  recommendations: DpwgRow[];
}

/** One DPWG guideline as engine knowledge: its drug(s) with this guideline's genes and rows only. */
export interface DpwgGuidelineKnowledge {
  guideline: DpwgGuideline;
  k: PgxKnowledge;
  /** gene → canonical diplotype → row */
  diplotypeRows: Map<string, Map<string, DpwgRow>>;
}

export interface DpwgKnowledge {
  file: DpwgFile;
  /** drug → one entry per DPWG guideline of that drug */
  byDrug: Map<string, DpwgGuidelineKnowledge[]>;
}

/** VKORC1 for DPWG: the rs9923231 genotype, mapped by the DPWG evaluator to "-1639 GG/AG/AA", read as stated. */
const VKORC1: GeneKnowledge = { hgnc: 'HGNC:23663', method: 'phenotype', lookupValues: ['-1639 AA', '-1639 AG', '-1639 GG'] };

export const DPWG_FILE = 'dpwg-recommendations.json';

export function dpwgKnowledgeFrom(file: DpwgFile, cpic: PgxKnowledge): DpwgKnowledge {
  const genes = { ...cpic.genes, VKORC1 };
  const byDrug = new Map<string, DpwgGuidelineKnowledge[]>();
  for (const gl of Object.values(file.guidelines).sort((a, b) => a.id.localeCompare(b.id))) {
    const rows = file.recommendations.filter((r) => r.guideline === gl.id);
    // rows the engine looks up: all but exact-diplotype rows and unreachable ones without a key (a gene without a
    // phenotype table keeps its key: never matched, its results reported as not interpretable)
    const usable = rows.filter((r) => !r.diplotype && Object.keys(r.lookup).length > 0);
    const diplotypeRows = new Map<string, Map<string, DpwgRow>>();
    for (const r of rows) if (r.diplotype) (diplotypeRows.get(r.diplotype.gene) ?? diplotypeRows.set(r.diplotype.gene, new Map()).get(r.diplotype.gene)!).set(r.diplotype.diplotype, r);
    const drugs: PgxKnowledge['drugs'] = {};
    for (const d of gl.drugs) {
      const dk = file.drugs[d];
      drugs[d] = { name: d, ...(dk?.rxcui ? { rxcui: dk.rxcui } : {}), synonyms: dk?.synonyms ?? [d], guideline: gl.id, genes: gl.genes, populations: [...new Set(usable.map((r) => r.population))].sort(), testStrength: {} };
    }
    const k = pgxKnowledgeFrom(
      { provenance: cpic.provenance.genes, genes },
      { provenance: file.provenance, guidelines: { [gl.id]: gl }, drugs, populations: {}, alternatives: {}, contraindicatedAlternatives: [], genotypeTestText: '', texts: file.texts, recommendations: usable },
    );
    k.source = 'DPWG';
    for (const d of gl.drugs) (byDrug.get(d) ?? byDrug.set(d, []).get(d)!).push({ guideline: gl, k, diplotypeRows });
  }
  return { file, byDrug };
}

export function loadDpwgKnowledge(dir = path.resolve(process.cwd(), 'knowledge'), cpic: PgxKnowledge = defaultPgxKnowledge()): DpwgKnowledge {
  const file = JSON.parse(readFileSync(path.join(dir, DPWG_FILE), 'utf8')) as DpwgFile;
  if (file?.source !== 'DPWG' || !Array.isArray(file.recommendations)) throw new Error(`malformed DPWG knowledge in ${dir}`);
  return dpwgKnowledgeFrom(file, cpic);
}

let cached: DpwgKnowledge | undefined;
export function defaultDpwgKnowledge(): DpwgKnowledge {
  return (cached ??= loadDpwgKnowledge());
}
