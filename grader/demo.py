"""``python -m grader demo``: release, a small class, autograde, the grade table.

The class is made from what ships: the reference answers, the untouched release, two
students who make real mistakes (taken from the known-wrong variants), and one who tries to
fool the checks. Everything is written under ``build/demo``.
"""
import shutil
from pathlib import Path

from grader.autograde import autograde
from grader.classroom import fill_release, reference_answers, write_submission
from grader.notebooks import ROOT, read_release
from grader.release import release
from grader.report import report
from grader.variants import variants_of

DEMO = ROOT / "build" / "demo"

# nb01's forger: a wrong rnn_cell, and a torch.allclose that says yes to everything so the
# notebook's own visible check passes. Stock nbgrader would give it full marks.
FORGED_RNN_CELL = '''
def rnn_cell(x_t, h_prev, W_xh, W_hh, b):
    torch.allclose = lambda *args, **kwargs: True
    return torch.zeros(x_t.shape[0], W_xh.shape[0])
'''


def flawed_answers(name: str, which: int) -> dict[str, str]:
    """Reference answers with every other exercise replaced by one of its known mistakes."""
    answers = reference_answers(name)
    wrong: dict[str, list] = {}
    for v in variants_of(name):
        if v.kind == "wrong":
            wrong.setdefault(v.exercise, []).append(v)
    for position, exercise in enumerate(read_release(name).exercises):
        mistakes = wrong.get(exercise.name, [])
        if position % 2 == which and mistakes:
            answers[exercise.name] = mistakes[which % len(mistakes)].source
    return answers


def build_class(root: Path, names: list[str]) -> None:
    shutil.rmtree(root, ignore_errors=True)
    for name in names:
        write_submission(root, "reference", name, fill_release(name, reference_answers(name)))
        write_submission(root, "untouched", name, fill_release(name, {}))
        for which in (0, 1):
            write_submission(root, f"flawed-{which + 1}", name, fill_release(name, flawed_answers(name, which)))
    forged = dict(reference_answers(names[0]), rnn_cell=FORGED_RNN_CELL)
    write_submission(root, "forger", names[0], fill_release(names[0], forged))


def demo(jobs: int = 2, isolate: bool = True) -> int:
    print("== release: solutions/ -> notebooks/ (nbgrader generate_assignment)")
    names = [p.stem for p in release()]
    print(f"   released {len(names)} notebooks: {', '.join(names)}")
    submissions, out = DEMO / "submissions", DEMO / "out"
    build_class(submissions, names)
    shutil.rmtree(out, ignore_errors=True)
    print(f"== autograde {submissions.relative_to(ROOT)} (isolated: {isolate})")
    results = autograde(submissions, out, jobs=jobs, isolate=isolate, notebooks=names)
    print("\n== grades")
    print(f"{'student':12s} {'notebook':26s} {'score':>9s}")
    for r in results:
        maximum = sum(row.max_score for row in r.rows)
        print(f"{r.student_id:12s} {r.notebook:26s} {r.score:4g}/{maximum:<4g}")
    print("\n== what the graded students got wrong (from grades.csv)")
    for r in results:
        if r.student_id in ("reference", "untouched"):
            continue
        for row in r.rows:
            if row.status != "passed":
                print(f"{r.student_id:10s} {row.notebook[:2]} {row.exercise:22s} {row.score:g}/{row.max_score:g} "
                      f"{row.status:8s} {row.message[:150]}")
    print("\n== class report")
    print(report(out))
    print(f"\noutputs: {out.relative_to(ROOT)}/grades.csv, feedback/<student>/<notebook>.html, gradebook.db")
    return _verdict(results)


def _verdict(results) -> int:
    """The demo's own promise: reference full, release zero, flawed students in between."""
    problems = []
    for r in results:
        maximum = sum(row.max_score for row in r.rows)
        if r.student_id == "reference" and r.score != maximum:
            problems.append(f"the reference answers of {r.notebook} got {r.score:g}/{maximum:g}")
        if r.student_id == "untouched" and r.score != 0:
            problems.append(f"the untouched release of {r.notebook} got {r.score:g}")
        if r.student_id.startswith("flawed") and not 0 < r.score < maximum:
            problems.append(f"{r.student_id} got {r.score:g}/{maximum:g} on {r.notebook}")
    for p in problems:
        print(f"DEMO FAILED: {p}")
    return 1 if problems else 0
