// The optional message to the order's requester (NOTIFY_COMMUNICATION), written beside the DetectedIssue: a FHIR R4
// Communication to MedicationRequest.requester, about the DetectedIssue and the order, identified by the facts
// fingerprint so a conditional create writes it once.
//
// status `completed`: in R4 a Communication is the record of information transmitted (EventStatus); the service's
// transmission is done once the EHR accepts the resource — there is nothing further for the service to do, which is
// what `completed` says ("the event has now concluded"); `in-progress` would claim an ongoing exchange that the service
// never continues. Whether the requester has read it is `received`, the EHR's to record.
// priority (request-priority): card `critical` → `urgent` ("actioned promptly, higher priority than routine"), else
// `routine`. Not `asap`/`stat`: the service proposes a dose change for a clinician to decide, it does not claim an
// emergency.
import type { Communication, Reference } from 'fhir/r4';
import type { EvaluatedCard } from '../cds/monitoring.js';
import { relativeReference } from './notification.js';
import { FINGERPRINT_SYSTEM, issueDetail } from './detectedIssue.js';

const ALERT = { system: 'http://terminology.hl7.org/CodeSystem/communication-category', code: 'alert', display: 'Alert' };
const PRIORITY: Record<string, Communication['priority']> = { critical: 'urgent' };

/** Who the message goes to: the order's requester, when it is a reference to a resource. */
export function requesterOf(x: EvaluatedCard): { recipient: Reference } | { missing: string } {
  const req = x.order.resource.requester;
  if (!req) return { missing: 'the order names no requester' };
  const ref = req.reference;
  if (typeof ref !== 'string' || !relativeReference(ref)) return { missing: 'the order\'s requester is not a reference to a resource' };
  return { recipient: { reference: ref, ...(req.display ? { display: req.display } : {}) } };
}

/** The Communication for a written DetectedIssue (`issue`: its reference, or its identifier when the EHR gave no id). */
export function communicationFor(x: EvaluatedCard, patientId: string, issue: Reference, now: Date): Communication | { missing: string } {
  const to = requesterOf(x);
  if ('missing' in to) return to;
  return {
    resourceType: 'Communication',
    identifier: [{ system: FINGERPRINT_SYSTEM, value: x.record.factsFingerprint! }],
    status: 'completed',
    category: [{ coding: [ALERT] }],
    priority: PRIORITY[x.card.indicator] ?? 'routine',
    subject: { reference: `Patient/${patientId}` },
    recipient: [to.recipient],
    sender: { display: 'Personalized dosing CDS service' },
    sent: now.toISOString(),
    about: [issue, ...(x.order.ref ? [{ reference: x.order.ref }] : [])],
    payload: [{ contentString: issueDetail(x) }],
  };
}

/** How the Communication refers to the DetectedIssue: by id when known, else by its fingerprint identifier. */
export function issueReference(ref: string | undefined, fingerprint: string): Reference {
  return ref ? { reference: ref } : { type: 'DetectedIssue', identifier: { system: FINGERPRINT_SYSTEM, value: fingerprint } };
}
