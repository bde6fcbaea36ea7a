// Markdown safety of every card (issue 17 scope 2), under a real CommonMark renderer (commonmark.js, the reference
// implementation of the CommonMark spec 0.31): what the prescriber sees must be the source text.
//   1. escapeMarkdown (src/cards/markdown.ts), the one escaping function for data: for any text, the rendered text
//      is the text (whitespace collapsed), with no emphasis, link, image, code or HTML made from it; at the start of a
//      line too (no list, heading or quote).
//   2. A broad corpus driven through the real service (signed JWTs, full prefetch): warfarin (pharmacogenetic, CPIC
//      flowchart, mechanical valve target), PGx drugs (clopidogrel, ibuprofen whose CPIC text says "CYP2C9*2 allele …
//      CYP2C8*3", the issue-14 genomic cases incl. DPYD "c.1905+1G>A (*2A)"), renal bands, vancomycin AUC, an INR
//      monitoring card (patient-view), unreadable lab results and hostile lab text. For every card: the CPIC
//      recommendation text and the lab texts appear verbatim in the rendered text; emphasis only where the service's
//      templates put it; links only to http(s) URLs; no HTML; summary and suggestion labels plain text (no escapes).
//   3. DPWG cards (issue 19): metoprolol (DPWG only), voriconazole (CPIC and DPWG, the sources table) and efavirenz,
//      whose DPWG text starts lines with "*Efavirenz …" — with CPIC leading and with DPWG leading (pgx.sources
//      ["dpwg", "cpic"]). The DPWG text's words are visible as written, its "- " lines are list items and no other
//      line is, and the sources table shows the other source's text (one line, cut at 400 characters).
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import type { FhirResource, MedicationRequest } from 'fhir/r4';
import { escapeMarkdown, md } from '../../src/cards/markdown.js';
import { checkCdsResponse } from '../../src/cds/protocol.js';
import { caseObservations, GENOMIC_CASES } from '../fixtures/genomic-cases.js';
import { genotypeText } from '../fixtures/genomic-shapes.js';
import { draftOrder, INTRAVENOUS, ORAL, orderSelectCall } from '../fixtures/orders.js';
import { activeMed, draftClopidogrel, draftWarfarin, patient, pharmvarGenotype, prefetchFrom, syntheticResources, vital } from '../fixtures/synthetic-patients.js';
import { activeWarfarin, inrObservation } from '../fixtures/warfarin-history.js';
import { nodesOf, normalizeSpace, visibleText } from '../support/markdown.js';
import { startTestService, type TestService } from '../support/service.js';

const SPECIALS = ['\\', '`', '*', '_', '[', ']', '(', ')', '<', '>', '~', '|', '&', '#', '+', '-', '=', '!', '.', '1', ' ', '\n', 'a', 'amp;', '#42;', 'http://x.y', '    '];

describe('escapeMarkdown renders as the text itself', () => {
  const structure = ['emph', 'strong', 'link', 'image', 'code', 'html_inline', 'html_block', 'code_block', 'heading', 'list', 'block_quote', 'thematic_break'] as const;
  test('any string of Markdown-special characters, alone or after template text', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...SPECIALS), { maxLength: 40 }).map((a) => a.join('')), (s) => {
        for (const doc of [escapeMarkdown(s), md`**Label:** ${s} — end`.text, `- item ${escapeMarkdown(s)}`]) {
          const expected = doc === escapeMarkdown(s) ? normalizeSpace(s) : doc.startsWith('- ') ? normalizeSpace(`item ${s}`) : normalizeSpace(`Label: ${s} — end`);
          expect(visibleText(doc)).toBe(expected);
          const made = nodesOf(doc, structure).filter((n) => !(doc.startsWith('- ') && n.type === 'list') && !(doc.startsWith('**') && n.type === 'strong'));
          expect(made).toEqual([]);
        }
      }),
      { numRuns: 3000 },
    );
  });

  // Sources: CPIC ibuprofen/CYP2C9 text; DPYD HGVS names; the sandbox rendering "CYP2C92 allele … CYP2C83".
  test.each([
    'Further caution should be taken with ibuprofen use in individuals carrying the CYP2C9*2 allele as it is in linkage disequilibrium with CYP2C8*3',
    'c.1905+1G>A (*2A)/Reference',
    'HLA-B*57:01 positive',
    'NM_000110.4:c.1905+1G>A',
    '1. not a list',
    '# not a heading',
    '<script>alert(1)</script>',
    '[click](javascript:alert(1))',
    '![img](http://x.example/a.png)',
    'a_b_c __init__ ~~x~~ `y` &amp; &#42; \\*',
  ])('%s', (s) => {
    expect(visibleText(escapeMarkdown(s))).toBe(s);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// The corpus, through the real service

const KNOWLEDGE = JSON.parse(readFileSync('knowledge/pgx-recommendations.json', 'utf8')) as { recommendations: { id: string; text: number }[]; texts: string[] };
const CPIC_TEXT = new Map(KNOWLEDGE.recommendations.map((r) => [r.id, KNOWLEDGE.texts[r.text]!]));
const DPWG = JSON.parse(readFileSync('knowledge/dpwg-recommendations.json', 'utf8')) as { recommendations: { id: string; text: number }[]; texts: string[] };
const DPWG_TEXT = new Map(DPWG.recommendations.map((r) => [r.id, DPWG.texts[r.text]!]));
const FHIR = 'http://127.0.0.1:9/fhir'; // never contacted: full prefetch, and not a named server of the test EHR
const TOKEN = 'markdown-corpus-token';
const daysAgo = (n: number): string => new Date(Date.now() - n * 86_400_000).toISOString().slice(0, 10);
const bornYearsAgo = (n: number): string => `${new Date().getUTCFullYear() - n}-01-01`;

/** Emphasis the service's own templates and renderers write, as patterns ({{var}} / ${expr} = any text). */
function templateEmphasis(): { strong: RegExp[]; emph: RegExp[] } {
  const sources = [
    ...readdirSync('cards').filter((f) => f.endsWith('.md')).map((f) => readFileSync(path.join('cards', f), 'utf8')),
    ...readdirSync('src/cards').map((f) => readFileSync(path.join('src/cards', f), 'utf8')),
    readFileSync('src/cds/monitoring.ts', 'utf8'),
  ].join('\n');
  const toRe = (inner: string): RegExp =>
    new RegExp(`^${inner.split(/\{\{\w+\}\}|\$\{[^}]*\}+/).map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.+')}$`, 's');
  const strong = [...sources.matchAll(/\*\*([^*\n]+?)\*\*/g)].map((m) => toRe(m[1]!));
  // an emphasis opener after whitespace, a parenthesis, a line start or a "\n" escape in a TS string
  const emph = [...sources.matchAll(/(?:^|(?<=[\s(])|(?<=\\n))[*_]([A-Z][^*_\n]+?)[*_](?![*\w])/gm)].map((m) => toRe(m[1]!));
  return { strong, emph };
}

interface Call {
  name: string;
  service: string;
  body: unknown;
  /** source texts that must appear verbatim in some card's rendered detail */
  verbatim: string[];
  /** the service with pgx.sources ["dpwg", "cpic"] (DPWG leads) instead of the default (CPIC leads) */
  dpwgFirst?: boolean;
  /** the DPWG recommendation row the card must carry */
  dpwgRow?: string;
}

const ibuprofen = (id: string, p: string): MedicationRequest =>
  draftOrder(id, p, { rxcui: '5640', text: 'ibuprofen 400 MG Oral Tablet' }, { mg: 400, timing: { frequency: 3, period: 1, periodUnit: 'd' }, route: ORAL });
const HOSTILE_LAB = 'DPYD **see** <b>report</b> [scan](javascript:alert(1)) _c.1905+1G>A_ `x` | y & &amp; # 1. ~~z~~';

function corpus(): { pool: FhirResource[]; calls: Call[] } {
  const pool: FhirResource[] = [...syntheticResources()];
  const calls: Call[] = [];
  const os = (name: string, p: string, draft: MedicationRequest, verbatim: string[] = [], more: Pick<Call, 'dpwgFirst' | 'dpwgRow'> = {}) =>
    calls.push({ name, service: 'dosing-order-select', body: { p, draft }, verbatim, ...more });

  os('warfarin, CYP2C9 *1/*3 + VKORC1 text, amiodarone (pgx-1)', 'pgx-1', draftWarfarin('md-w1', 'pgx-1', 5), ['Observation/pgx-1-cyp2c9', '*1/*3']);
  os('warfarin without genotype (clin-1)', 'clin-1', draftWarfarin('md-w2', 'clin-1'));
  os('clopidogrel, CYP2C19 *2/*2, NSTEMI (cyp-1)', 'cyp-1', draftClopidogrel('md-c1', 'cyp-1'), ['*2/*2']);

  pool.push(patient('md-ibu', '1970-03-03', 'female'), pharmvarGenotype('md-ibu-2c9', 'md-ibu', 'HGNC:2623', 'CYP2C9', '*1/*3', '2025-06-01'));
  os('ibuprofen, CYP2C9 *1/*3 (CPIC text with CYP2C9*2 … CYP2C8*3)', 'md-ibu', ibuprofen('md-i1', 'md-ibu'), ['CYP2C9*2 allele as it is in linkage disequilibrium with CYP2C8*3']);

  for (const c of GENOMIC_CASES) {
    const obs = caseObservations(c);
    pool.push(patient(c.id, '1970-01-01', c.sex), ...obs);
    const texts = c.reads.unread ? obs.map((o) => o.valueCodeableConcept?.text).filter((t): t is string => !!t) : [];
    const mg = c.drug.doseMg;
    const d = draftOrder(`${c.id}-mr`, c.id, { rxcui: c.drug.rxcui, text: c.drug.display }, { mg: mg ?? 100, timing: { frequency: 2, period: 1, periodUnit: 'd' }, route: ORAL });
    os(`genomic case ${c.id}`, c.id, d, texts);
  }

  pool.push(patient('md-hostile', '1962-12-12', 'female'), genotypeText({ id: 'md-hostile-dpyd', patient: 'md-hostile', date: '2026-01-02' }, 'DPYD', HOSTILE_LAB));
  os('capecitabine with a hostile unreadable lab text', 'md-hostile', draftOrder('md-cap', 'md-hostile', { rxcui: '194000', text: 'capecitabine 500 MG Oral Tablet' }, { mg: 1000, timing: { frequency: 2, period: 1, periodUnit: 'd' }, route: ORAL }), [HOSTILE_LAB]);

  const cr = (id: string, p: string, v: number) => vital(id, p, '2160-0', 'Creatinine [Mass/volume] in Serum or Plasma', v, 'mg/dL', 'mg/dL', daysAgo(2));
  const wt = (id: string, p: string, kg: number) => vital(id, p, '29463-7', 'Body weight', kg, 'kg', 'kg', daysAgo(2));
  pool.push(patient('md-ren', bornYearsAgo(80), 'male'), wt('md-ren-wt', 'md-ren', 60), cr('md-ren-cr', 'md-ren', 2.0));
  os('gabapentin at CrCl 25 (renal band)', 'md-ren', draftOrder('md-g1', 'md-ren', { rxcui: '25480', text: 'gabapentin 600 MG Oral Tablet' }, { mg: 600, timing: { frequency: 3, period: 1, periodUnit: 'd' }, route: ORAL }), ['Observation/md-ren-cr']);
  pool.push(patient('md-met', bornYearsAgo(70), 'female'), wt('md-met-wt', 'md-met', 65), cr('md-met-cr', 'md-met', 2.1));
  os('metformin at eGFR < 30 (contraindicated)', 'md-met', draftOrder('md-m1', 'md-met', { rxcui: '6809', text: 'metformin hydrochloride 500 MG Oral Tablet' }, { mg: 500, timing: { frequency: 2, period: 1, periodUnit: 'd' }, route: ORAL }));
  pool.push(patient('md-van', bornYearsAgo(60), 'male'), wt('md-van-wt', 'md-van', 80), cr('md-van-cr', 'md-van', 1.0));
  os('vancomycin first regimen', 'md-van', draftOrder('md-v1', 'md-van', { rxcui: '11124', text: 'vancomycin 1 G Injection' }, { mg: 750, timing: { frequency: 1, period: 24, periodUnit: 'h' }, route: INTRAVENOUS }));

  pool.push(
    {
      resourceType: 'Condition',
      id: 'md-valve-mv',
      clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }] },
      code: { coding: [{ system: 'http://hl7.org/fhir/sid/icd-10-cm', code: 'Z95.2', display: 'Presence of prosthetic heart valve' }], text: 'Mechanical mitral valve (St. Jude) *On-X*' },
      subject: { reference: 'Patient/pgx-1' },
      recordedDate: '2026-01-01',
    },
  );
  os('dabigatran with a mechanical valve (contraindicated) for pgx-1', 'pgx-1', draftOrder('md-d1', 'pgx-1', { rxcui: '1037045', text: 'dabigatran etexilate 150 MG Oral Capsule' }, { mg: 150, timing: { frequency: 2, period: 1, periodUnit: 'd' }, route: ORAL }));

  // DPWG (../shared/data/dpwg): metoprolol PA166302521 (CYP2D6 activity score 0.0, DPWG only), voriconazole PA166299276
  // (CYP2C19 Poor Metabolizer, beside CPIC's "choose an alternative"), efavirenz PA166299102 (CYP2B6 Poor Metabolizer:
  // lines "*Efavirenz in MONOpreparation, children LIGHTER THAN 40 KG: …", "*Efavirenz in COMBINATION preparation: …")
  pool.push(patient('md-meto', '1961-03-03', 'male'), pharmvarGenotype('md-meto-2d6', 'md-meto', 'HGNC:2625', 'CYP2D6', '*4/*4', '2024-05-01'));
  pool.push(patient('md-vori', '1976-08-08', 'female'), pharmvarGenotype('md-vori-2c19', 'md-vori', 'HGNC:2621', 'CYP2C19', '*2/*2', '2025-02-02'));
  pool.push(patient('md-efv', '1985-05-05', 'male'), pharmvarGenotype('md-efv-2b6', 'md-efv', 'HGNC:2615', 'CYP2B6', '*6/*6', '2025-03-03'));
  const meto = draftOrder('md-meto-mr', 'md-meto', { rxcui: '6918', text: 'metoprolol tartrate 50 MG Oral Tablet' }, { mg: 50, timing: { frequency: 2, period: 1, periodUnit: 'd' }, route: ORAL });
  const vori = draftOrder('md-vori-mr', 'md-vori', { rxcui: '121243', text: 'voriconazole 200 MG Oral Tablet' }, { mg: 200, timing: { frequency: 2, period: 1, periodUnit: 'd' }, route: ORAL });
  const efv = draftOrder('md-efv-mr', 'md-efv', { rxcui: '195085', text: 'efavirenz 600 MG Oral Tablet' }, { mg: 600, timing: { frequency: 1, period: 1, periodUnit: 'd' }, route: ORAL });
  os('DPWG: metoprolol (DPWG only), CYP2D6 *4/*4', 'md-meto', meto, ['*4/*4'], { dpwgRow: 'PA166302521' });
  os('DPWG: voriconazole, CYP2C19 *2/*2, CPIC leads (DPWG in the sources table)', 'md-vori', vori, [], { dpwgRow: 'PA166299276' });
  os('DPWG: voriconazole, CYP2C19 *2/*2, DPWG leads', 'md-vori', vori, [], { dpwgRow: 'PA166299276', dpwgFirst: true });
  os('DPWG: efavirenz, CYP2B6 *6/*6, CPIC leads (DPWG text with "*" line starts in the table)', 'md-efv', efv, [], { dpwgRow: 'PA166299102' });
  os('DPWG: efavirenz, CYP2B6 *6/*6, DPWG leads ("*Efavirenz …" lines in the card body)', 'md-efv', efv, [], { dpwgRow: 'PA166299102', dpwgFirst: true });

  // phenoconversion (knowledge/phenoconversion.json): codeine for CYP2D6 *1/*1 on paroxetine (strong CYP2D6 inhibitor)
  // → the CPIC Poor Metabolizer row PA166297602, with the line naming the genotype, the drug and the resulting phenotype
  pool.push(patient('md-pheno', '1979-09-09', 'female'), pharmvarGenotype('md-pheno-2d6', 'md-pheno', 'HGNC:2625', 'CYP2D6', '*1/*1', '2025-04-04'));
  pool.push(activeMed('md-pheno-parox', 'md-pheno', '32937', 'paroxetine 20 MG *Paxil* [tab](javascript:x)'));
  const cod = draftOrder('md-pheno-mr', 'md-pheno', { rxcui: '2670', text: 'codeine sulfate 30 MG Oral Tablet' }, { mg: 30, timing: { frequency: 4, period: 1, periodUnit: 'd' }, route: ORAL });
  os('phenoconversion: codeine, CYP2D6 *1/*1, paroxetine active', 'md-pheno', cod, [
    'paroxetine (strong CYP2D6 inhibitor, MedicationRequest/md-pheno-parox) is active: CYP2D6 *1/*1, Normal Metabolizer (activity score 2.0) from the genotype is treated as CYP2D6 Poor Metabolizer (activity score 0.0).',
  ]);

  pool.push(patient('md-inr', bornYearsAgo(70), 'male'), activeWarfarin('md-inr-warf', 'md-inr', 5), inrObservation('md-inr-1', 'md-inr', 4.6, daysAgo(1)));
  calls.push({ name: 'INR 4.6 on active warfarin (patient-view monitoring)', service: 'dosing-monitor', body: { p: 'md-inr' }, verbatim: [] });
  return { pool, calls };
}

let svc: TestService;
let dpwgFirst: TestService;
beforeAll(async () => {
  [svc, dpwgFirst] = await Promise.all([startTestService({ requestDeadlineMs: 5000 }), startTestService({ requestDeadlineMs: 5000, 'pgx.sources': ['dpwg', 'cpic'] })]);
}, 30000);
afterAll(async () => {
  await Promise.all([svc?.close(), dpwgFirst?.close()]);
});

/**
 * A DPWG row's text on a card: led by DPWG, every line visible as written ("- " items as list items, no other line
 * a list item); beside another source, its one-line form in the sources table (cut at 400 characters).
 */
function expectDpwgText(detail: string, text: string, row: string, leads: boolean): void {
  const raw = DPWG_TEXT.get(row);
  expect(raw).toBeDefined();
  const items = nodesOf(detail, ['item']).map((n) => n.text);
  if (leads) {
    const lines = raw!.split('\n').map((l) => l.trim()).filter(Boolean);
    for (const l of lines) {
      const want = normalizeSpace(l.replace(/^- /, ''));
      expect(text).toContain(want);
      if (l.startsWith('- ')) expect(items).toContain(want);
      else expect(items.filter((i) => i.startsWith(want.slice(0, 40)))).toEqual([]);
    }
  } else {
    const one = raw!.replace(/\n- /g, ' • ').replace(/\n/g, ' ');
    const shown = one.length > 400 ? one.slice(0, 399).trimEnd() : one;
    expect(text).toContain(normalizeSpace(shown));
    // the table row of DPWG: not leading, strength N/A (DPWG does not grade)
    expect(text).toMatch(/\| DPWG \| .+ \| N\/A \| /);
  }
}

describe('every card of the corpus renders its source text (real service, CommonMark)', () => {
  const { pool, calls } = corpus();
  const allowed = templateEmphasis();
  const seen = { cards: 0, cpic: 0, verbatim: 0, dpwg: 0, dpwgLeads: 0 };

  test.each(calls.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const { p, draft } = c.body as { p: string; draft?: MedicationRequest };
    const prefetch = prefetchFrom(pool, p);
    const body =
      c.service === 'dosing-monitor'
        ? { hook: 'patient-view', hookInstance: crypto.randomUUID(), fhirServer: FHIR, fhirAuthorization: { access_token: TOKEN, token_type: 'Bearer', expires_in: 300, scope: 'patient/*.read', subject: 'cds-service', patient: p }, context: { userId: 'Practitioner/example', patientId: p }, prefetch }
        : orderSelectCall(FHIR, TOKEN, p, draft!, { prefetch });
    const r = await (c.dpwgFirst ? dpwgFirst : svc).hook(c.service, body);
    expect(r.status).toBe(200);
    expect(checkCdsResponse(r.json)).toEqual([]);
    const cards = r.json.cards as { summary: string; detail?: string; suggestions?: { label: string }[] }[];
    expect(cards.length).toBeGreaterThan(0);
    const visible: string[] = [];
    for (const card of cards) {
      seen.cards++;
      // summary and labels are plain text (CDS Hooks 2.0 Card.summary): no Markdown escapes
      expect(card.summary).not.toMatch(/\\[\\`*_[\]<>~|&#+=-]/);
      for (const s of card.suggestions ?? []) expect(s.label).not.toMatch(/\\[\\`*_[\]<>~|&#+=-]/);
      const detail = card.detail ?? '';
      const text = visibleText(detail);
      visible.push(text);
      expect(nodesOf(detail, ['html_inline', 'html_block', 'image', 'code', 'code_block'])).toEqual([]);
      for (const l of nodesOf(detail, ['link'])) expect(l.destination).toMatch(/^https?:\/\/[^\s<>]+$/);
      for (const e of nodesOf(detail, ['strong'])) expect({ strong: e.text, fromTemplate: allowed.strong.some((re) => re.test(e.text)) }).toEqual({ strong: e.text, fromTemplate: true });
      for (const e of nodesOf(detail, ['emph'])) expect({ emph: e.text, fromTemplate: allowed.emph.some((re) => re.test(e.text)) }).toEqual({ emph: e.text, fromTemplate: true });
      // the CPIC recommendation named on the card: its text verbatim (each paragraph; the card puts OTHER CONSIDERATIONS apart)
      const id = /CPIC recommendation (PA\d+)/.exec(text)?.[1];
      if (id && CPIC_TEXT.has(id) && / \(DPWG\)$/.test(card.summary)) {
        // DPWG leads: the CPIC row is in the sources table, its main text on one line, cut at 400 characters
        const main = CPIC_TEXT.get(id)!.split(/OTHER CONSIDERATIONS:?/)[0]!;
        expect(text).toContain(normalizeSpace(main.length > 400 ? main.slice(0, 399).trimEnd() : main));
      } else if (id && CPIC_TEXT.has(id)) {
        seen.cpic++;
        for (const part of CPIC_TEXT.get(id)!.split(/OTHER CONSIDERATIONS:?/)) {
          const want = normalizeSpace(part.replace(/\\n/g, ' '));
          if (want) expect(text).toContain(want);
        }
      }
    }
    if (c.dpwgRow) {
      expect(cards).toHaveLength(1);
      const detail = cards[0]!.detail ?? '';
      const leads = / \(DPWG\)$/.test(cards[0]!.summary);
      expect(visible[0]).toContain(`DPWG recommendation ${c.dpwgRow} (Dutch Pharmacogenetics Working Group`);
      expectDpwgText(detail, visible[0]!, c.dpwgRow, leads);
      seen.dpwg++;
      if (leads) seen.dpwgLeads++;
    }
    for (const v of c.verbatim) {
      seen.verbatim++;
      expect(visible.join('\n')).toContain(normalizeSpace(v));
    }
  });

  test('the corpus covered every card family', () => {
    expect(seen.cards).toBeGreaterThanOrEqual(calls.length);
    expect(seen.cpic).toBeGreaterThanOrEqual(10);
    expect(seen.verbatim).toBeGreaterThanOrEqual(8);
    // metoprolol, voriconazole and efavirenz led by DPWG; voriconazole and efavirenz beside CPIC
    expect({ dpwg: seen.dpwg, leads: seen.dpwgLeads }).toEqual({ dpwg: 5, leads: 3 });
  });
});
