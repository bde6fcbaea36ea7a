// Every CPIC recommendation row is reachable: for each row, FHIR Observations (and Conditions, age, earlier use for
// its population) are built, read by the real genomics reader, and the engine must return exactly that row.
// Source of the rows: knowledge/pgx-recommendations.json (built from ../shared/data/cpic); diplotypes are picked
// from ../shared/data/cpic/diplotype_phenotypes.tsv.
import type { Observation } from 'fhir/r4';
import type { ConditionFact } from '../../src/domain/facts.js';
import { evaluatePgxGuidance, type MedicationUse } from '../../src/dosing/pgx/engine.js';
import { readGeneResults } from '../../src/fhir/genomics/index.js';
import { loadPgxKnowledge, type PopulationRule, type RecommendationRow } from '../../src/knowledge/pgx.js';
import { alleleAlias } from '../../src/dosing/pgx/alleles.js';
import { defaultVariantCatalogue } from '../../src/knowledge/pgxVariants.js';
import { cpicDiplotypes, genomicObservations } from '../support/cpic-genotypes.js';

const k = loadPgxKnowledge();
const VARIANTS = defaultVariantCatalogue();
const NOW = new Date('2026-11-25T12:00:00Z');

/** table rows: gene → lookup key → diplotypes (shortest first) */
const diplotypes = cpicDiplotypes();
const observation = genomicObservations('cov', (gene) => k.genes[gene]?.hgnc);

/** The lab's spelling of a table diplotype: named alleles without their star alias in brackets. */
function asReported(gene: string, d: string): string {
  return k.genes[gene]?.aliases ? d.split('/').map(alleleAlias).join('/') : d;
}

const chosen = new Map<string, Observation | null>();
/** The sex an X-linked gene's Observation was read for (G6PD: hemizygous male or heterozygous female). */
const sexOf = new Map<Observation, 'male' | 'female'>();

/** G6PD (X-linked): one allele of each CPIC function, as a hemizygous male result and as female pairs. */
function xLinkedSpellings(g: (typeof k.genes)[string]): { text: string; sex: 'male' | 'female' }[] {
  const byFunction = new Map<string, string>();
  for (const [name, f] of Object.entries(g.alleles ?? {})) if (!byFunction.has(f) && !name.includes('/')) byFunction.set(f, name);
  const reps = [...byFunction.values()];
  return [...reps.map((a) => ({ text: `${a} hemizygous`, sex: 'male' as const })), ...reps.flatMap((a) => reps.map((b) => ({ text: `${a}/${b}`, sex: 'female' as const })))];
}

/** An Observation that yields lookup value `key` for `gene` through reader + engine, or null if none does. */
function observationFor(gene: string, key: string, drug: string): Observation | null {
  const id = `${gene}|${key}`;
  if (chosen.has(id)) return chosen.get(id)!;
  const g = k.genes[gene]!;
  let found: Observation | null = null;
  if (g.method === 'hla') found = observation(gene, '84413-4', `${gene}${key}`);
  else if (g.method === 'phenotype') found = observation(gene, '53040-2', key);
  else if (VARIANTS.genes[gene]?.kind === 'x-linked') {
    for (const { text, sex } of xLinkedSpellings(g)) {
      const obs = observation(gene, '84413-4', text);
      const genes = readGeneResults([obs]).results;
      if (genes.length !== 1) continue;
      const single = evaluatePgxGuidance(k, { drug, genes, conditions: [], medications: [], now: NOW, sex });
      const l = single.status === 'matched' || single.status === 'no-result' ? single.lookups.find((x) => x.gene === gene) : undefined;
      if (l && l.keys.length === 1 && l.keys[0] === key) {
        found = obs;
        sexOf.set(obs, sex);
        break;
      }
    }
  } else {
    // genes read by allele function (CACNA1S, MT-RNR1, RYR1) have no diplotype table: every allele, and every pair
    const names = Object.keys(g.alleles ?? {});
    const byFunction = g.method === 'function' ? [...names, ...names.flatMap((a) => names.map((b) => `${a}/${b}`))] : [];
    const spellings = [...(diplotypes.get(gene)?.get(key) ?? []).slice(0, 60).flatMap((d) => [...new Set([asReported(gene, d), d])]), ...byFunction];
    for (const text of spellings) {
      const obs = observation(gene, '84413-4', text);
      const genes = readGeneResults([obs]).results;
      if (genes.length !== 1) continue;
      const single = evaluatePgxGuidance(k, { drug, genes, conditions: [], medications: [], now: NOW });
      if (single.status === 'matched' || single.status === 'no-result') {
        const l = single.lookups.find((x) => x.gene === gene);
        if (l && l.keys.length === 1 && l.keys[0] === key) {
          found = obs;
          break;
        }
      }
    }
  }
  chosen.set(id, found);
  return found;
}

function contextFor(rule: PopulationRule | undefined): { conditions: ConditionFact[]; ageYears?: number; medications: MedicationUse[] } {
  if (!rule) return { conditions: [], ageYears: 40, medications: [] };
  if (rule.conditions) {
    const code = rule.conditions.icd10Prefixes[0]!;
    return { conditions: [{ codes: [{ system: 'http://hl7.org/fhir/sid/icd-10-cm', code }], text: '', source: { reference: 'Condition/cov-1' } }], ageYears: 60, medications: [] };
  }
  if (rule.ageBelow !== undefined) return { conditions: [], ageYears: rule.ageBelow - 8, medications: [] };
  if (rule.ageAtLeast !== undefined) return { conditions: [], ageYears: rule.ageAtLeast + 22, medications: [] };
  if (rule.priorUseOf) {
    const date = new Date(NOW.getTime() - ((rule.priorUseDays ?? 90) + 30) * 86400000).toISOString().slice(0, 10);
    return { conditions: [], ageYears: 40, medications: [{ ingredients: [rule.priorUseOf[0]!], date, source: { reference: 'MedicationRequest/cov-prior' } }] };
  }
  return { conditions: [], medications: [] };
}

/** Rows that cannot be reached from FHIR data by design, with the reason (from the knowledge's population policies). */
const EXCEPTIONS: { drug: string; population: string; reason: string }[] = Object.entries(k.populations).flatMap(([drug, p]) =>
  Object.entries(p.unreachable ?? {}).map(([population, reason]) => ({ drug, population, reason })),
);

test('every CPIC recommendation row is reached from FHIR Observations through the reader and the engine', () => {
  const failures: string[] = [];
  const excepted: RecommendationRow[] = [];
  let reached = 0;
  let total = 0;
  for (const [drug, rows] of k.byDrug) {
    const policy = k.populations[drug];
    for (const row of rows) {
      total++;
      if (EXCEPTIONS.some((e) => e.drug === drug && e.population === row.population)) {
        excepted.push(row);
        continue;
      }
      const rule = policy?.rules.find((r) => r.population === row.population);
      if (policy && !rule && policy.default !== row.population) {
        failures.push(`${row.id} ${drug}: population ${row.population} has no rule`);
        continue;
      }
      const obs: Observation[] = [];
      let ok = true;
      for (const [gene, key] of Object.entries(row.lookup)) {
        if (key === 'No Result') continue;
        const o = observationFor(gene, key, drug);
        if (!o) {
          failures.push(`${row.id} ${drug}: no Observation yields ${gene} ${key}`);
          ok = false;
          break;
        }
        obs.push(o);
      }
      if (!ok) continue;
      const genes = readGeneResults(obs).results;
      const sex = obs.map((o) => sexOf.get(o)).find(Boolean);
      const out = evaluatePgxGuidance(k, { drug, genes, ...contextFor(rule), now: NOW, ...(sex ? { sex } : {}) });
      if (out.status !== 'matched') failures.push(`${row.id} ${drug} ${JSON.stringify(row.lookup)} ${row.population}: ${out.status}`);
      else if (out.row.id !== row.id) failures.push(`${row.id} ${drug} ${JSON.stringify(row.lookup)} ${row.population}: got ${out.row.id} ${JSON.stringify(out.row.lookup)} ${out.row.population}`);
      else reached++;
    }
  }
  const exceptionTable = EXCEPTIONS.map((e) => `  ${e.drug} / ${e.population}: ${excepted.filter((r) => r.drugs.includes(e.drug) && r.population === e.population).length} rows — ${e.reason}`).join('\n');
  console.log(`${reached}/${total} CPIC recommendation rows reachable from FHIR data (${k.byDrug.size} drugs); ${excepted.length} unreachable by design:\n${exceptionTable}`);
  expect(failures).toEqual([]);
  expect(reached + excepted.length).toBe(total);
  expect(total).toBe(1996);
  expect(excepted.length).toBeLessThanOrEqual(8);
});

test('a phenotype alone (no diplotype) for an activity-score gene: one row when all candidate scores agree', () => {
  // CYP2D6 "Poor Metabolizer" = activity score 0 only; "Ultrarapid Metabolizer" covers 2.5 … ≥6.0, all "avoid" for codeine.
  for (const [phenotype, expected] of [
    ['Poor Metabolizer', '0.0'],
    ['Ultrarapid Metabolizer', undefined],
  ] as const) {
    const genes = readGeneResults([observation('CYP2D6', '53040-2', phenotype)]).results;
    const out = evaluatePgxGuidance(k, { drug: 'codeine', genes, conditions: [], medications: [], now: NOW });
    expect(out.status).toBe('matched');
    if (out.status !== 'matched') continue;
    if (expected) expect(out.row.lookup['CYP2D6']).toBe(expected);
    else expect(out.row.action).toBe('avoid');
  }
});
