// Electron main process: owns the window, the native menus and dialogs, and the engine host (whose
// worker thread runs all separation and training, so this thread never blocks).
import { app, BrowserWindow, dialog, ipcMain, Menu, nativeImage, net, protocol, session, shell, type IpcMainInvokeEvent, type MenuItemConstructorOptions } from 'electron';
import { readFile, writeFile, mkdir } from 'node:fs/promises';
import { basename, extname, join, resolve, sep } from 'node:path';
import { pathToFileURL, fileURLToPath } from 'node:url';
import { Engine } from '../core/engine/host';
import { BUILTIN_MODELS_DIR, engineDirs } from '../core/engine/paths';
import { SPEECH_BANK_DIR } from '../core/data/speechBank';
import { APP_SCHEME, CHANNELS, DESKTOP_CHANNELS, GRANT_DROPPED, MEDIA_SCHEME, type EventMap, type InputRef, type RecentFile, type View } from '../app/contract';
import { createDispatcher } from '../app/dispatch';
import { PathGrants } from './grants';
import { desktopHandlers, dragIconBitmap, DRAG_ICON_SIZE } from './desktop';
import { desktopCsp } from '../app/csp';

const HERE = fileURLToPath(new URL('.', import.meta.url));
const RENDERER_DIR = resolve(HERE, '..', 'renderer');
const APP_ORIGIN = `${APP_SCHEME}://app`;
const AUDIO_FILTERS = [{ name: 'Audio', extensions: ['wav', 'flac', 'ogg', 'oga', 'mp3'] }];
const MAX_RECENT = 10;

protocol.registerSchemesAsPrivileged([
  { scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true } },
  { scheme: MEDIA_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true, stream: true } },
]);

if (!app.requestSingleInstanceLock()) app.quit();

let win: BrowserWindow | null = null;
let engine: Engine;
let recent: RecentFile[] = [];
const recentFile = () => join(app.getPath('userData'), 'recent.json');
/** What the window may hand to the engine: only paths the user picked here (see grants.ts). */
const grants = new PathGrants();

function send<E extends keyof EventMap>(event: E, payload: EventMap[E]): void {
  win?.webContents.send(event, payload);
}

async function loadRecent(): Promise<void> {
  try {
    const v: unknown = JSON.parse(await readFile(recentFile(), 'utf8'));
    recent = Array.isArray(v) ? (v as RecentFile[]).filter((r) => typeof r?.path === 'string').slice(0, MAX_RECENT) : [];
  } catch {
    recent = [];
  }
  // Files the user separated before; only this process writes the list.
  for (const r of recent) grants.grant(r.path, 'read');
}

function noteOpened(path: string): void {
  recent = [{ path, name: basename(path), openedAt: new Date().toISOString() }, ...recent.filter((r) => r.path !== path)].slice(0, MAX_RECENT);
  app.addRecentDocument(path);
  void mkdir(app.getPath('userData'), { recursive: true }).then(() => writeFile(recentFile(), JSON.stringify(recent, null, 2)));
  buildMenu();
}

function openPaths(paths: string[]): void {
  for (const path of paths) grants.grant(path, 'read');
  const inputs: InputRef[] = paths.map((path) => ({ kind: 'path', path }));
  if (inputs.length) send('app:open-files', { inputs });
}

async function chooseAudio(): Promise<InputRef[]> {
  const r = await dialog.showOpenDialog(win!, { title: 'Add audio files', properties: ['openFile', 'multiSelections'], filters: AUDIO_FILTERS });
  if (r.canceled) return [];
  for (const path of r.filePaths) grants.grant(path, 'read');
  return r.filePaths.map((path) => ({ kind: 'path', path }));
}

const FOLDER_TITLES = {
  'export': 'Export stems to folder', 'import-model': 'Import a model folder', 'export-model': 'Export the model into folder', 'training-data': 'Choose a folder of training audio',
} as const;
const FOLDER_ACCESS = { 'export': 'write', 'import-model': 'read', 'export-model': 'write', 'training-data': 'read' } as const;

async function chooseFolder(purpose: keyof typeof FOLDER_TITLES): Promise<string | null> {
  const r = await dialog.showOpenDialog(win!, { title: FOLDER_TITLES[purpose], properties: ['openDirectory', 'createDirectory'] });
  const path = r.canceled ? null : r.filePaths[0] ?? null;
  if (path) grants.grant(path, FOLDER_ACCESS[purpose]);
  return path;
}

function navigate(view: View): void {
  send('app:navigate', { view });
}

function buildMenu(): void {
  const isMac = process.platform === 'darwin';
  const template: MenuItemConstructorOptions[] = [
    ...(isMac ? [{ role: 'appMenu' as const }] : []),
    {
      label: '&File',
      submenu: [
        { label: 'Add Audio Files…', accelerator: 'CmdOrCtrl+O', click: () => void chooseAudio().then((refs) => refs.length && send('app:open-files', { inputs: refs })) },
        {
          label: 'Open Recent',
          submenu: recent.length
            ? [...recent.map((r) => ({ label: r.name, sublabel: r.path, click: () => openPaths([r.path]) })), { type: 'separator' as const },
              { label: 'Clear Recent', click: () => { recent = []; app.clearRecentDocuments(); void writeFile(recentFile(), '[]'); buildMenu(); } }]
            : [{ label: 'No recent files', enabled: false }],
        },
        { label: 'Export Stems…', accelerator: 'CmdOrCtrl+E', click: () => send('app:command', { command: 'export-stems' }) },
        { type: 'separator' },
        { label: 'Import Model Folder…', click: () => send('app:command', { command: 'import-model' }) },
        { type: 'separator' },
        isMac ? { role: 'close' } : { role: 'quit' },
      ],
    },
    { role: 'editMenu' },
    {
      label: '&View',
      submenu: [
        { label: 'Separate', accelerator: 'CmdOrCtrl+1', click: () => navigate('separate') },
        { label: 'Train', accelerator: 'CmdOrCtrl+2', click: () => navigate('train') },
        { label: 'Models', accelerator: 'CmdOrCtrl+3', click: () => navigate('models') },
        { type: 'separator' },
        { role: 'resetZoom' }, { role: 'zoomIn' }, { role: 'zoomOut' }, { type: 'separator' }, { role: 'togglefullscreen' },
        ...(app.isPackaged ? [] : [{ role: 'toggleDevTools' as const }]),
      ],
    },
    { role: 'windowMenu' },
    { role: 'help', submenu: [{ label: 'Models Folder', click: () => void shell.openPath(engine.models.userDir) }] },
  ];
  Menu.setApplicationMenu(Menu.buildFromTemplate(template));
}

/** Only our own page may call the engine: not a navigated-to page, not a subframe from elsewhere. */
function trustedSender(e: IpcMainInvokeEvent): boolean {
  const url = e.senderFrame?.url;
  return !!url && url.startsWith(`${APP_ORIGIN}/`) && e.sender === win?.webContents;
}

function registerProtocols(): void {
  protocol.handle(APP_SCHEME, async (req) => {
    const url = new URL(req.url);
    if (url.host !== 'app') return new Response('not found', { status: 404 });
    const rel = decodeURIComponent(url.pathname).replace(/^\/+/, '') || 'index.html';
    const path = resolve(RENDERER_DIR, rel);
    if (!path.startsWith(RENDERER_DIR + sep)) return new Response('not found', { status: 404 });
    const res = await net.fetch(pathToFileURL(path).href).catch(() => null);
    if (!res?.ok) return new Response('not found', { status: 404 });
    const headers = new Headers(res.headers);
    if (extname(path) === '.html') headers.set('content-security-policy', desktopCsp());
    headers.set('x-content-type-options', 'nosniff');
    return new Response(res.body, { status: res.status, headers });
  });
  // tilt-media://result/<resultId>/<trackId>.wav -> the engine's WAV for that track.
  protocol.handle(MEDIA_SCHEME, (req) => {
    const url = new URL(req.url);
    const [resultId, track] = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    const file = url.host === 'result' && resultId && track ? engine.trackFile(resultId, track.replace(/\.wav$/, '')) : undefined;
    if (!file) return new Response('not found', { status: 404 });
    return net.fetch(pathToFileURL(file).href, { headers: req.headers });
  });
}

function createWindow(): void {
  win = new BrowserWindow({
    width: 1360,
    height: 860,
    minWidth: 980,
    minHeight: 640,
    title: 'Tilt',
    backgroundColor: '#0d111a',
    show: false,
    webPreferences: {
      preload: join(HERE, 'preload.cjs'),
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webSecurity: true,
      spellcheck: false,
    },
  });
  win.once('ready-to-show', () => win?.show());
  win.webContents.on('will-navigate', (e) => e.preventDefault());
  win.webContents.on('will-redirect', (e) => e.preventDefault());
  win.webContents.setWindowOpenHandler(() => ({ action: 'deny' }));
  win.on('closed', () => (win = null));
  void win.loadURL(`${APP_ORIGIN}/index.html`);
}

app.on('web-contents-created', (_e, contents) => {
  contents.on('will-attach-webview', (e) => e.preventDefault());
});

app.on('second-instance', (_e, argv) => {
  if (win) {
    if (win.isMinimized()) win.restore();
    win.focus();
  }
  openPaths(argv.slice(1).filter((a) => !a.startsWith('-') && AUDIO_FILTERS[0]!.extensions.includes(extname(a).slice(1).toLowerCase())));
});

app.on('open-file', (e, path) => {
  e.preventDefault();
  openPaths([path]);
});

void app.whenReady().then(async () => {
  // The app needs no browser permission (camera, notifications, clipboard, HID...): refuse them all.
  session.defaultSession.setPermissionRequestHandler((_wc, _perm, cb) => cb(false));
  session.defaultSession.setPermissionCheckHandler(() => false);
  session.defaultSession.setDevicePermissionHandler(() => false);
  const builtin = app.isPackaged ? join(process.resourcesPath, 'assets', 'models') : BUILTIN_MODELS_DIR;
  const speechBankDir = app.isPackaged ? join(process.resourcesPath, 'assets', 'speech-bank') : SPEECH_BANK_DIR;
  engine = new Engine({
    ...engineDirs(), builtinModelsDirs: [builtin], speechBankDir,
    workerUrl: new URL('./engine-worker.js', import.meta.url), trainWorkerUrl: new URL('./train-worker.js', import.meta.url),
  });
  engine.on((e) => send('engine:event', e));
  await loadRecent();
  // The files of the engine's recent results (its list in the data folder) open again from the Separate view.
  for (const r of await engine.recentResults()) if (r.sourcePath) grants.grant(r.sourcePath, 'read');
  const dispatch = createDispatcher(engine, {
    kind: 'electron',
    version: app.getVersion(),
    chooseFolder,
    openAudio: chooseAudio,
    noteOpened,
    allowsPath: (path, access) => grants.allows(path, access),
  });
  ipcMain.on(GRANT_DROPPED, (e, path: unknown) => {
    if (trustedSender(e) && typeof path === 'string' && path) grants.grant(path, 'read');
    e.returnValue = true;
  });
  const dragIcon = nativeImage.createFromBitmap(dragIconBitmap(), { width: DRAG_ICON_SIZE, height: DRAG_ICON_SIZE });
  const desktop = desktopHandlers({
    engine, trusted: trustedSender, dragIcon: () => dragIcon, showItemInFolder: (path) => shell.showItemInFolder(path),
  });
  ipcMain.handle(DESKTOP_CHANNELS.stemDrag, (e, args: unknown) => desktop.stemDrag(e, args));
  ipcMain.handle(DESKTOP_CHANNELS.reveal, (e, args: unknown) => desktop.reveal(e, args));
  for (const channel of CHANNELS) {
    ipcMain.handle(channel, (e, args: unknown) => {
      if (!trustedSender(e)) return { ok: false, error: { message: 'Refused: the request did not come from the Tilt window', code: 'forbidden' } };
      return dispatch(channel, args);
    });
  }
  registerProtocols();
  buildMenu();
  createWindow();
});

app.on('window-all-closed', () => {
  void engine?.close().finally(() => app.quit());
});
