#!/usr/bin/env python3
"""How usable the dashboard of a large report stays: page size, and render times in headless
chromium (the browser the tests use), median over RUNS fresh loads.

    dashboard_bench.py SECMLOPS WORKDIR [RUNS] [--models 50 --attacks 3 --eps 20 --findings 10000]

Prints one line per figure. The report comes from tests/dashboard/make_dashboard_fixtures.py.
"""
import argparse
import gzip
import json
import os
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, 'tests', 'dashboard'))
import cdp  # noqa: E402

SETTLE = 'new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))'
# One sort switch: the click, then style, layout and paint of the next frame.
SORT = '''new Promise(r => { const t = performance.now();
  document.querySelector('label[for=%s]').click();
  requestAnimationFrame(() => requestAnimationFrame(() => r(performance.now() - t))); })'''
SCROLL = '''new Promise(r => { const w = document.querySelector('table.findings').parentElement;
  const t = performance.now(); w.scrollTop = w.scrollHeight;
  requestAnimationFrame(() => requestAnimationFrame(() => r(performance.now() - t))); })'''


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('secmlops')
    ap.add_argument('workdir')
    ap.add_argument('runs', nargs='?', type=int, default=5)
    ap.add_argument('--models', type=int, default=50)
    ap.add_argument('--attacks', type=int, default=3)
    ap.add_argument('--eps', type=int, default=20)
    ap.add_argument('--findings', type=int, default=10000)
    a = ap.parse_args()
    fixtures = os.path.join(a.workdir, 'fixtures')
    subprocess.run([sys.executable, os.path.join(ROOT, 'tests', 'dashboard', 'make_dashboard_fixtures.py'), fixtures,
                    '--large-models', str(a.models), '--large-attacks', str(a.attacks), '--large-eps', str(a.eps),
                    '--large-findings', str(a.findings)], check=True)
    report = os.path.join(fixtures, 'large', 'pipeline.json')
    html = os.path.join(a.workdir, 'large.html')
    cli_times = []
    for _ in range(a.runs):
        t = time.monotonic()
        subprocess.run([a.secmlops, 'report', 'html', '--out', html, report], check=True, capture_output=True)
        cli_times.append(time.monotonic() - t)
    with open(html, 'rb') as f:
        page_bytes = f.read()
    print(f'report: {a.models} models x {a.attacks} attacks x {a.eps} eps, {a.findings} findings; '
          f'JSON {os.path.getsize(report) / 2**20:.1f} MiB')
    print(f'page: {len(page_bytes) / 2**20:.2f} MiB, gzip {len(gzip.compress(page_bytes)) / 2**20:.2f} MiB')
    print(f'secmlops report html (read JSON, render, write): median {statistics.median(cli_times):.2f} s '
          f'(min {min(cli_times):.2f}, max {max(cli_times):.2f})')

    figures = {k: [] for k in ('load', 'fcp', 'sort_rule', 'sort_location', 'sort_severity', 'scroll_end')}
    metrics = {}
    with cdp.Browser(cdp.find_chromium()) as browser:
        for _ in range(a.runs):
            page = browser.new_page(1280, 900)
            page.send('Performance.enable')
            page.navigate('file://' + html)
            page.evaluate(SETTLE)
            nav = json.loads(page.evaluate('JSON.stringify(performance.getEntriesByType("navigation")[0])'))
            paint = json.loads(page.evaluate('JSON.stringify(performance.getEntriesByType("paint"))'))
            figures['load'].append(nav['loadEventEnd'])
            figures['fcp'].append(next((p['startTime'] for p in paint if p['name'] == 'first-contentful-paint'), float('nan')))
            figures['sort_rule'].append(page.evaluate(SORT % 'fs-rule'))
            figures['sort_location'].append(page.evaluate(SORT % 'fs-loc'))
            figures['sort_severity'].append(page.evaluate(SORT % 'fs-sev'))
            figures['scroll_end'].append(page.evaluate(SCROLL))
            assert page.console_errors() == [], page.console_errors()
            assert len(page.requests()) == 1, page.requests()
            metrics = {m['name']: m['value'] for m in page.send('Performance.getMetrics')['metrics']}
            page.send('Target.closeTarget', {'targetId': page.send('Target.getTargetInfo')['targetInfo']['targetId']})
    names = {'load': 'load event (parse, style, layout of the first screen)', 'fcp': 'first contentful paint',
             'sort_rule': 'sort findings by rule (click to next frame)',
             'sort_location': 'sort findings by location', 'sort_severity': 'back to severity order',
             'scroll_end': 'scroll to the last finding (to next frame)'}
    for k, v in figures.items():
        print(f'{names[k]}: median {statistics.median(v):.0f} ms (min {min(v):.0f}, max {max(v):.0f})')
    print(f'DOM nodes {int(metrics.get("Nodes", 0))}, JS heap used {metrics.get("JSHeapUsedSize", 0) / 2**20:.1f} MiB')


if __name__ == '__main__':
    main()
