import { mount } from 'svelte';
import App from './App.svelte';
import { app } from './state/app.svelte';
import { electronApi } from './lib/api-electron';
import { webApi } from './lib/api-web';
import type { PreloadApi } from '../../app/contract';
import './styles.css';

const preload = (window as unknown as { tilt?: PreloadApi }).tilt;
app.connect(preload ? electronApi(preload) : webApi());
mount(App, { target: document.getElementById('app')! });
