/** A request the gateway refuses, with the HTTP status to answer and an Upstash-style `{error}` message. */
export class GatewayRequestError extends Error {
  readonly status: 400 | 401 | 403 | 404 | 405 | 413 | 500 | 503;
  constructor(status: GatewayRequestError['status'], message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'GatewayRequestError';
    this.status = status;
  }
}
