"""In a real browser: JupyterLab as students and instructors get it, feedback pages, the class report.

Debian's Chromium (``/usr/bin/chromium``) driven by Playwright; JupyterLab is started with the
Makefile's own ``lab`` and ``lab-instructor`` targets on loopback. Screenshots are saved in
``build/screenshots/`` as test artefacts.
"""
import contextlib
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest
from playwright.sync_api import expect

from grader.autograde import autograde
from grader.classroom import reference_answers
from grader.demo import NAMES
from grader.notebooks import RELEASE, ROOT
from tests.small_class import NB, small_class

CHROMIUM = Path("/usr/bin/chromium")
SHOTS = ROOT / "build" / "screenshots"
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="the browser tests need Debian's Chromium: "
                       "`apt-get install chromium` (make test installs it when run as root)"),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def lab(target: str, log: Path, **make_vars):
    """``make TARGET`` (lab or lab-instructor) on a free loopback port; yields (base URL, token)."""
    port, token = _free_port(), secrets.token_hex(8)
    args = (f"--no-browser --ip=127.0.0.1 --port={port} --IdentityProvider.token={token} "
            f"--LabApp.workspaces_dir={log.parent / 'workspaces'}")  # no tabs from an earlier run
    command = ["make", "-C", str(ROOT), "-o", ".venv/.installed", target, f"LAB_ARGS={args}"]
    command += [f"{k}={v}" for k, v in make_vars.items()]
    with open(log, "w") as out:
        proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
                                env=dict(os.environ, COURSE_FAST="1"))
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            assert proc.poll() is None, f"make {target} stopped:\n{log.read_text()[-3000:]}"
            assert time.monotonic() < deadline, f"JupyterLab did not start:\n{log.read_text()[-3000:]}"
            try:
                urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2)
                break
            except OSError:
                time.sleep(0.5)
        yield base, token
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, request):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(60_000)
    yield page
    with contextlib.suppress(Exception):  # where the test ended, to see why when it fails
        page.screenshot(path=SHOTS / f"last-{request.node.name}.png")
    context.close()


def _cell(page, text: str):
    """The notebook cell whose code contains ``text``."""
    return page.locator(".jp-Notebook .jp-CodeCell", has=page.locator(".cm-content", has_text=text)).first


def _wait_for_file_text(path: Path, needle: str, timeout: float = 60) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = path.read_text() if path.exists() else ""
        if needle in text:
            return text
        time.sleep(0.5)
    raise AssertionError(f"{path.name} never contained {needle!r}")


def _links_work(page):
    """Every in-page link of the page leads to an element that exists and comes into view."""
    hrefs = page.eval_on_selector_all("a[href^='#']", "links => links.map(a => a.getAttribute('href'))")
    assert hrefs
    for href in dict.fromkeys(hrefs):
        page.locator(f"a[href='{href}']").first.click()
        assert page.evaluate("location.hash") == href
        target = page.locator(f"[id='{href[1:]}']")
        assert target.count() == 1, f"{href} leads nowhere"
        assert target.evaluate("e => { const r = e.getBoundingClientRect(); return r.top < innerHeight && r.bottom > 0; }")


def _math_renders(page):
    assert "$$" not in page.inner_text("body"), "raw LaTeX in the visible text"
    sizes = page.eval_on_selector_all("math", "ms => ms.map(m => m.getBoundingClientRect().width)")
    assert sizes and all(w > 0 for w in sizes), "equations must render as MathML"


def test_student_works_in_jupyterlab_and_grades_themselves(page, tmp_path):
    """make lab: open a release notebook, run it, fill rnn_cell, see its check pass, grade yourself
    from the last cell, Validate, grade yourself from JupyterLab's terminal; then read the feedback
    page of that notebook."""
    work = tmp_path / "work"
    work.mkdir()
    notebook = work / f"{NB}.ipynb"
    shutil.copy(RELEASE / notebook.name, notebook)
    with lab("lab", tmp_path / "lab.log", LAB_DIR=work) as (base, token):
        page.goto(f"{base}/lab/tree/{notebook.name}?token={token}")
        page.locator(".jp-Notebook .jp-CodeCell").first.wait_for()
        page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']").wait_for()
        # student mode: Validate, no instructor tools, no exchange errors
        assert page.locator(".jp-ToolbarButtonComponent", has_text="Validate").count() == 1
        menus = page.inner_text("#jp-MainMenu")
        assert "Nbgrader" not in menus and "Run" in menus
        assert "Error fetching courses" not in page.inner_text("body")

        answer = _cell(page, "def rnn_cell")
        answer.locator(".cm-content").click()
        page.keyboard.press("Control+a")
        page.keyboard.insert_text(reference_answers(NB)["rnn_cell"])
        page.locator("#jp-MainMenu").get_by_text("Run", exact=True).click()
        page.get_by_text("Run All Cells", exact=True).click()
        check = _cell(page, "check.rnn_cell(rnn_cell)")
        check.locator(".jp-OutputArea-output", has_text="✔").first.wait_for(timeout=120_000)
        outputs = check.locator(".jp-OutputArea").inner_text()
        assert "✘" not in outputs and "Error" not in outputs, outputs
        # the answer at the top of the view and its check's ✔ line painted below it (JupyterLab
        # renders cells lazily, so wait until the output is really on screen)
        answer.evaluate("e => e.scrollIntoView({block: 'start'})")
        expect(check.locator(".jp-OutputArea-output").first).to_be_in_viewport()
        expect(check.locator(".jp-OutputArea-output").first).to_be_visible()
        page.screenshot(path=SHOTS / "student-visible-check-passes.png")

        page.keyboard.press("Escape")
        page.keyboard.press("Control+s")
        _wait_for_file_text(notebook, "tanh")
        grade = _cell(page, "grade_me()")
        grade.locator(".cm-content").click()
        page.keyboard.press("Control+Enter")
        result = grade.locator(".jp-OutputArea-output", has_text="total")
        result.wait_for(timeout=180_000)
        text = result.inner_text()
        assert re.search(r"✔ rnn_cell\s+4/4", text) and "total 4/15" in text, text
        grade.scroll_into_view_if_needed()
        page.screenshot(path=SHOTS / "student-grade-yourself.png")

        # nbgrader's Validate: runs the saved notebook and names what still fails
        page.locator(".jp-ToolbarButtonComponent", has_text="Validate").click()
        dialog = page.locator(".jp-Dialog")
        dialog.wait_for(timeout=180_000)
        expect(dialog).to_contain_text("check.rnn_forward(rnn_forward)", timeout=180_000)
        report = dialog.inner_text()
        assert "check.rnn_cell(" not in report, "rnn_cell is answered: its checks pass"
        assert "exchange" not in report.lower()
        page.screenshot(path=SHOTS / "student-validate.png")
        page.keyboard.press("Escape")

        # the terminal's python is the course's: the README's command works there
        page.keyboard.press("Control+Shift+c")
        page.keyboard.type("New Terminal")
        page.keyboard.press("Enter")
        page.locator(".jp-Terminal .xterm >> visible=true").wait_for()
        # typed through the terminal's own socket (keystrokes into its canvas can race the prompt)
        page.evaluate("""([url, line]) => new Promise((done, fail) => {
            const ws = new WebSocket(url);
            ws.onopen = () => { ws.send(JSON.stringify(["stdin", line])); setTimeout(() => { ws.close(); done(); }, 300); };
            ws.onerror = fail; })""",
                      [f"{base.replace('http', 'ws')}/terminals/websocket/1?token={token}",
                       f"python -m grader check {notebook.name} | tee terminal.txt\r"])
        _wait_for_file_text(work / "terminal.txt", "total", timeout=180)
        assert "total 4/15" in (work / "terminal.txt").read_text()
        page.wait_for_timeout(500)
        page.screenshot(path=SHOTS / "student-terminal-grade.png")

    # the instructor grades the saved notebook: its feedback page, with the student's figures
    submissions = tmp_path / "submissions" / "browser-student"
    submissions.mkdir(parents=True)
    shutil.copy(notebook, submissions / notebook.name)
    out = tmp_path / "graded"
    autograde(submissions.parent, out, jobs=1, notebooks=[NB], progress=lambda *_: None)
    page.goto((out / "feedback" / "browser-student" / f"{NB}.html").as_uri())
    page.screenshot(path=SHOTS / "feedback-top.png")
    assert page.locator("details.lesson[open]").count() == 0, "lesson prose starts folded"
    page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
    _math_renders(page)
    figures = page.eval_on_selector_all(".output img", "imgs => imgs.map(i => i.naturalWidth)")
    assert figures and all(w > 0 for w in figures), "the student's figures are shown"
    page.evaluate("document.querySelectorAll('details').forEach(d => d.open = false)")
    _links_work(page)
    section = page.locator("#ex-rnn_cell")
    section.scroll_into_view_if_needed()
    assert "✔" in section.inner_text() and "4 / 4" in section.inner_text()
    page.screenshot(path=SHOTS / "feedback-exercise.png")
    answers = page.locator("details:not(.lesson)").first  # a check-your-understanding answer
    answers.evaluate("d => d.closest('details.lesson').open = true")
    answers.locator("summary").click()
    assert answers.evaluate("d => d.open")
    answers.scroll_into_view_if_needed()
    page.screenshot(path=SHOTS / "feedback-answer-opened.png")


def test_class_report_page(page):
    out = small_class() / "out"
    page.goto((out / "report.html").as_uri())
    body = page.inner_text("body")
    assert "Synthetic demo class" in body and "3 students" in body and "$$" not in body
    widths = page.eval_on_selector_all("img", "imgs => imgs.map(i => i.naturalWidth)")
    assert len(widths) == 2 and all(w > 0 for w in widths)
    page.screenshot(path=SHOTS / "class-report.png", full_page=True)
    _links_work(page)


def test_instructor_uses_formgrader_on_autograded_grades(page, tmp_path):
    """make lab-instructor: the Nbgrader menu, every student with name and score, every submission
    with its timestamp, a submission opens, and manual points are saved to the gradebook."""
    from nbgrader.api import Gradebook
    out = small_class() / "out"
    with lab("lab-instructor", tmp_path / "lab.log", GRADES=out) as (base, token):
        page.goto(f"{base}/lab?token={token}")
        page.locator("#jp-MainMenu").get_by_text("Nbgrader", exact=True).click()
        menu = page.locator(".lm-Menu").last.inner_text()
        assert "Formgrader" in menu and "Assignment List" not in menu and "Course List" not in menu

        page.goto(f"{base}/formgrader/manage_students")
        page.get_by_text(f"{NAMES['flawed-1'][1]}, {NAMES['flawed-1'][0]}").wait_for()
        rows = page.inner_text("table")
        for sid, (first, last) in NAMES.items():
            assert f"{last}, {first}\t{sid}" in rows
        assert "None" not in rows
        page.screenshot(path=SHOTS / "formgrader-students.png")

        page.goto(f"{base}/formgrader/manage_submissions/{NB}")
        page.get_by_text("graded").first.wait_for()
        rows = page.inner_text("table")
        for sid in NAMES:
            stamp = (out / "submitted" / sid / NB / "timestamp.txt").read_text()
            assert re.search(rf"\t{re.escape(sid)}\t{re.escape(stamp)} UTC\tgraded\t", rows), rows
        page.screenshot(path=SHOTS / "formgrader-submissions.png")

        page.goto(f"{base}/formgrader/gradebook/{NB}/{NB}")
        link = page.locator("a.name-shown", has_text=f"{NAMES['flawed-1'][1]}, {NAMES['flawed-1'][0]}")
        link.wait_for(state="attached")
        page.goto(base + link.get_attribute("href"))  # the submission, as its link opens it
        score = page.locator("input#test_rnn_cell")
        with Gradebook(f"sqlite:///{out / 'gradebook.db'}") as gb:
            auto = gb.find_grade("test_rnn_cell", NB, NB, "flawed-1").auto_score
        expect(score).to_have_attribute("placeholder", f"{auto:g}")  # the autograde score
        page.wait_for_load_state("networkidle")
        try:
            score.scroll_into_view_if_needed()
            score.fill("4")
            score.press("Tab")
            deadline = time.monotonic() + 30
            while True:  # formgrader saves the score in the background
                with Gradebook(f"sqlite:///{out / 'gradebook.db'}") as gb:
                    grade = gb.find_grade("test_rnn_cell", NB, NB, "flawed-1")
                    if grade.manual_score == 4 and grade.score == 4:
                        break
                assert time.monotonic() < deadline, "formgrader did not save the manual score"
                time.sleep(0.5)
            page.evaluate("window.scrollBy(0, -250)")
            page.screenshot(path=SHOTS / "formgrader-manual-points.png")
        finally:  # the class is shared with other tests: give the points back
            with Gradebook(f"sqlite:///{out / 'gradebook.db'}") as gb:
                gb.find_grade("test_rnn_cell", NB, NB, "flawed-1").manual_score = None
                gb.db.commit()
