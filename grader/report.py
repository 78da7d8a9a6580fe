"""``python -m grader report DIR``: how the class did, as text and as one HTML page.

Reads ``DIR/grades.csv`` (and ``DIR/class.json`` when present: a label for the class and the
submissions that are not students, such as the demo's reference answers, which are listed
but kept out of every statistic). Prints per-exercise pass rates with the most common
failure messages and the rows flagged ``tampered``; writes ``DIR/report.png`` (pass rates)
and ``DIR/report.html``: class size, pass rates, a score histogram per notebook, the most
common mistakes per exercise with counts, the flagged rows and a per-student table. The page
is self-contained (figures inlined), so it can be mailed or opened offline.
"""
import base64
import csv
import html
import io
import json
from collections import Counter, defaultdict
from pathlib import Path

from grader.notebooks import not_submitted

TOP_MESSAGES = 3
BANDS = [(80, "#2e7d32", "80% or more passed"), (50, "#ef6c00", "50-79% passed"),
         (0, "#c62828", "under 50% passed")]


def _reason(message: str) -> str:
    """The first, most specific part of a row's message (what students share)."""
    first = message.split("; ")[0]
    return first if len(first) <= 160 else first[:157] + "..."


def handed_in(rows: list[dict]) -> list[dict]:
    """The rows of notebooks the students handed in: a notebook nobody submitted says nothing
    about how hard its exercises are."""
    return [r for r in rows if r["message"] != not_submitted(r["notebook"])]


def summarize(rows: list[dict]) -> list[dict]:
    """Per exercise: pass rate, mean score and common mistakes among the students who handed
    the notebook in, and how many did not."""
    groups, absent, top = {}, Counter(), {}
    for row in rows:
        key = (row["notebook"], row["exercise"])
        group = groups.setdefault(key, [])  # every exercise gets a line, handed in or not
        top[key] = float(row["max_score"])
        if row["message"] == not_submitted(row["notebook"]):
            absent[key] += 1
        else:
            group.append(row)
    summary = []
    for (notebook, exercise), group in groups.items():
        failures = Counter(_reason(r["message"]) for r in group if r["status"] != "passed" and r["message"])
        n = max(1, len(group))
        summary.append({
            "notebook": notebook, "exercise": exercise, "students": len(group),
            "not_submitted": absent[(notebook, exercise)],
            "pass_rate": sum(r["status"] == "passed" for r in group) / n,
            "mean_score": sum(float(r["score"]) for r in group) / n,
            "max_score": top[(notebook, exercise)],
            "statuses": Counter(r["status"] for r in group),
            "top_failures": failures.most_common(TOP_MESSAGES),
        })
    return summary


def totals(rows: list[dict]) -> dict[tuple[str, str], tuple[float, float]]:
    """(student, notebook) -> (score, max score)."""
    out: dict[tuple[str, str], list[float]] = defaultdict(lambda: [0.0, 0.0])
    for r in rows:
        pair = out[(r["student_id"], r["notebook"])]
        pair[0] += float(r["score"])
        pair[1] += float(r["max_score"])
    return {k: (v[0], v[1]) for k, v in out.items()}


def read_class(out: Path) -> dict:
    try:
        info = json.loads((out / "class.json").read_text())
    except (FileNotFoundError, ValueError):
        return {"label": "", "not_students": {}}
    return {"label": str(info.get("label", "")), "not_students": dict(info.get("not_students", {}))}


def report(out: Path, plot: bool = True) -> str:
    out = Path(out)
    every_row = list(csv.DictReader(open(out / "grades.csv", encoding="utf-8", errors="replace")))
    info = read_class(out)
    rows = [r for r in every_row if r["student_id"] not in info["not_students"]]
    summary = summarize(rows)
    students = sorted({r["student_id"] for r in rows})
    lines = []
    if info["label"]:
        lines.append(info["label"])
    left_out = sorted({r["student_id"] for r in every_row} - set(students))
    lines.append(f"{len(students)} students" + (f" (not counted: {', '.join(left_out)})" if left_out else ""))
    lines.append(f"{'notebook':24s} {'exercise':28s} {'passed':>7s} {'mean':>11s}  statuses")
    for s in summary:
        statuses = ", ".join([f"{k} {v}" for k, v in sorted(s["statuses"].items())]
                             + ([f"not submitted {s['not_submitted']}"] if s["not_submitted"] else []))
        lines.append(f"{s['notebook']:24s} {s['exercise']:28s} {s['pass_rate']:7.0%} "
                     f"{s['mean_score']:5.2f}/{s['max_score']:<5g}  {statuses}")
        for message, count in s["top_failures"]:
            lines.append(f"{'':53s}{count} x {message}")
    tampered = [r for r in rows if r["status"] == "tampered"]
    if tampered:
        lines.append("\nFlagged for review (the notebook's own run disagreed with the grader):")
        lines += [f"  {r['student_id']} / {r['notebook']} / {r['exercise']}" for r in tampered]
    if plot and summary:
        pass_png = _pass_rate_figure(summary)
        (out / "report.png").write_bytes(pass_png)
        page = _page(info, students, left_out, every_row, rows, summary, tampered, pass_png,
                     _histogram_figure(handed_in(rows)))
        (out / "report.html").write_text(page, encoding="utf-8")
        lines.append(f"\nplot: {out / 'report.png'}\npage: {out / 'report.html'}")
    return "\n".join(lines)


def _png(fig) -> bytes:
    import matplotlib.pyplot as plt
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100)
    plt.close(fig)
    return buffer.getvalue()


def _pyplot():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def _pass_rate_figure(summary: list[dict]) -> bytes:
    from matplotlib.patches import Patch
    plt = _pyplot()
    labels = [f"{s['notebook'][:2]} {s['exercise']}" for s in summary]
    rates = [100 * s["pass_rate"] for s in summary]
    colour = [next(c for floor, c, _ in BANDS if r >= floor) for r in rates]
    fig, ax = plt.subplots(figsize=(8, 0.3 * len(summary) + 1.6))
    ax.barh(labels, rates, color=colour)
    ax.invert_yaxis()
    ax.set_xlim(0, 100)
    ax.set_xlabel("students who handed the notebook in and passed every check of the exercise (%)")
    ax.set_title("Share of the class that passed each exercise (longer is better)")
    ax.legend(handles=[Patch(color=c, label=t) for _, c, t in BANDS], loc="lower right", fontsize=8)
    fig.tight_layout()
    return _png(fig)


def _histogram_figure(rows: list[dict]) -> bytes:
    plt = _pyplot()
    by_notebook: dict[str, list[float]] = defaultdict(list)
    maxima: dict[str, float] = {}
    for (_, notebook), (score, maximum) in sorted(totals(rows).items()):
        by_notebook[notebook].append(score)
        maxima[notebook] = maximum
    names = sorted(by_notebook)
    cols = min(4, len(names))  # four to a row: readable at page width however many notebooks
    grid_rows = -(-len(names) // cols)
    fig, axes = plt.subplots(grid_rows, cols, figsize=(3.2 * cols + 0.6, 2.5 * grid_rows + 0.4), squeeze=False)
    for ax in axes.flat[len(names):]:
        ax.set_visible(False)
    for ax, name in zip(axes.flat, names):
        top = maxima[name]
        ax.hist(by_notebook[name], bins=min(20, max(1, int(top))), range=(0, top), color="#546e7a",
                edgecolor="white")
        ax.set_title(name, fontsize=9)
        ax.set_xlabel(f"score (of {top:g})", fontsize=8)
        ax.yaxis.get_major_locator().set_params(integer=True)
    for row in axes:
        row[0].set_ylabel("students")
    fig.suptitle("Notebook scores across the class", fontsize=10)
    fig.tight_layout()
    return _png(fig)


CSS = """
body { font-family: system-ui, sans-serif; max-width: 70rem; margin: 2rem auto; padding: 0 1rem; color: #222; }
table { border-collapse: collapse; margin: .6rem 0 1.4rem; }
td, th { border: 1px solid #ccc; padding: .25rem .5rem; text-align: left; vertical-align: top; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.label { background: #fff3e0; border: 1px solid #ffb74d; padding: .5rem .8rem; border-radius: 6px; }
.muted { color: #777; }
img { max-width: 100%; }
"""


def _img(png: bytes, alt: str) -> str:
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{base64.b64encode(png).decode()}">'


def _page(info, students, left_out, every_row, rows, summary, tampered, pass_png, hist_png) -> str:
    e = html.escape
    notebooks = sorted({r["notebook"] for r in every_row})
    score = totals(every_row)
    submitted = {(r["student_id"], r["notebook"]) for r in handed_in(every_row)}
    parts = ["<!doctype html><html><head><meta charset='utf-8'>",
             "<meta http-equiv='Content-Security-Policy' content=\"default-src 'none'; img-src data:; "
             "style-src 'unsafe-inline'\">",
             f"<title>Class report</title><style>{CSS}</style></head><body><h1>Class report</h1>"]
    if info["label"]:
        parts.append(f"<p class='label'>{e(info['label'])}</p>")
    parts.append(f"<p><b>{len(students)} students</b>, {len(notebooks)} notebooks.")
    if left_out:
        parts.append(" Not counted in any statistic: " + ", ".join(
            f"<code>{e(s)}</code> ({e(str(info['not_students'].get(s, '')))})" for s in left_out) + ".")
    parts.append("</p><nav><a href='#pass'>Pass rates</a> · <a href='#scores'>Scores</a> · "
                 "<a href='#mistakes'>Common mistakes</a> · <a href='#flagged'>Flagged</a> · "
                 "<a href='#students'>Students</a></nav>")
    parts.append(f"<h2 id='pass'>Pass rates</h2>{_img(pass_png, 'share of the class passing each exercise')}")
    parts.append(f"<h2 id='scores'>Scores</h2>{_img(hist_png, 'histogram of notebook scores')}")
    parts.append("<h2 id='mistakes'>Most common mistakes</h2><table><tr><th>notebook</th><th>exercise</th>"
                 "<th>passed</th><th>mean score</th><th>handed in</th><th>what went wrong</th></tr>")
    for s in summary:
        mistakes = "<br>".join(f"<b>{n}×</b> {e(m)}" for m, n in s["top_failures"]) or "<span class='muted'>none</span>"
        parts.append(f"<tr><td>{e(s['notebook'])}</td><td>{e(s['exercise'])}</td>"
                     f"<td class='num'>{s['pass_rate']:.0%}</td><td class='num'>{s['mean_score']:.2f} / "
                     f"{s['max_score']:g}</td><td class='num'>{s['students']}"
                     + (f" <span class='muted'>({s['not_submitted']} not)</span>" if s["not_submitted"] else "")
                     + f"</td><td>{mistakes}</td></tr>")
    parts.append("</table><h2 id='flagged'>Flagged for review</h2>")
    if tampered:
        parts.append("<p>The notebook's own run disagreed with the grader (a check made to lie):</p><table>"
                     "<tr><th>student</th><th>notebook</th><th>exercise</th><th>message</th></tr>")
        parts += [f"<tr><td>{e(r['student_id'])}</td><td>{e(r['notebook'])}</td><td>{e(r['exercise'])}</td>"
                  f"<td>{e(r['message'])}</td></tr>" for r in tampered]
        parts.append("</table>")
    else:
        parts.append("<p class='muted'>No submission was flagged.</p>")
    parts.append("<h2 id='students'>Students</h2><table><tr><th>student</th>"
                 + "".join(f"<th>{e(n)}</th>" for n in notebooks) + "<th>total</th></tr>")
    for student in sorted({r["student_id"] for r in every_row}):
        cells, got, top = [], 0.0, 0.0
        for n in notebooks:
            s, m = score.get((student, n), (0.0, 0.0))
            got, top = got + s, top + m
            cells.append(f"<td class='num'>{s:g} / {m:g}</td>" if (student, n) in submitted
                         else "<td class='muted'>not submitted</td>")
        label = " <span class='muted'>(not counted)</span>" if student in left_out else ""
        parts.append(f"<tr><td>{e(student)}{label}</td>{''.join(cells)}<td class='num'><b>{got:g} / {top:g}</b></td></tr>")
    parts.append("</table></body></html>")
    return "".join(parts)
