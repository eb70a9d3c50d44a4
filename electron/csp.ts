import { MEDIA_SCHEME } from './contract';

/** The desktop renderer's Content-Security-Policy: our bundle only, audio from the media scheme. */
export function desktopCsp(): string {
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    `media-src 'self' blob: ${MEDIA_SCHEME}:`,
    `connect-src 'self' ${MEDIA_SCHEME}:`,
    "font-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}
