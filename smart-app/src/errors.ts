// The API's failure as the failure screen needs it (no fhirclient import: the screen's wording is tested in Node too).

/** What went wrong, as the failure screen needs it. */
export class ApiError extends Error {
  constructor(
    /** HTTP status; 0 for a network failure, -1 for a timeout */
    readonly status: number,
    /** the service's reason code (e.g. "token-rejected"), or "network" / "timeout" */
    readonly reason: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}
