// Pipelines and scan reports from Node with the project's own plugins: the same messages as the
// CLI's --format json (which the Python client test checks too, so both clients agree).
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { grpc, env, Server, clients, unary, collect, normalised } = require('../lib/harness');

const SPEC = path.join(env('SECMLOPS_SOURCE_DIR'), 'tests', 'clients', 'pipeline.yaml');
// A protocol-0 pickle that calls os.system when loaded.
const EVIL_PICKLE = Buffer.from("cos\nsystem\n(S'echo pwned'\ntR.");
const BAD_SPEC = `name: bad
steps:
  - id: data
    dataset:
      generate: {samples: 100, features: 3}
  - id: models
    train:
      data: data
      models:
        - {name: m, plugin: no-such-model}
  - id: attacks
    attack:
      models: modles
      data: data
      attacks: [{attack: fgsm}]
`;

// `secmlops ARGS --format json`: the parsed report and the exit code.
function cliJson(...args) {
  const r = spawnSync(env('SECMLOPS_CLI'), [...args, '--format', 'json'], { encoding: 'utf8', timeout: 240000 });
  assert.ok(r.stdout, `no output from secmlops ${args.join(' ')}: ${r.stderr}`);
  return { report: JSON.parse(r.stdout), code: r.status };
}

let server;
let c;
before(async () => {
  server = await new Server({ args: ['--plugin-dir', env('SECMLOPS_PLUGIN_DIR')] }).ready();
  c = clients(server.unix);
});
after(async () => {
  c.close();
  await server.stop();
});

test('PipelineService.Validate names file:line:column for each error; Run refuses the same spec', async () => {
  const v = await unary(c.pipelines, 'Validate', { spec: BAD_SPEC, spec_name: 'bad.yaml' });
  assert.equal(v.valid, false);
  assert.ok(v.errors.length >= 2, v.errors.join('\n'));
  for (const e of v.errors) assert.match(e, /^bad\.yaml:\d+:\d+: /);
  assert.match(v.errors.join('\n'), /no-such-model/);
  assert.match(v.errors.join('\n'), /modles/);
  const good = await unary(c.pipelines, 'Validate', { spec: fs.readFileSync(SPEC, 'utf8'), spec_name: 'pipeline.yaml' });
  assert.equal(good.valid, true, good.errors.join('\n'));
  assert.deepEqual(good.order.slice(0, 2), ['data', 'models']);
  await assert.rejects(collect(c.pipelines.Run({ spec: BAD_SPEC, spec_name: 'bad.yaml' })), (err) => {
    assert.equal(err.code, grpc.status.INVALID_ARGUMENT, err.details);
    assert.match(err.details, /bad\.yaml:\d+:\d+: /);
    return true;
  });
});

test('PipelineService.Run streams progress and ends with the report the CLI prints', async () => {
  const events = await collect(c.pipelines.Run({ spec: fs.readFileSync(SPEC, 'utf8'), spec_name: SPEC }));
  const kinds = events.map((e) => e.event);
  assert.equal(kinds.at(-1), 'report');
  assert.equal(kinds.indexOf('report'), kinds.length - 1);
  const progress = events.filter((e) => e.event === 'progress').map((e) => e.progress);
  assert.ok(progress.some((p) => p.step === 'attacks' && p.phase === 'started'));
  assert.deepEqual(events.filter((e) => e.event === 'step').map((e) => e.step.id).sort(),
    ['attacks', 'data', 'gate', 'models', 'report', 'scan']);
  const { report } = events.at(-1);
  assert.equal(report.verdict, 'fail');  // the hostile samples fail the severity gate
  assert.deepEqual(report.steps.map((s) => s.id), ['data', 'models', 'scan', 'attacks', 'gate', 'report']);
  for (const s of report.steps) assert.equal(s.status, 'STEP_OK', `${s.id}: ${s.error}`);
  assert.equal(report.gates.length, 3);
  assert.deepEqual(report.gates.filter((g) => !g.passed).map((g) => g.condition.split(' ')[0]), ['max_severity']);
  const attacks = report.steps.find((s) => s.id === 'attacks').attacks;
  assert.deepEqual(attacks.map((a) => [a.attack, a.curve.length]), [['fgsm', 2]]);

  const cli = cliJson('pipeline', 'run', '--output', path.join(server.dir, 'cli-pipeline'), SPEC);
  assert.equal(cli.code, 1);
  assert.deepEqual(normalised(report, report.output_dir), normalised(cli.report, cli.report.outputDir));
});

test('ScanService.Report is the report `secmlops scan --format json` prints', async () => {
  server.write('scanned/evil.pkl', EVIL_PICKLE);
  server.write('scanned/notes.txt', 'not a model\n');
  const dir = path.join(server.root, 'scanned');
  const report = await unary(c.scan, 'Report', { paths: [dir] });
  assert.equal(report.verdict, 'fail');
  assert.equal(report.fail_on, 'HIGH');
  assert.equal(report.summary.files, 2);
  assert.equal(report.summary.max_severity, 'CRITICAL');
  assert.ok(report.files.find((f) => f.path.endsWith('evil.pkl')).findings.length > 0);
  assert.ok(report.scanners.length > 0);
  const cli = cliJson('scan', dir);
  assert.equal(cli.code, 1);
  assert.deepEqual(normalised(report), normalised(cli.report));
});
