// The card's link to the SMART "Dosing details" app: appContext carries only the recommendation id (no PHI).
import type { Link } from '../cds/protocol.js';
import type { Recommendation } from '../domain/recommendation.js';

/** appContext format the app reads (smart-app/src/main.ts): a small JSON object, room for more ids later. */
export function dosingDetailsAppContext(recommendationId: string): string {
  // the text JSON.stringify({ recommendationId }) gives, without serialising an object per card
  return typeof recommendationId === 'string' ? `{"recommendationId":${JSON.stringify(recommendationId)}}` : JSON.stringify({ recommendationId });
}

/** `links` for a card, or nothing when no launch URL is configured. */
export function dosingDetailsLinks(r: Recommendation, launchUrl: string | undefined): { links?: Link[] } {
  if (!launchUrl) return {};
  return { links: [{ label: 'Dosing details: the basis of this recommendation', url: launchUrl, type: 'smart', appContext: dosingDetailsAppContext(r.id) }] };
}
