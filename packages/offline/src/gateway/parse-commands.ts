/**
 * Validation of request bodies: `["set","k","v"]` at `/`, `[["set","k","v"],["get","k"]]` at `/pipeline` and
 * `/multi-exec`. Arguments may be strings, numbers or booleans (`@upstash/redis` serialises `set(k, true)` as
 * a JSON boolean); anything else is a 400 naming the offending position.
 *
 * @module
 */
import { GatewayRequestError } from './request-error.ts';
import type { CommandPolicy } from './command-policy.ts';

/** One Redis command: name first, then arguments, all as strings. */
export type RedisCommand = string[];

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    const shown = text.length > 200 ? `${text.slice(0, 200)}… (${text.length} chars)` : text;
    throw new GatewayRequestError(400, `ERR failed to parse the request body as JSON: ${JSON.stringify(shown)}`);
  }
}

/** Validate one command array in place (numbers and booleans become strings) and check it against the policy. */
function toCommand(value: unknown, where: string, policy: CommandPolicy): RedisCommand {
  if (!Array.isArray(value) || value.length === 0) {
    throw new GatewayRequestError(400, `ERR ${where} must be a non-empty JSON array like ["get","key"], got ${describe(value)}`);
  }
  const name = value[0];
  if (typeof name !== 'string' || name.length === 0) {
    throw new GatewayRequestError(400, `ERR ${where}: the command name must be a non-empty string, got ${describe(name)}`);
  }
  const refusal = policy.refusal(name, value);
  if (refusal !== undefined) throw new GatewayRequestError(403, refusal);
  for (let i = 1; i < value.length; i++) {
    const arg = value[i];
    if (typeof arg === 'string') continue;
    if (typeof arg === 'number' || typeof arg === 'boolean') {
      value[i] = String(arg);
      continue;
    }
    throw new GatewayRequestError(400, `ERR ${where}: argument ${i} must be a string, a number or a boolean, got ${describe(arg)}`);
  }
  return value as RedisCommand;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `${typeof value} ${JSON.stringify(value)}`;
}

/** The command of a `POST /` body. */
export function parseSingle(text: string, policy: CommandPolicy): RedisCommand {
  return toCommand(parseJson(text), 'the request body', policy);
}

/** The commands of a `POST /pipeline` or `POST /multi-exec` body. */
export function parseBatch(text: string, policy: CommandPolicy): RedisCommand[] {
  const body = parseJson(text);
  if (!Array.isArray(body) || body.length === 0) {
    throw new GatewayRequestError(400, `ERR the request body must be a non-empty JSON array of commands like [["get","key"]], got ${describe(body)}`);
  }
  for (let i = 0; i < body.length; i++) body[i] = toCommand(body[i], `command ${i}`, policy);
  return body as RedisCommand[];
}
