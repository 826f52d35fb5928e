// Starts a private secmlopsd for the Node tests and loads the API's .proto files at run time.
'use strict';
const { spawn, execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');

const env = (name) => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set (run through ctest)`);
  return v;
};

const TOKEN = 'node-test-token-0123456789';

function loadApi() {
  const def = protoLoader.loadSync(
    ['secmlops/v1/plugin_service.proto', 'secmlops/v1/scan_service.proto', 'secmlops/v1/model_service.proto',
      'secmlops/v1/attack_service.proto', 'secmlops/v1/pipeline_service.proto', 'grpc_std/health/v1/health.proto'],
    { includeDirs: [env('SECMLOPS_PROTO_DIR'), env('SECMLOPS_CLIENT_PROTO_DIR')], keepCase: true,
      longs: Number, enums: String, defaults: true, oneofs: true });
  return grpc.loadPackageDefinition(def);
}

const api = loadApi();
const v1 = api.secmlops.v1;

class Server {
  constructor({ tls = false, token = false, args = [] } = {}) {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'secmlopsd-node-'));
    this.root = path.join(this.dir, 'root');
    fs.mkdirSync(this.root);
    this.certs = path.join(this.dir, 'certs');
    this.readyFile = path.join(this.dir, 'ready');
    const argv = ['--plugin-dir', env('SECMLOPS_FIXTURE_PLUGIN_DIR'), '--scan-root', this.root,
      '--ready-file', this.readyFile, '--log-level', 'warn', '--drain-seconds', '2',
      '--listen', `unix:${path.join(this.dir, 'api.sock')}`];
    if (tls || token) argv.push('--listen', '127.0.0.1:0');
    if (tls) {
      execFileSync('bash', [env('SECMLOPS_CERT_SCRIPT'), this.certs]);
      argv.push('--tls-cert', this.cert('server.crt'), '--tls-key', this.cert('server.key'));
    }
    if (token) {
      const file = path.join(this.dir, 'tokens');
      fs.writeFileSync(file, `${TOKEN}\n`, { mode: 0o600 });
      argv.push('--token-file', file);
    }
    this.proc = spawn(env('SECMLOPSD'), [...argv, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    this.stderr = '';
    this.proc.stderr.on('data', (d) => { this.stderr += d; });
  }

  cert(name) { return path.join(this.certs, name); }

  async ready() {
    const deadline = Date.now() + 30000;
    while (!fs.existsSync(this.readyFile)) {
      if (this.proc.exitCode !== null) throw new Error(`secmlopsd exited: ${this.stderr}`);
      if (Date.now() > deadline) throw new Error('secmlopsd did not start');
      await new Promise((r) => setTimeout(r, 20));
    }
    this.addresses = fs.readFileSync(this.readyFile, 'utf8').split('\n').filter(Boolean);
    this.unix = this.addresses.find((a) => a.startsWith('unix:'));
    this.tcp = this.addresses.find((a) => !a.startsWith('unix:'));
    return this;
  }

  write(relative, data) {
    const p = path.join(this.root, relative);
    fs.mkdirSync(path.dirname(p), { recursive: true });
    fs.writeFileSync(p, data);
    return p;
  }

  async stop() {
    if (this.proc.exitCode === null) {
      const done = new Promise((r) => this.proc.once('exit', r));
      this.proc.kill('SIGTERM');
      await done;
    }
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

// Stubs for every service on one address.
function clients(address, creds = grpc.credentials.createInsecure(), extra = {}) {
  const opts = { 'grpc.max_receive_message_length': 64 << 20, ...extra };
  return {
    plugins: new v1.PluginService(address, creds, opts),
    scan: new v1.ScanService(address, creds, opts),
    models: new v1.ModelService(address, creds, opts),
    attacks: new v1.AttackService(address, creds, opts),
    pipelines: new v1.PipelineService(address, creds, opts),
    health: new api.grpc.health.v1.Health(address, creds, opts),
    close() {
      for (const c of [this.plugins, this.scan, this.models, this.attacks, this.pipelines, this.health]) c.close();
    },
  };
}

// Promisified unary call.
const unary = (client, method, request, metadata = new grpc.Metadata(), options = {}) =>
  new Promise((resolve, reject) => {
    client[method](request, metadata, options, (err, res) => (err ? reject(err) : resolve(res)));
  });

// Collects a server stream.
const collect = (call) => new Promise((resolve, reject) => {
  const out = [];
  call.on('data', (m) => out.push(m));
  call.on('error', reject);
  call.on('end', () => resolve(out));
});

// Client-streaming upload in chunks.
const upload = (client, name, data, metadata = new grpc.Metadata(), chunk = 4096) =>
  new Promise((resolve, reject) => {
    const call = client.ScanUpload(metadata, (err, res) => (err ? reject(err) : resolve(res)));
    call.write({ name, data: data.subarray(0, chunk) });
    for (let i = chunk; i < data.length; i += chunk) call.write({ data: data.subarray(i, i + chunk) });
    call.end();
  });

// Fields that differ between two runs of the same operation, wherever they occur.
const RUN_DEPENDENT = new Set(['durationSeconds', 'startedAt', 'createdAt', 'elapsedSeconds', 'mlflowRunId',
  'mlflowRunUrl', 'mlflowExperimentId']);
const camel = (k) => k.replace(/_([a-z0-9])/g, (_, c) => c.toUpperCase());

// One form for a message whether it came from a stub (proto-loader object: proto field names, defaults
// present, 64-bit integers as numbers, virtual oneof fields) or from the protobuf JSON mapping (the
// CLI's --format json: camelCase names, defaults omitted, 64-bit integers as strings): keys in camelCase,
// numbers as numbers, default values and empty containers dropped, RUN_DEPENDENT fields dropped and
// the run directory `outDir` written as <out>. The same steps apply to both sides, map keys included.
function normalised(value, outDir) {
  if (Array.isArray(value)) {
    const out = value.map((v) => normalised(v, outDir));
    return out.length ? out : undefined;
  }
  if (value !== null && typeof value === 'object') {
    const out = {};
    for (const [k, v] of Object.entries(value)) {
      const key = camel(k);
      if (k.startsWith('_') || RUN_DEPENDENT.has(key)) continue;
      const n = normalised(v, outDir);
      if (n !== undefined) out[key] = n;
    }
    return Object.keys(out).length ? out : undefined;
  }
  if (typeof value === 'string') {
    if (value === '' || value.endsWith('_UNSPECIFIED')) return undefined;
    if (/^-?\d+$/.test(value) || ['NaN', 'Infinity', '-Infinity'].includes(value)) {
      return normalised(Number(value), outDir);
    }
    return outDir ? value.split(outDir).join('<out>') : value;
  }
  if (value === null || value === 0 || value === false) return undefined;
  return value;
}

const matrix = (rows) => ({ rows: rows.length, cols: rows[0].length, values: rows.flat() });

module.exports = { grpc, v1, env, Server, clients, unary, collect, upload, matrix, normalised, TOKEN };
