"""Feedback pages: the student's notebook with each exercise's result beside it.

Everything a submission contains is escaped (its markdown is rendered with raw HTML
escaped), and only check names and messages are shown, never a hidden check's code.
"""
import html

import mistune
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import PythonLexer

from grader.notebooks import nbgrader_meta, source_of

_markdown = mistune.create_markdown(escape=True, plugins=["table", "strikethrough"])
_formatter = HtmlFormatter(nowrap=False, cssclass="code")
STATUS_COLOURS = {"passed": "#2e7d32", "failed": "#c62828", "error": "#c62828", "timeout": "#ef6c00",
                  "missing": "#6d4c41", "tampered": "#6a1b9a"}
MAX_OUTPUT = 2000

CSS = """
body { font-family: system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem; color: #222; }
table.summary { border-collapse: collapse; margin: 1rem 0; }
table.summary td, table.summary th { border: 1px solid #ccc; padding: .3rem .6rem; text-align: left; vertical-align: top; }
.status { font-weight: 600; }
.cell { margin: .8rem 0; }
.code { background: #f7f7f7; border-left: 3px solid #90a4ae; padding: .2rem .6rem; overflow-x: auto; }
.output { font-family: monospace; white-space: pre-wrap; font-size: .85rem; color: #444; padding: .2rem .6rem; }
.result { border: 1px solid #ccc; border-radius: 6px; padding: .5rem .8rem; margin: .4rem 0 1.2rem; }
.result ul { margin: .3rem 0; padding-left: 1.2rem; }
.ok { color: #2e7d32; } .bad { color: #c62828; }
"""


def _status(status: str) -> str:
    return f'<span class="status" style="color:{STATUS_COLOURS.get(status, "#000")}">{status}</span>'


def _result_box(row, checks) -> str:
    items = "".join(
        f'<li class="{"ok" if c.passed else "bad"}">{"✔" if c.passed else "✘"} {html.escape(c.name)}'
        f'{"" if c.passed else ": " + html.escape(c.message)} ({c.points:g} pt)</li>' for c in checks)
    message = f"<p>{html.escape(row.message)}</p>" if row.message else ""
    return (f'<div class="result"><b>{html.escape(row.exercise)}</b>: {row.score:g} / {row.max_score:g} '
            f'{_status(row.status)}{message}<ul>{items}</ul></div>')


def _outputs(cell: dict) -> str:
    texts = []
    for out in cell.get("outputs", []) if isinstance(cell.get("outputs"), list) else []:
        if not isinstance(out, dict):
            continue
        data = out.get("data") if isinstance(out.get("data"), dict) else {}
        text = out.get("text") or data.get("text/plain") or ""
        if out.get("output_type") == "error":
            text = f"{out.get('ename', '')}: {out.get('evalue', '')}"
        if isinstance(text, list):
            text = "".join(t for t in text if isinstance(t, str))
        if isinstance(text, str) and text:
            texts.append(text)
    joined = "".join(texts)
    if len(joined) > MAX_OUTPUT:
        joined = joined[:MAX_OUTPUT] + "\n[... output cut ...]"
    return f'<div class="output">{html.escape(joined)}</div>' if joined else ""


def render(result, submission: dict | None) -> str:
    """One HTML page for one student's notebook."""
    total = sum(r.score for r in result.rows)
    maximum = sum(r.max_score for r in result.rows)
    rows = "".join(f"<tr><td>{html.escape(r.exercise)}</td><td>{r.score:g} / {r.max_score:g}</td>"
                   f"<td>{_status(r.status)}</td><td>{html.escape(r.message)}</td></tr>" for r in result.rows)
    notes = "".join(f"<li>{html.escape(n)}</li>" for n in result.notes)
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(result.notebook)} · "
             f"{html.escape(result.student_id)}</title><style>{CSS}{_formatter.get_style_defs('.code')}</style>"
             f"</head><body><h1>{html.escape(result.notebook)}</h1>"
             f"<p>Student <b>{html.escape(result.student_id)}</b>: <b>{total:g} / {maximum:g}</b> points</p>",
             "<table class='summary'><tr><th>exercise</th><th>score</th><th>status</th><th>what to look at</th></tr>",
             rows, "</table>", f"<ul>{notes}</ul>" if notes else ""]
    by_exercise = {r.exercise: r for r in result.rows}
    checks = {}
    for c in result.checks:
        checks.setdefault(c.exercise, []).append(c)
    if submission is not None:
        parts.append("<h2>Your notebook</h2>")
        for cell in submission.get("cells", []):
            if not isinstance(cell, dict):
                continue
            source = source_of(cell)
            if cell.get("cell_type") == "markdown":
                parts.append(f'<div class="cell">{_markdown(source)}</div>')
            elif cell.get("cell_type") == "code":
                parts.append(f'<div class="cell">{highlight(source, PythonLexer(), _formatter)}{_outputs(cell)}</div>')
                gid = nbgrader_meta(cell).get("grade_id", "")
                name = gid[len("test_"):] if gid.startswith("test_") else None
                if name in by_exercise:
                    parts.append(_result_box(by_exercise[name], checks.get(name, [])))
    parts.append("</body></html>")
    return "".join(parts)
