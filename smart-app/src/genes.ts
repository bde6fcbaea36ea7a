// "Genes": result → phenotype → implication per gene, then the guideline recommendation (CPIC or DPWG, the leading
// source's label; every source's row when several have one, smart-app/src/sources.ts) with its strength, population
// (in the guideline's words) and link. A genotype the service read on the other DNA strand says so.
import type { Recommendation } from '../../src/domain/recommendation.js';
import { h } from './dom.js';
import { conversionText } from './inputs.js';
import { dpwgNote, leadingSource, recommendationText, sourcesBlock, strengthText } from './sources.js';
import { populationText } from './text.js';
import { dateText } from './time.js';

/** The result as the service read it, when the lab wrote the genotype on the other strand. */
function strandNote(result: string, reported: Parameters<typeof conversionText>[2]): HTMLElement | undefined {
  const text = conversionText(result, undefined, reported);
  return text ? h('span', { class: 'source strand', 'data-testid': 'strand' }, text) : undefined;
}

export function genesSection(r: Recommendation, section: (title: string, cls: string, ...children: (Node | string | false | undefined)[]) => HTMLElement): HTMLElement | undefined {
  const genes = r.genes ?? [];
  if (genes.length === 0) return undefined;
  const g = r.guideline;
  const chain = genes.map((x) =>
    h(
      'li',
      { class: 'gene', 'data-testid': 'gene' },
      h('span', { class: 'step result' }, h('span', { class: 'step-label' }, `${x.gene} result`), x.result),
      x.phenotype ? h('span', { class: 'arrow', 'aria-hidden': 'true' }, '→') : undefined,
      x.phenotype ? h('span', { class: 'step phenotype' }, h('span', { class: 'step-label' }, 'Phenotype'), x.phenotype) : undefined,
      x.implication ? h('span', { class: 'arrow before-implication', 'aria-hidden': 'true' }, '→') : undefined,
      x.implication ? h('span', { class: 'step implication' }, h('span', { class: 'step-label' }, 'Implication'), x.implication) : undefined,
      x.source ? h('span', { class: 'muted source' }, `Source: ${x.source.reference}${x.source.date ? `, ${dateText(x.source.date)}` : ''}`) : undefined,
      strandNote(x.result, x.source?.reported),
    ),
  );
  const src = leadingSource(r);
  const rec = recommendationText(r.pgx?.recommendationText ?? '', src);
  const sources = sourcesBlock(r);
  // without a guideline row (e.g. warfarin's dose algorithm), the graded evidence is the recommendation
  const graded = !g ? r.evidence.find((e) => e.strength) : undefined;
  return section(
    'Genes',
    'genes-section',
    h('ol', { class: 'gene-chain' }, ...chain),
    graded
      ? h(
          'div',
          { class: 'step recommendation', 'data-testid': 'gene-recommendation' },
          h('span', { class: 'step-label' }, 'Recommendation'),
          h('p', {}, h('strong', {}, `CPIC: ${graded.strength}`)),
          h('p', {}, graded.url ? h('a', { href: graded.url, target: '_blank', rel: 'noopener noreferrer' }, graded.citation) : graded.citation),
        )
      : rec.length || g
      ? h(
          'div',
          { class: 'step recommendation', 'data-testid': 'gene-recommendation' },
          h('span', { class: 'step-label' }, 'Recommendation'),
          // several sources: each row with its own text, strength and guideline; else the one source's
          sources ?? h('div', { 'data-testid': 'rec-text' }, ...rec),
          g && !sources
            ? h('p', {}, h('strong', { 'data-testid': 'rec-source' }, `${src}: ${strengthText(src, g.classification)}`), ` · ${g.name} (${g.version})`, g.recommendationId !== 'none' ? ` · row ${g.recommendationId}` : '', ' · ', h('a', { href: g.url, target: '_blank', rel: 'noopener noreferrer' }, 'guideline'))
            : undefined,
          g && (g.populationReason || populationText(g.population)) ? h('p', { class: 'muted', 'data-testid': 'population', 'data-population': g.population }, `Population: ${populationText(g.population) || 'all patients'}${g.populationReason ? ` — ${g.populationReason}` : ''}`) : undefined,
          dpwgNote(r),
          ...(g?.cautions ?? []).map((c) => h('p', { class: 'muted' }, c)),
        )
      : undefined,
    r.alternatives?.length ? h('p', {}, `Alternatives: ${r.alternatives.map((a) => a.display + (a.note ? ` (${a.note})` : '')).join('; ')}.`) : undefined,
  );
}

