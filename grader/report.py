"""``python -m grader report DIR``: which exercises the class got wrong, and how.

Reads ``DIR/grades.csv``; prints per-exercise pass rates with the most common failure
messages, lists rows flagged ``tampered``, and saves a bar chart to ``DIR/report.png``.
"""
import csv
from collections import Counter, defaultdict
from pathlib import Path

TOP_MESSAGES = 3


def _reason(message: str) -> str:
    """The first, most specific part of a row's message (what students share)."""
    first = message.split("; ")[0]
    return first if len(first) <= 160 else first[:157] + "..."


def summarize(rows: list[dict]) -> list[dict]:
    groups = defaultdict(list)
    for row in rows:
        groups[(row["notebook"], row["exercise"])].append(row)
    summary = []
    for (notebook, exercise), group in groups.items():
        failures = Counter(_reason(r["message"]) for r in group if r["status"] != "passed" and r["message"])
        summary.append({
            "notebook": notebook, "exercise": exercise, "students": len(group),
            "pass_rate": sum(r["status"] == "passed" for r in group) / len(group),
            "mean_score": sum(float(r["score"]) for r in group) / len(group),
            "max_score": float(group[0]["max_score"]),
            "statuses": Counter(r["status"] for r in group),
            "top_failures": failures.most_common(TOP_MESSAGES),
        })
    return summary


def report(out: Path, plot: bool = True) -> str:
    rows = list(csv.DictReader(open(Path(out) / "grades.csv", encoding="utf-8")))
    summary = summarize(rows)
    lines = [f"{'notebook':24s} {'exercise':28s} {'passed':>7s} {'mean':>11s}  statuses"]
    for s in summary:
        statuses = ", ".join(f"{k} {v}" for k, v in sorted(s["statuses"].items()))
        lines.append(f"{s['notebook']:24s} {s['exercise']:28s} {s['pass_rate']:7.0%} "
                     f"{s['mean_score']:5.2f}/{s['max_score']:<5g}  {statuses}")
        for message, count in s["top_failures"]:
            lines.append(f"{'':53s}{count} x {message}")
    tampered = [r for r in rows if r["status"] == "tampered"]
    if tampered:
        lines.append("\nFlagged for review (the notebook's own run disagreed with the grader):")
        lines += [f"  {r['student_id']} / {r['notebook']} / {r['exercise']}" for r in tampered]
    if plot and summary:
        lines.append(f"\nplot: {_plot(summary, Path(out) / 'report.png')}")
    return "\n".join(lines)


def _plot(summary: list[dict], path: Path) -> Path:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = [f"{s['notebook'][:2]} {s['exercise']}" for s in summary]
    rates = [100 * s["pass_rate"] for s in summary]
    fig, ax = plt.subplots(figsize=(7, 0.35 * len(summary) + 1.2))
    ax.barh(labels, rates, color=["#2e7d32" if r >= 80 else "#ef6c00" if r >= 50 else "#c62828" for r in rates])
    ax.invert_yaxis()
    ax.set_xlim(0, 100)
    ax.set_xlabel("students who passed every check (%)")
    ax.set_title("Which exercises the class got wrong")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
