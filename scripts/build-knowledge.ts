// Builds knowledge/pgx-genes.json and knowledge/pgx-recommendations.json from the CPIC tables in ../shared/data/cpic
// (plus the reviewed additions in scripts/pgx-curation.json). Deterministic: sorted keys, no timestamps.
//
//   npm run build:knowledge                      # writes ./knowledge
//   tsx scripts/build-knowledge.ts --src <cpic dir> --out <dir>
//
// What is stored, and why (the engine needs no more):
// - activity-score genes (CYP2C9, CYP2D6, DPYD): allele activity values and the score → phenotype rows; the engine
//   sums the two alleles. Every diplotype row of the CPIC table is checked against that sum here, and the few rows
//   where the table says something else are stored as overrides, so the result equals the table for every row.
// - other genes with a diplotype table: phenotype → diplotypes, without the Indeterminate rows (a diplotype of known
//   alleles that is not listed is Indeterminate).
// - recommendations: one row per CPIC recommendation, texts de-duplicated into a table; each row carries the action
//   this build derives from its text and flags (classifyAction), the dose factor when the text states one clear
//   percentage (doseFactorOf), and the alternatives it names.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { alleleAlias, canonicalDiplotype, diplotypeActivity, formatActivity, parseActivity, phenotypeOfActivity, splitDiplotype } from '../src/dosing/pgx/alleles.js';
import type { GeneKnowledge, GenesFile, PgxAction, Provenance, RecommendationRow, RecommendationsFile } from '../src/knowledge/pgx.js';
import { functionGenes } from './knowledge/functions.js';
import { buildVariantCatalogue, type NamedAlleleCuration, type VariantSources } from './knowledge/variants.js';

const ACTIVITY_GENES = new Set(['CYP2C9', 'CYP2D6', 'DPYD']);
const HLA_GENES = new Set(['HLA-A', 'HLA-B']);

interface RawRec {
  id: string;
  guideline_id: string;
  guideline_name: string;
  drugs: string[];
  population: string;
  classification: string;
  lookup_key: Record<string, string>;
  implications: Record<string, string>;
  recommendation: string;
  dosing_information: boolean;
  alternate_drug_available: boolean;
  other_prescribing_guidance: boolean;
}
interface RawGuideline {
  pharmgkb_guideline_id: string;
  name: string;
  pharmgkb_url: string;
  cpic_guideline_name: string | null;
  cpic_url: string | null;
  drugs: string[];
  genes: string[];
  has_recommendation_table: boolean;
  pmids: string[];
  data_version: string;
}

function tsv(file: string): Record<string, string>[] {
  const lines = readFileSync(file, 'utf8').split('\n').filter((l) => l.length > 0);
  const head = lines[0]!.split('\t');
  return lines.slice(1).map((l) => {
    const cells = l.split('\t');
    return Object.fromEntries(head.map((h, i) => [h, cells[i] ?? '']));
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Recommendation text → action
// ---------------------------------------------------------------------------------------------------------------

const NONE = /^(?:no recommendation|n\/a$|no action recommended|insufficient evidence)/i;
const AVOID = /\bavoid\b|\b(?:is|are) (?:not recommended|contraindicated)\b|\brelatively contraindicated\b|\bdo not use\b|\bshould not be used\b/i;
const NOT_AVOID = /\bno (?:need|reason) to avoid\b|\bavoid (?:moderate|strong|concomitant)\b[^.]*/gi;
/** "if alternative agents are not available, consider …" is a caution for that case, not a call for an alternative */
const NOT_ALTERNATIVE = /\balternative agents are not available\b/gi;
const ALTERNATIVE = /\balternative\b|\bin lieu of\b|\bnot (?:predominantly |primarily )?metabolized by\b|\bconsider rosuvastatin\b|\baromatase inhibitor\b/i;
const DOSE_CHANGE = /\d+\s*%|\breduc|\blower (?:starting |maintenance )?dose|\blowest recommended starting dose|\bdecreased? dose|\bincreas\w* (?:the )?(?:starting )?(?:daily )?dose|\bhigher (?:target |maintenance )?dose|≤|<\s*\d+\s*mg|\binitiate with a dose|\binitiate dose at|\bslower titration|\bdrastically/i;
const STANDARD = /start with normal starting dose|prescribe desired starting dose|recommended starting dose|standard (?:starting )?(?:daily )?dose|per standard dosing|label[- ]recommended|according to the product label|standard of care dosing|standard dosing|standard recommended dose|no indication to change|no reason to avoid|no need to avoid|no adjustments needed|at standard doses?/i;
const CAUTION = /\bcaution\b|\bmonitor closely\b|\bclose monitoring\b|\bshould be aware\b|\benzyme activity must be measured\b|\bshould guide use\b|\bconsider evaluating\b/i;

/** The main recommendation (without CPIC's "OTHER CONSIDERATIONS"). */
export function mainText(t: string): string {
  return t.split(/OTHER CONSIDERATIONS:?/)[0]!.replace(/\s+/g, ' ').trim();
}

function sentences(t: string): string[] {
  return t
    .split(/(?<=[.;])\s+(?=[A-Z])/)
    .map((s) => s.trim())
    .filter(Boolean);
}

function firstOf(s: string, a: RegExp, b: RegExp): 'a' | 'b' | undefined {
  const ia = s.search(a);
  const ib = s.search(b);
  if (ia < 0 && ib < 0) return undefined;
  if (ia < 0) return 'b';
  if (ib < 0) return 'a';
  return ia <= ib ? 'a' : 'b';
}

/**
 * What the recommendation asks the prescriber to do, judged from its text (first sentence first) and PharmGKB's flags.
 * avoid → critical card; alternative, dose → warning; caution → info card; standard, none → no card by default.
 */
export function classifyAction(r: Pick<RawRec, 'classification' | 'recommendation' | 'dosing_information' | 'alternate_drug_available' | 'other_prescribing_guidance'>): PgxAction {
  const main = mainText(r.recommendation);
  if (r.classification === 'No recommendation' || r.classification === 'N/A' || NONE.test(main)) return 'none';
  if (AVOID.test(main.replace(NOT_AVOID, ' '))) return 'avoid';
  const ss = sentences(main.replace(NOT_ALTERNATIVE, 'alternatives unavailable'))
    .filter((s) => !/^avoid (?:moderate|strong)\b/i.test(s));
  const s1 = ss[0] ?? '';
  const kind = (s: string): PgxAction | undefined => {
    const w = firstOf(s, ALTERNATIVE, DOSE_CHANGE);
    return w === 'a' ? 'alternative' : w === 'b' ? 'dose' : undefined;
  };
  const k1 = kind(s1);
  if (k1) return k1;
  if (STANDARD.test(s1)) {
    const rest = ss.slice(1).filter((s) => !/^if\b/i.test(s));
    for (const s of rest) {
      const k = kind(s);
      if (k) return k;
    }
    return [s1, ...rest].some((s) => CAUTION.test(s)) ? 'caution' : 'standard';
  }
  if (CAUTION.test(main)) return 'caution';
  if (r.dosing_information) return 'dose';
  if (r.alternate_drug_available) return 'alternative';
  return r.other_prescribing_guidance ? 'caution' : 'standard';
}

/** One clear percentage of the starting dose ("Reduce starting dose by 50%"); ranges and other doses are not read. */
export function doseFactorOf(text: string): { factor: number; phrase: string } | undefined {
  const main = mainText(text);
  const patterns: [RegExp, (p: number) => number][] = [
    [/reduce starting dose by (\d{1,2})%/i, (p) => 1 - p / 100],
    [/consider a (\d{1,2})% reduction (?:of|in) (?:the )?recommended starting dose/i, (p) => 1 - p / 100],
    [/reduce starting doses? to (\d{1,2})% of (?:the )?normal dose/i, (p) => p / 100],
    [/initiate (\d{1,2})% of (?:the )?starting dose/i, (p) => p / 100],
    [/increase starting daily dose by (\d{2,3})%/i, (p) => 1 + p / 100],
  ];
  const found = patterns.flatMap(([re, f]) => {
    const m = re.exec(main);
    return m ? [{ factor: Math.round(f(Number(m[1])) * 1000) / 1000, phrase: m[0] }] : [];
  });
  // Two different percentages in one text (e.g. starting vs maintenance) are not a clear instruction.
  const factors = new Set(found.map((f) => f.factor));
  return factors.size === 1 ? found[0] : undefined;
}

/**
 * A starting dose per body surface area the text states as the one to initiate ("initiate dose at 10 mg/m2/day",
 * mercaptopurine with NUDT15 Poor Metabolizer). Examples ("e.g., 10 mg/m2/day given just 3 days/week") are not read.
 */
export function bsaDoseOf(text: string): { mgPerM2PerDay: number; phrase: string } | undefined {
  const m = /initiate (?:the )?dose at (\d{1,3}(?:\.\d{1,2})?) mg\/m2\/day/i.exec(mainText(text));
  return m ? { mgPerM2PerDay: Number(m[1]), phrase: m[0] } : undefined;
}

// ---------------------------------------------------------------------------------------------------------------
// Deterministic JSON
// ---------------------------------------------------------------------------------------------------------------

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === 'object') {
    return Object.fromEntries(
      Object.keys(v as Record<string, unknown>)
        .sort()
        .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
        .map((k) => [k, sortKeys((v as Record<string, unknown>)[k])]),
    );
  }
  return v;
}

/** Pretty to `depth` levels, compact below: one recommendation / gene entry per line keeps diffs readable. */
export function stableJson(v: unknown, depth = 2, indent = ''): string {
  const s = sortKeys(v);
  const go = (x: unknown, d: number, ind: string): string => {
    if (d >= depth || x === null || typeof x !== 'object') return JSON.stringify(x);
    const next = `${ind}  `;
    if (Array.isArray(x)) {
      if (x.length === 0) return '[]';
      return `[\n${x.map((e) => next + go(e, d + 1, next)).join(',\n')}\n${ind}]`;
    }
    const entries = Object.entries(x as Record<string, unknown>);
    if (entries.length === 0) return '{}';
    return `{\n${entries.map(([k, e]) => `${next}${JSON.stringify(k)}: ${go(e, d + 1, next)}`).join(',\n')}\n${ind}}`;
  };
  return `${go(s, 0, indent)}\n`;
}

// ---------------------------------------------------------------------------------------------------------------
// Build
// ---------------------------------------------------------------------------------------------------------------

interface Curation {
  populations: Record<string, unknown>;
  alternatives: { drugs: { name: string; display?: string; rxcui?: string; source?: string; cpic?: boolean; match: string[] }[]; contraindicatedWhen: { drug: string; population: string; note: string }[] };
  synonyms: Record<string, string[] | string>;
  products: { list: unknown[] };
  genotypeTests: { textTemplate: string };
  namedAlleles: Record<string, NamedAlleleCuration | string>;
}

export function buildKnowledge(srcDir: string, curationFile: string, namedAllelesFile: string): Record<string, string> {
  const recFile = JSON.parse(readFileSync(path.join(srcDir, 'recommendations.json'), 'utf8')) as { _source: Record<string, string>; recommendations: RawRec[] };
  const glFile = JSON.parse(readFileSync(path.join(srcDir, 'guidelines.json'), 'utf8')) as { _source: Record<string, string>; guidelines: RawGuideline[] };
  const alleleRows = tsv(path.join(srcDir, 'allele_functions.tsv'));
  const diploRows = tsv(path.join(srcDir, 'diplotype_phenotypes.tsv'));
  const geneRows = tsv(path.join(srcDir, 'genes.tsv'));
  const drugRows = tsv(path.join(srcDir, 'drugs.tsv'));
  const targetRows = tsv(path.join(srcDir, 'target_pairs.tsv'));
  const curation = JSON.parse(readFileSync(curationFile, 'utf8')) as Curation;
  const recs = recFile.recommendations;

  // ---- genes ----
  const lookupValues = new Map<string, Set<string>>();
  for (const r of recs) for (const [g, k] of Object.entries(r.lookup_key)) (lookupValues.get(g) ?? lookupValues.set(g, new Set()).get(g)!).add(k);
  const hgnc = new Map(geneRows.map((g) => [g['symbol']!, g['hgnc_id']!]));
  const genes: Record<string, GeneKnowledge> = {};
  const versions = new Map<string, string>();
  const checks: string[] = [];
  for (const gene of [...lookupValues.keys()].sort()) {
    const values = [...lookupValues.get(gene)!].sort();
    const aRows = alleleRows.filter((a) => a['gene'] === gene);
    const dRows = diploRows.filter((d) => d['gene'] === gene);
    const version = dRows[0]?.['source_version'] ?? aRows[0]?.['source_version'];
    if (version) versions.set(gene, version);
    const base = { ...(hgnc.get(gene) ? { hgnc: hgnc.get(gene)! } : {}), ...(version ? { version } : {}), lookupValues: values };
    const aliases: Record<string, string> = {};
    for (const a of aRows) {
      const al = alleleAlias(a['allele']!);
      if (al !== a['allele']) aliases[al] = a['allele']!;
    }
    if (ACTIVITY_GENES.has(gene) && dRows.length > 0) {
      const alleles = Object.fromEntries(aRows.map((a) => [a['allele']!, a['activity_value'] || 'n/a']));
      const scoreMap = new Map<string, string>();
      for (const d of dRows) scoreMap.set(d['lookup_key']!, d['phenotype']!);
      const scorePhenotypes = [...scoreMap.entries()]
        .filter(([k]) => k !== 'n/a')
        .sort(([a], [b]) => {
          const x = parseActivity(a);
          const y = parseActivity(b);
          const vx = x === 'n/a' ? -1 : x.value + (x.atLeast ? 0.001 : 0);
          const vy = y === 'n/a' ? -1 : y.value + (y.atLeast ? 0.001 : 0);
          return vx - vy;
        }) as [string, string][];
      const overrides: Record<string, string> = {};
      for (const d of dRows) {
        const parts = splitDiplotype(d['diplotype']!)!;
        const canon = canonicalDiplotype(parts[0], parts[1]);
        const a = diplotypeActivity(canon, alleles, aliases);
        const key = a === undefined ? undefined : formatActivity(a);
        if (key !== d['lookup_key']) overrides[canon] = d['lookup_key']!;
        else if (a !== undefined && phenotypeOfActivity(a, scorePhenotypes) !== d['phenotype']) throw new Error(`${gene} ${d['diplotype']}: phenotype ${d['phenotype']} is not the score's`);
      }
      checks.push(`${gene}: ${dRows.length} diplotype rows, ${dRows.length - Object.keys(overrides).length} reproduced from allele activity values, ${Object.keys(overrides).length} stored as overrides`);
      genes[gene] = { ...base, method: 'activity', alleles, ...(Object.keys(aliases).length ? { aliases } : {}), scorePhenotypes, ...(Object.keys(overrides).length ? { overrides } : {}) };
    } else if (dRows.length > 0) {
      const alleles = Object.fromEntries(aRows.map((a) => [a['allele']!, a['clinical_function']!]));
      for (const d of dRows) for (const p of splitDiplotype(d['diplotype']!)!) if (!(p in alleles)) alleles[p] = 'listed in diplotype table';
      const phenotypes: Record<string, string[]> = {};
      for (const d of dRows) {
        if (d['phenotype'] === 'Indeterminate') continue;
        if (d['lookup_key'] !== d['phenotype']) throw new Error(`${gene}: lookup key differs from phenotype for ${d['diplotype']}`);
        const parts = splitDiplotype(d['diplotype']!)!;
        (phenotypes[d['phenotype']!] ??= []).push(canonicalDiplotype(parts[0], parts[1]));
      }
      for (const l of Object.values(phenotypes)) l.sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
      checks.push(`${gene}: ${dRows.length} diplotype rows (${dRows.length - Object.values(phenotypes).reduce((n, l) => n + l.length, 0)} Indeterminate, not stored)`);
      genes[gene] = { ...base, method: 'diplotype', alleles, ...(Object.keys(aliases).length ? { aliases } : {}), phenotypes };
    } else {
      genes[gene] = { ...base, method: HLA_GENES.has(gene) ? 'hla' : 'phenotype' };
    }
  }

  // ---- genes read by allele function (CACNA1S, MT-RNR1) ----
  const extract = JSON.parse(readFileSync(namedAllelesFile, 'utf8')) as VariantSources['extract'];
  const namedCuration = Object.fromEntries(Object.entries(curation.namedAlleles).filter(([k]) => !k.startsWith('_'))) as Record<string, NamedAlleleCuration>;
  const byFunction = functionGenes(
    {
      extract: extract.genes,
      rules: Object.fromEntries(Object.entries(namedCuration).map(([g, c]) => [g, c.functionRules])),
      kinds: Object.fromEntries(Object.entries(namedCuration).map(([g, c]) => [g, c.kind])),
    },
    genes,
  );
  Object.assign(genes, byFunction.genes);
  checks.push(...byFunction.checks);

  // ---- texts, recommendations ----
  const texts: string[] = [];
  const textIndex = new Map<string, number>();
  const tid = (t: string): number => {
    const clean = t.replace(/\r/g, '').trim();
    let i = textIndex.get(clean);
    if (i === undefined) {
      i = texts.length;
      texts.push(clean);
      textIndex.set(clean, i);
    }
    return i;
  };
  const altDrugs = curation.alternatives.drugs;
  const rows: RecommendationRow[] = [...recs]
    .sort((a, b) => a.id.localeCompare(b.id))
    .map((r) => {
      // alternatives named in the recommendation, or in an "other considerations" sentence that lists alternatives
      const named = [
        mainText(r.recommendation),
        ...sentences(r.recommendation.replace(/\s+/g, ' ')).filter((x) => /\balternative\b/i.test(x) && /\b(?:include|such as)\b/i.test(x)),
      ]
        .join(' ')
        .toLowerCase();
      const alternatives = altDrugs.filter((a) => !r.drugs.includes(a.name) && a.match.some((m) => named.includes(m))).map((a) => a.name);
      const action = classifyAction(r);
      const dose = action === 'avoid' || action === 'alternative' || action === 'dose' ? doseFactorOf(r.recommendation) : undefined;
      const perM2 = action === 'alternative' || action === 'dose' ? bsaDoseOf(r.recommendation) : undefined;
      return {
        id: r.id,
        guideline: r.guideline_id,
        drugs: [...r.drugs].sort(),
        population: r.population,
        classification: r.classification,
        lookup: r.lookup_key,
        implications: Object.fromEntries(Object.entries(r.implications).map(([g, t]) => [g, tid(t)])),
        text: tid(r.recommendation),
        flags: { dosing: r.dosing_information, alternative: r.alternate_drug_available, other: r.other_prescribing_guidance },
        action,
        ...(dose ? { doseFactor: dose.factor, doseFactorText: dose.phrase } : {}),
        ...(perM2 && !dose ? { startingDosePerM2: perM2 } : {}),
        ...(alternatives.length && (action === 'avoid' || action === 'alternative' || action === 'dose') ? { alternatives } : {}),
      };
    });
  // texts in first-use order of the id-sorted rows: deterministic

  // ---- guidelines ----
  const staleThiopurine = 'These thiopurine recommendations (CPIC DB v1.38, 2024-03) predate the CPIC 2025-2026 thiopurine guideline update (CPIC data change log 2026-02-03/04): check the current guideline before acting.';
  const guidelines: RecommendationsFile['guidelines'] = {};
  for (const g of glFile.guidelines) {
    if (!g.has_recommendation_table) continue;
    const notes: string[] = [];
    if (g.drugs.some((d) => ['azathioprine', 'mercaptopurine', 'thioguanine'].includes(d))) notes.push(staleThiopurine);
    guidelines[g.pharmgkb_guideline_id] = {
      id: g.pharmgkb_guideline_id,
      name: g.name.replace(/^Annotation of /, ''),
      ...(g.cpic_guideline_name ? { cpicName: g.cpic_guideline_name } : {}),
      url: g.cpic_url ?? g.pharmgkb_url,
      pharmgkbUrl: g.pharmgkb_url,
      drugs: [...g.drugs].sort(),
      genes: [...g.genes].sort(),
      pmids: g.pmids,
      version: `CPIC recommendations via PharmCAT, data version ${g.data_version}`,
      notes,
    };
  }

  // ---- drugs ----
  const rxByName = new Map<string, string>();
  for (const d of drugRows) if (d['rxnorm_cui']) rxByName.set(d['name']!, d['rxnorm_cui']!);
  for (const t of targetRows) if (t['rxnorm_cui'] && !rxByName.has(t['drug']!)) rxByName.set(t['drug']!, t['rxnorm_cui']!);
  const strengthRank: Record<string, number> = { Strong: 3, Moderate: 2, Optional: 1 };
  const drugs: RecommendationsFile['drugs'] = {};
  for (const r of rows) {
    for (const name of r.drugs) {
      const d = (drugs[name] ??= {
        name,
        ...(rxByName.get(name) ? { rxcui: rxByName.get(name)! } : {}),
        synonyms: [...new Set([name, ...((curation.synonyms[name] as string[] | undefined) ?? [])])],
        guideline: r.guideline,
        genes: [],
        populations: [],
        testStrength: {},
      });
      if (d.guideline !== r.guideline) throw new Error(`${name} is in two guidelines`);
      for (const g of Object.keys(r.lookup)) if (!d.genes.includes(g)) d.genes.push(g);
      if (!d.populations.includes(r.population)) d.populations.push(r.population);
      if (r.action === 'avoid' || r.action === 'alternative' || r.action === 'dose') {
        for (const [g, v] of Object.entries(r.lookup)) {
          if (v === 'No Result' || !(r.classification in strengthRank)) continue;
          const cur = d.testStrength[g];
          if (!cur || strengthRank[r.classification]! > strengthRank[cur]!) d.testStrength[g] = r.classification;
        }
      }
    }
  }
  for (const d of Object.values(drugs)) {
    d.genes.sort();
    d.populations.sort();
  }

  const alternatives: RecommendationsFile['alternatives'] = {};
  for (const a of altDrugs) {
    const rx = a.rxcui ?? (a.cpic ? rxByName.get(a.name) : undefined);
    alternatives[a.name] = { name: a.name, display: a.display ?? a.name, ...(rx ? { rxcui: rx } : {}), ...(a.source ? { source: a.source } : a.cpic && rx ? { source: 'CPIC drugs.tsv' } : {}) };
  }
  const populations = Object.fromEntries(Object.entries(curation.populations).filter(([k]) => !k.startsWith('_'))) as RecommendationsFile['populations'];
  for (const [drug, p] of Object.entries(populations)) {
    const known = drugs[drug]?.populations ?? [];
    for (const pop of [p.default, ...p.rules.map((r) => r.population), ...Object.keys(p.unreachable ?? {})]) {
      if (!known.includes(pop)) throw new Error(`curation: population "${pop}" is not used by ${drug}'s recommendations`);
    }
  }
  for (const [drug, d] of Object.entries(drugs)) {
    if (d.populations.length > 1 && !populations[drug]) throw new Error(`curation: ${drug} has populations ${d.populations.join(', ')} but no population policy`);
  }

  // ---- provenance ----
  const licence = [
    'CPIC content: CC0 1.0 Universal (cpicpgx/cpic-data LICENSE.md). Cite CPIC and the guideline (URL, date, version).',
    'PharmGKB/ClinPGx curation (recommendation IDs, annotation names, the dosing/alternative/other-guidance flags): ClinPGx data-usage policy, usually cited as CC BY-SA 4.0.',
    'PharmCAT phenotype and allele-definition files: CPIC/PharmVar content shipped in the MPL-2.0 PharmCAT repository.',
  ];
  const attribution =
    'Clinical Pharmacogenetics Implementation Consortium (CPIC®) guidelines, https://cpicpgx.org/guidelines/ ; recommendation annotations from PharmGKB/ClinPGx (https://www.clinpgx.org) via PharmCAT (https://pharmcat.org). CPIC content is used without modification of the recommendation text.';
  const recSource = { what: 'CPIC recommendations and guideline list (PharmGKB guideline annotations)', repo: 'PharmGKB/PharmCAT', path: recFile._source['path'] ?? '', commit: recFile._source['commit'] ?? '', version: recFile._source['data_version'] ?? '' };
  const geneVersions = [...new Set(versions.values())].sort();
  const geneSource = (v: string) => ({
    what: `Allele function and diplotype → phenotype tables (${[...versions.entries()].filter(([, x]) => x === v).map(([g]) => g).join(', ')})`,
    repo: 'PharmGKB/PharmCAT',
    path: 'src/main/resources/org/pharmgkb/pharmcat/phenotype/',
    commit: v.startsWith('2024-08-27') ? 'c8100ec878f6d0731ba9f1403f1a5ecb91061abb' : '5431bf1187e50383df7e7db18ef67b36fc8b562e',
    version: v,
  });
  const idsSource = { what: 'Gene (HGNC) and drug (RxNorm) identifiers', repo: 'cpicpgx/cpic-data', path: 'src/main/resources/db/migration/V2__initial_data.sql', commit: '459e3ebdccdccbe515a71dacf038ec532d1bc68d', version: 'release 1.56.0' };
  const builtBy = 'scripts/build-knowledge.ts from ../shared/data/cpic (see its README for the extraction) and scripts/pgx-curation.json';
  const genesProv: Provenance = { sources: [...geneVersions.map(geneSource), idsSource], licence, attribution, builtBy, notes: checks };
  const recProv: Provenance = {
    sources: [recSource, idsSource],
    licence,
    attribution,
    builtBy,
    notes: [
      'Warfarin has no CPIC recommendation table (flowchart + dosing algorithm): it is handled by the warfarin evaluator, not by these rows.',
      'Thiopurines (azathioprine, mercaptopurine, thioguanine): recommendations predate the CPIC 2025-2026 update.',
      'CPIC evidence levels (A/B) are not in these tables; the card shows the recommendation classification (Strong/Moderate/Optional).',
      'Actions (avoid/alternative/dose/caution/standard/none), dose factors and named alternatives are derived by this build from the recommendation text; they are not CPIC fields.',
      'No product (SCD/SBD) RxNorm codes: orders are recognised by ingredient code or by name in the display text.',
    ],
  };

  // ---- named-allele variants (DPYD, RYR1, CACNA1S, G6PD, MT-RNR1) ----
  const extractSources = Object.entries(extract.genes).flatMap(([gene, e]) =>
    [e.source.definitions, e.source.functions].filter((x): x is NonNullable<typeof x> => !!x).map((x) => ({ what: `${gene} allele definitions and functions (via scripts/pgx-named-alleles.json)`, repo: x.repo, path: x.path, commit: x.commit, version: x.version ?? '' })),
  );
  const variantsFile = buildVariantCatalogue({
    alleleDefinitions: tsv(path.join(srcDir, 'allele_definitions.tsv')),
    definitionVariants: tsv(path.join(srcDir, 'allele_definition_variants.tsv')),
    alleleFunctions: alleleRows,
    extract,
    curation: namedCuration,
    provenance: {
      sources: [
        { what: 'Allele definitions (GRCh38 positions, rsIDs, defining bases) and allele functions (DPYD; rsID → gene for all genes)', repo: 'PharmGKB/PharmCAT', path: 'src/main/resources/org/pharmgkb/pharmcat/definition/alleles/', commit: '5431bf1187e50383df7e7db18ef67b36fc8b562e', version: versions.get('DPYD') ?? '' },
        ...extractSources,
      ],
      licence,
      attribution,
      builtBy: `${builtBy} and scripts/pgx-named-alleles.json`,
      notes: ['GRCh37 positions only where two sources state them (scripts/pgx-curation.json namedAlleles); other GRCh37 positions are not read.'],
    },
  });

  const genesFile: GenesFile = { provenance: genesProv, genes };
  const recommendationsFile: RecommendationsFile = {
    provenance: recProv,
    guidelines,
    drugs,
    populations,
    alternatives,
    contraindicatedAlternatives: curation.alternatives.contraindicatedWhen,
    genotypeTestText: curation.genotypeTests.textTemplate,
    texts,
    recommendations: rows,
  };
  return {
    'pgx-genes.json': stableJson(genesFile, 3),
    'pgx-recommendations.json': stableJson(recommendationsFile, 2),
    'pgx-variants.json': stableJson(variantsFile, 3),
  };
}

function main(): void {
  const args = process.argv.slice(2);
  const opt = (name: string, dflt: string) => {
    const i = args.indexOf(name);
    return i >= 0 && args[i + 1] ? path.resolve(args[i + 1]!) : dflt;
  };
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
  const src = opt('--src', path.resolve(root, '../shared/data/cpic'));
  const out = opt('--out', path.resolve(root, 'knowledge'));
  const files = buildKnowledge(src, path.join(root, 'scripts/pgx-curation.json'), path.join(root, 'scripts/pgx-named-alleles.json'));
  mkdirSync(out, { recursive: true });
  for (const [name, content] of Object.entries(files)) {
    writeFileSync(path.join(out, name), content);
    process.stdout.write(`${path.join(out, name)}: ${(Buffer.byteLength(content) / 1024).toFixed(0)} KiB\n`);
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
