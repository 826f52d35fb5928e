"""A minimal Chrome DevTools Protocol driver for headless Debian chromium.

The browser talks over --remote-debugging-pipe (fd 3: commands in, fd 4: replies out, each JSON
message ended by a NUL byte), so no port is opened, not even on loopback. Standard library only.
"""
import base64
import fcntl
import json
import os
import shutil
import subprocess
import tempfile
import threading
import time

FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
         '--disable-background-networking', '--disable-component-update', '--disable-sync',
         '--disable-default-apps', '--disable-extensions', '--mute-audio', '--hide-scrollbars',
         '--remote-debugging-pipe']


def find_chromium():
    """The chromium binary: $CHROMIUM, else chromium on PATH; None when there is none."""
    exe = os.environ.get('CHROMIUM') or shutil.which('chromium')
    return exe if exe and os.access(exe, os.X_OK) else None


class CdpError(RuntimeError):
    pass


class Browser:
    """One headless chromium with a fresh profile directory, removed on close()."""

    def __init__(self, executable, extra_flags=()):
        self.profile = tempfile.mkdtemp(prefix='secmlops-chromium-')
        to_child_r, self._to_child = os.pipe()
        self._from_child, from_child_w = os.pipe()

        def wire_pipes():  # runs in the child: fds 3 and 4 become the protocol pipes
            # Out of the way first: a pipe end may itself sit on fd 3 or 4.
            high_r = fcntl.fcntl(to_child_r, fcntl.F_DUPFD, 10)
            high_w = fcntl.fcntl(from_child_w, fcntl.F_DUPFD, 10)
            os.dup2(high_r, 3)
            os.dup2(high_w, 4)

        self.proc = subprocess.Popen(
            [executable, *FLAGS, *extra_flags, f'--user-data-dir={self.profile}', 'about:blank'],
            preexec_fn=wire_pipes, close_fds=False, stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        os.close(to_child_r)
        os.close(from_child_w)
        self._next_id = 0
        self._replies = {}
        self.events = []  # (sessionId, method, params) of every event, in arrival order
        self._cv = threading.Condition()
        self._closed = False
        self._stderr = []
        threading.Thread(target=self._read, daemon=True).start()
        threading.Thread(target=lambda: self._stderr.extend(self.proc.stderr), daemon=True).start()

    def _read(self):
        buf = b''
        while True:
            try:
                chunk = os.read(self._from_child, 1 << 16)
            except OSError:
                chunk = b''
            if not chunk:
                with self._cv:
                    self._closed = True
                    self._cv.notify_all()
                return
            buf += chunk
            while b'\0' in buf:
                raw, buf = buf.split(b'\0', 1)
                msg = json.loads(raw)
                with self._cv:
                    if 'id' in msg:
                        self._replies[msg['id']] = msg
                    else:
                        self.events.append((msg.get('sessionId'), msg['method'], msg.get('params', {})))
                    self._cv.notify_all()

    def send(self, method, params=None, session=None, timeout=120):
        with self._cv:
            self._next_id += 1
            mid = self._next_id
        msg = {'id': mid, 'method': method, 'params': params or {}}
        if session:
            msg['sessionId'] = session
        os.write(self._to_child, json.dumps(msg).encode() + b'\0')
        deadline = time.monotonic() + timeout
        with self._cv:
            while mid not in self._replies:
                left = deadline - time.monotonic()
                if self._closed or left <= 0:
                    raise CdpError(f'{method}: no reply ({"browser exited" if self._closed else "timeout"}); '
                                   f'stderr: {b"".join(self._stderr[-20:]).decode(errors="replace")}')
                self._cv.wait(left)
            reply = self._replies.pop(mid)
        if 'error' in reply:
            raise CdpError(f'{method}: {reply["error"]}')
        return reply.get('result', {})

    def wait_event(self, method, session=None, after=0, timeout=120):
        """The first event `method` (of `session`) at index >= after; returns (index, params)."""
        deadline = time.monotonic() + timeout
        with self._cv:
            while True:
                for i in range(after, len(self.events)):
                    s, m, p = self.events[i]
                    if m == method and (session is None or s == session):
                        return i, p
                left = deadline - time.monotonic()
                if self._closed or left <= 0:
                    raise CdpError(f'no {method} event')
                self._cv.wait(left)

    def new_page(self, width=1280, height=900):
        target = self.send('Target.createTarget', {'url': 'about:blank'})['targetId']
        session = self.send('Target.attachToTarget', {'targetId': target, 'flatten': True})['sessionId']
        return Page(self, session, width, height)

    def close(self):
        try:
            self.send('Browser.close', timeout=10)
        except CdpError:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        for fd in (self._to_child, self._from_child):
            try:
                os.close(fd)
            except OSError:
                pass
        shutil.rmtree(self.profile, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class Page:
    def __init__(self, browser, session, width, height):
        self.browser, self.session = browser, session
        for domain in ('Page', 'Runtime', 'Log', 'Network'):
            self.send(f'{domain}.enable')
        self.send('Emulation.setDeviceMetricsOverride',
                  {'width': width, 'height': height, 'deviceScaleFactor': 1, 'mobile': False})
        self.send('Target.setAutoAttach', {'autoAttach': True, 'waitForDebuggerOnStart': False, 'flatten': True})
        self._mark = len(browser.events)

    def send(self, method, params=None, timeout=120):
        return self.browser.send(method, params, session=self.session, timeout=timeout)

    def navigate(self, url, timeout=120):
        """Loads url and waits for its load event; returns the wall-clock seconds it took."""
        self._mark = len(self.browser.events)
        start = time.monotonic()
        result = self.send('Page.navigate', {'url': url})
        if result.get('errorText'):
            raise CdpError(f'navigation to {url} failed: {result["errorText"]}')
        self.browser.wait_event('Page.loadEventFired', self.session, self._mark, timeout)
        return time.monotonic() - start

    def evaluate(self, expression, timeout=120):
        r = self.send('Runtime.evaluate', {'expression': expression, 'returnByValue': True,
                                           'awaitPromise': True}, timeout)
        if 'exceptionDetails' in r:
            raise CdpError(f'evaluation failed: {r["exceptionDetails"]}')
        return r['result'].get('value')

    def events_since_navigation(self, *methods):
        return [(m, p) for s, m, p in self.browser.events[self._mark:]
                if s == self.session and m in methods]

    def console_errors(self):
        """Console errors, uncaught exceptions and browser log errors (e.g. CSP violations)."""
        out = []
        for m, p in self.events_since_navigation('Runtime.consoleAPICalled', 'Runtime.exceptionThrown',
                                                 'Log.entryAdded'):
            if m == 'Runtime.consoleAPICalled' and p.get('type') in ('error', 'assert', 'warning'):
                out.append(('console', p['type'], [a.get('value') for a in p.get('args', [])]))
            elif m == 'Runtime.exceptionThrown':
                out.append(('exception', p['exceptionDetails'].get('text')))
            elif m == 'Log.entryAdded' and p['entry']['level'] in ('error', 'warning'):
                out.append(('log', p['entry']['level'], p['entry'].get('text'), p['entry'].get('url')))
        return out

    def requests(self):
        """URLs of every request the page made since the last navigation (the document included)."""
        return [p['request']['url'] for m, p in self.events_since_navigation('Network.requestWillBeSent')]

    def emulate_media(self, media='', color_scheme=''):
        features = [{'name': 'prefers-color-scheme', 'value': color_scheme}] if color_scheme else []
        self.send('Emulation.setEmulatedMedia', {'media': media, 'features': features})

    def _grow_viewport(self, max_height):
        """Makes the viewport as tall as the page, so content the browser skips off screen
        (content-visibility) is painted; returns the size to restore."""
        w, h = self.evaluate('[document.documentElement.scrollWidth, document.documentElement.scrollHeight]')
        before = self.evaluate('[window.innerWidth, window.innerHeight]')
        self.send('Emulation.setDeviceMetricsOverride',
                  {'width': w, 'height': min(h, max_height), 'deviceScaleFactor': 1, 'mobile': False})
        self.evaluate('new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))')
        return before

    def _restore_viewport(self, size):
        self.send('Emulation.setDeviceMetricsOverride',
                  {'width': size[0], 'height': size[1], 'deviceScaleFactor': 1, 'mobile': False})

    def _capture(self, path, params):
        data = self.send('Page.captureScreenshot', {'format': 'png', **params})['data']
        with open(path, 'wb') as f:
            f.write(base64.b64decode(data))
        return path

    def screenshot(self, path, full_page=False, max_height=8000):
        """A PNG of the viewport, or of the whole page (up to max_height pixels)."""
        if not full_page:
            return self._capture(path, {})
        size = self._grow_viewport(max_height)
        try:
            return self._capture(path, {})
        finally:
            self._restore_viewport(size)

    def screenshot_element(self, selector, path, max_height=8000):
        """A PNG of one element, wherever it is on the page."""
        size = self._grow_viewport(max_height)
        try:
            box = self.evaluate(f"""(() => {{ const r = document.querySelector({selector!r}).getBoundingClientRect();
                return [r.left + scrollX, r.top + scrollY, r.width, r.height]; }})()""")
            clip = {'x': box[0], 'y': box[1], 'width': box[2], 'height': box[3], 'scale': 1}
            return self._capture(path, {'clip': clip, 'captureBeyondViewport': True})
        finally:
            self._restore_viewport(size)

    def evaluate_in_child_frame(self, expression):
        """Evaluates in the page's first child frame. A sandboxed iframe is another origin, so it runs
        out of process as its own target: Page attaches to those as they appear (setAutoAttach)."""
        frames = [p for m, p in self.events_since_navigation('Target.attachedToTarget')
                  if p['targetInfo']['type'] == 'iframe']
        if not frames:
            raise CdpError('the page has no out-of-process child frame')
        r = self.browser.send('Runtime.evaluate', {'expression': expression, 'returnByValue': True},
                              session=frames[0]['sessionId'])
        if 'exceptionDetails' in r:
            raise CdpError(f'evaluation failed: {r["exceptionDetails"]}')
        return r['result'].get('value')
