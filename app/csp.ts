import { MEDIA_SCHEME } from './contract';

/**
 * The renderer's Content-Security-Policy, the same for the desktop window and serve mode: our bundle
 * only, no inline scripts. Each host adds where audio and engine messages come from.
 */
function rendererCsp(extra: { media?: string[]; connect?: string[] } = {}): string {
  return [
    "default-src 'self'",
    "script-src 'self'",
    // Svelte sets inline style attributes for transitions and dynamic sizes.
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    ["media-src 'self' blob:", ...(extra.media ?? [])].join(' '),
    ["connect-src 'self'", ...(extra.connect ?? [])].join(' '),
    "font-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/** The desktop renderer's policy: audio and stem data also come from the media scheme. */
export function desktopCsp(): string {
  return rendererCsp({ media: [`${MEDIA_SCHEME}:`], connect: [`${MEDIA_SCHEME}:`] });
}

/** The renderer's policy in serve mode: engine messages over this server's WebSocket. */
export function webCsp(wsOrigin: string): string {
  return rendererCsp({ connect: [wsOrigin] });
}
