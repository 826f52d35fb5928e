// Exercises every secmlopsd service from Node (@grpc/grpc-js + @grpc/proto-loader).
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { grpc, Server, clients, unary, collect, upload, matrix, TOKEN } = require('../lib/harness');

const X = [[-2], [-1], [1], [2]];
const Y = [0, 0, 1, 1];
const { status } = grpc;

async function rejectsWith(promise, code, text) {
  await assert.rejects(promise, (err) => {
    assert.equal(err.code, code, `expected ${code}, got ${err.code}: ${err.details}`);
    if (text) assert.match(err.details, text);
    return true;
  });
}

let server;
let c;
before(async () => {
  server = await new Server({ args: ['--max-upload-bytes', '1000000', '--max-message-bytes', '262144'] }).ready();
  c = clients(server.unix);
});
after(async () => {
  c.close();
  await server.stop();
});

test('ListPlugins lists the fixture plugins', async () => {
  const list = await unary(c.plugins, 'ListPlugins', {});
  const names = list.plugins.map((p) => p.name);
  for (const n of ['fixture-magic', 'fixture-model', 'fixture-attack']) assert.ok(names.includes(n), n);
  const attacks = await unary(c.plugins, 'ListPlugins', { kind: 'ATTACK' });
  assert.ok(attacks.plugins.every((p) => p.kind === 'ATTACK'));
});

test('health check reports SERVING', async () => {
  const r = await unary(c.health, 'Check', { service: '' });
  assert.equal(r.status, 'SERVING');
});

test('Scan streams one report per file; a crashing plugin gives a clean status', async () => {
  server.write('tree/a.bin', 'EVIL payload');
  server.write('tree/b.bin', 'GOOD');
  server.write('tree/c.bin', 'CRASH');
  const reports = await collect(c.scan.Scan({ paths: ['tree'] }));
  assert.equal(reports.length, 3);
  const byName = Object.fromEntries(reports.map((r) => [path.basename(r.path), r]));
  assert.equal(byName['a.bin'].findings[0].rule_id, 'FIXTURE-EVIL');
  assert.equal(byName['a.bin'].findings[0].severity, 'CRITICAL');
  assert.equal(byName['b.bin'].findings.length, 0);
  assert.ok(['PARTIAL', 'ERROR'].includes(byName['c.bin'].status));
  assert.equal((await unary(c.health, 'Check', {})).status, 'SERVING');
});

test('Scan refuses paths outside the roots', async () => {
  const outside = path.join(server.dir, 'secret.bin');
  fs.writeFileSync(outside, 'EVIL');
  fs.symlinkSync(outside, path.join(server.root, 'escape.bin'));
  for (const p of [outside, '../secret.bin', 'escape.bin', '/etc/passwd']) {
    await rejectsWith(collect(c.scan.Scan({ paths: [p] })), status.PERMISSION_DENIED);
  }
  await rejectsWith(collect(c.scan.Scan({ paths: ['nope.bin'] })), status.NOT_FOUND);
});

test('ScanUpload scans uploaded chunks', async () => {
  const data = Buffer.concat([Buffer.from('EVIL'), Buffer.alloc(50000)]);
  const r = await upload(c.scan, 'upload.pkl', data);
  assert.equal(r.path, 'upload.pkl');
  assert.equal(r.size, data.length);
  assert.equal(r.findings[0].rule_id, 'FIXTURE-EVIL');
});

test('uploads over the caps are RESOURCE_EXHAUSTED', async () => {
  await rejectsWith(upload(c.scan, 'big', Buffer.alloc(1100000), undefined, 100000), status.RESOURCE_EXHAUSTED,
    /max-upload-bytes/);
  await rejectsWith(upload(c.scan, 'huge', Buffer.alloc(300000), undefined, 300000), status.RESOURCE_EXHAUSTED);
});

test('a deadline stops a slow scan promptly', async () => {
  server.write('slow/s.bin', 'SLOW....');
  const t0 = Date.now();
  await rejectsWith(collect(c.scan.Scan({ paths: ['slow'] }, { deadline: Date.now() + 500 })),
    status.DEADLINE_EXCEEDED);
  const r = await upload(c.scan, 'after', Buffer.from('EVIL'));
  assert.equal(r.findings.length, 1);
  assert.ok(Date.now() - t0 < 8000);
});

test('models: train, predict, describe, list, export/import, delete', async () => {
  const t = await unary(c.models, 'Train', { plugin: 'fixture-portable-model', features: matrix(X), labels: Y,
    params: [{ key: 'w', value: '2' }], name: 'node' });
  const id = t.model.id;
  assert.equal(t.model.n_features, 1);
  assert.equal(t.model.has_gradient, false);
  const p = await unary(c.models, 'Predict', { model_id: id, features: matrix(X) });
  assert.deepEqual(p.labels, Y);
  const d = await unary(c.models, 'Describe', { model_id: id });
  assert.equal(d.model.id, id);
  const list = await unary(c.models, 'List', {});
  assert.ok(list.models.some((m) => m.id === id));
  const { onnx } = await unary(c.models, 'ExportOnnx', { model_id: id });
  assert.ok(onnx.length > 0);
  const imported = await unary(c.models, 'ImportOnnx', { plugin: 'fixture-portable-model', onnx });
  const p2 = await unary(c.models, 'Predict', { model_id: imported.id, features: matrix(X) });
  assert.deepEqual(p2.labels, Y);
  await unary(c.models, 'Delete', { model_id: id });
  await rejectsWith(unary(c.models, 'Describe', { model_id: id }), status.NOT_FOUND);
});

test('model validation errors', async () => {
  await rejectsWith(unary(c.models, 'Train', { plugin: 'nope', features: matrix(X), labels: Y }), status.NOT_FOUND);
  await rejectsWith(unary(c.models, 'Train', { plugin: 'fixture-model', features: { rows: 2, cols: 2, values: [1] },
    labels: [0, 1] }), status.INVALID_ARGUMENT, /needs 4/);
  const { model } = await unary(c.models, 'Train', { plugin: 'fixture-model', features: matrix(X), labels: Y });
  await rejectsWith(unary(c.models, 'ExportOnnx', { model_id: model.id }), status.FAILED_PRECONDITION);
  await rejectsWith(unary(c.models, 'Predict', { model_id: model.id, features: matrix([[1, 2]]) }),
    status.INVALID_ARGUMENT);
});

test('AttackService.Run streams progress and a result', async () => {
  const { model } = await unary(c.models, 'Train', { plugin: 'fixture-model', features: matrix(X), labels: Y });
  const events = await collect(c.attacks.Run({ attack: 'fixture-attack', model_id: model.id, features: matrix(X),
    labels: Y, eps: [1, 3], return_examples: true }));
  // One progress event per eps of the curve, before the result.
  const progress = events.filter((e) => e.event === 'progress').map((e) => e.progress.fraction);
  assert.deepEqual(progress, [0.5, 1]);
  const { result } = events.at(-1);
  assert.equal(result.clean_accuracy, 1);
  assert.equal(result.adversarial_accuracy, 0);
  assert.equal(result.adversarial_examples.rows, 4);
  const metrics = Object.fromEntries(result.metrics.map((m) => [m.key, m.value]));
  assert.equal(metrics.attack_success_rate, 1);
  const portable = await unary(c.models, 'Train', { plugin: 'fixture-portable-model', features: matrix(X), labels: Y });
  await rejectsWith(collect(c.attacks.Run({ attack: 'fixture-attack', model_id: portable.model.id,
    features: matrix(X) })), status.FAILED_PRECONDITION, /gradient/);
  await rejectsWith(collect(c.attacks.Run({ attack: 'fixture-attack', model_id: 'm-none', features: matrix(X) })),
    status.NOT_FOUND);
});

test('TLS + bearer token; missing or wrong token is UNAUTHENTICATED', async () => {
  const secure = await new Server({ tls: true, token: true }).ready();
  try {
    const creds = grpc.credentials.createSsl(fs.readFileSync(secure.cert('ca.crt')));
    // The certificate names localhost; the listener is 127.0.0.1.
    const s = clients(secure.tcp, creds, { 'grpc.ssl_target_name_override': 'localhost' });
    const md = (t) => { const m = new grpc.Metadata(); if (t) m.set('authorization', `Bearer ${t}`); return m; };
    const list = await unary(s.plugins, 'ListPlugins', {}, md(TOKEN));
    assert.ok(list.plugins.length > 0);
    const r = await upload(s.scan, 'tls.bin', Buffer.from('EVIL'), md(TOKEN));
    assert.equal(r.findings[0].rule_id, 'FIXTURE-EVIL');
    await rejectsWith(unary(s.plugins, 'ListPlugins', {}, md()), status.UNAUTHENTICATED);
    await rejectsWith(unary(s.plugins, 'ListPlugins', {}, md('not-the-right-token-xx')), status.UNAUTHENTICATED);
    await rejectsWith(upload(s.scan, 'x', Buffer.from('EVIL'), md()), status.UNAUTHENTICATED);
    await rejectsWith(unary(s.models, 'List', {}, md()), status.UNAUTHENTICATED);
    await rejectsWith(collect(s.attacks.Run({}, md())), status.UNAUTHENTICATED);
    s.close();
  } finally {
    await secure.stop();
  }
});
