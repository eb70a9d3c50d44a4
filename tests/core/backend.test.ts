import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initBackend, BACKEND_ORDER } from '../../core/backend';
import { tf } from '../../core/tf';

test('picks the first backend that loads and reports why the others were skipped', async () => {
  const info = await initBackend();
  assert.ok(BACKEND_ORDER.includes(info.choice));
  assert.equal(tf.getBackend(), info.tfBackend);
  const before = BACKEND_ORDER.indexOf(info.choice);
  assert.deepEqual(info.skipped.map((s) => s.choice), BACKEND_ORDER.slice(0, before));
  for (const s of info.skipped) assert.ok(s.reason.length > 0);
});

test('an unknown forced backend is rejected with the valid names', async () => {
  await assert.rejects(initBackend('cuda'), /Unknown backend "cuda".*tfjs-node-gpu, tfjs-node, wasm, cpu/);
});

test('a forced backend is used', async () => {
  const info = await initBackend('cpu');
  assert.equal(info.choice, 'cpu');
  assert.equal(tf.getBackend(), 'cpu');
  const wasm = await initBackend('wasm');
  assert.equal(wasm.choice, 'wasm');
});
