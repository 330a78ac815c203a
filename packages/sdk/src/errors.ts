/**
 * One error hierarchy for all of lockstep. Every error has a stable `code` (for programs and for
 * mapping to HTTP statuses in one place) and an optional `cause` (the underlying failure).
 */

/** Stable error codes. Add new ones here, never reuse one for another meaning. */
export type LockstepErrorCode =
  | 'INVALID_DEFINITION'
  | 'INVALID_INPUT'
  | 'INVALID_REQUEST'
  | 'NOT_FOUND'
  | 'ALREADY_EXISTS'
  | 'BUNDLE_INVALID'
  | 'CHECKSUM_MISMATCH'
  | 'UNSUPPORTED_VERSION'
  | 'SCHEMA_MISMATCH'
  | 'STORE_ERROR'
  | 'STORE_TIMEOUT'
  | 'ENGINE_ERROR'
  | 'TRACKING_ERROR'
  | 'REMOTE_ERROR'
  | 'INTERNAL';

export interface LockstepErrorOptions {
  /** The underlying error, if any. */
  cause?: unknown;
  /** Extra structured detail (field names, paths, server codes). */
  details?: Record<string, unknown>;
}

export class LockstepError extends Error {
  readonly code: LockstepErrorCode;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: LockstepErrorCode, message: string, options: LockstepErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'LockstepError';
    this.code = code;
    this.details = options.details;
  }
}

/** A feature repo, model input spec or other definition is invalid. `issues` lists every problem found. */
export class DefinitionError extends LockstepError {
  readonly issues: string[];
  constructor(issues: string[], options: LockstepErrorOptions = {}) {
    super('INVALID_DEFINITION', `invalid definition:\n  - ${issues.join('\n  - ')}`, options);
    this.name = 'DefinitionError';
    this.issues = issues;
  }
}

/** A request or input row does not fit the spec. `field` names the offending field. */
export class InputError extends LockstepError {
  readonly field: string | undefined;
  constructor(message: string, field?: string, options: LockstepErrorOptions = {}) {
    super('INVALID_INPUT', message, { ...options, details: { ...options.details, field } });
    this.name = 'InputError';
    this.field = field;
  }
}

/** A model bundle failed verification: missing file, checksum mismatch, unknown format version. */
export class BundleError extends LockstepError {
  constructor(
    code: Extract<LockstepErrorCode, 'BUNDLE_INVALID' | 'CHECKSUM_MISMATCH' | 'UNSUPPORTED_VERSION'>,
    message: string,
    options: LockstepErrorOptions = {},
  ) {
    super(code, message, options);
    this.name = 'BundleError';
  }
}

/** The online store failed or timed out. */
export class StoreError extends LockstepError {
  constructor(message: string, options: LockstepErrorOptions & { timeout?: boolean } = {}) {
    super(options.timeout ? 'STORE_TIMEOUT' : 'STORE_ERROR', message, options);
    this.name = 'StoreError';
  }
}

/** A model engine failed to initialise or to run. */
export class EngineError extends LockstepError {
  constructor(message: string, options: LockstepErrorOptions = {}) {
    super('ENGINE_ERROR', message, options);
    this.name = 'EngineError';
  }
}

/** Quote at most `max` characters of a body in an error message (long bodies make unreadable errors). */
export function excerpt(text: string, max = 200): string {
  return text.length <= max ? text : `${text.slice(0, max)}… (${text.length} chars)`;
}

/**
 * Experiment tracking or the model registry refused a call. `errorCode` uses MLflow's vocabulary
 * (`RESOURCE_DOES_NOT_EXIST`, `RESOURCE_ALREADY_EXISTS`, `INVALID_PARAMETER_VALUE`, …) for both the
 * local store and a remote MLflow server, so callers handle both backends the same way.
 */
export class TrackingError extends LockstepError {
  readonly errorCode: string;
  constructor(
    errorCode: string,
    message: string,
    options: LockstepErrorOptions & { code?: Extract<LockstepErrorCode, 'TRACKING_ERROR' | 'REMOTE_ERROR'> } = {},
  ) {
    super(options.code ?? 'TRACKING_ERROR', message, { ...options, details: { ...options.details, errorCode } });
    this.name = 'TrackingError';
    this.errorCode = errorCode;
  }
}

/**
 * An MLflow tracking server answered an error (`{"error_code", "message"}`) or could not be reached
 * (`errorCode` `NETWORK_ERROR`, `status` 0). `serverMessage` is the server's own message, verbatim.
 */
export class MlflowError extends TrackingError {
  readonly status: number;
  readonly serverMessage: string;
  readonly endpoint: string;
  constructor(
    status: number,
    errorCode: string,
    serverMessage: string,
    endpoint: string,
    options: LockstepErrorOptions = {},
  ) {
    super(errorCode, `MLflow ${endpoint} answered ${status || 'no response'} ${errorCode}: ${excerpt(serverMessage, 500)}`, {
      ...options,
      code: 'REMOTE_ERROR',
      details: { ...options.details, status, endpoint },
    });
    this.name = 'MlflowError';
    this.status = status;
    this.serverMessage = serverMessage;
    this.endpoint = endpoint;
  }
}
