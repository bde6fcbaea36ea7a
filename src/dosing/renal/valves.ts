// Anticoagulants and heart valves, before any kidney-function band: a DOAC with a mechanical valve (or a prosthesis of
// unstated type) is refused, with a bioprosthetic valve it is not recommended by the label, and atrial fibrillation
// with mitral stenosis is not "nonvalvular" — the AF bands are not applied. Rules per drug: renal-bands.json valveRules.
import type { ConditionFact, PatientFacts } from '../../domain/facts.js';
import type { RecommendationInput, Severity } from '../../domain/recommendation.js';
import type { RenalDrug } from '../../knowledge/renal.js';
import { mitralStenosis, valveFinding, type ValveFinding } from '../anticoagulation/indications.js';

export interface ValveDecision {
  severity: Severity;
  headline: string;
  /** the label sentence the card shows as its band */
  text: string;
  notes: string[];
  input: RecommendationInput;
  /** the AF bands are not applied but the order is not refused (mitral stenosis) */
  bandsNotApplied?: boolean;
}

const KIND_TEXT: Record<ValveFinding['kind'], string> = {
  mechanical: 'mechanical prosthetic heart valve',
  'prosthetic-unstated': 'prosthetic heart valve (type not stated: treated as mechanical)',
  bioprosthetic: 'bioprosthetic heart valve',
};

function source(c: ConditionFact): { source: ConditionFact['source'] } {
  return { source: c.source };
}

export function valveDecision(drug: RenalDrug, facts: PatientFacts): ValveDecision | undefined {
  const rules = drug.valveRules;
  if (!rules) return undefined;
  const Drug = drug.name.charAt(0).toUpperCase() + drug.name.slice(1);
  const v = valveFinding(facts.conditions);
  if (v && v.kind !== 'bioprosthetic') {
    const r = rules.mechanical;
    return {
      severity: 'critical',
      headline: `${Drug}: ${r.action === 'contraindicated' ? 'contraindicated' : 'not recommended'} with a ${v.kind === 'mechanical' ? 'mechanical' : 'prosthetic'} heart valve (label)`.slice(0, 139),
      text: r.text,
      notes: [
        ...(v.kind === 'prosthetic-unstated' ? [`The valve's type is not stated (${v.condition.source.reference}: "${v.condition.text.slice(0, 120)}"); it is treated as mechanical. If it is a bioprosthesis, record that on the problem list.`] : []),
        'Warfarin (a vitamin K antagonist) is the oral anticoagulant for mechanical heart valves (2020 ACC/AHA valvular heart disease guideline); no dose band is applied.',
      ],
      input: { key: 'valve', label: 'Heart valve', value: KIND_TEXT[v.kind] + (v.position ? `, ${v.position}` : ''), ...source(v.condition) },
    };
  }
  if (v) {
    return {
      severity: 'warning',
      headline: `${Drug}: not recommended by the label with a bioprosthetic heart valve`.slice(0, 139),
      text: rules.bioprosthetic.text,
      notes: ['The 2020 ACC/AHA valvular heart disease guideline considers a DOAC reasonable in atrial fibrillation more than 3 months after a surgical bioprosthetic valve: decide with the treating cardiologist; no dose band is applied.'],
      input: { key: 'valve', label: 'Heart valve', value: KIND_TEXT[v.kind] + (v.position ? `, ${v.position}` : ''), ...source(v.condition) },
    };
  }
  const ms = drug.indication?.condition === 'atrialFibrillation' ? mitralStenosis(facts.conditions) : undefined;
  if (ms) {
    return {
      severity: 'warning',
      headline: `${Drug}: mitral stenosis on file — the nonvalvular AF dose bands do not apply`.slice(0, 139),
      text: `The label's bands are for nonvalvular atrial fibrillation: atrial fibrillation with moderate or severe mitral stenosis is not nonvalvular`,
      notes: ['With moderate or severe (rheumatic) mitral stenosis and atrial fibrillation, a vitamin K antagonist is recommended over a DOAC (2020 ACC/AHA valvular heart disease guideline; INVICTUS). The severity is not coded: if the stenosis is mild, the nonvalvular AF band applies — check it with the echocardiogram.'],
      input: { key: 'mitralStenosis', label: 'Mitral stenosis', value: ms.text || 'on the problem list', ...source(ms) },
      bandsNotApplied: true,
    };
  }
  return undefined;
}
