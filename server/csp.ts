/** The renderer's Content-Security-Policy in serve mode: only this server, no inline scripts. */
export function webCsp(wsOrigin: string): string {
  return [
    "default-src 'self'",
    "script-src 'self'",
    // Svelte sets inline style attributes for transitions and dynamic sizes.
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "media-src 'self' blob:",
    `connect-src 'self' ${wsOrigin}`,
    "font-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}
