/**
 * MLflow's naming and size rules, enforced by the local store so that anything logged locally can later be
 * synced to an MLflow server unchanged. Messages follow the server's wording.
 */
import { TrackingError } from '@lockstep/sdk';
import { MLFLOW_LIMITS } from './types.ts';

const KEY_CHARS = /^[/\w.\- :]+$/;

function invalid(message: string): TrackingError {
  return new TrackingError('INVALID_PARAMETER_VALUE', message);
}

/** A metric, param or tag key: MLflow's characters, at most 250 of them, and no path traversal. */
export function validateKey(kind: 'Metric' | 'Param' | 'Tag', key: string): void {
  if (typeof key !== 'string' || key === '') throw invalid(`${kind} key must be a non-empty string`);
  if (key.length > MLFLOW_LIMITS.maxKeyLength) {
    throw invalid(`'${kind} key' exceeds the maximum length of ${MLFLOW_LIMITS.maxKeyLength} characters`);
  }
  if (!KEY_CHARS.test(key)) {
    throw invalid(
      `Invalid ${kind.toLowerCase()} name: '${key}'. Names may only contain alphanumerics, underscores (_), dashes (-), periods (.), spaces ( ), colon(:) and slashes (/).`,
    );
  }
  if (key.startsWith('/') || key.split('/').some((s) => s === '.' || s === '..')) {
    throw invalid(`Invalid ${kind.toLowerCase()} name: '${key}'. Names may not be absolute or contain '.' or '..' segments.`);
  }
}

export function validateParamValue(value: string): void {
  if (typeof value !== 'string') throw invalid(`Param value must be a string, got ${typeof value}`);
  if (value.length > MLFLOW_LIMITS.maxParamValueLength) {
    throw invalid(`'Param value' exceeds the maximum length of ${MLFLOW_LIMITS.maxParamValueLength} characters`);
  }
}

export function validateTagValue(value: string): void {
  if (typeof value !== 'string') throw invalid(`Tag value must be a string, got ${typeof value}`);
  if (value.length > MLFLOW_LIMITS.maxTagValueLength) {
    throw invalid(`'value' exceeds the maximum length of ${MLFLOW_LIMITS.maxTagValueLength} characters`);
  }
}

/** A relative, `/`-separated artifact path with no `..` (artifacts must stay inside the run's folder). */
export function validateArtifactPath(p: string, allowEmpty = false): string {
  const normalised = p.replace(/\\/g, '/').replace(/^\.\/+/, '').replace(/\/+$/, '');
  if (normalised === '' && allowEmpty) return '';
  if (normalised === '' || normalised.startsWith('/') || normalised.split('/').some((s) => s === '..' || s === '' || s === '.')) {
    throw invalid(`invalid artifact path "${p}": it must be relative, without "." or ".." segments`);
  }
  return normalised;
}

/** A model version source with `..` in it is refused (MLflow's rule against path tricks). */
export function validateModelSource(source: string): void {
  if (typeof source !== 'string' || source === '') throw invalid('model version source must be a non-empty string');
  if (source.split(/[/\\]/).includes('..')) {
    throw invalid(
      `Invalid model version source: '${source}'. If supplying a source as an http, https, local file path, ftp, objectstore, or mlflow-artifacts uri, an absolute path must be provided without relative path references present. Please provide an absolute path.`,
    );
  }
}

/** MLflow run ids: 32 lowercase hex characters. */
export function newRunId(): string {
  return crypto.randomUUID().replace(/-/g, '');
}
