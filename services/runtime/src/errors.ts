// Errors are values with a code; the HTTP status of each code is decided here and nowhere else.

export type ErrorCode =
  | 'INVALID_REQUEST'
  | 'INVALID_EVENT'
  | 'INVALID_JSON'
  | 'INVALID_SEGMENT'
  | 'READ_ONLY_SEGMENT'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'PAYLOAD_TOO_LARGE'
  | 'HEADERS_TOO_LARGE'
  | 'REQUEST_TIMEOUT'
  | 'MISSING_WRITE_KEY'
  | 'UNKNOWN_WRITE_KEY'
  | 'MISSING_READ_KEY'
  | 'UNKNOWN_READ_KEY'
  | 'MISSING_SIGNATURE'
  | 'INVALID_SIGNATURE'
  | 'STALE_REQUEST'
  | 'INVALID_VERIFY_TOKEN'
  | 'CHANNEL_NOT_CONFIGURED'
  | 'MISSING_SCOPE'
  | 'NOT_FOUND'
  | 'RATE_LIMITED'
  | 'OVERLOADED'
  | 'LOG_UNAVAILABLE'
  | 'STORE_UNAVAILABLE'
  | 'QUERY_TIMEOUT'
  | 'QUERY_TOO_LARGE'
  | 'INTERNAL';

const statusByCode: Record<ErrorCode, number> = {
  INVALID_REQUEST: 400,
  INVALID_EVENT: 400,
  INVALID_JSON: 400,
  INVALID_SEGMENT: 400,
  READ_ONLY_SEGMENT: 409,
  UNSUPPORTED_MEDIA_TYPE: 415,
  PAYLOAD_TOO_LARGE: 413,
  HEADERS_TOO_LARGE: 431,
  REQUEST_TIMEOUT: 408,
  MISSING_WRITE_KEY: 401,
  UNKNOWN_WRITE_KEY: 401,
  MISSING_READ_KEY: 401,
  UNKNOWN_READ_KEY: 401,
  MISSING_SIGNATURE: 401,
  INVALID_SIGNATURE: 401,
  STALE_REQUEST: 401,
  INVALID_VERIFY_TOKEN: 403,
  CHANNEL_NOT_CONFIGURED: 404,
  MISSING_SCOPE: 403,
  NOT_FOUND: 404,
  RATE_LIMITED: 429,
  OVERLOADED: 503,
  LOG_UNAVAILABLE: 503,
  STORE_UNAVAILABLE: 503,
  QUERY_TIMEOUT: 503,
  QUERY_TOO_LARGE: 422,
  INTERNAL: 500,
};

/** Every code an error body may carry, for the OpenAPI document. */
export const errorCodes = Object.keys(statusByCode) as ErrorCode[];

export class AppError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown,
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
    this.name = 'AppError';
  }

  get status(): number {
    return statusByCode[this.code];
  }
}

export function statusOf(code: ErrorCode): number {
  return statusByCode[code];
}
