// Builds knowledge/dpwg-recommendations.json from the DPWG guideline files in ../shared/data/dpwg (PharmCAT's
// DPWG_*.json, copied byte for byte). Deterministic: sorted keys, no timestamps. Called by `npm run build:knowledge`
// after the CPIC build (scripts/build-knowledge.ts), or on its own:
//
//   tsx scripts/build-dpwg.ts [--src <dpwg dir>] [--cpic <cpic dir>] [--out <dir>] [--genes <pgx-genes.json>]
//
// What is stored, and why:
// - one row per DPWG recommendation, its HTML text turned into plain text here (tags stripped, entities decoded;
//   the cards escape it again for Markdown), the action derived with the CPIC build's classifyAction, and the
//   lookup key mapped onto the CPIC lookup vocabulary so that the same genotype → phenotype step serves both:
//   phenotypes and CYP2D6 activity scores as they are; DPYD "1.0 (Intermediate Metabolizer)" → "1.0"; a phenotype row
//   of an activity-score gene (CYP2C9 "Intermediate Metabolizer") → one row per activity score with that phenotype;
//   VKORC1 "-1639 AG" kept (read from the rs9923231 genotype); allele-count objects ({"*1": 1, "*3": 1}) → the
//   diplotype "*1/*3", used in place of the phenotype row when the lab reports exactly that diplotype.
// - rows no genotype can reach are listed with the reason (`unreachable`); genes without a phenotype table in
//   ../shared/data/cpic (CYP3A4) are listed as not interpretable (`uninterpretableGenes`).
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { canonicalDiplotype } from '../src/dosing/pgx/alleles.js';
import type { DpwgFile, DpwgRow } from '../src/knowledge/dpwg.js';
import type { GenesFile, PgxAction } from '../src/knowledge/pgx.js';
import { classifyAction, stableJson } from './build-knowledge.js';

interface RawDpwgRec {
  id: string;
  population: string | null;
  classification: { term: string } | null;
  relatedChemicals: { name: string }[];
  text: { html: string };
  implications: string[];
  lookupKey: Record<string, string | Record<string, number>>;
  dosingInformation: boolean;
  alternateDrugAvailable: boolean;
  otherPrescribingGuidance: boolean;
}
interface RawDpwgFile {
  guideline: { id: string; name: string; source: string; version: number; url: string; relatedChemicals: { name: string }[]; relatedGenes: { symbol: string }[] };
  recommendations: RawDpwgRec[];
  citations: { pmid?: string }[];
  version: string;
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ', ge: '≥', le: '≤', micro: 'µ', deg: '°', times: '×', plusmn: '±', ndash: '–', mdash: '—' };

/** DPWG HTML → plain text: list items on their own line with "- ", paragraphs as lines, tags stripped, entities decoded. */
export function htmlToText(html: string): string {
  const text = html
    .replace(/<br\s*\/?>/gi, '\n')
    .replace(/<li[^>]*>/gi, '\n- ')
    .replace(/<\/(?:p|li|ul|ol)>/gi, '\n')
    .replace(/<[^>]*>/g, '')
    .replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (m, e: string) => {
      if (e[0] === '#') {
        const n = e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
        return Number.isFinite(n) && n > 0 && n < 0x110000 ? String.fromCodePoint(n) : m;
      }
      return ENTITIES[e.toLowerCase()] ?? m;
    });
  return text
    .split('\n')
    .map((l) => l.replace(/[ \t\u00a0]+/g, ' ').trim())
    .filter((l) => l && l !== '-')
    .join('\n');
}

const NO_ACTION = /^(?:-\s*)?no action is (?:needed|required)\b/i;
const NO_RECOMMENDATION = /^the guideline does not provide a recommendation\b/i;

/** The action of a DPWG text: CPIC's classifier (DPWG's "N/A" strength is not "no recommendation"), DPWG's own "NO action". */
export function dpwgAction(r: RawDpwgRec, text: string): PgxAction {
  const flat = text.replace(/\n- /g, ' ').replace(/\n/g, ' ');
  if (r.classification?.term === 'No recommendation' || NO_RECOMMENDATION.test(flat)) return 'none';
  if (NO_ACTION.test(flat)) return 'standard';
  return classifyAction({ classification: '', recommendation: flat, dosing_information: r.dosingInformation, alternate_drug_available: r.alternateDrugAvailable, other_prescribing_guidance: r.otherPrescribingGuidance });
}

/** One clear percentage of the standard dose in a DPWG text ("use 50% of the standard dose", "1.5x higher"). */
export function dpwgDoseFactor(text: string): { factor: number; phrase: string } | undefined {
  const patterns: [RegExp, (m: RegExpExecArray) => number][] = [
    [/\b(?:use|start with|prescribe|initial dose (?:of|that is)?|reduce the (?:initial )?dose to) (\d{1,3})% of the (?:standard|normal) (?:initial )?dose\b/gi, (m) => Number(m[1]) / 100],
    [/\b(?:use )?an initial dose that is (\d(?:\.\d)?)x higher\b/gi, (m) => Number(m[1])],
  ];
  const found: { factor: number; phrase: string }[] = [];
  for (const [re, f] of patterns) for (const m of text.matchAll(re)) found.push({ factor: Math.round(f(m) * 1000) / 1000, phrase: m[0] });
  const factors = new Set(found.map((x) => x.factor));
  return factors.size === 1 ? found[0] : undefined;
}

function tsv(file: string): Record<string, string>[] {
  const lines = readFileSync(file, 'utf8').split('\n').filter((l) => l.length > 0);
  const head = lines[0]!.split('\t');
  return lines.slice(1).map((l) => Object.fromEntries(head.map((h, i) => [h, l.split('\t')[i] ?? ''])));
}

/** The DPWG lookup value → the CPIC lookup value(s) of the same genotype → phenotype step, or why none. */
function mapLookup(gene: string, v: string | Record<string, number>, genes: GenesFile['genes']): { keys: string[]; diplotype?: string } | { unreachable: string } {
  if (typeof v === 'object') {
    const alleles = Object.entries(v).flatMap(([a, n]) => Array.from({ length: n }, () => a));
    if (alleles.length !== 2) return { unreachable: `allele-count key ${JSON.stringify(v)} is not two alleles` };
    return { keys: [], diplotype: canonicalDiplotype(alleles[0]!, alleles[1]!) };
  }
  if (gene === 'VKORC1') return /^-1639 (?:GG|AG|AA)$/.test(v) ? { keys: [v] } : { unreachable: `VKORC1 value "${v}" is not a -1639 genotype` };
  const g = genes[gene];
  if (!g) return { unreachable: `no ${gene} phenotype table in ../shared/data/cpic` };
  if (g.method === 'hla') return /^\*\d{2,3}:\d{2,3} (?:positive|negative)$/.test(v) ? { keys: [v] } : { unreachable: `HLA key "${v}" combines two alleles; the engine reads one HLA allele per row (the DPWG text gives no recommendation for it)` };
  if (g.method === 'activity') {
    const score = /^(≥?\d+\.\d+)(?: \(.+\))?$/.exec(v)?.[1];
    if (score) return (g.scorePhenotypes ?? []).some(([k]) => k === score) ? { keys: [score] } : { unreachable: `${gene} activity score ${score} is not in the CPIC table` };
    const keys = (g.scorePhenotypes ?? []).filter(([, p]) => p === v).map(([k]) => k);
    return keys.length ? { keys } : { unreachable: `${gene} "${v}" is neither an activity score nor a phenotype of the CPIC table` };
  }
  return { keys: [v] };
}

export function buildDpwg(dpwgDir: string, cpicDir: string, genesFile: GenesFile): string {
  const files = readdirSync(dpwgDir).filter((f) => /^DPWG_.*\.json$/.test(f)).sort();
  const raw = files.map((f) => ({ file: f, data: JSON.parse(readFileSync(path.join(dpwgDir, f), 'utf8')) as RawDpwgFile }));
  const rx = new Map<string, string>();
  for (const d of tsv(path.join(cpicDir, 'drugs.tsv'))) if (d['rxnorm_cui']) rx.set(d['name']!, d['rxnorm_cui']!);
  const genes = genesFile.genes;
  const texts: string[] = [];
  const textIndex = new Map<string, number>();
  const tid = (t: string): number => {
    let i = textIndex.get(t);
    if (i === undefined) textIndex.set(t, (i = texts.push(t) - 1));
    return i;
  };
  const guidelines: DpwgFile['guidelines'] = {};
  const drugs: DpwgFile['drugs'] = {};
  const rows: DpwgRow[] = [];
  const unreachable: DpwgFile['unreachable'] = [];
  const uninterpretable: Record<string, string> = {};
  const dataDates = new Set<string>();
  for (const { file, data } of raw) {
    const gl = data.guideline;
    const gs = gl.relatedGenes.map((g) => g.symbol).sort();
    const ds = gl.relatedChemicals.map((c) => c.name).sort();
    const dataDate = data.version.slice(0, 10);
    dataDates.add(dataDate);
    guidelines[gl.id] = {
      id: gl.id,
      name: gl.name.replace(/^Annotation of /, ''),
      url: gl.url,
      pharmgkbUrl: gl.url,
      drugs: ds,
      genes: gs,
      pmids: data.citations.flatMap((c) => (c.pmid ? [c.pmid] : [])),
      version: `DPWG guideline version ${gl.version} via PharmCAT, data date ${dataDate}`,
      notes: [],
      file,
      dataDate,
      guidelineVersion: gl.version,
    };
    for (const g of gs) if (!genes[g] && g !== 'VKORC1') uninterpretable[g] = `${g}: no phenotype table in ../shared/data/cpic, so a ${g} result cannot be mapped to a DPWG row; it is reported as not interpretable, never guessed`;
    for (const d of ds) {
      const dk = (drugs[d] ??= { name: d, ...(rx.get(d) ? { rxcui: rx.get(d)! } : {}), synonyms: [d], guidelines: [], genes: [] });
      if (!dk.guidelines.includes(gl.id)) dk.guidelines.push(gl.id);
      for (const g of gs) if (!dk.genes.includes(g)) dk.genes.push(g);
    }
    for (const r of [...data.recommendations].sort((a, b) => a.id.localeCompare(b.id))) {
      const text = htmlToText(r.text.html);
      const action = dpwgAction(r, text);
      const dose = action === 'avoid' || action === 'alternative' || action === 'dose' ? dpwgDoseFactor(text) : undefined;
      const [gene, value] = Object.entries(r.lookupKey)[0]!;
      const mapped = mapLookup(gene, value, genes);
      const base = {
        id: r.id,
        guideline: gl.id,
        drugs: r.relatedChemicals.map((c) => c.name).sort(),
        population: r.population ?? 'general',
        classification: r.classification?.term ?? 'N/A',
        dpwgLookup: r.lookupKey,
        implications: r.implications.length ? { [gene]: tid(htmlToText(r.implications.join(' '))) } : {},
        text: tid(text),
        flags: { dosing: r.dosingInformation, alternative: r.alternateDrugAvailable, other: r.otherPrescribingGuidance },
        action,
        ...(dose ? { doseFactor: dose.factor, doseFactorText: dose.phrase } : {}),
      };
      // DPYD "1.0 (Phenotyping)" shares its score with "1.0 (Intermediate Metabolizer)"; which score-1.0 genotypes
      // DPWG sends to phenotyping is not in these files, so that row is not applied (the guideline note says so)
      const label = typeof value === 'string' ? /\((Phenotyping)\)$/.exec(value)?.[1] : undefined;
      const score = typeof value === 'string' ? value.split(' ')[0] : undefined;
      const twin = label && !('unreachable' in mapped) ? data.recommendations.find((o) => o !== r && typeof o.lookupKey[gene] === 'string' && String(o.lookupKey[gene]).split(' ')[0] === score && !String(o.lookupKey[gene]).includes('(Phenotyping)')) : undefined;
      if (twin) {
        const reason = `${gene} "${String(value)}" has the same activity score as "${twin.lookupKey[gene]}" (${twin.id}); these files do not say which genotypes DPWG sends to phenotyping, so the row is not applied (the guideline note on every card says so)`;
        unreachable.push({ id: r.id, guideline: gl.id, lookup: JSON.stringify(r.lookupKey), reason });
        rows.push({ ...base, lookup: {}, unreachable: reason });
        guidelines[gl.id]!.notes.push(`DPWG also recommends determining the residual DPD activity (phenotyping) for some genotypes with DPYD activity score ${score} (DPWG ${r.id}); the genotype → row rule is not in the data used, so check the DPWG guideline for this patient's variants.`);
      } else if ('unreachable' in mapped) {
        unreachable.push({ id: r.id, guideline: gl.id, lookup: JSON.stringify(r.lookupKey), reason: mapped.unreachable });
        // a gene without a phenotype table keeps its key: the engine never matches it, and reports the result on file as
        // not interpretable (src/dosing/pgx/dpwg.ts)
        const keep = !genes[gene] && gene !== 'VKORC1' && typeof value === 'string';
        rows.push({ ...base, lookup: keep ? { [gene]: value } : {}, unreachable: mapped.unreachable });
      } else if (mapped.diplotype) rows.push({ ...base, lookup: {}, diplotype: { gene, diplotype: mapped.diplotype } });
      else for (const key of mapped.keys) rows.push({ ...base, lookup: { [gene]: key } });
    }
  }
  for (const d of Object.values(drugs)) {
    d.guidelines.sort();
    d.genes.sort();
  }
  const out: DpwgFile = {
    provenance: {
      sources: [
        { what: 'DPWG guideline annotations and recommendations (62 files)', repo: 'PharmGKB/PharmCAT', path: 'src/main/resources/org/pharmgkb/pharmcat/reporter/guidelines/DPWG_*.json', commit: '0c6123b692d07a362d34c7b61d6a9bab779f7ad6', version: [...dataDates].sort().join(', ') },
        { what: 'Drug (RxNorm) identifiers', repo: 'cpicpgx/cpic-data', path: 'src/main/resources/db/migration/V2__initial_data.sql (via ../shared/data/cpic/drugs.tsv)', commit: '459e3ebdccdccbe515a71dacf038ec532d1bc68d', version: 'release 1.56.0' },
      ],
      licence: [
        'DPWG recommendations are published by the KNMP (Royal Dutch Pharmacists Association); the annotation wrappers, ids and flags are PharmGKB/ClinPGx curation (usually cited as CC BY-SA 4.0); the files ship in the MPL-2.0 PharmCAT repository.',
      ],
      attribution: 'Dutch Pharmacogenetics Working Group (DPWG, KNMP) guidelines, annotated by PharmGKB/ClinPGx (https://www.clinpgx.org), via PharmCAT (https://pharmcat.org). Not for use without clinical review; the DPWG texts refer to Dutch practice and products.',
      builtBy: 'scripts/build-dpwg.ts from ../shared/data/dpwg (see its README) and ../shared/data/cpic/drugs.tsv',
      notes: [
        `${raw.length} guideline files, ${raw.reduce((n, f) => n + f.data.recommendations.length, 0)} recommendations, ${Object.keys(drugs).length} drugs; ${unreachable.length} recommendations no genotype reaches (listed in unreachable).`,
        'Texts: HTML converted to plain text by this build (tags stripped, entities decoded). Actions and dose factors are derived by this build from the text; they are not DPWG fields. DPWG has no CPIC-style strength ("N/A").',
        'Warfarin DPWG rows (CYP2C9, VKORC1) are stored but not used: warfarin has its own evaluator.',
      ],
    },
    source: 'DPWG',
    guidelines,
    drugs,
    uninterpretableGenes: uninterpretable,
    unreachable,
    texts,
    recommendations: rows,
  };
  return stableJson(out, 2);
}

function main(): void {
  const args = process.argv.slice(2);
  const opt = (name: string, dflt: string) => {
    const i = args.indexOf(name);
    return i >= 0 && args[i + 1] ? path.resolve(args[i + 1]!) : dflt;
  };
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
  const src = opt('--src', path.resolve(root, '../shared/data/dpwg'));
  const cpic = opt('--cpic', path.resolve(root, '../shared/data/cpic'));
  const out = opt('--out', path.resolve(root, 'knowledge'));
  const genes = JSON.parse(readFileSync(opt('--genes', path.join(out, 'pgx-genes.json')), 'utf8')) as GenesFile;
  const content = buildDpwg(src, cpic, genes);
  mkdirSync(out, { recursive: true });
  writeFileSync(path.join(out, 'dpwg-recommendations.json'), content);
  process.stdout.write(`${path.join(out, 'dpwg-recommendations.json')}: ${(Buffer.byteLength(content) / 1024).toFixed(0)} KiB\n`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
