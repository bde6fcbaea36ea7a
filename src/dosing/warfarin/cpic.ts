// The CPIC 2017 warfarin flowchart applied (knowledge/warfarin-cpic.json, from ../shared/data/cpic/warfarin_flowchart.json):
// which branch the patient is on, whether the genotypes may be used, and the dose adjustments it calls for. Pure.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { GeneResult, PatientFacts } from '../../domain/facts.js';
import type { Recommendation } from '../../domain/recommendation.js';

interface BranchText {
  nodes: string[];
  text: string;
  strength?: string;
}
interface Adjustment extends BranchText {
  range: [number, number];
}
export interface WarfarinCpicKnowledge {
  provenance: Record<string, string>;
  alleles: { africanDecreased: string[]; testedBy: Record<string, string> };
  adult: {
    noGenotype: BranchText;
    nonAfrican: BranchText;
    africanNotTested: BranchText;
    africanTested: BranchText;
    variantCarrier: Adjustment & { homozygousRange: [number, number]; strengthAfrican: string; strengthOther: string };
    rs12777823: Adjustment;
    rs12777823NotTested: BranchText;
    cyp4f2: Adjustment;
  };
  pediatric: BranchText;
}

let cached: WarfarinCpicKnowledge | undefined;
export function warfarinCpicKnowledge(file = path.resolve(process.cwd(), 'knowledge/warfarin-cpic.json')): WarfarinCpicKnowledge {
  if (!cached) cached = JSON.parse(readFileSync(file, 'utf8')) as WarfarinCpicKnowledge;
  return cached;
}

export interface CpicWarfarin {
  branch: NonNullable<Recommendation['cpicBranch']>;
  /** the flowchart says to dose clinically although genotypes are on file (African ancestry, *5/*6/*8/*11 not tested) */
  maskGenotypes: boolean;
  /** dose multipliers, each with the percent applied (the middle of CPIC's range) */
  adjustments: { key: string; label: string; factor: number; percent: number; range: [number, number]; strength: string }[];
  notes: string[];
}

const mid = (r: [number, number]) => (r[0] + r[1]) / 2;

/** Copies of CYP2C9 *5, *6, *8, *11 in the diplotype (0–2), and whether those alleles were tested. */
export function cyp2c9AfricanAlleles(facts: PatientFacts, cyp: GeneResult | undefined, k = warfarinCpicKnowledge()): { copies: number; tested: boolean } {
  const alleles = cyp?.diplotype?.split('/') ?? [];
  const copies = alleles.filter((a) => k.alleles.africanDecreased.includes(a)).length;
  const rsids = Object.values(k.alleles.testedBy);
  // tested: one is named in the diplotype, or their variants are reported (a diplotype of *1 and *2/*3 alone does not say)
  const tested = copies > 0 || rsids.every((rs) => facts.genes.some((g) => g.variant?.rsid === rs));
  return { copies, tested };
}

/**
 * The branch of CPIC Figure 2 for an adult: genotypes available (VKORC1 and CYP2C9), self-identified ancestry
 * (US Core race "Black or African American" = African ancestry; footnote h: mainly West African origin), CYP2C9
 * *5/*6/*8/*11 tested, rs12777823 and CYP4F2 rs2108622.
 */
export function cpicWarfarinAdult(facts: PatientFacts, g: { vkorc1: boolean; cyp2c9: boolean; cyp?: GeneResult }, k = warfarinCpicKnowledge()): CpicWarfarin {
  const a = k.adult;
  const adjustments: CpicWarfarin['adjustments'] = [];
  const notes: string[] = [];
  const nodes: string[] = [];
  const texts: string[] = [];
  let strength: string | undefined;
  let maskGenotypes = false;
  const african = facts.race?.value === 'Black';
  const star = cyp2c9AfricanAlleles(facts, g.cyp, k);
  const cyp4f2 = facts.genes.find((x) => x.gene === 'CYP4F2');
  const cyp4f2Carrier = !!cyp4f2 && ((cyp4f2.diplotype?.split('/').includes('*3') ?? false) || (cyp4f2.variant?.rsid === 'rs2108622' && cyp4f2.variant.genotype.includes('T')));
  const add = (key: string, label: string, adj: Adjustment, sign: -1 | 1, range: [number, number], s: string) => {
    const percent = mid(range);
    adjustments.push({ key, label, factor: 1 + (sign * percent) / 100, percent: sign * percent, range, strength: s });
    nodes.push(...adj.nodes.filter((n) => !nodes.includes(n)));
    texts.push(`${adj.text} (applied: ${sign < 0 ? '−' : '+'}${percent}%)`);
  };
  if (!(g.vkorc1 && g.cyp2c9)) {
    nodes.push(...a.noGenotype.nodes);
    texts.push(a.noGenotype.text);
    // a *5/*6/*8/*11 result is calculated as *1 by the equation: its decrease is applied on every branch that uses it
    if (star.copies > 0) add('cpicCyp2c9Rare', `CYP2C9 ${g.cyp?.diplotype} (*5/*6/*8/*11 carrier)`, a.variantCarrier, -1, star.copies === 2 ? a.variantCarrier.homozygousRange : a.variantCarrier.range, a.variantCarrier.strengthOther);
  } else if (african && !star.tested) {
    nodes.push(...a.africanNotTested.nodes);
    texts.push(a.africanNotTested.text);
    maskGenotypes = true;
    notes.push(`CPIC 2017: in patients of African ancestry, CYP2C9 *5, *6, *8 and *11 (and rs12777823) matter; they are not known to have been tested here, so the dose is calculated clinically (the VKORC1/CYP2C9 results on file are not used). Order the extended CYP2C9 panel to use them.`);
  } else {
    const branch = african ? a.africanTested : a.nonAfrican;
    nodes.push(...branch.nodes);
    texts.push(branch.text);
    strength = branch.strength;
    if (star.copies > 0) {
      add('cpicCyp2c9Rare', `CYP2C9 ${g.cyp?.diplotype} (*5/*6/*8/*11 carrier)`, a.variantCarrier, -1, star.copies === 2 ? a.variantCarrier.homozygousRange : a.variantCarrier.range, african ? a.variantCarrier.strengthAfrican : a.variantCarrier.strengthOther);
    }
    if (african) {
      const rs = facts.genes.find((x) => x.variant?.rsid === 'rs12777823');
      if (rs) {
        if (rs.variant!.genotype.includes('A')) add('cpicRs12777823', `rs12777823 ${rs.variant!.genotype} (A carrier)`, a.rs12777823, -1, a.rs12777823.range, a.rs12777823.strength!);
        else {
          nodes.push(...['n12', 'n13'].filter((n) => !nodes.includes(n)));
          texts.push(`rs12777823 ${rs.variant!.genotype}: no A allele, no adjustment for it`);
        }
      } else {
        nodes.push(...a.rs12777823NotTested.nodes.filter((n) => !nodes.includes(n)));
        texts.push(a.rs12777823NotTested.text);
      }
    }
  }
  if (cyp4f2Carrier && !maskGenotypes) add('cpicCyp4f2', `CYP4F2 ${cyp4f2!.diplotype ?? `rs2108622 ${cyp4f2!.variant!.genotype}`} (*3 / T carrier)`, a.cyp4f2, 1, a.cyp4f2.range, a.cyp4f2.strength!);
  return { branch: { figure: 'adult', nodes, text: texts.join('; '), ...(strength ? { strength } : {}) }, maskGenotypes, adjustments, notes };
}

export function cpicWarfarinPediatric(k = warfarinCpicKnowledge()): CpicWarfarin {
  return { branch: { figure: 'pediatric', nodes: k.pediatric.nodes, text: k.pediatric.text, ...(k.pediatric.strength ? { strength: k.pediatric.strength } : {}) }, maskGenotypes: false, adjustments: [], notes: [`CPIC 2017 Figure 3: ${k.pediatric.text}.`] };
}
