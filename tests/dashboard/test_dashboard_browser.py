"""The HTML dashboard in a real browser: headless Debian chromium, driven over the DevTools protocol.

Run by CTest (dashboard.browser) with SECMLOPS_CLI (the secmlops binary), SECMLOPS_DASHBOARD_OUT (a
folder of the build tree: pages and screenshots are left there) and optionally CHROMIUM. Without
chromium every test fails: scripts/setup.sh installs it.
"""
import html as html_lib
import json
import os
import re
import subprocess
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import cdp  # noqa: E402

CLI = os.environ.get('SECMLOPS_CLI', 'secmlops')
OUT = os.environ.get('SECMLOPS_DASHBOARD_OUT') or os.path.join(os.getcwd(), 'dashboard-test-out')
FIXTURES = os.path.join(OUT, 'fixtures')
CSP_META = re.compile(r'<meta http-equiv="Content-Security-Policy"[^>]*>')

# Everything the page's DOM says about its charts and tables, read in the browser.
READ_CHARTS = r'''
JSON.stringify([...document.querySelectorAll('svg.chart')].map(svg => {
  const n = k => parseFloat(svg.dataset[k]);
  return {
    metric: svg.dataset.metric,
    scale: {x0: n('xMin'), x1: n('xMax'), y0: n('yMin'), y1: n('yMax'),
            left: n('plotLeft'), right: n('plotRight'), top: n('plotTop'), bottom: n('plotBottom')},
    series: [...svg.querySelectorAll('g.series')].map(g => ({
      model: g.dataset.model, attack: g.dataset.attack, metric: g.dataset.metric,
      polyline: g.querySelector('polyline').getAttribute('points'),
      visible: g.querySelector('polyline').getBBox().width > 0,
      points: [...g.querySelectorAll('circle.pt')].map(c => ({
        cx: parseFloat(c.getAttribute('cx')), cy: parseFloat(c.getAttribute('cy')),
        eps: parseFloat(c.dataset.eps), value: parseFloat(c.dataset.value),
        title: c.querySelector('title').textContent}))})),
    table: [...document.querySelectorAll('table.chart-table[data-metric="' + svg.dataset.metric + '"] tbody tr')]
      .map(tr => [...tr.children].map(td => td.textContent))};
}))
'''

# Elements and attributes through which a page could run code or load something.
AUDIT = r'''
JSON.stringify({
  active: [...document.querySelectorAll('script,iframe,object,embed,img,image,foreignObject,use,link,base,form,meta[http-equiv="refresh"]')].map(e => e.outerHTML.slice(0, 120)),
  handlers: [...document.querySelectorAll('*')].flatMap(e => [...e.attributes].filter(a => /^on/i.test(a.name)).map(a => e.tagName + ' ' + a.name)),
  links: [...document.querySelectorAll('[href]')].map(e => e.getAttribute('href')).filter(h => !/^(https?:|#)/.test(h)),
  pwned: typeof window.__pwned === 'undefined' ? null : window.__pwned,
  text: document.body.textContent,
  sections: [...document.querySelectorAll('main > section')].map(s => s.id),
})
'''


def run(args, check=True):
    r = subprocess.run(args, capture_output=True, text=True, timeout=600)
    if check and r.returncode != 0:
        raise AssertionError(f'{args} exited {r.returncode}: {r.stderr}')
    return r


def render(inputs, name):
    out = os.path.join(OUT, name + '.html')
    r = run([CLI, 'report', 'html', '--out', out, *inputs])
    assert r.stdout.strip() == out, r.stdout
    return out


def label(attack):
    return attack.get('modelName') or attack.get('model', '')


class DashboardBrowserTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        exe = cdp.find_chromium()
        if exe is None:
            raise AssertionError('chromium not found (set $CHROMIUM or run scripts/setup.sh, which installs it)')
        os.makedirs(OUT, exist_ok=True)
        run([sys.executable, os.path.join(HERE, 'make_dashboard_fixtures.py'), FIXTURES, '--skip-large'])
        cls.browser = cdp.Browser(exe)

    @classmethod
    def tearDownClass(cls):
        cls.browser.close()

    def open(self, html_path, width=1280, height=900):
        page = self.browser.new_page(width, height)
        page.navigate('file://' + html_path)
        return page

    def assert_clean(self, page, html_path):
        self.assertEqual(page.console_errors(), [])
        self.assertEqual(page.requests(), ['file://' + html_path], 'the page loaded something')
        self.assertEqual(page.evaluate("performance.getEntriesByType('resource').length"), 0)

    def assert_series_match(self, page, attacks):
        """One series per model x attack in each chart; plotted points are the report's values."""
        charts = json.loads(page.evaluate(READ_CHARTS))
        self.assertEqual(sorted(c['metric'] for c in charts), ['adversarial_accuracy', 'success_rate'])
        key = {'adversarial_accuracy': 'adversarialAccuracy', 'success_rate': 'successRate'}
        for chart in charts:
            s = chart['scale']
            self.assertEqual(len(chart['series']), len(attacks), chart['metric'])
            self.assertEqual(len(chart['table']), len(attacks))
            for series, attack in zip(chart['series'], attacks):
                self.assertEqual((series['model'], series['attack']), (label(attack), attack['attack']))
                self.assertTrue(series['visible'])
                expected = [(p.get('eps', 0.0), p.get(key[chart['metric']], 0.0)) for p in attack['curve']]  # JSON omits zeros
                self.assertEqual(len(series['points']), len(expected))
                for pt, (eps, value) in zip(series['points'], expected):
                    self.assertAlmostEqual(pt['eps'], eps, places=12)
                    self.assertAlmostEqual(pt['value'], value, places=12)
                    # The position, turned back into numbers through the chart's own scale.
                    x = s['x0'] + (pt['cx'] - s['left']) / (s['right'] - s['left']) * (s['x1'] - s['x0'])
                    y = s['y0'] + (s['bottom'] - pt['cy']) / (s['bottom'] - s['top']) * (s['y1'] - s['y0'])
                    self.assertAlmostEqual(x, eps, delta=1e-3)
                    self.assertAlmostEqual(y, value, delta=1e-3)
                    self.assertIn(series['model'], pt['title'])
                poly = [tuple(map(float, xy.split(','))) for xy in series['polyline'].split()]
                self.assertEqual(poly, [(p['cx'], p['cy']) for p in series['points']])
            for row, attack in zip(chart['table'], attacks):
                self.assertEqual(row[0].strip(), label(attack))
                values = [float(v) for v in row[2:] if v.strip()]
                expected = [p.get(key[chart['metric']], 0.0) for p in attack['curve']]
                self.assertEqual(len(values), len(expected))
                for v, e in zip(values, expected):
                    self.assertAlmostEqual(v, e, delta=abs(e) * 1e-3 + 1e-9)

    def rows_in_visual_order(self, page, column):
        return page.evaluate(f'''[...document.querySelectorAll('table.findings tbody tr')]
            .map(tr => [tr.getBoundingClientRect().top, tr.children[{column}].textContent])
            .sort((a, b) => a[0] - b[0]).map(r => r[1])''')

    def test_workshop_pipeline(self):
        with open(os.path.join(FIXTURES, 'workshop', 'pipeline.json')) as f:
            report = json.load(f)
        attacks = [a for s in report['steps'] for a in s.get('attacks', [])]
        html = render([os.path.join(FIXTURES, 'workshop', 'pipeline.json')], 'workshop')
        page = self.open(html)
        self.assert_clean(page, html)
        self.assert_series_match(page, attacks)
        self.assertEqual(page.evaluate("document.querySelector('.verdict').dataset.verdict"), 'fail')
        self.assertEqual(page.evaluate("document.querySelectorAll('ul.gates li').length"), len(report['gates']))
        models = page.evaluate("[...document.querySelectorAll('table.models thead th[data-model]')].map(t => t.dataset.model)")
        self.assertEqual(models, ['logistic', 'forest', 'mlp'])
        findings = [fi for s in report['steps'] if 'scan' in s for f in s['scan']['files'] for fi in f['findings']]
        self.assertEqual(page.evaluate("document.querySelectorAll('table.findings tbody tr').length"), len(findings))
        self.assertEqual(page.evaluate("document.querySelector('table.findings tbody tr').dataset.severity"), 'CRITICAL')
        href = page.evaluate("document.querySelector('table.findings a').getAttribute('href')")
        self.assertTrue(href.endswith('docs/rules.md#:~:text=PICKLE-DANGEROUS-GLOBAL'), href)
        self.assertIn('broken.h5', page.evaluate("document.querySelector('table.incomplete').textContent"))
        self.assertEqual(page.evaluate("document.querySelectorAll('table.steps tbody tr').length"), len(report['steps']))
        self.assertIn('127.0.0.1:5000', page.evaluate("document.querySelector('#identity a').href"))

        # Sorting without script: a label switches the radio, the stylesheet reorders the rows.
        by_severity = self.rows_in_visual_order(page, 0)
        self.assertEqual(by_severity[0], 'CRITICAL')
        page.evaluate("document.querySelector('label[for=fs-rule]').click()")
        rules = self.rows_in_visual_order(page, 1)
        self.assertEqual(rules, sorted(fi['ruleId'] for fi in findings))
        page.evaluate("document.querySelector('label[for=fs-sev]').click()")
        self.assertEqual(self.rows_in_visual_order(page, 0), by_severity)

        page.screenshot(os.path.join(OUT, 'dashboard-workshop.png'), full_page=True)
        page.screenshot(os.path.join(OUT, 'dashboard-workshop-top.png'))
        page.screenshot_element('#chart-adv-acc-fig', os.path.join(OUT, 'dashboard-workshop-robustness.png'))
        page.screenshot_element('#findings', os.path.join(OUT, 'dashboard-workshop-findings.png'))
        page.emulate_media(color_scheme='dark')
        dark = page.evaluate("getComputedStyle(document.body).backgroundColor")
        self.assertEqual(dark, 'rgb(13, 17, 23)')
        page.screenshot(os.path.join(OUT, 'dashboard-workshop-dark.png'))
        page.emulate_media(media='print')
        self.assertEqual(page.evaluate("getComputedStyle(document.querySelector('nav')).display"), 'none')
        self.assertEqual(page.evaluate("getComputedStyle(document.body).backgroundColor"), 'rgb(255, 255, 255)')
        pdf = page.send('Page.printToPDF', {'printBackground': True})['data']
        self.assertGreater(len(pdf), 10000)
        self.assertEqual(page.console_errors(), [])

    def test_inside_a_sandboxed_frame_like_mlflow(self):
        """MLflow's artifact viewer shows an HTML artifact as <iframe sandbox srcdoc>."""
        html = render([os.path.join(FIXTURES, 'workshop', 'pipeline.json')], 'workshop-framed')
        with open(html, encoding='utf-8') as f:
            page_text = f.read()
        host = os.path.join(OUT, 'mlflow-like-viewer.html')
        with open(host, 'w', encoding='utf-8') as f:
            f.write('<!DOCTYPE html><title>artifact</title><iframe sandbox="allow-scripts" '
                    f'style="width:1200px;height:2000px" srcdoc="{html_lib.escape(page_text, quote=True)}"></iframe>')
        page = self.open(host)
        self.assert_clean(page, host)
        counts = page.evaluate_in_child_frame(
            "[document.querySelectorAll('svg.chart g.series').length, document.querySelectorAll('table.findings tbody tr').length,"
            " document.querySelector('svg.chart circle.pt').getBoundingClientRect().width > 0]")
        self.assertEqual(counts, [16, 4, True])
        page.evaluate_in_child_frame("document.querySelector('label[for=fs-rule]').click()")
        self.assertTrue(page.evaluate_in_child_frame("document.getElementById('fs-rule').checked"))
        self.assertEqual(page.console_errors(), [])

    def test_workshop_pipeline_run(self):
        """The real workshop pipeline (pipelines/workshop.yaml, smaller data): its report's page."""
        spec = os.path.join(os.environ.get('SECMLOPS_SOURCE_DIR', os.path.join(HERE, '..', '..')),
                            'pipelines', 'workshop.yaml')
        out = os.path.join(OUT, 'workshop-run')
        r = run([CLI, 'pipeline', 'run', spec, '--output', out, '--set', 'vars.samples=600',
                 '--set', 'vars.attack_rows=60'], check=False)
        self.assertIn(r.returncode, (0, 1), r.stderr)  # 1: the workshop's severity gate fails by design
        report_json = os.path.join(out, 'pipeline-report.json')
        with open(report_json) as f:
            report = json.load(f)
        attacks = [a for s in report['steps'] for a in s.get('attacks', [])]
        models = [m for s in report['steps'] for m in s.get('models', [])]
        findings = [fi for s in report['steps'] if 'scan' in s for f in s['scan'].get('files', [])
                    for fi in f.get('findings', [])]
        self.assertEqual(len(models), 3)
        self.assertTrue(attacks and findings)
        html = render([report_json], 'workshop-run')
        page = self.open(html)
        self.assert_clean(page, html)
        self.assert_series_match(page, attacks)
        self.assertEqual(page.evaluate("document.querySelectorAll('table.models thead th[data-model]').length"), 3)
        self.assertEqual(page.evaluate("document.querySelectorAll('table.findings tbody tr').length"), len(findings))
        self.assertEqual(page.evaluate("document.querySelector('.verdict').dataset.verdict"), report['verdict'])
        page.screenshot(os.path.join(OUT, 'dashboard-workshop-run.png'), full_page=True)

    def test_separate_report_files(self):
        folder = os.path.join(FIXTURES, 'workshop', 'files')
        files = sorted(os.path.join(folder, f) for f in os.listdir(folder))
        attacks = []
        for path in files:  # the CLI keeps the order of its arguments
            with open(path) as f:
                doc = json.load(f)
            if 'curve' in doc:
                attacks.append(doc)
        html = render(files, 'workshop-files')
        page = self.open(html)
        self.assert_clean(page, html)
        self.assert_series_match(page, attacks)
        self.assertEqual(page.evaluate("document.querySelectorAll('table.steps tbody tr').length"), len(files))
        self.assertEqual(page.evaluate("document.querySelectorAll('table.models thead th[data-model]').length"), 3)
        self.assertEqual(page.evaluate("document.querySelector('.verdict').dataset.verdict"), 'fail')

    def test_hostile_strings_stay_text(self):
        models = os.path.join(FIXTURES, 'hostile', 'models')
        scan = run([CLI, 'scan', '--format', 'json', models], check=False)
        self.assertIn(scan.returncode, (0, 1, 2), scan.stderr)
        scan_json = os.path.join(OUT, 'hostile-scan.json')
        with open(scan_json, 'w') as f:
            f.write(scan.stdout)
        scanned = json.loads(scan.stdout)
        paths = ' '.join(f['path'] for f in scanned['files'])
        self.assertIn('<script>window.__pwned=1<', paths)  # the scan really carried hostile names
        folder = os.path.join(FIXTURES, 'hostile', 'files')
        files = sorted(os.path.join(folder, f) for f in os.listdir(folder))
        attacks = []
        for path in files:
            with open(path) as f:
                doc = json.load(f)
            if 'curve' in doc:
                attacks.append(doc)
        html = render([scan_json, *files], 'hostile')
        with open(html, encoding='utf-8') as f:
            text = f.read()
        self.assertEqual(len(CSP_META.findall(text)), 1)
        # The same page without its Content-Security-Policy: escaping alone must keep it inert.
        bare = os.path.join(OUT, 'hostile-no-csp.html')
        with open(bare, 'w', encoding='utf-8') as f:
            f.write(CSP_META.sub('', text))
        for path in (html, bare):
            with self.subTest(page=os.path.basename(path)):
                page = self.open(path)
                self.assert_clean(page, path)
                audit = json.loads(page.evaluate(AUDIT))
                self.assertIsNone(audit['pwned'])
                self.assertEqual(audit['active'], [])
                self.assertEqual(audit['handlers'], [])
                self.assertEqual(audit['links'], [])
                self.assertEqual(audit['sections'], ['identity', 'data', 'models', 'robustness', 'findings', 'steps'])
                for s in ('<script>window.__pwned=1</script>', '</svg><script>window.__pwned=4</script><svg>',
                          '"onload="window.__pwned=2" x="', "'><img src=x onerror=window.__pwned=3>",
                          '<script>window.__pwned=1<.pkl', '[U+202E]'):
                    self.assertIn(s, audit['text'])
                self.assert_series_match(page, attacks)
                # The scan carries no verdict: judged at HIGH, its CRITICAL findings fail the page.
                self.assertEqual(page.evaluate("document.querySelector('.verdict').dataset.verdict"), 'fail')
                titles = page.evaluate("[...document.querySelectorAll('svg.chart title')].map(t => t.textContent).join(' ')")
                self.assertIn('</svg><script>window.__pwned=4</script><svg>', titles)
                page.screenshot(os.path.join(OUT, 'dashboard-hostile.png'), full_page=True)

    def test_large_report(self):
        large = os.path.join(FIXTURES, 'large')
        run([sys.executable, os.path.join(HERE, 'make_dashboard_fixtures.py'), FIXTURES])
        html = render([os.path.join(large, 'pipeline.json')], 'large')
        page = self.open(html)
        self.assert_clean(page, html)
        counts = page.evaluate('''[document.querySelectorAll('#chart-adv-acc g.series').length,
            document.querySelectorAll('#chart-success g.series').length,
            document.querySelectorAll('#chart-adv-acc circle.pt').length,
            document.querySelectorAll('table.findings tbody tr').length]''')
        self.assertEqual(counts, [150, 150, 3000, 10000])
        page.evaluate("document.querySelector('label[for=fs-loc]').click()")
        self.assertEqual(page.console_errors(), [])


if __name__ == '__main__':
    unittest.main()
