/**
 * `@lockstep/sdk/node/resp`: the building blocks of the SDK's own RESP connections, for other Node code of
 * lockstep that speaks RESP by hand (the gateway). Not a stable public API: no semver promise beyond lockstep's
 * own packages.
 *
 * @module
 */
export {
  READ_BUFFER_BYTES,
  RespConnection,
  SETUP_DROPPED,
  SETUP_INCOMPLETE,
  connectResp,
  encodeRespCommand,
  setupCommands,
  type PendingSetup,
  type QueuedRequest,
  type RespConnectionOptions,
} from './resp-connection.ts';
export { putCount } from './resp-set-pipeline.ts';
export * from './resp-bytes.ts';
