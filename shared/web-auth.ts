/**
 * @file How a web-mode page proves it holds the `coop-studio serve` token, shared by the server and the page (pure
 * TypeScript). See [Note: no token cookie] in electron/server/web-server.ts.
 */

/** Subprotocol the page asks for on the `/api` WebSocket; the server selects it. */
export const WS_PROTOCOL = 'coop-studio';

/** Prefix of the WebSocket subprotocol that carries the token (a browser cannot set headers on a WebSocket). */
export const WS_TOKEN_PROTOCOL_PREFIX = 'coop-studio.token.';

/** The subprotocols a page offers on the `/api` WebSocket. */
export function webSocketProtocols(token: string): string[] {
  return [WS_PROTOCOL, `${WS_TOKEN_PROTOCOL_PREFIX}${token}`];
}

/** The `Authorization` header of HTTP requests (uploads). */
export function authHeaders(token: string): Record<string, string> {
  return { authorization: `Bearer ${token}` };
}

/** A same-origin URL with the token in its query, for elements that cannot send headers (`<img src>`). */
export function withTokenQuery(path: string, token: string): string {
  return `${path}${path.includes('?') ? '&' : '?'}token=${encodeURIComponent(token)}`;
}
