"""Open notebooks in a real JupyterLab in headless Chromium, run all cells, save, screenshot; report what changed on disk.

    python tools/lab_check.py nbs/11_report.ipynb nbs/07_evaluate.ipynb --shots /tmp/shots

Starts `jupyter lab` from the repository root with the repo's `.jupyter` config (the pre-save hook), on a free
port with no token, and stops it at the end. Needs `pip install playwright` and a Chromium at `--chromium`
(no browser download: e.g. `apt-get install chromium`). Prints one JSON line per notebook: image outputs seen,
error outputs seen, whether the file on disk changed. Exit code 1 when any notebook changed or showed an error."""
import argparse, hashlib, json, os, socket, subprocess, sys, time, urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
        '--disable-component-update', '--disable-sync']

def _free_port() -> int:
    with socket.socket() as s: s.bind(('127.0.0.1', 0)); return s.getsockname()[1]

def _wait_http(url, timeout=90):
    t = time.time()
    while time.time() - t < timeout:
        try: urllib.request.urlopen(url, timeout=2); return
        except OSError: time.sleep(0.5)
    raise TimeoutError(f'JupyterLab did not answer at {url} within {timeout}s')

def start_lab(port:int, log:Path) -> subprocess.Popen:
    "A JupyterLab server on `port` rooted at the repo, with the repo's Jupyter config on the config path."
    env = os.environ | {'JUPYTER_CONFIG_PATH': str(ROOT/'.jupyter')}
    cmd = [sys.executable, '-m', 'jupyterlab', '--no-browser', f'--port={port}', '--ServerApp.token=',
           '--ServerApp.password=', '--ServerApp.disable_check_xsrf=True', f'--ServerApp.root_dir={ROOT}']
    if os.geteuid() == 0: cmd.append('--allow-root')
    p = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log.open('w'), stderr=subprocess.STDOUT)
    _wait_http(f'http://127.0.0.1:{port}/lab')
    return p

VISIBLE = "[...document.querySelectorAll('.jp-NotebookPanel')].filter(p => !p.classList.contains('lm-mod-hidden'))[0]"

def check_notebook(page, base:str, nb:str, shots:Path, timeout_s:int=600) -> dict:
    "Open `nb`, run all cells, save; screenshot the top and up to three figures; count outputs."
    path = ROOT/nb; before = hashlib.sha256(path.read_bytes()).hexdigest()
    page.goto(f'{base}/lab/tree/{nb}', wait_until='domcontentloaded')
    page.wait_for_selector('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Cell', timeout=120_000)
    page.wait_for_function("() => document.querySelector('.jp-Notebook-ExecutionIndicator[data-status=\"idle\"]') !== null"
                           " || document.querySelector('.jp-KernelStatus') !== null", timeout=120_000)
    time.sleep(3)  # the kernel settles
    no = page.get_by_role('button', name='No', exact=True)  # the "official Jupyter news?" toast
    if no.count() and no.first.is_visible(): no.first.click()
    page.locator('.lm-MenuBar-itemLabel', has_text='Run').first.click()
    page.locator('.lm-Menu-itemLabel', has_text='Run All Cells').first.click()
    t = time.time(); time.sleep(2)
    while time.time() - t < timeout_s:
        busy = page.evaluate(f"() => [...{VISIBLE}.querySelectorAll('.jp-InputPrompt')].some(e => e.textContent.includes('[*]'))")
        if not busy: break
        time.sleep(1)
    seconds = round(time.time() - t, 1)
    page.keyboard.press('Control+s'); time.sleep(3)
    stem = Path(nb).stem
    page.screenshot(path=str(shots/f'{stem}_top.png'))
    imgs = page.locator('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-OutputArea-output img')
    n_img = imgs.count()
    for i in range(min(n_img, 3)):
        imgs.nth(i).evaluate("e => e.scrollIntoView({block: 'center'})"); time.sleep(0.5)
        page.screenshot(path=str(shots/f'{stem}_figure{i + 1}.png'))
    counts = page.evaluate(f"""() => {{ const outs = [...{VISIBLE}.querySelectorAll('.jp-OutputArea-output')];
        return [outs.filter(e => e.textContent.includes('Traceback')).length,
                outs.filter(e => e.dataset.mimeType === 'application/vnd.jupyter.stderr').length,
                outs.filter(e => e.textContent.includes('Error displaying widget')).length]; }}""")
    page.locator('.lm-MenuBar-itemLabel', has_text='File').first.click()
    page.locator('.lm-Menu-itemLabel', has_text='Close Tab').first.click(); time.sleep(1)
    return {'notebook': nb, 'run_seconds': seconds, 'images': n_img, 'tracebacks': counts[0], 'stderr_outputs': counts[1],
            'widget_errors': counts[2], 'changed_on_disk': hashlib.sha256(path.read_bytes()).hexdigest() != before}

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('notebooks', nargs='+', help='notebook paths relative to the repo root')
    ap.add_argument('--shots', default='/tmp/shots', help='folder for the screenshots')
    ap.add_argument('--chromium', default='/usr/bin/chromium', help='the Chromium executable')
    a = ap.parse_args(argv)
    from playwright.sync_api import sync_playwright
    port = _free_port(); shots = Path(a.shots); shots.mkdir(parents=True, exist_ok=True)
    lab = start_lab(port, shots/'lab.log'); bad = False
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=a.chromium, args=ARGS)
            page = browser.new_page(viewport={'width': 1400, 'height': 1000})
            for nb in a.notebooks:
                r = check_notebook(page, f'http://127.0.0.1:{port}', nb, shots)
                print(json.dumps(r), flush=True); bad |= r['changed_on_disk'] or r['tracebacks'] > 0 or r['widget_errors'] > 0
            browser.close()
    finally:
        lab.terminate(); lab.wait(30)
    return int(bad)

if __name__ == '__main__': sys.exit(main())
