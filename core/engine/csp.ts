/**
 * The renderer's Content-Security-Policy, the same for the desktop window and serve mode: our bundle
 * only, no inline scripts. Each host adds where audio and engine messages come from.
 */
export function rendererCsp(extra: { media?: string[]; connect?: string[] } = {}): string {
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
