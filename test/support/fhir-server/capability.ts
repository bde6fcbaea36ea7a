// What the test FHIR server (app.ts) says about itself: the CapabilityStatement at /metadata (resource types,
// interactions, SMART oauth-uris when configured, offered subscription topics) and /.well-known/smart-configuration.
import type { CapabilityStatement } from '@medplum/fhirtypes';
import { subscriptionCapability, type SubscriptionTopicOffer } from './topics.js';

export interface SmartOptions {
  authorizeUrl: string;
  tokenUrl: string;
}

export function buildCapabilityStatement(smart: SmartOptions | undefined, topics: SubscriptionTopicOffer[] = []): CapabilityStatement {
  const types = [
    'Patient', 'Observation', 'MedicationRequest', 'MedicationStatement', 'Medication', 'Condition',
    'AllergyIntolerance', 'Encounter', 'Practitioner', 'PractitionerRole', 'Organization', 'Procedure',
    'DiagnosticReport', 'ServiceRequest', 'Immunization', 'MolecularSequence', 'Device', 'Coverage',
  ] as const;
  const interactions = ['read', 'vread', 'update', 'create', 'search-type', 'history-instance', 'delete', 'patch'] as const;
  return {
    resourceType: 'CapabilityStatement',
    status: 'active',
    date: new Date().toISOString(),
    kind: 'instance',
    software: { name: 'pgx-dosing-cds test FHIR server (Medplum FhirRouter + MemoryRepository)' },
    implementation: { description: 'In-memory FHIR R4 server for integration tests' },
    fhirVersion: '4.0.1',
    format: ['json', 'application/fhir+json'],
    rest: [
      {
        mode: 'server',
        ...(smart
          ? {
              security: {
                cors: true,
                service: [
                  { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/restful-security-service', code: 'SMART-on-FHIR' }] },
                ],
                extension: [
                  {
                    url: 'http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris',
                    extension: [
                      { url: 'authorize', valueUri: smart.authorizeUrl },
                      { url: 'token', valueUri: smart.tokenUrl },
                    ],
                  },
                ],
              },
            }
          : {}),
        resource: [
          ...types.map((type) => ({
            type,
            interaction: interactions.map((code) => ({ code })),
            searchParam: [
              { name: '_id', type: 'token' as const },
              { name: '_lastUpdated', type: 'date' as const },
            ],
          })),
          ...subscriptionCapability(topics),
        ],
        interaction: [{ code: 'transaction' }, { code: 'batch' }, { code: 'search-system' }],
      },
    ],
  };
}

export function smartConfiguration(smart: SmartOptions): Record<string, unknown> {
  return {
    authorization_endpoint: smart.authorizeUrl,
    token_endpoint: smart.tokenUrl,
    capabilities: ['launch-ehr', 'launch-standalone', 'client-public', 'context-ehr-patient', 'permission-patient', 'permission-user'],
    code_challenge_methods_supported: ['S256'],
  };
}
