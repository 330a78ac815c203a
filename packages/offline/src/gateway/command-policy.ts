/**
 * Which Redis commands the gateway forwards.
 *
 * Two lists, for two different reasons:
 * - {@link CONNECTION_STATE_COMMANDS} are always refused: every HTTP request shares one multiplexed RESP
 *   connection, so a command that changes that connection's state (SELECT, SUBSCRIBE, WATCH, HELLO, CLIENT ...)
 *   or blocks it (BLPOP, WAIT ...) would leak into, or stall, everybody else's requests. Transactions are
 *   offered through `/multi-exec` instead of MULTI/EXEC commands.
 * - {@link ADMIN_COMMANDS} are refused unless enabled by name (`enableCommands`): they can wipe or stop the
 *   server (FLUSHALL, SHUTDOWN, CONFIG SET ...), which an HTTP token holder should not do by default.
 *
 * @module
 */

/** Commands that would change or block the shared connection: never forwarded. Lower case. */
export const CONNECTION_STATE_COMMANDS: ReadonlySet<string> = new Set([
  'auth', 'hello', 'select', 'quit', 'reset', 'client', 'readonly', 'readwrite',
  'multi', 'exec', 'discard', 'watch', 'unwatch',
  'subscribe', 'psubscribe', 'ssubscribe', 'unsubscribe', 'punsubscribe', 'sunsubscribe', 'monitor',
  'blpop', 'brpop', 'brpoplpush', 'blmove', 'blmpop', 'bzpopmin', 'bzpopmax', 'bzmpop', 'wait', 'waitaof',
  'sync', 'psync', 'replconf',
]);

/** Administrative commands refused unless listed in `enableCommands`. Lower case. */
export const ADMIN_COMMANDS: ReadonlySet<string> = new Set([
  'shutdown', 'config', 'flushall', 'flushdb', 'debug', 'save', 'bgsave', 'bgrewriteaof',
  'replicaof', 'slaveof', 'failover', 'module', 'acl', 'cluster', 'migrate', 'restore-asking',
  'swapdb',
]);

/** Options that decide which commands are forwarded. */
export interface CommandPolicyOptions {
  /**
   * Administrative commands to allow anyway (case-insensitive), e.g. `['flushdb']` for a test set-up.
   * Commands that change the shared connection's state can not be enabled.
   * @default []
   */
  enableCommands?: readonly string[];
  /**
   * Further commands to refuse (case-insensitive), e.g. `['keys', 'eval']`.
   * @default []
   */
  disableCommands?: readonly string[];
}

/** Decides per command name; built once per app so the hot path is one Set lookup. */
export class CommandPolicy {
  readonly #refused: Map<string, string>;

  constructor(options: CommandPolicyOptions = {}) {
    const enabled = new Set((options.enableCommands ?? []).map((c) => c.toLowerCase()));
    this.#refused = new Map();
    for (const name of ADMIN_COMMANDS) {
      if (!enabled.has(name)) {
        this.#refused.set(name, `ERR command '${name}' is disabled on this gateway (an administrative command: enable it with enableCommands / --enable-commands)`);
      }
    }
    for (const name of options.disableCommands ?? []) {
      this.#refused.set(name.toLowerCase(), `ERR command '${name.toLowerCase()}' is disabled on this gateway`);
    }
    for (const name of CONNECTION_STATE_COMMANDS) {
      const hint = name === 'multi' || name === 'exec' ? ': send transactions to /multi-exec' : '';
      this.#refused.set(name, `ERR command '${name}' is not supported by the gateway: it would change or block the connection shared by all requests${hint}`);
    }
  }

  /** The refusal message for command `name` (any case) with `args`, or undefined when it may be forwarded. */
  refusal(name: string, args: readonly unknown[]): string | undefined {
    const lower = name.toLowerCase();
    const refused = this.#refused.get(lower);
    if (refused !== undefined) return refused;
    // XREAD/XREADGROUP only block with a BLOCK option: refuse that form, allow the rest.
    if ((lower === 'xread' || lower === 'xreadgroup') && args.some((a) => typeof a === 'string' && a.toLowerCase() === 'block')) {
      return `ERR ${lower} with BLOCK is not supported by the gateway: it would block the connection shared by all requests`;
    }
    return undefined;
  }
}
