import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deflateSync } from 'node:zlib';
import { readRcc } from '../../../../core/data/containers/rcc';

interface Node { name: string; children?: Node[]; data?: Uint8Array; flags?: number }

const ogg = Uint8Array.from({ length: 3000 }, (_, i) => (i * 7) & 0xff);
const wav = new TextEncoder().encode('RIFF....WAVE plain bytes');
const deep = new TextEncoder().encode('a file two folders down');

/** Qt's layout: header, nodes in breadth-first order with children contiguous, names, data. */
function makeRcc(root: Node[], version = 2, opts: { corruptZlib?: boolean; wrongSize?: boolean } = {}): Uint8Array {
  const order: Node[] = [{ name: '', children: root }];
  for (let i = 0; i < order.length; i++) order.push(...(order[i]!.children ?? []));
  const names: Buffer[] = [];
  const nameAt = new Map<string, number>();
  const data: Buffer[] = [];
  let namesLen = 0, dataLen = 0;
  const nodes = order.map((n, i) => {
    if (!nameAt.has(n.name)) {
      const b = Buffer.alloc(6 + n.name.length * 2);
      b.writeUInt16BE(n.name.length, 0);
      for (let k = 0; k < n.name.length; k++) b.writeUInt16BE(n.name.charCodeAt(k), 6 + k * 2);
      nameAt.set(n.name, namesLen);
      names.push(b);
      namesLen += b.length;
    }
    const node = Buffer.alloc(version >= 2 ? 22 : 14);
    node.writeUInt32BE(nameAt.get(n.name)!, 0);
    if (n.children) {
      node.writeUInt16BE(2, 4);
      node.writeUInt32BE(n.children.length, 6);
      node.writeUInt32BE(n.children.length ? order.indexOf(n.children[0]!, i) : 0, 10);
    } else {
      const flags = n.flags ?? 0;
      let body = Buffer.from(n.data!);
      if (flags & 1) {
        const z = deflateSync(body);
        if (opts.corruptZlib) z.fill(0xee, 2, 12);
        const size = Buffer.alloc(4);
        size.writeUInt32BE(body.length + (opts.wrongSize ? 1 : 0));
        body = Buffer.concat([size, z]);
      }
      node.writeUInt16BE(flags, 4);
      node.writeUInt32BE(dataLen, 10);
      const len = Buffer.alloc(4);
      len.writeUInt32BE(body.length);
      data.push(len, body);
      dataLen += 4 + body.length;
    }
    return node;
  });
  const header = Buffer.alloc(version >= 3 ? 24 : 20);
  header.write('qres', 0, 'latin1');
  header.writeUInt32BE(version, 4);
  const tree = Buffer.concat(nodes);
  header.writeUInt32BE(header.length, 8); // tree
  header.writeUInt32BE(header.length + tree.length + namesLen, 12); // data
  header.writeUInt32BE(header.length + tree.length, 16); // names
  return new Uint8Array(Buffer.concat([header, tree, ...names, ...data]));
}

const tree: Node[] = [{
  name: 'gcompris', children: [
    { name: 'a.ogg', data: ogg, flags: 1 },
    { name: 'b.wav', data: wav },
    { name: 'c.ogg', data: ogg, flags: 4 },
    { name: 'sub', children: [{ name: 'd.wav', data: deep }] },
  ],
}];

const u8 = (b: Uint8Array) => new Uint8Array(b.buffer, b.byteOffset, b.byteLength);

for (const version of [1, 2, 3]) {
  test(`version ${version}: files come out with their paths, zlib entries inflated, zstd ones skipped with a reason`, () => {
    const r = readRcc(makeRcc(tree, version));
    assert.deepEqual(r.files.map((f) => [f.path, u8(f.data)]), [
      ['gcompris/a.ogg', ogg], ['gcompris/b.wav', wav], ['gcompris/sub/d.wav', deep],
    ]);
    assert.deepEqual(r.skipped, [{ path: 'gcompris/c.ogg', reason: 'zstd-compressed, which this Node cannot inflate' }]);
  });
}

test('only the files `want` accepts are read', () => {
  const seen: string[] = [];
  const r = readRcc(makeRcc(tree), 'x.rcc', (p) => { seen.push(p); return p.endsWith('.wav'); });
  assert.deepEqual(r.files.map((f) => f.path), ['gcompris/b.wav', 'gcompris/sub/d.wav']);
  assert.deepEqual(r.skipped, []);
  assert.deepEqual(seen.sort(), ['gcompris/a.ogg', 'gcompris/b.wav', 'gcompris/c.ogg', 'gcompris/sub/d.wav']);
});

test('truncated and corrupt resource files fail with what is wrong', () => {
  const good = makeRcc(tree);
  assert.throws(() => readRcc(good.subarray(0, 12), 'x.rcc'), /^Error: x\.rcc: truncated header \(12 bytes\)$/);
  assert.throws(() => readRcc(good.subarray(0, good.length - 5), 'x.rcc'), /x\.rcc: truncated data of gcompris\/sub\/d\.wav/);
  assert.throws(() => readRcc(good.subarray(0, 60), 'x.rcc'), /x\.rcc: truncated (tree node|name)/);
  const magic = good.slice();
  magic[0] = 0x51;
  assert.throws(() => readRcc(magic, 'x.rcc'), /not a Qt resource file/);
  const v9 = good.slice();
  v9[7] = 9;
  assert.throws(() => readRcc(v9, 'x.rcc'), /unsupported version 9/);
  assert.throws(() => readRcc(makeRcc(tree, 2, { corruptZlib: true }), 'x.rcc'), /x\.rcc: gcompris\/a\.ogg: corrupt zlib data/);
  assert.throws(() => readRcc(makeRcc(tree, 2, { wrongSize: true }), 'x.rcc'), /gcompris\/a\.ogg: inflated to 3000 bytes, header says 3001/);
  // A directory listing itself as its own child.
  const loop = makeRcc([{ name: 'd', children: [] }]);
  new DataView(loop.buffer).setUint32(20 + 22 + 6, 1); // the "d" node: one child ...
  new DataView(loop.buffer).setUint32(20 + 22 + 10, 1); // ... itself
  assert.throws(() => readRcc(loop, 'x.rcc'), /x\.rcc: corrupt tree \(node 1 reached twice\)/);
});
