// Genes: HGNC ids and symbols, and how an Observation names its gene (component, coding, leading symbol, text).
import { HGNC_SYSTEMS, isLoinc } from './codes.js';
import { ccText, codingsOf, componentsWith, str, type Coding, type Found, type Rec } from './json.js';

/**
 * HGNC ids of the genes in the CPIC gene table (../shared/data/cpic/genes.tsv, from cpicpgx/cpic-data
 * V2__initial_data.sql at 459e3ebd). Symbol → numeric part of "HGNC:<n>".
 */
export const HGNC_IDS: Readonly<Record<string, number>> = {
  ABCB1: 40, ABCC4: 55, ABCG2: 74, ABL2: 77, ACE: 2707, ADD1: 243, ADORA2A: 263, ADRB2: 286, ANKK1: 21027,
  APOE: 613, ASL: 746, ASS1: 758, ATIC: 794, BCHE: 983, C11orf65: 28519, C8orf34: 30905, CACNA1S: 1397, CALU: 1458,
  CBR3: 1549, CCHCR1: 13930, CES1: 1863, CETP: 1869, CFTR: 1884, CHRNA3: 1957, COL22A1: 22989, COMT: 2228,
  COQ2: 25223, CPS1: 2323, CRHR1: 2357, CRHR2: 2358, CYB5R1: 13397, CYB5R2: 24376, CYB5R3: 2873, CYB5R4: 20147,
  CYP2A7P1: 2612, CYP2B6: 2615, CYP2C19: 2621, CYP2C8: 2622, CYP2C9: 2623, CYP2D6: 2625, CYP3A4: 2637, CYP3A5: 2638,
  CYP4F2: 2645, DPYD: 1806, DRD2: 3023, DYNC2H1: 2962, EGF: 3229, EPHX1: 3401, ERCC1: 3433, F5: 3542, FCGR3A: 3619,
  FDPS: 3631, FKBP5: 3721, FLOT1: 3757, G6PD: 4057, GBA: 4177, GGCX: 4247, GNB3: 4400, GP1BA: 4439, GRIK4: 4582,
  GSTM1: 4632, GSTP1: 4638, HAS3: 4820, 'HLA-A': 4931, 'HLA-B': 4932, 'HLA-C': 4933, 'HLA-DPB1': 4940,
  'HLA-DQA1': 4942, 'HLA-DRB1': 4948, HMGCR: 5006, HPRT1: 5157, HTR1A: 5286, HTR2A: 5293, HTR2C: 5295, IFNL3: 18365,
  IFNL4: 44480, ITPA: 6176, KCNIP4: 30083, KIF6: 21202, LDLR: 6547, LPA: 6667, LTC4S: 6719, MC4R: 6932,
  'MT-RNR1': 7470, MTHFR: 7436, MTRR: 7473, NAGS: 17996, NAT1: 7645, NAT2: 7646, NEDD4L: 7728, NQO1: 2874,
  NT5C2: 8022, NUDT15: 23063, OPRM1: 8156, OTC: 8512, POLG: 9179, PRKCA: 9393, PROC: 9451, PROS1: 9456, PTGFR: 9600,
  PTGS1: 9604, RYR1: 10483, SCN1A: 10585, SEMA3C: 10725, SERPINC1: 775, SLC28A3: 16484, SLC47A2: 26439,
  SLC6A4: 11050, SLCO1B1: 10959, SOD2: 11180, TANC1: 29364, TCF7L2: 11641, TMEM43: 28472, TNF: 11892, TP53: 11998,
  TPMT: 12014, TXNRD2: 18155, TYMS: 12441, UGT1A1: 12530, UGT1A4: 12536, UGT2B15: 12546, UMPS: 12563, VDR: 12679,
  VKORC1: 23663, XPC: 12816, XRCC1: 12828, YEATS4: 24859,
};

/** Genes CPIC gives prescribing guidance for; only these are looked for in free text (others are common words). */
export const PGX_GENES: readonly string[] = [
  'CYP2C19', 'CYP2C9', 'CYP2D6', 'CYP3A5', 'CYP4F2', 'CYP2B6', 'VKORC1', 'SLCO1B1', 'TPMT', 'NUDT15', 'DPYD',
  'UGT1A1', 'HLA-A', 'HLA-B', 'ABCG2', 'G6PD', 'IFNL3', 'RYR1', 'CACNA1S', 'MT-RNR1', 'CFTR',
];

const SYMBOL_BY_HGNC = new Map<number, string>(Object.entries(HGNC_IDS).map(([s, n]) => [n, s]));
const SYMBOL_BY_UPPER = new Map<string, string>(Object.keys(HGNC_IDS).map((s) => [s.toUpperCase(), s]));
const PGX_GENE_SET = new Set(PGX_GENES);

/** Canonical HGNC symbol of a known gene, case-insensitive. */
export function canonicalGene(s: string | undefined): string | undefined {
  return s && s.length <= 20 ? SYMBOL_BY_UPPER.get(s.trim().toUpperCase()) : undefined;
}

/** HGNC id ("HGNC:2623" or "2623") → symbol, for the genes in ../shared/data/cpic/genes.tsv. */
export function hgncSymbol(id: string): string | undefined {
  const m = /^(?:HGNC:)?(\d{1,6})$/i.exec(id.trim());
  return m ? SYMBOL_BY_HGNC.get(Number(m[1])) : undefined;
}

/** Symbol → HGNC id ("HGNC:2623"). */
export function hgncId(symbol: string): string | undefined {
  const g = canonicalGene(symbol);
  return g ? `HGNC:${HGNC_IDS[g]}` : undefined;
}

const SYMBOL_LIKE = /^[A-Z][A-Z0-9-]{1,14}$/;

/** Gene from one HGNC coding. */
export function geneFromHgncCoding(c: Coding): Found<string> {
  if (!HGNC_SYSTEMS.has(c.system) && !(c.system === '' && /^HGNC:/i.test(c.code))) return undefined;
  const byId = /^(?:HGNC:)?\d{1,6}$/i.test(c.code) ? hgncSymbol(c.code) : canonicalGene(c.code);
  const byDisplay = canonicalGene(c.display);
  if (byId && byDisplay && byId !== byDisplay) return { error: `HGNC coding ${c.code} does not match its display` };
  const gene = byId ?? byDisplay ?? (SYMBOL_LIKE.test(c.display) ? c.display : undefined);
  return gene ? { value: gene } : { error: `gene ${c.code || '(no code)'} is not a known HGNC gene` };
}

/** Gene(s) named by the "Gene studied" (48018-6) components. */
export function componentGene(o: Rec): Found<string> {
  const genes = new Set<string>();
  for (const comp of componentsWith(o, (c) => isLoinc(c, '48018-6'))) {
    const cc = comp.raw.valueCodeableConcept;
    let found = false;
    for (const c of codingsOf(cc)) {
      const g = geneFromHgncCoding(c);
      if (!g) continue;
      if ('error' in g) return g;
      genes.add(g.value);
      found = true;
    }
    if (!found) {
      const g = canonicalGene(ccText(cc) ?? str(comp.raw.valueString));
      if (g) genes.add(g);
      else return { error: 'gene component (48018-6) has no HGNC gene' };
    }
  }
  if (genes.size > 1) return { error: `several genes in the gene components (${[...genes].join(', ')})` };
  const [g] = genes;
  return g ? { value: g } : undefined;
}

export type LeadingGene = { gene: string; rest: string } | undefined;

/** Known gene symbol at the start of a text ("CYP2C9*1/*3", "CYP2C9 *4", "VKORC1 rs9923231 C/T"). */
export function leadingGene(s: string): LeadingGene {
  const m = /^([A-Za-z][A-Za-z0-9-]{1,14})(?:\s{1,3}|(?=\*)|:\s?|$)/.exec(s);
  const gene = m ? canonicalGene(m[1]) : undefined;
  return m && gene ? { gene, rest: s.slice(m[0].length).trim() } : undefined;
}

/** PGx genes named as words in a text (tokens split on anything but letters, digits and '-'). */
export function genesMentioned(textValue: string): Set<string> {
  const out = new Set<string>();
  for (const tok of textValue.slice(0, 2000).split(/[^A-Za-z0-9-]+/)) {
    if (tok.length >= 4 && tok.length <= 8) {
      const g = canonicalGene(tok);
      if (g && PGX_GENE_SET.has(g)) out.add(g);
    }
  }
  return out;
}
