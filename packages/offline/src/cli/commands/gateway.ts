/**
 * `lockstep gateway`: serve the Upstash REST protocol in front of Redis/Valkey (see docs/gateway.md).
 */
import { InvalidArgumentError, Option, type Command } from 'commander';
import { InputError } from '@lockstep/sdk';
import { DEFAULT_GATEWAY_PORT, DEFAULT_MAX_BODY_BYTES, startGateway } from '../../gateway/index.ts';

function integer(name: string, min: number, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max) throw new InvalidArgumentError(`${name} must be an integer in ${min}..${max}`);
    return n;
  };
}

const list = (value: string, previous: string[] = []) => [...previous, ...value.split(',').map((s) => s.trim()).filter(Boolean)];

interface GatewayCliOptions {
  port: number;
  host: string;
  redisUrl: string;
  token?: string[];
  insecureNoAuth?: boolean;
  maxBodyBytes: number;
  enableCommands?: string[];
  disableCommands?: string[];
  redisClient: 'lockstep' | 'iovalkey';
}

export function register(program: Command): void {
  program
    .command('gateway')
    .description('serve the Upstash REST protocol (as @upstash/redis speaks it) in front of Redis/Valkey')
    .option('--port <port>', 'port to listen on (0: any free port)', integer('--port', 0, 65535), DEFAULT_GATEWAY_PORT)
    .option('--host <host>', 'interface to listen on (0.0.0.0 for all)', '127.0.0.1')
    .option('--redis-url <url>', 'Redis/Valkey to front', process.env.LOCKSTEP_REDIS_URL ?? 'redis://127.0.0.1:6379')
    .option('--token <token>', 'bearer token clients must send; repeat or comma-separate for several (default: $LOCKSTEP_GATEWAY_TOKEN)', list)
    .option('--insecure-no-auth', 'serve without any token (local development only)')
    .option('--max-body-bytes <n>', 'largest request body accepted (413 above)', integer('--max-body-bytes', 1, 2 ** 31), DEFAULT_MAX_BODY_BYTES)
    .option('--enable-commands <names>', 'administrative commands to allow, comma-separated (e.g. flushdb,config)', list)
    .option('--disable-commands <names>', 'further commands to refuse, comma-separated (e.g. keys,eval)', list)
    .addOption(
      new Option('--redis-client <client>', "the Redis connection: the gateway's own (replies transcoded to JSON in place) or iovalkey's (the reference)")
        .choices(['lockstep', 'iovalkey'])
        .default('lockstep'),
    )
    .action(async (opts: GatewayCliOptions) => {
      const tokens = opts.token ?? list(process.env.LOCKSTEP_GATEWAY_TOKEN ?? '');
      if (tokens.length === 0 && !opts.insecureNoAuth) {
        throw new InputError('no token: pass --token <token> or set LOCKSTEP_GATEWAY_TOKEN (or --insecure-no-auth for local development)', 'token');
      }
      const gateway = await startGateway({
        port: opts.port,
        host: opts.host,
        redisUrl: opts.redisUrl,
        token: tokens,
        insecureNoAuth: opts.insecureNoAuth === true,
        maxBodyBytes: opts.maxBodyBytes,
        enableCommands: opts.enableCommands,
        disableCommands: opts.disableCommands,
        redisClient: opts.redisClient,
        onError: (err) => console.error(`lockstep gateway: ${err instanceof Error ? err.message : String(err)}`),
      });
      const where = opts.redisUrl.replace(/\/\/[^@/]*@/, '//***@');
      console.error(`lockstep gateway: listening on ${gateway.url} → ${where}${opts.insecureNoAuth ? ' (NO AUTH)' : ''}`);
      // The URL on stdout alone, so scripts can read it (useful with --port 0).
      console.log(gateway.url);
      const stop = () => {
        console.error('lockstep gateway: shutting down');
        gateway.close().then(() => process.exit(0), () => process.exit(1));
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
}
