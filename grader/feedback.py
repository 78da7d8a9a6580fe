"""Feedback pages: the student's notebook with each exercise's result beside it.

One self-contained HTML page per submission, readable offline: a score table at the top that
links to each exercise; the lesson prose collapsed; each exercise open, with the student's
answer, their outputs and figures, and one ✔/✘ line per check with its points. Markdown is
rendered with raw HTML escaped (only ``<details><summary>`` is rebuilt, without attributes),
equations become MathML (which browsers render natively), and nothing is loaded from anywhere:
images must be ``data:`` URIs, and the page's Content-Security-Policy forbids everything else.
Only check names and messages are shown, never a hidden check's code.
"""
import functools
import html
import re

import mistune
from latex2mathml.converter import convert as latex_to_mathml
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import PythonLexer

from grader.notebooks import nbgrader_meta, source_of

STATUS_COLOURS = {"passed": "#2e7d32", "failed": "#c62828", "error": "#c62828", "timeout": "#ef6c00",
                  "missing": "#6d4c41", "tampered": "#6a1b9a"}
MAX_OUTPUT = 2000
MAX_IMAGE = 2 << 20  # bytes of base64 per figure
MAX_FORMULA = 2000  # characters; a longer one (a lesson's are < 200) is shown as its source
CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"
_BASE64 = re.compile(r"[A-Za-z0-9+/=\s]+")
_DETAILS = re.compile(r"<details>\s*<summary>(.*?)</summary>(.*?)</details>", re.S | re.I)
_formatter = HtmlFormatter(nowrap=False, cssclass="code")

CSS = """
body { font-family: system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem; color: #222; line-height: 1.45; }
table.summary { border-collapse: collapse; margin: 1rem 0; }
table.summary td, table.summary th { border: 1px solid #ccc; padding: .3rem .6rem; text-align: left; vertical-align: top; }
.status { font-weight: 600; }
.cell { margin: .6rem 0; }
.code { background: #f7f7f7; border-left: 3px solid #90a4ae; padding: .2rem .6rem; overflow-x: auto; }
.output { font-family: monospace; white-space: pre-wrap; font-size: .85rem; color: #444; padding: .2rem .6rem; }
.output img { max-width: 100%; }
details.lesson { border-left: 3px solid #cfd8dc; margin: .8rem 0; padding: .1rem .8rem; color: #444; }
details.lesson > summary { cursor: pointer; color: #546e7a; }
section.exercise { border: 1px solid #b0bec5; border-radius: 6px; padding: .2rem 1rem .6rem; margin: 1rem 0; }
.result { background: #fafafa; border-radius: 6px; padding: .4rem .8rem; margin: .4rem 0; }
.result ul { margin: .3rem 0; padding-left: 0; list-style: none; }
.score { float: right; margin: .9rem 0 0 1rem; font-weight: 600; }
.ok { color: #2e7d32; } .bad { color: #c62828; }
math[display="block"] { margin: .6rem 0; }
"""


class _Renderer(mistune.HTMLRenderer):
    """Escaped HTML; math as MathML; images only from ``data:`` URIs (no remote resources)."""

    def image(self, text: str, url: str, title=None) -> str:
        if url.startswith("data:image/") and _BASE64.fullmatch(url.partition(",")[2] or "="):
            return f'<img src="{html.escape(url)}" alt="{html.escape(text)}">'
        return f"<span>[image: {html.escape(text)}]</span>"


def _math(latex: str, display: str) -> str:
    if len(latex) <= MAX_FORMULA:
        try:
            return latex_to_mathml(latex, display=display)
        except Exception:  # a formula the converter cannot read is shown as its source
            pass
    return f"<code>{html.escape(latex)}</code>"


_markdown = mistune.create_markdown(renderer=_Renderer(escape=True),
                                    plugins=["table", "strikethrough", "math"])
_markdown.renderer.register("block_math", lambda _, text: _math(text, "block"))
_markdown.renderer.register("inline_math", lambda _, text: _math(text, "inline"))


# A class's pages share most of their cells (the lesson, the locked checks): each distinct cell
# source is rendered once per run, not once per student. Only cells the size of a lesson's are
# kept, so submissions of huge cells cannot fill the grader's memory.
_CACHED_CELLS, _CACHED_SOURCE = 2048, 20_000


def _cached(render):
    cached = functools.lru_cache(maxsize=_CACHED_CELLS)(render)
    return functools.wraps(render)(lambda source: (cached if len(source) <= _CACHED_SOURCE else render)(source))


@_cached
def markdown(source: str) -> str:
    """Markdown to HTML, with each ``<details><summary>S</summary>B</details>`` made real."""
    parts, last = [], 0
    for m in _DETAILS.finditer(source):
        parts.append(_markdown(source[last:m.start()]))
        summary = _markdown(m.group(1)).strip().removeprefix("<p>").removesuffix("</p>")
        parts.append(f"<details><summary>{summary}</summary>{_markdown(m.group(2))}</details>")
        last = m.end()
    parts.append(_markdown(source[last:]))
    return "".join(parts)


@_cached
def _python(source: str) -> str:
    return highlight(source, PythonLexer(), _formatter)


def _status(status: str) -> str:
    return f'<span class="status" style="color:{STATUS_COLOURS.get(status, "#000")}">{status}</span>'


def _result_box(row, checks) -> str:
    items = "".join(
        f'<li class="{"ok" if c.passed else "bad"}">{"✔" if c.passed else "✘"} {html.escape(c.name)} '
        f'({c.points:g} pt){"" if c.passed else ": " + html.escape(c.message)}</li>' for c in checks)
    # the row's message joins the failed checks' messages: shown only when no check says it
    message = "" if checks and row.status in ("passed", "failed") else \
        f"<p>{html.escape(row.message)}</p>" if row.message else ""
    return (f'<div class="result"><b>{row.score:g} / {row.max_score:g}</b> {_status(row.status)}'
            f'{message}<ul>{items}</ul></div>')


def _text(value) -> str:
    if isinstance(value, list):
        return "".join(v for v in value if isinstance(v, str))
    return value if isinstance(value, str) else ""


def _outputs(cell: dict) -> str:
    """The cell's text outputs (escaped, cut) and its PNG figures."""
    texts, images = [], []
    for out in cell.get("outputs", []) if isinstance(cell.get("outputs"), list) else []:
        if not isinstance(out, dict):
            continue
        data = out.get("data") if isinstance(out.get("data"), dict) else {}
        png = _text(data.get("image/png")).strip()
        if png and len(png) <= MAX_IMAGE and _BASE64.fullmatch(png):
            images.append(f'<img alt="figure" src="data:image/png;base64,{"".join(png.split())}">')
            continue
        text = _text(out.get("text")) or _text(data.get("text/plain"))
        if out.get("output_type") == "error":
            text = f"{_text(out.get('ename'))}: {_text(out.get('evalue'))}"
        texts.append(text)
    joined = "".join(texts)
    if len(joined) > MAX_OUTPUT:
        joined = joined[:MAX_OUTPUT] + "\n[... output cut ...]"
    body = html.escape(joined) + "".join(images)
    return f'<div class="output">{body}</div>' if body else ""


def _heading(source: str) -> str:
    for line in source.splitlines():
        if line.startswith("#"):
            return line.lstrip("#").strip().replace("`", "").replace("*", "")
    return ""


def _cells_html(submission: dict, by_exercise: dict, checks: dict) -> list[str]:
    """Lesson cells grouped in collapsed sections; each exercise's answer and test cell open."""
    parts, shown = [], set()
    lesson: list[tuple[str, str]] = []  # (html, heading) of the lesson cells not yet shown
    state = {"open": None}

    def close_lesson():
        if lesson:
            title = next((h for _, h in lesson if h), "text and code")
            parts.append(f'<details class="lesson"><summary>Lesson: {html.escape(title)}</summary>'
                         f'{"".join(h for h, _ in lesson)}</details>')
        lesson.clear()

    def open_exercise(name: str):
        close_exercise()
        # the markdown cell right above the answer is its task: shown open, with the answer
        task = lesson.pop()[0] if lesson and lesson[-1][1] is not None else ""
        close_lesson()
        row = by_exercise[name]
        shown.add(name)
        state["open"] = name
        score = f"{row.score:g} / {row.max_score:g} {_status(row.status)}"
        title = (f'<p class="score">Your score: {score}</p>' if task else
                 f"<h3>Exercise <code>{html.escape(name)}</code>: {score}</h3>")
        parts.append(f'<section class="exercise" id="ex-{html.escape(name)}">{title}{task}')

    def close_exercise():
        name, state["open"] = state["open"], None
        if name is not None:
            parts.append(f'<p>The grader:</p>{_result_box(by_exercise[name], checks.get(name, []))}</section>')

    for cell in submission.get("cells", []):
        if not isinstance(cell, dict):
            continue
        source, meta = source_of(cell), nbgrader_meta(cell)
        gid = meta.get("grade_id", "") if isinstance(meta.get("grade_id"), str) else ""
        if cell.get("cell_type") == "markdown":
            close_exercise()
            lesson.append((f'<div class="cell">{markdown(source)}</div>', _heading(source)))
            continue
        if cell.get("cell_type") != "code":
            continue
        code = f'<div class="cell">{_python(source)}{_outputs(cell)}</div>'
        if meta.get("solution") and gid in by_exercise and gid not in shown:
            open_exercise(gid)
            parts.append(f"<p>Your answer:</p>{code}")
        elif gid.startswith("test_") and gid[5:] in by_exercise:
            if state["open"] != gid[5:]:
                if gid[5:] in shown:
                    continue
                open_exercise(gid[5:])
            parts.append(f"<p>Visible checks, as they ran in your notebook:</p>{code}")
            close_exercise()
        else:
            close_exercise()
            lesson.append((code, None))
    close_exercise()
    close_lesson()
    for name in by_exercise:  # exercises whose cells the notebook lacks
        if name not in shown:
            open_exercise(name)
            close_exercise()
    return parts


def render(result, submission: dict | None) -> str:
    """One HTML page for one student's notebook."""
    total = sum(r.score for r in result.rows)
    maximum = sum(r.max_score for r in result.rows)
    checks = {}
    for c in result.checks:
        checks.setdefault(c.exercise, []).append(c)
    rows = "".join(
        f'<tr><td><a href="#ex-{html.escape(r.exercise)}">{html.escape(r.exercise)}</a></td>'
        f"<td>{r.score:g} / {r.max_score:g}</td><td>{_status(r.status)}</td>"
        f'<td>{sum(not c.passed for c in checks.get(r.exercise, []))} of '
        f"{len(checks.get(r.exercise, []))} checks failed</td></tr>" for r in result.rows)
    notes = "".join(f"<li>{html.escape(n)}</li>" for n in result.notes)
    parts = [f"<!doctype html><html><head><meta charset='utf-8'>"
             f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
             f"<title>{html.escape(result.notebook)} · {html.escape(result.student_id)}</title>"
             f"<style>{CSS}{_formatter.get_style_defs('.code')}</style></head><body>"
             f"<h1>{html.escape(result.notebook)}</h1>"
             f"<p>Student <b>{html.escape(result.student_id)}</b>: <b>{total:g} / {maximum:g}</b> points. "
             "Click an exercise to jump to your answer and what each check found; the lesson text "
             "between exercises is folded (click to open).</p>",
             "<table class='summary'><tr><th>exercise</th><th>score</th><th>status</th><th>checks</th></tr>",
             rows, "</table>", f"<ul>{notes}</ul>" if notes else ""]
    by_exercise = {r.exercise: r for r in result.rows}
    parts.append("<h2>Your notebook</h2>")
    parts += _cells_html(submission or {"cells": []}, by_exercise, checks)
    parts.append("</body></html>")
    return "".join(parts)
