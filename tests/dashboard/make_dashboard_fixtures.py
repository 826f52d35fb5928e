#!/usr/bin/env python3
"""Writes the dashboard's test inputs: reports in protobuf's JSON mapping, as `--format json` prints
them, plus model files whose names and contents are hostile (for `secmlops scan`).

    make_dashboard_fixtures.py OUTDIR [--large-models 50 --large-attacks 3 --large-eps 20
                                       --large-findings 10000]

OUTDIR/workshop/pipeline.json   a pipeline report: dataset, three models, attacks, scan, gates
OUTDIR/workshop/files/*.json    the same results as separate train, attack and scan reports
OUTDIR/hostile/models/          files to scan: names, archive members and pickle globals carry
                                <script>, "onload=, </svg> and the like
OUTDIR/hostile/files/*.json     train and attack reports with hostile names and metadata
OUTDIR/large/pipeline.json      many models x attacks x eps and many findings (the benchmark)

Values are made up but shaped like real runs (accuracy falls with eps; black-box attacks count
queries). Deterministic: the same arguments write the same bytes.
"""
import argparse
import json
import math
import os
import random
import zipfile

HOSTILE = [
    '<script>window.__pwned=1</script>',
    '"onload="window.__pwned=2" x="',
    "'><img src=x onerror=window.__pwned=3>",
    '</svg><script>window.__pwned=4</script><svg>',
    '</title><script>window.__pwned=5</script>',
    'javascript:window.__pwned=6',
    '\u202e}gnp.exe',
]
HOSTILE_TEXT = ' '.join(HOSTILE)


def dataset_record(name, rows=1000, features=8, digest_seed=1, hostile=False):
    rnd = random.Random(digest_seed)
    cols = [f'f{i}' for i in range(features)]
    schema = [{'name': c, 'type': 'number', 'missing': '0', 'distinct': str(rows),
               'min': round(rnd.uniform(-4, -2), 4), 'max': round(rnd.uniform(2, 4), 4),
               'mean': round(rnd.uniform(-0.1, 0.1), 4)} for c in cols]
    schema.append({'name': 'label', 'type': 'category', 'missing': '0', 'distinct': '2'})
    rec = {
        'name': name, 'sha256': '%064x' % rnd.getrandbits(256), 'rows': str(rows),
        'columns': str(features + 1), 'schema': schema, 'labelColumn': 'label',
        'classes': ['benign', 'malicious'], 'classCounts': {'benign': str(rows // 2), 'malicious': str(rows - rows // 2)},
        'lineage': {'source': 'generator:synthetic_classification', 'generator': 'synthetic_classification',
                    'parameters': {'samples': str(rows), 'features': str(features), 'seed': '42'},
                    'transformations': ['train_test_split(test_size=0.25, seed=0): train']},
        'privacy': {'personalData': False},
        'path': f'secmlops-out/workshop/{name}.csv',
    }
    if hostile:
        rec['name'] = 'data ' + HOSTILE[0]
        rec['schema'][0]['name'] = HOSTILE[3]
        rec['lineage']['parameters'][HOSTILE[1]] = HOSTILE[2]
        rec['privacy'] = {'personalData': True, 'columns': [
            {'column': HOSTILE[4], 'kind': 'email', 'matches': '12', 'rows': '1000', 'detectedBy': 'content'}]}
    return rec


def train_response(name, plugin, train_acc, held_acc, complexity, dataset, seconds):
    gap = train_acc - held_acc
    flagged = gap > 0.05
    return {
        'model': {'id': '', 'plugin': plugin, 'name': name, 'nFeatures': '8', 'nClasses': 2,
                  'hasGradient': plugin != 'random_forest'},
        'metrics': [{'key': 'iterations', 'value': 120}],
        'dataset': dataset, 'features': [f'f{i}' for i in range(8)], 'classes': ['benign', 'malicious'],
        'params': {'seed': '0'}, 'trainRows': '750', 'testRows': '250',
        'train': {'rows': '750', 'accuracy': train_acc, 'logLoss': round(0.9 - train_acc * 0.8, 4)},
        'overfitting': {
            'train': {'rows': '750', 'accuracy': train_acc, 'logLoss': round(0.9 - train_acc * 0.8, 4)},
            'heldOut': {'rows': '250', 'accuracy': held_acc, 'logLoss': round(0.95 - held_acc * 0.8, 4)},
            'accuracyGap': round(gap, 6), 'logLossGap': round(gap * 0.8, 6),
            'accuracyGapThreshold': 0.05, 'logLossGapThreshold': 0.1, 'flagged': flagged,
            'verdict': ('training accuracy exceeds held-out accuracy by %.3f: the model memorised rows' % gap)
            if flagged else 'no sign of overfitting'},
        'complexity': [{'key': k, 'value': v} for k, v in complexity],
        'out': f'secmlops-out/workshop/{name}.onnx',
        'modelSha256': '%064x' % random.Random(name).getrandbits(256),
        'durationSeconds': seconds,
    }


def curve(clean, strength, eps_list, black_box, rnd):
    points = []
    for e in eps_list:
        acc = clean * math.exp(-strength * e) + rnd.uniform(-0.004, 0.004)
        acc = min(max(acc, 0.0), clean)
        success = 0.0 if clean == 0 else 1 - acc / clean
        points.append({
            'eps': e, 'adversarialAccuracy': round(acc, 6), 'successRate': round(success, 6),
            'flipRate': round(success * 0.97, 6),
            'perturbation': {'meanLinf': e, 'maxLinf': e, 'meanL2': round(e * 2.6, 6), 'maxL2': round(e * 2.83, 6),
                             'meanL0': 8, 'maxL0': 8},
            'modelQueries': str(250 * (2500 if black_box else 2)),
            'durationSeconds': round(0.02 + e * (3 if black_box else 0.1), 4)})
    return points


def attack_report(model, plugin, attack, clean, strength, eps_list, rnd, black_box=False):
    pts = curve(clean, strength, eps_list, black_box, rnd)
    rep = {
        'attack': attack, 'method': {'fgsm': 'fast gradient sign, one step',
                                     'pgd': 'projected gradient descent, 40 steps, random start',
                                     'hopskipjump': 'decision-based, 50 iterations',
                                     'transfer': 'transfer via logistic surrogate'}.get(attack, attack),
        'model': plugin, 'params': {'norm': 'inf', 'seed': '0'}, 'samples': '250', 'targeted': False,
        'cleanAccuracy': clean, 'curve': pts, 'labelsSource': 'given', 'modelName': model,
        'durationSeconds': round(sum(p['durationSeconds'] for p in pts), 4),
        'queries': str(sum(int(p['modelQueries']) for p in pts)),
        'datasetSha256': 'ab' * 32,
    }
    if not black_box:
        rep['empiricalRobustness'] = round(0.08 + strength * 0.002, 6)
    return rep


def finding(path, rule, severity, message, members=(), offset=None, evidence=(), scanner='pickle', detail=''):
    loc = {'file': path, 'members': list(members)}
    if offset is not None:
        loc['offset'] = str(offset)
    if detail:
        loc['detail'] = detail
    return {'ruleId': rule, 'severity': severity, 'message': message, 'location': loc,
            'evidence': [{'key': k, 'value': v} for k, v in evidence], 'scanner': scanner}


def scan_report(files, fail_on='HIGH'):
    counts = {}
    worst = 0
    order = ['SEVERITY_UNSPECIFIED', 'INFO', 'LOW', 'MEDIUM', 'HIGH', 'CRITICAL']
    for f in files:
        for fi in f['findings']:
            counts[fi['severity']] = counts.get(fi['severity'], 0) + 1
            worst = max(worst, order.index(fi['severity']))
    errors = sum(1 for f in files if f['status'] in ('PARTIAL', 'ERROR'))
    verdict = 'fail' if worst >= order.index(fail_on) else ('error' if errors else 'pass')
    return {'toolVersion': '0.4.0', 'files': files,
            'summary': {'files': len(files), 'filesWithErrors': errors, 'findingsBySeverity': counts,
                        'maxSeverity': order[worst]},
            'startedAt': '2026-12-04T19:02:11Z', 'durationSeconds': 0.41, 'failOn': fail_on, 'verdict': verdict,
            'scanners': [{'name': 'pickle', 'kind': 'SCANNER', 'version': '1.3.0', 'abiVersion': '1.4'},
                         {'name': 'onnx', 'kind': 'SCANNER', 'version': '1.1.0', 'abiVersion': '1.4'}]}


def file_report(path, findings, status='SCANNED', error='', size=4096):
    return {'path': path, 'size': str(size), 'status': status, 'error': error, 'findings': findings,
            'sha256': '%064x' % random.Random(path).getrandbits(256), 'durationSeconds': 0.012}


WORKSHOP_MODELS = [  # name, plugin, train acc, held-out acc, complexity, attack strength
    ('logistic', 'logreg', 0.884, 0.876, [('parameters', 18), ('features', 8)], 6.0),
    ('forest', 'random_forest', 1.0, 0.912, [('trees', 100), ('max_depth', 12), ('nodes', 8714)], 3.5),
    ('mlp', 'mlp', 0.957, 0.931, [('parameters', 1154), ('layers', 2)], 8.0),
]
WORKSHOP_EPS = [0.0, 0.05, 0.1, 0.15, 0.2, 0.3]


def workshop():
    rnd = random.Random(7)
    data = dataset_record('workshop-train')
    models = [train_response(n, p, tr, ho, cx, data, 0.3 + i * 0.5)
              for i, (n, p, tr, ho, cx, _) in enumerate(WORKSHOP_MODELS)]
    attacks = []
    for n, p, tr, ho, cx, strength in WORKSHOP_MODELS:
        white = p != 'random_forest'
        attacks.append(attack_report(n, p, 'fgsm' if white else 'transfer', ho, strength, WORKSHOP_EPS, rnd))
        if white:
            attacks.append(attack_report(n, p, 'pgd', ho, strength * 1.4, WORKSHOP_EPS, rnd))
        attacks.append(attack_report(n, p, 'hopskipjump', ho, strength * 0.8, WORKSHOP_EPS, rnd, black_box=True))
    files = [
        file_report('models/logistic.onnx', [], size=1311),
        file_report('models/forest.onnx', [], size=412345),
        file_report('models/mlp.onnx', [], size=9876),
        file_report('downloads/model.pt', [
            finding('downloads/model.pt', 'PICKLE-DANGEROUS-GLOBAL', 'CRITICAL',
                    'imports posix.system, which runs a shell command when the pickle is loaded',
                    members=['archive/data.pkl'], offset=57, evidence=[('global', 'posix.system')]),
            finding('downloads/model.pt', 'HOST-ZIP-CRC-MISMATCH', 'MEDIUM', 'CRC-32 of archive/data.pkl differs',
                    members=['archive/data.pkl'], offset=0, scanner='host'),
        ], size=220311),
        file_report('downloads/tokenizer.pkl', [
            finding('downloads/tokenizer.pkl', 'PICKLE-UNKNOWN-GLOBAL', 'MEDIUM',
                    'imports collections.OrderedDict outside the allowlist', offset=12,
                    evidence=[('global', 'collections.OrderedDict')]),
            finding('downloads/tokenizer.pkl', 'PICKLE-PROTOCOL', 'INFO', 'pickle protocol 4', offset=0)]),
        file_report('downloads/broken.h5', [], status='PARTIAL', error='HDF5 superblock truncated at offset 512'),
    ]
    scan = scan_report(files)
    gates = [
        {'step': 'gate', 'condition': 'max_severity < HIGH', 'passed': False,
         'detail': 'worst finding CRITICAL in downloads/model.pt', 'subject': 'downloads/model.pt'},
        {'step': 'gate', 'condition': 'adversarial_accuracy(eps=0.1) >= 0.5', 'passed': True,
         'detail': 'worst 0.52 (mlp, pgd)', 'subject': 'mlp'},
        {'step': 'gate', 'condition': 'not overfitting', 'passed': False,
         'detail': 'forest: accuracy gap 0.088 > 0.05', 'subject': 'forest'},
    ]
    analyses = []
    for n, p, tr, ho, cx, strength in WORKSHOP_MODELS:
        worst = min((pt['adversarialAccuracy'], a['attack'], pt['eps'])
                    for a in attacks if a['modelName'] == n for pt in a['curve'])
        analyses.append({'model': n, 'plugin': p, 'trainAccuracy': tr, 'heldOutAccuracy': ho,
                         'overfitting': tr - ho > 0.05, 'worstFinding': 'SEVERITY_UNSPECIFIED', 'findings': '0',
                         'worstAdversarialAccuracy': worst[0], 'worstAttack': worst[1], 'worstEps': worst[2],
                         'risk': 'high' if worst[0] < 0.3 else 'medium',
                         'recommendations': ['adversarial training with PGD at eps 0.1',
                                             'limit prediction queries per client']})
    steps = [
        {'id': 'data', 'kind': 'dataset', 'status': 'STEP_OK', 'startedAt': '2026-12-04T19:00:00Z',
         'durationSeconds': 0.05, 'datasets': [data], 'outputs': [data['path']]},
    ]
    for m in models:
        steps.append({'id': 'train-' + m['model']['name'], 'kind': 'train', 'status': 'STEP_OK', 'needs': ['data'],
                      'startedAt': '2026-12-04T19:00:01Z', 'durationSeconds': m['durationSeconds'], 'models': [m],
                      'outputs': [m['out']], 'mlflowRunId': '%032x' % random.Random(m['out']).getrandbits(128)})
    steps.append({'id': 'scan', 'kind': 'scan', 'status': 'STEP_OK', 'startedAt': '2026-12-04T19:02:11Z',
                  'durationSeconds': scan['durationSeconds'], 'scan': scan})
    steps.append({'id': 'attack', 'kind': 'attack', 'status': 'STEP_OK', 'startedAt': '2026-12-04T19:02:12Z',
                  'durationSeconds': round(sum(a['durationSeconds'] for a in attacks), 3), 'attacks': attacks,
                  'needs': ['train-' + m['model']['name'] for m in models]})
    steps.append({'id': 'gate', 'kind': 'gate', 'status': 'STEP_OK', 'durationSeconds': 0.001, 'gates': gates,
                  'needs': ['scan', 'attack']})
    pipeline = {
        'name': 'workshop', 'toolVersion': '0.4.0', 'startedAt': '2026-12-04T19:00:00Z',
        'durationSeconds': round(sum(s['durationSeconds'] for s in steps), 3), 'steps': steps, 'gates': gates,
        'verdict': 'fail', 'mlflowRunId': '9f2c41d07a5e4c0c8a9b3e1f6d2a7b40', 'mlflowExperimentId': '3',
        'mlflowRunUrl': 'http://127.0.0.1:5000/#/experiments/3/runs/9f2c41d07a5e4c0c8a9b3e1f6d2a7b40',
        'plugins': [{'name': p, 'kind': 'MODEL', 'version': '1.0.0', 'abiVersion': '1.4'}
                    for p in ('logreg', 'random_forest', 'mlp')] +
                   [{'name': a, 'kind': 'ATTACK', 'version': '1.0.0', 'abiVersion': '1.4'}
                    for a in ('fgsm', 'pgd', 'hopskipjump', 'transfer')],
        'settings': [{'key': 'vars.samples', 'value': '1000'}],
        'outputDir': 'secmlops-out/workshop', 'analyses': analyses,
    }
    separate = {f"train-{m['model']['name']}.json": m for m in models}
    separate.update({f"attack-{a['modelName']}-{a['attack']}.json": a for a in attacks})
    separate['scan.json'] = scan
    return pipeline, separate


def hostile_model_files(directory):
    """Files for `secmlops scan`: hostile names, archive members and pickle globals."""
    os.makedirs(directory, exist_ok=True)

    def pickle_with_global(module, name):
        # Protocol 2: PROTO 2, GLOBAL module\nname\n, EMPTY_TUPLE, REDUCE, STOP. Never loaded, only scanned.
        return b'\x80\x02c' + module.encode() + b'\n' + name.encode() + b'\n)R.'

    names = ['<script>window.__pwned=1<', '"onload="window.__pwned=2" x="', "'><img src=x onerror=window.__pwned=3>"]
    for i, n in enumerate(names):
        with open(os.path.join(directory, n + '.pkl'), 'wb') as f:
            f.write(pickle_with_global('os', 'system' if i == 0 else HOSTILE[i]))
    with open(os.path.join(directory, 'evil-globals.pkl'), 'wb') as f:
        f.write(pickle_with_global(HOSTILE[3], HOSTILE[4]))
    with zipfile.ZipFile(os.path.join(directory, 'archive"<svg onload=window.__pwned=7>.zip'), 'w') as z:
        z.writestr('</svg><script>window.__pwned=8</script>/data.pkl', pickle_with_global('posix', 'system'))
        z.writestr('<img src=x onerror=window.__pwned=9>.pkl', pickle_with_global('builtins', 'eval'))


def hostile_reports():
    rnd = random.Random(3)
    data = dataset_record('hostile', hostile=True)
    reports = {}
    for i, label in enumerate([HOSTILE[0], HOSTILE[1], HOSTILE[3]]):
        m = train_response(label, HOSTILE[2] if i == 0 else 'logreg', 0.9, 0.85,
                           [(HOSTILE[4], 3), ('parameters', 18)], data, 0.2)
        m['out'] = 'models/' + HOSTILE[1] + '.onnx'
        m['overfitting']['verdict'] = HOSTILE_TEXT
        m['properties'] = [{'key': HOSTILE[0], 'value': HOSTILE[3]}]
        reports[f'train-{i}.json'] = m
        a = attack_report(label, 'logreg', HOSTILE[3] if i == 2 else 'fgsm', 0.85, 5, [0.0, 0.1, 0.2], rnd)
        a['method'] = HOSTILE_TEXT
        a['params'] = {HOSTILE[1]: HOSTILE[0]}
        reports[f'attack-{i}.json'] = a
    return reports


def large(models, attacks, eps_count, findings):
    rnd = random.Random(11)
    data = dataset_record('large-train', rows=20000, features=40)
    eps = [round(0.5 * k / (eps_count - 1), 6) for k in range(eps_count)] if eps_count > 1 else [0.1]
    attack_names = ['fgsm', 'pgd', 'hopskipjump', 'transfer', 'cw'][:attacks] + \
        [f'attack{k}' for k in range(5, attacks)]
    trained, reports = [], []
    for i in range(models):
        name = f'model-{i:03d}'
        held = round(rnd.uniform(0.75, 0.95), 4)
        trained.append(train_response(name, ['logreg', 'mlp', 'random_forest'][i % 3], min(1, held + rnd.uniform(0, 0.08)),
                                      held, [('parameters', rnd.randint(10, 5000))], data, rnd.uniform(0.1, 5)))
        for a in attack_names:
            reports.append(attack_report(name, 'logreg', a, held, rnd.uniform(2, 12), eps, rnd,
                                         black_box=a == 'hopskipjump'))
    rules = [('PICKLE-DANGEROUS-GLOBAL', 'CRITICAL'), ('PICKLE-UNKNOWN-GLOBAL', 'MEDIUM'),
             ('HOST-ZIP-CRC-MISMATCH', 'MEDIUM'), ('ONNX-EXTERNAL-DATA', 'HIGH'), ('PICKLE-PROTOCOL', 'INFO'),
             ('HOST-ZIP-TRAILING-DATA', 'MEDIUM'), ('KERAS-LAMBDA-LAYER', 'HIGH'), ('GGUF-TEMPLATE', 'LOW')]
    files, n = [], 0
    per_file = 10
    while n < findings:
        path = f'checkpoints/run-{len(files):04d}/model.pt'
        fs = []
        for k in range(min(per_file, findings - n)):
            rule, sev = rules[rnd.randrange(len(rules))]
            fs.append(finding(path, rule, sev, f'{rule.lower()} at member {k}', members=[f'archive/data{k}.pkl'],
                              offset=rnd.randrange(1 << 20), evidence=[('global', f'module{k}.function')]))
        n += len(fs)
        files.append(file_report(path, fs, size=rnd.randrange(1 << 24)))
    scan = scan_report(files)
    steps = [{'id': 'data', 'kind': 'dataset', 'status': 'STEP_OK', 'durationSeconds': 0.4, 'datasets': [data]},
             {'id': 'train', 'kind': 'train', 'status': 'STEP_OK', 'durationSeconds': 120.5, 'models': trained},
             {'id': 'scan', 'kind': 'scan', 'status': 'STEP_OK', 'durationSeconds': 30.2, 'scan': scan},
             {'id': 'attack', 'kind': 'attack', 'status': 'STEP_OK', 'durationSeconds': 900.1, 'attacks': reports}]
    return {'name': 'large', 'toolVersion': '0.4.0', 'startedAt': '2026-12-04T19:00:00Z', 'durationSeconds': 1051.2,
            'steps': steps, 'verdict': 'fail'}


def write(path, doc):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'w', encoding='utf-8') as f:
        json.dump(doc, f, indent=1, ensure_ascii=False)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('outdir')
    ap.add_argument('--large-models', type=int, default=50)
    ap.add_argument('--large-attacks', type=int, default=3)
    ap.add_argument('--large-eps', type=int, default=20)
    ap.add_argument('--large-findings', type=int, default=10000)
    ap.add_argument('--skip-large', action='store_true')
    args = ap.parse_args()
    pipeline, separate = workshop()
    write(os.path.join(args.outdir, 'workshop', 'pipeline.json'), pipeline)
    for name, doc in separate.items():
        write(os.path.join(args.outdir, 'workshop', 'files', name), doc)
    hostile_model_files(os.path.join(args.outdir, 'hostile', 'models'))
    for name, doc in hostile_reports().items():
        write(os.path.join(args.outdir, 'hostile', 'files', name), doc)
    if not args.skip_large:
        write(os.path.join(args.outdir, 'large', 'pipeline.json'),
              large(args.large_models, args.large_attacks, args.large_eps, args.large_findings))


if __name__ == '__main__':
    main()
