// The CPIC 2017 warfarin flowchart applied (src/dosing/warfarin/cpic.ts, knowledge/warfarin-cpic.json): each case names
// the Figure 2 / Figure 3 nodes of ../shared/data/cpic/warfarin_flowchart.json it follows. Ranges are applied at their
// middle: *5/*6/*8/*11 carriers −22.5% (15–30%), homozygotes −30% (20–40%, footnote g), rs12777823 A −17.5% (10–25%),
// CYP4F2 *3 +7.5% (5–10%).
import { randomUUID } from 'node:crypto';
import type { MedicationRequest } from 'fhir/r4';
import { DrugDictionary } from '../../src/domain/drugs.js';
import type { DraftOrder } from '../../src/domain/order.js';
import type { GeneResult, IwpcRace, PatientFacts } from '../../src/domain/facts.js';
import { evaluateWarfarin } from '../../src/dosing/warfarin/evaluator.js';
import { iwpcAgeDecade, iwpcClinical, iwpcPharmacogenetic, type IwpcInputs } from '../../src/dosing/warfarin/iwpc.js';
import { CardTemplates, renderCard } from '../../src/cards/render.js';
import { readGeneResults } from '../../src/fhir/genomics/index.js';
import { genotypeText, variant } from '../fixtures/genomic-shapes.js';
import { visibleText } from '../support/markdown.js';

const dict = DrugDictionary.load();
const src = (reference: string) => ({ reference, date: '2025-03-01', via: 'prefetch' as const });
const cyp = (d: string): GeneResult => ({ gene: 'CYP2C9', diplotype: d, text: `CYP2C9 ${d}`, source: src('Observation/cyp') });
const vk = (g: string): GeneResult => ({ gene: 'VKORC1', variant: { rsid: 'rs9923231', genotype: g, strand: 'gene' }, text: `VKORC1 ${g}`, source: src('Observation/vk') });
const snp = (gene: string, rsid: string, genotype: string): GeneResult => ({ gene, variant: { rsid, genotype, strand: 'plus' }, text: `${rsid} ${genotype}`, source: src(`Observation/${rsid}`) });
/** *5, *6, *8, *11 defining variants reported as reference (the panel tested them) */
const tested = ['rs28371686', 'rs9332131', 'rs7900194', 'rs28371685'].map((rs) => snp('CYP2C9', rs, 'C/C'));

function facts(race: IwpcRace, genes: GeneResult[], age = 66): PatientFacts {
  return {
    patientId: 'p1',
    ageYears: { value: age, source: src('Patient/p1') },
    height: { value: { value: 178, unit: 'cm' }, source: src('Observation/ht') },
    weight: { value: { value: 80, unit: 'kg' }, source: src('Observation/wt') },
    race: { value: race, source: src('Patient/p1') },
    genes,
    medications: [],
    conditions: [],
    unavailable: [],
    notes: [],
  };
}
const resource: MedicationRequest = { resourceType: 'MedicationRequest', id: '103', status: 'draft', intent: 'order', subject: { reference: 'Patient/p1' } };
const order: DraftOrder = { ref: 'MedicationRequest/103', resource, drugs: [{ ingredient: 'warfarin', rxcui: '11289', matchedBy: 'ingredient-code' }] };
const run = (f: PatientFacts) => evaluateWarfarin(f, order, dict, { roundingMgPerDay: 0.5, newId: randomUUID });
const iw = (race: IwpcRace, g: Partial<IwpcInputs>): IwpcInputs => ({ ageDecade: iwpcAgeDecade(66), heightCm: 178, weightKg: 80, race, enzymeInducer: false, amiodarone: false, ...g });

describe('CPIC 2017 Figure 2 (adults)', () => {
  test.each<[string, PatientFacts, 'pharmacogenetic' | 'clinical', Partial<IwpcInputs>, number, string[]]>([
    ['non-African, *1/*8 + A/G → algorithm as *1/*1, −22.5% (n6, optional)', facts('White', [cyp('*1/*8'), vk('A/G')]), 'pharmacogenetic', { cyp2c9: '*1/*1', vkorc1: 'A/G' }, 0.775, ['n1', 'n6']],
    ['non-African, *8/*11 + G/G → homozygote, −30% (footnote g)', facts('White', [cyp('*8/*11'), vk('G/G')]), 'pharmacogenetic', { cyp2c9: '*1/*1', vkorc1: 'G/G' }, 0.7, ['n1', 'n6']],
    ['non-African, *1/*3 + A/G + CYP4F2 *1/*3 → +7.5% (n7)', facts('Asian', [cyp('*1/*3'), vk('A/G'), { gene: 'CYP4F2', diplotype: '*1/*3', text: 'CYP4F2 *1/*3', source: src('Observation/4f2') }]), 'pharmacogenetic', { cyp2c9: '*1/*3', vkorc1: 'A/G' }, 1.075, ['n1', 'n7']],
    ['non-African, CYP4F2 as rs2108622 C/T → +7.5%', facts('White', [cyp('*1/*1'), vk('G/G'), snp('CYP4F2', 'rs2108622', 'C/T')]), 'pharmacogenetic', { cyp2c9: '*1/*1', vkorc1: 'G/G' }, 1.075, ['n7']],
    ['African, *1/*1 + A/G, *5/*6/*8/*11 not tested → dose clinically (n9 NO → n3)', facts('Black', [cyp('*1/*1'), vk('A/G')]), 'clinical', {}, 1, ['n8', 'n9', 'n3']],
    ['African, *1/*1 + A/G, *5/*6/*8/*11 tested (reference) → algorithm, no decrease (n11); rs12777823 not tested (n10)', facts('Black', [cyp('*1/*1'), vk('A/G'), ...tested]), 'pharmacogenetic', { cyp2c9: '*1/*1', vkorc1: 'A/G' }, 1, ['n11', 'n13', 'n10']],
    ['African, *1/*8 + G/G, rs12777823 G/A → −22.5% and −17.5% (n11, n14)', facts('Black', [cyp('*1/*8'), vk('G/G'), snp('CYP2C cluster', 'rs12777823', 'G/A')]), 'pharmacogenetic', { cyp2c9: '*1/*1', vkorc1: 'G/G' }, 0.775 * 0.825, ['n11', 'n14']],
    ['African, *1/*1 + G/G tested, rs12777823 G/G → no decrease', facts('Black', [cyp('*1/*1'), vk('G/G'), ...tested, snp('CYP2C cluster', 'rs12777823', 'G/G')]), 'pharmacogenetic', { cyp2c9: '*1/*1', vkorc1: 'G/G' }, 1, ['n11', 'n13']],
    ['no genotype → dose clinically (n0 NO → n3)', facts('White', []), 'clinical', {}, 1, ['n0', 'n3']],
  ])('%s', (_n, f, eq, g, factor, nodes) => {
    const r = run(f);
    const inputs = iw(f.race!.value, g);
    const base = eq === 'pharmacogenetic' ? iwpcPharmacogenetic(inputs) : iwpcClinical(inputs);
    expect(r.method.id).toBe(`iwpc-2009-${eq}`);
    expect(r.proposedDose!.estimate!.value).toBeCloseTo(base.weeklyDoseMg * factor, 1);
    expect(r.proposedDose!.perDose.value).toBe(Math.round((base.weeklyDoseMg * factor) / 7 / 0.5) * 0.5);
    for (const n of nodes) expect(r.cpicBranch!.nodes).toContain(n);
    // an adjustment node is on the path exactly when its adjustment was applied
    expect(r.cpicBranch!.nodes.includes('n14')).toBe(nodes.includes('n14'));
    expect(r.cpicBranch!.figure).toBe('adult');
  });

  test('the card says which branch applied and what was adjusted', () => {
    const r = run(facts('Black', [cyp('*1/*8'), vk('G/G'), snp('CYP2C cluster', 'rs12777823', 'G/A')]));
    const card = renderCard(r, order, { templates: CardTemplates.load(), newId: randomUUID })!.card;
    expect(visibleText(card.detail!)).toMatch(/CPIC 2017 warfarin flowchart \(Figure 2, adults\): African ancestry with CYP2C9 \*5, \*6, \*8, \*11 tested/);
    expect(visibleText(card.detail!)).toMatch(/rs12777823 A carrier: decrease the dose by 10-25% \(applied: −17\.5%\)/);
    expect(visibleText(card.detail!)).toMatch(/CPIC: CYP2C9 \*1\/\*8 \(\*5\/\*6\/\*8\/\*11 carrier\), −22\.5% \(range 15–30%\)/);
  });
});

describe('CPIC 2017 Figure 3 (children)', () => {
  test('a child of 12 with genotypes: no dose, the pediatric recommendation said', () => {
    const r = run(facts('White', [cyp('*1/*3'), vk('A/G')], 12));
    expect(r.kind).toBe('missing-data');
    expect(r.proposedDose).toBeUndefined();
    expect(r.cpicBranch?.figure).toBe('pediatric');
    expect(r.notes.join(' ')).toMatch(/validated pediatric pharmacogenetic algorithm \(Hamberg et al\., Biss et al\.\).*no dose is proposed/);
  });
});

describe('rs12777823 as labs send it (CPIC 2017 Figure 2, n13)', () => {
  // Shapes: a Genomics Reporting variant Observation filed under CYP2C9 (or no gene), and a genotype text.
  test.each<[string, Parameters<typeof readGeneResults>[0], string]>([
    ['variant filed under CYP2C9, heterozygous G>A', [variant({ patient: 'p1', id: 'v1', date: '2025-01-01' }, 'CYP2C9', { rsid: 'rs12777823', ref: 'G', alt: 'A', state: 'het' })], 'G/A'],
    ['variant with no gene, homozygous', [variant({ patient: 'p1', id: 'v2', date: '2025-01-01' }, undefined, { rsid: 'rs12777823', ref: 'G', alt: 'A', state: 'hom' })], 'A/A'],
    ['genotype text "rs12777823 A/A"', [genotypeText({ patient: 'p1', id: 'v3', date: '2025-01-01' }, undefined, 'rs12777823 A/A')], 'A/A'],
  ])('%s', (_n, observations, genotype) => {
    const r = readGeneResults(observations);
    expect(r.unread).toEqual([]);
    expect(r.results).toHaveLength(1);
    expect(r.results[0]).toMatchObject({ gene: 'CYP2C cluster', variant: { rsid: 'rs12777823', genotype } });
  });
});
