import { rendererCsp } from '../core/engine/csp';

/** The renderer's policy in serve mode: engine messages over this server's WebSocket. */
export function webCsp(wsOrigin: string): string {
  return rendererCsp({ connect: [wsOrigin] });
}
