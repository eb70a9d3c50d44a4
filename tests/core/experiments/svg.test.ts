import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CHART_MARGIN, escapeXml, lineChart, linearScale, niceTicks } from '../../../core/experiments/svg';
import { parseXml } from './xml';

test('nice ticks are round steps that cover the range', () => {
  assert.deepEqual(niceTicks(0, 10), [0, 2, 4, 6, 8, 10]);
  assert.deepEqual(niceTicks(0, 600, 7), [0, 100, 200, 300, 400, 500, 600]);
  const t = niceTicks(-3.2, 7.9);
  assert.deepEqual(t, [-4, -2, 0, 2, 4, 6, 8]);
  assert.deepEqual(niceTicks(0.013, 0.048, 4), [0, 0.02, 0.04, 0.06]);
  const flat = niceTicks(5, 5);
  assert.ok(flat[0]! <= 5 && flat.at(-1)! >= 5 && flat.length >= 2);
  assert.throws(() => niceTicks(0, Infinity), /finite/);
});

test('linear scale maps domain ends to range ends, including inverted (SVG y) ranges', () => {
  const y = linearScale([0, 100], [348, 36]);
  assert.equal(y(0), 348);
  assert.equal(y(100), 36);
  assert.equal(y(50), 192);
});

test('points land on the pixels the margins and domains imply', () => {
  const width = 600;
  const height = 400;
  const svg = lineChart({
    title: 'known', xLabel: 'x', yLabel: 'y', width, height, xDomain: [0, 10], yDomain: [0, 100],
    series: [{ name: 'a', points: [[0, 0], [5, 50], [10, 100]] }, { name: 'b', points: [[2.5, 25]], dashed: true }],
  });
  const left = CHART_MARGIN.left;
  const right = width - CHART_MARGIN.right;
  const top = CHART_MARGIN.top;
  const bottom = height - CHART_MARGIN.bottom;
  const lines = parseXml(svg).filter((e) => e.name === 'polyline');
  assert.equal(lines.length, 2);
  const expected = (x: number, y: number) => `${left + (x / 10) * (right - left)},${bottom - (y / 100) * (bottom - top)}`;
  assert.equal(lines[0]!.attrs.points, [expected(0, 0), expected(5, 50), expected(10, 100)].join(' '));
  assert.equal(lines[0]!.attrs.points, `${left},${bottom} ${(left + right) / 2},${(top + bottom) / 2} ${right},${top}`);
  assert.equal(lines[1]!.attrs.points, expected(2.5, 25));
  assert.equal(lines[1]!.attrs['stroke-dasharray'], '6 4');
  assert.notEqual(lines[0]!.attrs.stroke, lines[1]!.attrs.stroke, 'each series has its own colour');
});

test('axes carry tick labels, the legend names every series, and text is escaped into well-formed XML', () => {
  const svg = lineChart({
    title: 'loss <dB> & "more"', xLabel: 'step', yLabel: 'dB',
    series: [{ name: 'alpha < 1 & beta > 0', points: [[0, -3], [100, 7]] }, { name: 'uniform', points: [[0, 1], [100, 2]] }],
    references: [{ y: 4, label: 'target 90%' }],
  });
  const elements = parseXml(svg);
  assert.equal(elements[0]!.name, 'svg');
  const texts = [...svg.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]);
  assert.ok(texts.includes(escapeXml('alpha < 1 & beta > 0')) && texts.includes('uniform'));
  assert.ok(texts.includes(escapeXml('loss <dB> & "more"')));
  // Auto domains widen to nice ticks: x 0..100, y -4..8.
  for (const tick of ['0', '20', '100', '-4', '8']) assert.ok(texts.includes(tick), `tick label ${tick}`);
  assert.ok(texts.includes('target 90%'));
  assert.equal(elements.filter((e) => e.name === 'polyline').length, 2);
});

test('the XML checker itself rejects malformed documents', () => {
  assert.throws(() => parseXml('<svg><g></svg>'), /closes/);
  assert.throws(() => parseXml('<svg><text>a < b</text></svg>'), /malformed tag|raw/);
  assert.throws(() => parseXml('<svg><text>a & b</text></svg>'), /unescaped/);
  assert.throws(() => parseXml('<svg x=1/>'), /malformed/);
  assert.equal(parseXml('<svg a="1"><g/><text>x &amp; y</text></svg>').length, 3);
});
