// Builds knowledge/pgx-variants.json: the variants that define the CPIC alleles of named-allele genes, and the gene of
// every CPIC rsID. Sources: ../shared/data/cpic allele_definitions.tsv + allele_definition_variants.tsv +
// allele_functions.tsv (DPYD), scripts/pgx-named-alleles.json (RYR1, CACNA1S, G6PD, MT-RNR1: a mechanical extract of
// PharmCAT's CPIC allele definitions, see its _about), and the reviewed additions in scripts/pgx-curation.json
// (`namedAlleles`: legacy names, verified GRCh37 positions, tag variants). Pure: files in, JSON object out.
import type { FunctionRule, Provenance } from '../../src/knowledge/pgx.js';
import type { NamedAllele, NamedGeneVariants, VariantDefinition, VariantsFile } from '../../src/knowledge/pgxVariants.js';

export type TsvRow = Record<string, string>;

/** Reviewed additions per gene (scripts/pgx-curation.json `namedAlleles`). */
export interface NamedAlleleCuration {
  kind?: NamedGeneVariants['kind'];
  refseq37?: string;
  /** legacy or alternative allele names → CPIC allele name */
  aliases?: Record<string, string>;
  /** rsID → verified GRCh37 position, with the sources that state it */
  grch37?: Record<string, { pos: number; sources: string[] }>;
  proxies?: { rsid: string; allele: string; note: string }[];
  /** variant name → its rsID, where the allele source gives none (MT-RNR1), with the sources that state it (two or more) */
  rsids?: Record<string, { rsid: string; sources: string[] }>;
  /** the strand the gene's c. names are written on, where no c.-named allele decides it (G6PD), with its sources */
  strand?: { value: 'plus' | 'minus'; sources: string[] };
  /** genes read by allele function: allele functions → CPIC lookup value (scripts/knowledge/functions.ts) */
  functionRules?: FunctionRule[];
  /** a check on `grch37`: every verified GRCh37 position lies at this distance below its GRCh38 position */
  grch37Offset?: { value: number; note: string };
  /** transcripts (with version) whose c. numbering `codingNames` use, each with its sources; the first is the default */
  transcripts?: Record<string, string[]>;
  /** GRCh38 g. HGVS ("g.154534419G>A") → its c. name on the transcripts above, with two or more sources */
  codingNames?: Record<string, { name: string; sources: string[] }>;
}

/** One gene of scripts/pgx-named-alleles.json. */
export interface ExtractedGene {
  source: { definitions?: { repo: string; path: string; commit: string; version?: string } | null; functions: { repo: string; path: string; commit: string; version?: string } };
  chromosome: string;
  refseqChromosome: string;
  genomeBuild?: string | null;
  reference: string;
  alleles: { name: string; reference?: boolean; function: string | null; variants: { position: number; rsid?: string; hgvsG?: string; ref: string; alt: string }[] }[];
  /** CPIC's own diplotype (or single-allele) → phenotype rows, to check the reviewed function rules against */
  phenotypeExamples?: { alleles: string[]; phenotype: string; sex?: 'male' | 'female' }[];
}

const COMPLEMENT: Record<string, string> = { A: 'T', T: 'A', C: 'G', G: 'C' };
const SNV = /^[ACGT]$/;

/** "c.1905+1G>A" → { ref: G, alt: A }; undefined for names that are not single-base substitutions. */
function substitution(name: string): { ref: string; alt: string } | undefined {
  const m = /([ACGT])>([ACGT])$/.exec(name.trim());
  return m ? { ref: m[1]!, alt: m[2]! } : undefined;
}

/** The c./m. names inside a CPIC allele name: "c.1129-5923C>G, c.1236G>A (HapB3)" → both; "1555A>G" → "m.1555A>G". */
function variantNames(allele: string, mitochondrial: boolean): string[] {
  const bare = allele.replace(/\s*\([^)]*\)\s*$/, '').trim();
  return bare
    .split(/,\s*/)
    .map((n) => n.trim())
    // a bare number-first name is a mitochondrial change ("1555A>G"); G6PD's "202G>A_376A>G_1264C>G" is not a variant name
    .filter((n) => /^(?:c\.|m\.)/.test(n) || (mitochondrial && /^\d/.test(n)))
    .map((n) => (mitochondrial && /^\d/.test(n) ? `m.${n}` : n));
}

/** Which strand a gene's c. names are written on, decided from its single-base alleles (all must agree). */
function strandOf(gene: string, pairs: { name: string; ref: string; alt: string }[]): 'plus' | 'minus' {
  let plus = 0;
  let minus = 0;
  for (const p of pairs) {
    const s = substitution(p.name);
    if (!s || !SNV.test(p.ref) || !SNV.test(p.alt)) continue;
    if (s.ref === p.ref && s.alt === p.alt) plus++;
    else if (s.ref === COMPLEMENT[p.ref] && s.alt === COMPLEMENT[p.alt]) minus++;
    else throw new Error(`${gene}: ${p.name} fits neither strand of ${p.ref}>${p.alt}`);
  }
  if (plus > 0 && minus > 0) throw new Error(`${gene}: allele names disagree about the strand`);
  if (plus === 0 && minus === 0) throw new Error(`${gene}: no single-base allele to decide the strand`);
  return plus > 0 ? 'plus' : 'minus';
}

/** Name the variants of multi-variant alleles: each c. name goes to the variant whose bases it fits. */
function nameVariants(gene: string, g: NamedGeneVariants, raw: Map<string, string[]>): void {
  const fits = (name: string, v: VariantDefinition): boolean => {
    const s = substitution(name);
    if (!s) return false;
    return g.strand === 'plus' ? s.ref === v.ref && s.alt === v.alt : s.ref === COMPLEMENT[v.ref] && s.alt === COMPLEMENT[v.alt];
  };
  for (const a of g.alleles) {
    const names = raw.get(a.name) ?? [];
    if (a.variants.length === 1 && names.length === 1) {
      const v = g.variants[a.variants[0]!]!;
      if (v.name && v.name !== names[0]) throw new Error(`${gene}: ${v.name} and ${names[0]} name one variant`);
      v.name = names[0];
    }
  }
  for (const a of g.alleles) {
    const names = raw.get(a.name) ?? [];
    if (a.variants.length < 2) continue;
    for (const n of names) {
      const unnamed = a.variants.map((i) => g.variants[i]!).filter((v) => !v.name && fits(n, v));
      if (unnamed.length === 1) unnamed[0]!.name = n;
    }
  }
}

function aliasesOf(g: NamedGeneVariants, curated: Record<string, string> | undefined): Record<string, string> {
  const names = new Set(g.alleles.map((a) => a.name).concat(g.reference));
  const out: Record<string, string> = {};
  const add = (alias: string, name: string) => {
    const k = alias.trim().toLowerCase();
    if (!k || k === name.toLowerCase()) return;
    if (out[k] && out[k] !== name) throw new Error(`alias ${alias} names both ${out[k]} and ${name}`);
    out[k] = name;
  };
  for (const a of g.alleles) {
    const star = /\(([^)]*)\)\s*$/.exec(a.name);
    if (star) add(star[1]!, a.name);
    const bare = a.name.replace(/\s*\([^)]*\)\s*$/, '').trim();
    if (bare !== a.name) add(bare, a.name);
  }
  for (const [alias, name] of Object.entries(curated ?? {})) {
    if (!names.has(name)) throw new Error(`curation: alias ${alias} names ${name}, which is not an allele`);
    add(alias, name);
  }
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => a.localeCompare(b)));
}

/** "202G>A_376A>G_1264C>G": an allele named by its coding changes joined with "_" (G6PD). */
const JOINED_CHANGES = /^\d+[ACGT]>[ACGT](?:_\d+[ACGT]>[ACGT])+$/;

/** A curated strand must fit every allele named by its coding changes (each change is one of its variants, complemented on the minus strand). */
function checkStrand(gene: string, g: NamedGeneVariants, strand: 'plus' | 'minus'): number {
  let checked = 0;
  for (const a of g.alleles.filter((x) => JOINED_CHANGES.test(x.name))) {
    const changes = a.name.split('_').map((n) => substitution(n)!);
    const bases = a.variants.map((i) => g.variants[i]!).map((v) => (strand === 'plus' ? `${v.ref}>${v.alt}` : `${COMPLEMENT[v.ref]}>${COMPLEMENT[v.alt]}`));
    const want = changes.map((c) => `${c.ref}>${c.alt}`);
    if (want.length !== bases.length || [...want].sort().join() !== [...bases].sort().join()) throw new Error(`curation: ${gene} ${a.name} does not fit the ${strand} strand`);
    checked++;
  }
  return checked;
}

function applyCuration(gene: string, g: NamedGeneVariants, c: NamedAlleleCuration | undefined): void {
  if (!c) return;
  if (c.strand) {
    if (c.strand.sources.length < 2) throw new Error(`curation: ${gene} strand needs two sources`);
    if (checkStrand(gene, g, c.strand.value) === 0) throw new Error(`curation: ${gene} has no allele named by its coding changes to check the strand against`);
    g.strand = c.strand.value;
  }
  if (c.refseq37) g.refseq37 = c.refseq37;
  for (const [rsid, p] of Object.entries(c.grch37 ?? {})) {
    // an rsID with several alternate alleles (G6PD rs72554665: Canton, Cosenza) is one position: all get it
    const vs = g.variants.filter((x) => x.rsid === rsid);
    if (vs.length === 0) throw new Error(`curation: ${gene} ${rsid} is not a defining variant`);
    if (p.sources.length < 2) throw new Error(`curation: ${gene} ${rsid} GRCh37 position needs two sources`);
    if (new Set(vs.map((v) => v.pos)).size > 1) throw new Error(`curation: ${gene} ${rsid} has several GRCh38 positions`);
    if (c.grch37Offset && vs[0]!.pos - p.pos !== c.grch37Offset.value) throw new Error(`curation: ${gene} ${rsid} GRCh37 ${p.pos} is not GRCh38 ${vs[0]!.pos} - ${c.grch37Offset.value}`);
    for (const v of vs) v.pos37 = p.pos;
  }
  applyCodingNames(gene, g, c);
  for (const [name, r] of Object.entries(c.rsids ?? {})) {
    const v = g.variants.find((x) => x.name === name);
    if (!v) throw new Error(`curation: ${gene} ${name} is not a defining variant`);
    if (v.rsid && v.rsid !== r.rsid) throw new Error(`curation: ${gene} ${name} already has ${v.rsid}`);
    if (r.sources.length < 2) throw new Error(`curation: ${gene} ${name} rsID needs two sources`);
    v.rsid = r.rsid;
  }
  for (const p of c.proxies ?? []) {
    const variant = g.variants.findIndex((x) => x.rsid === p.rsid);
    if (variant < 0 || !g.alleles.some((a) => a.name === p.allele && a.variants.includes(variant))) throw new Error(`curation: ${gene} proxy ${p.rsid} → ${p.allele} does not fit`);
    (g.proxies ??= []).push({ variant, allele: p.allele, note: p.note });
  }
}

const C_SNV = /^c\.(\d{1,5})([ACGT])>([ACGT])$/;

/**
 * Curated c. names (G6PD, whose CPIC alleles are not named by c. changes): each must be the change of its GRCh38
 * variant read on the gene's strand (on the minus strand: the reverse complement of the plus-strand bases), must not
 * contradict a name the variant already has, and must fit every CPIC allele name that states positions of its
 * alleles ("A- 680T_376G": c.680 → T, c.376 → G; "202G>A_376A>G_1264C>G": exactly those changes).
 */
function applyCodingNames(gene: string, g: NamedGeneVariants, c: NamedAlleleCuration): void {
  const entries = Object.entries(c.codingNames ?? {});
  if (entries.length === 0) return;
  const tx = Object.keys(c.transcripts ?? {});
  if (tx.length === 0 || tx.some((t) => !/^NM_\d{6,9}\.\d{1,2}$/.test(t))) throw new Error(`curation: ${gene} c. names need the transcript (with version) they are numbered on`);
  for (const [t, sources] of Object.entries(c.transcripts!)) if (sources.length < 2) throw new Error(`curation: ${gene} transcript ${t} needs two sources`);
  const used = new Set<string>();
  for (const [key, e] of entries) {
    const gm = /^g\.(\d+)([ACGT])>([ACGT])$/.exec(key);
    const cm = C_SNV.exec(e.name);
    if (!gm || !cm) throw new Error(`curation: ${gene} c. name ${key} → ${e.name} is not a single-base substitution`);
    if (e.sources.length < 2) throw new Error(`curation: ${gene} ${e.name} needs two sources`);
    const v = g.variants.find((x) => x.pos === Number(gm[1]) && x.ref === gm[2] && x.alt === gm[3]);
    if (!v) throw new Error(`curation: ${gene} ${key} is not a defining variant`);
    const want = g.strand === 'minus' ? `${COMPLEMENT[v.ref]}>${COMPLEMENT[v.alt]}` : `${v.ref}>${v.alt}`;
    if (`${cm[2]}>${cm[3]}` !== want) throw new Error(`curation: ${gene} ${e.name} does not fit ${key} read on the ${g.strand} strand (${want})`);
    if (v.name && v.name !== e.name) throw new Error(`curation: ${gene} ${key} is already named ${v.name}, not ${e.name}`);
    if (used.has(e.name)) throw new Error(`curation: ${gene} ${e.name} names two variants`);
    used.add(e.name);
    v.name = e.name;
  }
  // CPIC allele names that state coding positions: "A- 202A_376G" (position + alternate base), "202G>A_376A>G_1264C>G"
  for (const a of g.alleles) {
    const named = a.variants.map((i) => g.variants[i]!).filter((v) => v.name && C_SNV.test(v.name));
    const claims = JOINED_CHANGES.test(a.name)
      ? a.name.split('_').map((x) => ({ pos: /^\d+/.exec(x)![0], alt: x.slice(-1) }))
      : [...a.name.matchAll(/(?:^|[\s_])(\d{2,5})([ACGT])(?=_|$)/g)].map((m) => ({ pos: m[1]!, alt: m[2]! }));
    if (claims.length === 0) continue;
    const stated = claims.map((cl) => `c.${cl.pos}→${cl.alt}`).join(', ');
    for (const cl of claims) {
      const at = g.variants.filter((v) => v.name && C_SNV.exec(v.name)?.[1] === cl.pos);
      if (at.length === 0) continue; // a position whose c. name is not curated
      if (!named.some((v) => C_SNV.exec(v.name!)?.[1] === cl.pos && v.name!.endsWith(cl.alt))) throw new Error(`curation: ${gene} ${a.name} states ${stated}, which none of its variants' c. names is`);
    }
    // and every c. name of its variants is one of the changes the allele name states
    for (const v of named) {
      const m = C_SNV.exec(v.name!)!;
      if (!claims.some((cl) => cl.pos === m[1] && cl.alt === m[3])) throw new Error(`curation: ${gene} ${a.name} states ${stated}, which ${v.name} is not`);
    }
  }
  g.transcripts = tx;
}

/** DPYD-style genes from the CPIC allele definition tables. */
function fromCpicTables(gene: string, defs: TsvRow[], positions: TsvRow[], functions: TsvRow[]): { g: NamedGeneVariants; raw: Map<string, string[]> } {
  const rows = defs.filter((d) => d['gene'] === gene);
  const posRows = new Map(positions.filter((p) => p['gene'] === gene).map((p) => [Number(p['position_grch38']), p]));
  const reference = rows.find((r) => r['is_reference_allele'] === 'Y')?.['allele'] ?? 'Reference';
  const variants: VariantDefinition[] = [];
  const index = new Map<string, number>();
  const byAllele = new Map<string, number[]>();
  for (const r of rows) {
    if (r['is_reference_allele'] === 'Y' || r['structural_variant']) continue;
    const pos = Number(r['position_grch38']);
    const p = posRows.get(pos);
    if (!p) throw new Error(`${gene}: no variant row for position ${pos}`);
    const base = r['defining_base']!;
    const key = `${pos}|${base}`;
    let i = index.get(key);
    if (i === undefined) {
      const snv = SNV.test(base) && SNV.test(p['vcf_ref']!);
      const v: VariantDefinition = { pos, ref: p['vcf_ref']!, alt: snv ? base : p['vcf_alts']! };
      if (p['rsid']) v.rsid = p['rsid'];
      i = variants.push(v) - 1;
      index.set(key, i);
    }
    const list = byAllele.get(r['allele']!) ?? [];
    list.push(i);
    byAllele.set(r['allele']!, list);
  }
  const fn = new Map(functions.filter((f) => f['gene'] === gene).map((f) => [f['allele']!, f]));
  const alleles: NamedAllele[] = [...byAllele.entries()].map(([name, vs]) => {
    const f = fn.get(name);
    if (!f) throw new Error(`${gene}: allele ${name} has no function`);
    const a: NamedAllele = { name, variants: [...new Set(vs)].sort((x, y) => x - y), function: f['clinical_function']! };
    if (f['activity_value']) a.activity = f['activity_value'];
    return a;
  });
  const raw = new Map(alleles.map((a) => [a.name, variantNames(a.name, false)]));
  const pairs = alleles.filter((a) => a.variants.length === 1).map((a) => ({ name: raw.get(a.name)![0] ?? '', ...variants[a.variants[0]!]! }));
  const chromosome = positions.find((p) => p['gene'] === gene)?.['chromosome'] ?? '';
  const refseq = positions.find((p) => p['gene'] === gene)?.['refseq_chromosome'] ?? '';
  const g: NamedGeneVariants = { kind: 'nuclear', chromosome, refseq, strand: strandOf(gene, pairs), reference, aliases: {}, variants, alleles };
  return { g, raw };
}

/** RYR1-style genes from the PharmCAT extract (scripts/pgx-named-alleles.json). */
function fromExtract(gene: string, e: ExtractedGene, kind: NamedGeneVariants['kind']): { g: NamedGeneVariants; raw: Map<string, string[]> } {
  const variants: VariantDefinition[] = [];
  const index = new Map<string, number>();
  const alleles: NamedAllele[] = [];
  for (const a of e.alleles) {
    if (a.name === e.reference || a.reference) continue;
    if (!a.function) throw new Error(`${gene}: allele ${a.name} has no CPIC function`);
    const vs: number[] = [];
    for (const v of a.variants) {
      const key = `${v.position}|${v.alt}`;
      let i = index.get(key);
      if (i === undefined) {
        const d: VariantDefinition = { pos: v.position, ref: v.ref, alt: v.alt };
        if (v.rsid) d.rsid = v.rsid;
        i = variants.push(d) - 1;
        index.set(key, i);
      }
      vs.push(i);
    }
    alleles.push({ name: a.name, variants: [...new Set(vs)].sort((x, y) => x - y), function: a.function });
  }
  const mito = kind === 'mitochondrial';
  const raw = new Map(alleles.map((a) => [a.name, variantNames(a.name, mito)]));
  const pairs = alleles.filter((a) => a.variants.length === 1 && raw.get(a.name)!.length === 1).map((a) => ({ name: raw.get(a.name)![0]!, ...variants[a.variants[0]!]! }));
  const strand = pairs.some((p) => substitution(p.name)) ? strandOf(gene, pairs) : 'plus';
  return { g: { kind, chromosome: e.chromosome, refseq: e.refseqChromosome, strand, reference: e.reference, aliases: {}, variants, alleles }, raw };
}

export interface VariantSources {
  alleleDefinitions: TsvRow[];
  definitionVariants: TsvRow[];
  alleleFunctions: TsvRow[];
  extract: { _about?: string; genes: Record<string, ExtractedGene> };
  curation: Record<string, NamedAlleleCuration>;
  provenance: Omit<Provenance, 'sources'> & { sources: Provenance['sources'] };
}

/** Genes whose CPIC allele names are their variants (not star alleles). */
export const CPIC_TABLE_NAMED_GENES = ['DPYD'];

export function buildVariantCatalogue(s: VariantSources): VariantsFile {
  const genes: Record<string, NamedGeneVariants> = {};
  const build = (gene: string, r: { g: NamedGeneVariants; raw: Map<string, string[]> }) => {
    nameVariants(gene, r.g, r.raw);
    applyCuration(gene, r.g, s.curation[gene]);
    r.g.aliases = aliasesOf(r.g, s.curation[gene]?.aliases);
    genes[gene] = r.g;
  };
  for (const gene of CPIC_TABLE_NAMED_GENES) build(gene, fromCpicTables(gene, s.alleleDefinitions, s.definitionVariants, s.alleleFunctions));
  for (const [gene, e] of Object.entries(s.extract.genes).sort(([a], [b]) => a.localeCompare(b))) build(gene, fromExtract(gene, e, s.curation[gene]?.kind ?? 'nuclear'));

  const rsidGenes: Record<string, string> = {};
  const addRsid = (rsid: string | undefined, gene: string) => {
    if (!rsid) return;
    if (rsidGenes[rsid] && rsidGenes[rsid] !== gene) throw new Error(`${rsid} is in ${rsidGenes[rsid]} and ${gene}`);
    rsidGenes[rsid] = gene;
  };
  for (const p of s.definitionVariants) addRsid(p['rsid'], p['gene']!);
  for (const [gene, g] of Object.entries(genes)) for (const v of g.variants) addRsid(v.rsid, gene);
  const sorted = Object.fromEntries(Object.entries(rsidGenes).sort(([a], [b]) => a.localeCompare(b)));
  return { provenance: s.provenance, rsidGenes: sorted, genes };
}
