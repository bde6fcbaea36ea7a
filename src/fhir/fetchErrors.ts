// What the caller (412 details, card notes) is told about a query that failed: fixed phrases only. A network error
// code, an HTTP status or a TLS reason would let a caller probe what the service can reach (issue 21); those stay in
// the service's own metrics and logs (gather's onCall).

export const FETCH_ERRORS = {
  notAllowed: 'the FHIR server is not allowed for this client',
  noServer: 'no FHIR server was given',
  noQuery: 'the query could not be built from the context',
  unreachable: 'the FHIR server could not be reached',
  timeout: 'the FHIR server did not answer in time',
  refused: 'the FHIR server refused the query',
  serverError: 'the FHIR server answered with an error',
  tooLarge: 'the FHIR server’s answer was too large',
  encoded: 'the FHIR server’s answer was content-encoded although it was not asked to be',
  invalid: 'the FHIR server’s answer was not valid FHIR',
} as const;

export type FetchError = (typeof FETCH_ERRORS)[keyof typeof FETCH_ERRORS];
