// App-wide state: the API in use, the current view, the backend line and the notifications.
import type { Api, ConnectionState } from '../lib/api';
import { messageOf } from '../lib/api';
import type { BackendDescription, View } from '../../../app/contract';

export interface Toast {
  id: number;
  kind: 'error' | 'info' | 'success';
  message: string;
}

let current: Api | null = null;

export function api(): Api {
  if (!current) throw new Error('The API is not connected yet');
  return current;
}

class AppState {
  view = $state<View>('separate');
  backend = $state<BackendDescription | null>(null);
  backendError = $state<string | null>(null);
  shell = $state<'electron' | 'web'>('web');
  exportDir = $state('');
  toasts = $state<Toast[]>([]);
  connection = $state<ConnectionState>('connecting');
  private nextToast = 1;

  connect(a: Api): void {
    current = a;
    this.shell = a.shell;
    a.call('backend:describe', {}).then(
      (b) => (this.backend = b),
      (e: unknown) => (this.backendError = messageOf(e)),
    );
    a.call('app:info', {}).then((i) => (this.exportDir = i.exportDir), () => undefined);
    a.onNavigate(({ view }) => (this.view = view));
    a.onConnection((c) => (this.connection = c));
  }

  /** Errors stay longer than news, and every toast has a close button (Escape closes the newest). */
  notify(kind: Toast['kind'], message: string): void {
    const id = this.nextToast++;
    this.toasts.push({ id, kind, message });
    setTimeout(() => this.dismiss(id), kind === 'error' ? 20_000 : 6000);
  }

  dismiss(id: number): void {
    this.toasts = this.toasts.filter((t) => t.id !== id);
  }
}

export const app = new AppState();
