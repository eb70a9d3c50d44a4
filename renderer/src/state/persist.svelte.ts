// Settings kept across reloads in localStorage (this server's origin, or the desktop app's): what
// `read` returns is saved whenever it changes and handed to `restore` at start.
const PREFIX = 'tilt:';

export function persist<T>(key: string, read: () => T, restore: (saved: T) => void): void {
  try {
    const raw = localStorage.getItem(PREFIX + key);
    if (raw !== null) restore(JSON.parse(raw) as T);
  } catch {
    // A value from an older version or edited by hand: the defaults stand.
  }
  $effect.root(() => {
    $effect(() => {
      const value = JSON.stringify(read());
      try {
        localStorage.setItem(PREFIX + key, value);
      } catch {
        // Storage full or refused: settings then last for this session only.
      }
    });
  });
}
