/**
 * `MemoryStore`: the embedded default online store. A `Map` holding the same keys and values as Redis would
 * (it runs the same core, so it exercises the same format), behind a transport that understands the handful of
 * commands the core sends, and runs the core's Lua scripts as their JavaScript twins.
 *
 * Everything happens synchronously inside one `send`, so a read (MGET) is atomic as in Redis.
 *
 * @module
 */
import { STORE_SCRIPTS, type ScriptHost, type StoreScript } from './scripts.ts';
import { OnlineStoreCore, type PrefixedRead, type PrefixedReads } from './store-core.ts';
import { abortError, type RedisCommand, type RedisReply, type StoreTransport } from './transport.ts';
import { StoreError } from '../errors.ts';
import { decodeFeatureValue, type FeatureRow, type KeyPart } from '../online-format.ts';

/** Options for {@link MemoryStore}. */
export interface MemoryStoreOptions {
  /**
   * The clock key expiry is checked against (epoch ms). Tests move it to expire keys without waiting.
   * @default Date.now
   */
  now?: () => number;
}

interface Entry {
  value: string;
  /** Epoch ms; Infinity: never. */
  expireAt: number;
  /**
   * `value` decoded for {@link rowWidth} features, kept from the first read (a write replaces the entry): a read
   * then answers this row (read-only, see `OnlineStore.readRows`) instead of parsing JSON. The stored text stays
   * what it is, for every other client.
   */
  row: FeatureRow | undefined;
  /** The width {@link row} was decoded for; -1: not decoded yet. */
  rowWidth: number;
}

const SCRIPTS_BY_TEXT = new Map<string, StoreScript>(STORE_SCRIPTS.map((s) => [s.lua, s]));

/** Redis glob (`*`, `?`, `[abc]`, `[^a]`, `\x`) to a RegExp. */
function globToRegExp(pattern: string): RegExp {
  let out = '^';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '\\' && i + 1 < pattern.length) out += pattern[++i].replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    else if (c === '*') out += '.*';
    else if (c === '?') out += '.';
    else if (c === '[') {
      const end = pattern.indexOf(']', i + 1);
      if (end < 0) out += '\\[';
      else {
        const body = pattern.slice(i + 1, end).replace(/\\/g, '\\\\');
        out += body.startsWith('^') ? `[^${body.slice(1)}]` : `[${body}]`;
        i = end;
      }
    } else out += c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`${out}$`, 's');
}

/** Where the entity part of a key starts: after its fifth colon (`ls:<project>:<view>:<hash>:v<version>:`); -1: none. */
function entityStart(key: string): number {
  let at = -1;
  for (let n = 0; n < 5; n++) if ((at = key.indexOf(':', at + 1)) < 0) return -1;
  return at + 1;
}

/**
 * The keys and their entries, shared by every client of the same data. `data` defines the contents. Every key with
 * an entity part is also indexed under its prefix: in `index` by its entity part when that is one join key, in
 * `nested` by its first join key then the rest when it has several (user × category: one user's rows in one small
 * map). A read then resolves a view's prefix (and a user) once and looks up short keys in compact tables, rather
 * than hashing a freshly built long key per entity in one big table (that was a tenth of a compute-only score).
 * Every change goes through {@link put} and {@link drop}, which keep all three in step.
 */
class Keyspace {
  readonly data = new Map<string, Entry>();
  readonly index = new Map<string, Map<string, Entry>>();
  readonly nested = new Map<string, Map<string, Map<string, Entry>>>();

  put(key: string, entry: Entry): void {
    this.data.set(key, entry);
    const at = locate(key);
    if (at === undefined) return;
    if (at.first === undefined) {
      let keys = this.index.get(at.prefix);
      if (keys === undefined) this.index.set(at.prefix, (keys = new Map()));
      keys.set(at.rest, entry);
      return;
    }
    let firsts = this.nested.get(at.prefix);
    if (firsts === undefined) this.nested.set(at.prefix, (firsts = new Map()));
    let keys = firsts.get(at.first);
    if (keys === undefined) firsts.set(at.first, (keys = new Map()));
    keys.set(at.rest, entry);
  }

  drop(key: string): boolean {
    if (!this.data.delete(key)) return false;
    const at = locate(key);
    if (at === undefined) return true;
    // Emptied tables go: a deleted version leaves nothing behind.
    if (at.first === undefined) {
      const keys = this.index.get(at.prefix)!;
      keys.delete(at.rest);
      if (keys.size === 0) this.index.delete(at.prefix);
      return true;
    }
    const firsts = this.nested.get(at.prefix)!;
    const keys = firsts.get(at.first)!;
    keys.delete(at.rest);
    if (keys.size === 0) firsts.delete(at.first);
    if (firsts.size === 0) this.nested.delete(at.prefix);
    return true;
  }
}

/**
 * Where {@link Keyspace} indexes `key`: its prefix, and its entity part either whole (`rest`, one join key) or as
 * the first join key and the rest (several). Undefined for keys without an entity part.
 */
function locate(key: string): { prefix: string; first: string | undefined; rest: string } | undefined {
  const at = entityStart(key);
  if (at < 0) return undefined;
  // Join keys are escaped ('|' as %7C): the first '|' ends the first one.
  const bar = key.indexOf('|', at);
  return bar < 0
    ? { prefix: key.slice(0, at), first: undefined, rest: key.slice(at) }
    : { prefix: key.slice(0, at), first: key.slice(at, bar), rest: key.slice(bar + 1) };
}

/** The in-memory "server": a Map of strings with expiry and a small command interpreter. */
class MemoryTransport implements StoreTransport, PrefixedReads, ScriptHost {
  readonly #keys: Keyspace;
  readonly #data: Map<string, Entry>;
  readonly #now: () => number;
  #closed = false;

  constructor(now: () => number, keys = new Keyspace()) {
    this.#now = now;
    this.#keys = keys;
    this.#data = keys.data;
  }

  /** Another client of the same data. */
  connect(): MemoryTransport {
    return new MemoryTransport(this.#now, this.#keys);
  }

  async send(commands: readonly RedisCommand[], signal?: AbortSignal): Promise<RedisReply[]> {
    if (signal?.aborted) throw abortError(signal);
    if (this.#closed) throw new StoreError('MemoryStore is closed');
    const replies = new Array<RedisReply>(commands.length);
    for (let i = 0; i < commands.length; i++) {
      try {
        replies[i] = this.#run(commands[i]);
      } catch (err) {
        replies[i] = err instanceof Error ? err : new Error(String(err));
      }
    }
    return replies;
  }

  async mgetPrefixed(first: string, reads: readonly PrefixedRead[], signal?: AbortSignal): Promise<string | null> {
    if (signal?.aborted) throw abortError(signal);
    if (this.#closed) throw new StoreError('MemoryStore is closed');
    const now = this.#now();
    for (let r = 0; r < reads.length; r++) {
      const { prefix, parts, entities, width, rows } = reads[r];
      // The index holds a key under this prefix only if its entity part starts right after it (a project or
      // view name with a colon splits elsewhere): otherwise the full keys.
      const indexed = entityStart(prefix) === prefix.length;
      const single = indexed ? this.#keys.index.get(prefix) : undefined;
      const firsts = indexed ? this.#keys.nested.get(prefix) : undefined;
      // The table of the last first join key seen (usually the one user of every entity).
      let lastFirst: KeyPart | undefined;
      let keys: Map<string, Entry> | undefined;
      for (let e = 0; e < parts.length; e++) {
        const part = parts[e];
        const entity = entities[e];
        let entry: Entry | undefined;
        if (!indexed) entry = this.#data.get(prefix + part);
        else if (entity.length === 1) entry = single?.get(part);
        else {
          const bar = part.indexOf('|');
          if (e === 0 || entity[0] !== lastFirst) {
            lastFirst = entity[0];
            keys = firsts?.get(part.slice(0, bar));
          }
          // A second and last join key that needs no escaping is its own encoding: no new string.
          const second = entity[1];
          const rest = entity.length === 2 && typeof second === 'string' && part.length - bar - 1 === second.length ? second : part.slice(bar + 1);
          entry = keys?.get(rest);
        }
        if (entry !== undefined && entry.expireAt <= now) {
          this.#keys.drop(prefix + part);
          entry = undefined;
        }
        if (entry !== undefined && entry.rowWidth !== width) {
          entry.row = decodeFeatureValue(entry.value, width);
          entry.rowWidth = width;
        }
        rows[e] = entry?.row;
      }
    }
    return this.#live(first, now)?.value ?? null;
  }

  async close(): Promise<void> {
    // Other clients of the same data keep it; it goes with the last reference.
    this.#closed = true;
  }

  get(key: string): string | null {
    return this.#live(key, this.#now())?.value ?? null;
  }

  set(key: string, value: string, expireAtMs?: number): void {
    this.#keys.put(key, { value, expireAt: expireAtMs ? expireAtMs : Infinity, row: undefined, rowWidth: -1 });
  }

  del(key: string): number {
    return this.get(key) === null ? 0 : Number(this.#keys.drop(key));
  }

  pexpire(key: string, ms: number): number {
    const entry = this.#live(key, this.#now());
    if (!entry) return 0;
    entry.expireAt = this.#now() + ms;
    return 1;
  }

  /** The entry of `key` unless it expired by `now` (then it goes). */
  #live(key: string, now: number): Entry | undefined {
    const entry = this.#data.get(key);
    if (entry === undefined || entry.expireAt > now) return entry;
    this.#keys.drop(key);
    return undefined;
  }

  /** MGET: one clock reading for all keys, no argument copies. */
  #mget(command: RedisCommand): Array<string | null> {
    const now = this.#now();
    const out = new Array<string | null>(command.length - 1);
    for (let i = 1; i < command.length; i++) out[i - 1] = this.#live(String(command[i]), now)?.value ?? null;
    return out;
  }

  #run(command: RedisCommand): RedisReply {
    const name = command[0].toUpperCase();
    if (name === 'MGET') return this.#mget(command);
    const args = command.slice(1).map(String);
    switch (name) {
      case 'GET':
        return this.get(args[0]);
      case 'SET':
        return this.#set(args);
      case 'INCR': {
        const current = this.get(args[0]);
        const n = current === null ? 1 : Number(current) + 1;
        if (!Number.isInteger(n)) throw new Error('ERR value is not an integer or out of range');
        const entry = this.#data.get(args[0]);
        this.set(args[0], String(n), entry && entry.expireAt !== Infinity ? entry.expireAt : 0);
        return n;
      }
      case 'DEL':
      case 'UNLINK':
        return args.reduce((n, k) => n + this.del(k), 0);
      case 'EXISTS':
        return args.reduce((n, k) => n + (this.get(k) === null ? 0 : 1), 0);
      case 'PEXPIRE':
        return this.pexpire(args[0], Number(args[1]));
      case 'PTTL': {
        if (this.get(args[0]) === null) return -2;
        const at = this.#data.get(args[0])!.expireAt;
        return at === Infinity ? -1 : at - this.#now();
      }
      case 'SCAN':
        return this.#scan(args);
      case 'EVAL': {
        const script = SCRIPTS_BY_TEXT.get(args[0]);
        if (!script) throw new Error('ERR MemoryStore runs only the online store\'s own scripts');
        const n = Number(args[1]);
        return script.run(this, args.slice(2, 2 + n), args.slice(2 + n));
      }
      case 'PING':
        return 'PONG';
      default:
        throw new Error(`ERR unknown command '${command[0]}' (MemoryStore supports what the online store sends)`);
    }
  }

  /** SET key value [NX] [PX ms | PXAT ms | EX s] */
  #set(args: string[]): RedisReply {
    const [key, value] = args;
    let expireAt = 0;
    let nx = false;
    for (let i = 2; i < args.length; i++) {
      const option = args[i].toUpperCase();
      if (option === 'NX') nx = true;
      else if (option === 'PX') expireAt = this.#now() + Number(args[++i]);
      else if (option === 'PXAT') expireAt = Number(args[++i]);
      else if (option === 'EX') expireAt = this.#now() + Number(args[++i]) * 1000;
      else throw new Error(`ERR syntax error (SET option ${args[i]})`);
    }
    if (nx && this.get(key) !== null) return null;
    if (expireAt && expireAt <= this.#now()) {
      this.#keys.drop(key); // as Redis: a SET with an expiry in the past leaves no key
      return 'OK';
    }
    this.set(key, value, expireAt);
    return 'OK';
  }

  /** SCAN cursor [MATCH pattern] [COUNT n]: everything in one page (cursor 0), which Redis's contract allows. */
  #scan(args: string[]): RedisReply {
    let match: RegExp | undefined;
    for (let i = 1; i < args.length; i++) {
      if (args[i].toUpperCase() === 'MATCH') match = globToRegExp(args[++i]);
      else if (args[i].toUpperCase() === 'COUNT') i++;
    }
    const keys: string[] = [];
    for (const key of [...this.#data.keys()]) if (this.get(key) !== null && (!match || match.test(key))) keys.push(key);
    return ['0', keys];
  }
}

/** The embedded online store: the Redis format in a Map. */
export class MemoryStore extends OnlineStoreCore {
  readonly #memory: MemoryTransport;

  constructor(options: MemoryStoreOptions = {}, transport?: MemoryTransport) {
    const memory = transport ?? new MemoryTransport(options.now ?? Date.now);
    super(memory, 'MemoryStore');
    this.#memory = memory;
  }

  /**
   * Another store over the same data, with its own pointer cache: what a second client connected to the same
   * server would be (e.g. a materializer and a scorer in one process).
   */
  connect(): MemoryStore {
    return new MemoryStore({}, this.#memory.connect());
  }
}

