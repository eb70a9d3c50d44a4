// The renderer's pure helpers: model cards read as Markdown without ever becoming HTML, and chart
// series that stay bounded however long a run goes (the engine's history decimates the same way).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseMarkdown, inline } from '../../renderer/src/lib/markdown';
import { appendPoint, MAX_POINTS, type Point } from '../../renderer/src/lib/series';
import { appendDecimated } from '../../core/engine/training';

test('a model card parses into headings, tables, lists and inline marks; markup stays text', () => {
  const blocks = parseMarkdown([
    '# Tilt default', '', 'Trained **13,750 steps** on `ci` data, see [the docs](docs/x.md).', '',
    '## Before / after', '| set | base | tuned |', '|---|---:|---:|', '| speech | 7.88 | 8.72 |', '',
    '- one', '- two <script>alert(1)</script>', '', '```', 'npx tilt train', '```',
  ].join('\n'));
  assert.deepEqual(blocks.map((b) => b.kind), ['heading', 'paragraph', 'heading', 'table', 'list', 'code']);
  assert.deepEqual(blocks[1], { kind: 'paragraph', inline: [
    { kind: 'text', text: 'Trained ' }, { kind: 'strong', text: '13,750 steps' }, { kind: 'text', text: ' on ' }, { kind: 'code', text: 'ci' },
    { kind: 'text', text: ' data, see ' }, { kind: 'link', text: 'the docs', href: 'docs/x.md' }, { kind: 'text', text: '.' },
  ] });
  const table = blocks[3] as Extract<(typeof blocks)[number], { kind: 'table' }>;
  assert.equal(table.rows.length, 1);
  assert.deepEqual(table.rows[0]!.map((c) => c[0]), [{ kind: 'text', text: 'speech' }, { kind: 'text', text: '7.88' }, { kind: 'text', text: '8.72' }]);
  // Raw HTML is a text run, rendered as text by the component.
  assert.deepEqual(inline('two <script>alert(1)</script>'), [{ kind: 'text', text: 'two <script>alert(1)</script>' }]);
});

test('chart series keep at most MAX_POINTS points, in step order, and their mean', () => {
  let pts: Point[] = [];
  for (let s = 1; s <= 100_000; s++) pts = appendPoint(pts, { step: s, value: 1 });
  assert.ok(pts.length < MAX_POINTS && pts.length > MAX_POINTS / 4, `${pts.length} points`);
  assert.ok(pts.every((p, i) => i === 0 || p.step > pts[i - 1]!.step));
  assert.equal(pts.at(-1)!.step, 100_000);
  assert.ok(pts.every((p) => p.value === 1));
  let engine: Point[] = [];
  for (let s = 1; s <= 5000; s++) engine = appendDecimated(engine, { step: s, value: s % 2 });
  assert.ok(engine.length < 400);
  assert.ok(engine.slice(0, -1).every((p) => Math.abs(p.value - 0.5) < 1e-9), 'pairs are averaged');
});
