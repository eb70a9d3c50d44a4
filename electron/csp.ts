import { rendererCsp } from '../core/engine/csp';
import { MEDIA_SCHEME } from './contract';

/** The desktop renderer's policy: audio and stem data also come from the media scheme. */
export function desktopCsp(): string {
  return rendererCsp({ media: [`${MEDIA_SCHEME}:`], connect: [`${MEDIA_SCHEME}:`] });
}
