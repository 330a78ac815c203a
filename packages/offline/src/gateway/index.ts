/**
 * `lockstep gateway`: an HTTP server speaking the Upstash REST protocol in front of Redis/Valkey, so that
 * `@upstash/redis` (edge runtimes) can use a self-hosted server. See docs/gateway.md.
 *
 * @module
 */
export { createGatewayApp, DEFAULT_MAX_BODY_BYTES, type GatewayAppOptions } from './app.ts';
export { startGateway, DEFAULT_GATEWAY_PORT, type StartGatewayOptions, type RunningGateway } from './server.ts';
export { connectGatewayRedis, executeBatch, whenReady, type GatewayRedisOptions } from './redis-connection.ts';
export { CommandPolicy, ADMIN_COMMANDS, CONNECTION_STATE_COMMANDS, type CommandPolicyOptions } from './command-policy.ts';
export { encodeResult, encodeBatch, encodeError, type RespReply } from './encode-reply.ts';
export { GatewayRequestError } from './request-error.ts';
export { createGatewayListener } from './node-listener.ts';
export { GatewayResp, gatewayRespOptions, type GatewayRespOptions } from './gateway-resp.ts';
export { answerCommands, iovalkeyRunner, type CommandRunner, type GatewayAnswer, type GatewayMode } from './answer-commands.ts';
