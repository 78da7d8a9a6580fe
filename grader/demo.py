"""``python -m grader demo``: release, a small class, autograde, the grade table.

The class is made from what ships: the reference answers, the untouched release, two
students who make real mistakes (taken from the known-wrong variants), and one who tries to
fool the checks. Everything is written under ``build/demo``, the release too: ``notebooks/``,
where students work, is never touched.
"""
import json
import shutil
from pathlib import Path

from grader.autograde import autograde
from grader.classroom import fill_release, reference_answers, write_submission
from grader.notebooks import RELEASE, ROOT, notebook_names, read_release
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


# Who in the demo's class is not a student: kept out of the report's statistics.
NOT_STUDENTS = {"reference": "the reference answers", "untouched": "the release, unanswered"}
# Names for nbgrader's formgrader (nbgrader's students.csv format): all synthetic.
# (first, last): formgrader lists "last, first", as in "Synthetic, One".
NAMES = {"reference": ("Answers", "Reference"), "untouched": ("Release", "Untouched"),
         "flawed-1": ("One", "Synthetic"), "flawed-2": ("Two", "Synthetic"),
         "forger": ("Forger", "Synthetic")}


def flawed_answers(name: str, which: int, release_dir: Path = RELEASE) -> dict[str, str]:
    """Reference answers with every other exercise replaced by one of its known mistakes."""
    answers = reference_answers(name)
    wrong: dict[str, list] = {}
    for v in variants_of(name):
        if v.kind == "wrong":
            wrong.setdefault(v.exercise, []).append(v)
    for position, exercise in enumerate(read_release(name, release_dir).exercises):
        mistakes = wrong.get(exercise.name, [])
        if position % 2 == which and mistakes:
            answers[exercise.name] = mistakes[which % len(mistakes)].source
    return answers


def build_class(root: Path, names: list[str], release_dir: Path) -> None:
    shutil.rmtree(root, ignore_errors=True)
    for name in names:
        def submit(student, answers):
            write_submission(root, student, name, fill_release(name, answers, release_dir))
        submit("reference", reference_answers(name))
        submit("untouched", {})
        for which in (0, 1):
            submit(f"flawed-{which + 1}", flawed_answers(name, which, release_dir))
    lines = ["id,first_name,last_name,email"] + [f"{k},{first},{last}," for k, (first, last) in NAMES.items()]
    (root / "students.csv").write_text("\n".join(lines) + "\n")
    if "01_rnn_fundamentals" in names:
        forged = dict(reference_answers("01_rnn_fundamentals"), rnn_cell=FORGED_RNN_CELL)
        write_submission(root, "forger", "01_rnn_fundamentals",
                         fill_release("01_rnn_fundamentals", forged, release_dir))


def describe_class(out: Path) -> None:
    """``class.json``: the report labels this class as synthetic and leaves out non-students."""
    (out / "class.json").write_text(json.dumps({
        "label": "Synthetic demo class: reference answers and known mistakes from the course's "
                 "variants, not real students",
        "not_students": NOT_STUDENTS}, indent=1) + "\n")


def demo(jobs: int = 2, isolate: bool = True, names: list[str] | None = None) -> int:
    names = names or notebook_names()
    release_dir, submissions, out = DEMO / "release", DEMO / "submissions", DEMO / "out"
    print(f"== release: solutions/ -> {release_dir.relative_to(ROOT)}/ (nbgrader generate_assignment)")
    shutil.rmtree(release_dir, ignore_errors=True)
    release(release_dir, names=names)
    print(f"   released {len(names)} notebooks: {', '.join(names)}")
    build_class(submissions, names, release_dir)
    shutil.rmtree(out, ignore_errors=True)
    print(f"== autograde {submissions.relative_to(ROOT)} (isolated: {isolate})")
    results = autograde(submissions, out, jobs=jobs, isolate=isolate, notebooks=names,
                        release_dir=release_dir)
    describe_class(out)
    print("\n== grades")
    print(f"{'student':12s} {'notebook':26s} {'score':>9s}")
    for r in results:
        maximum = sum(row.max_score for row in r.rows)
        print(f"{r.student_id:12s} {r.notebook:26s} {r.score:4g}/{maximum:<4g}")
    print("\n== what the graded students got wrong (from grades.csv)")
    for r in results:
        if r.student_id in NOT_STUDENTS:
            continue
        for row in r.rows:
            if row.status != "passed":
                print(f"{r.student_id:10s} {row.notebook[:2]} {row.exercise:22s} {row.score:g}/{row.max_score:g} "
                      f"{row.status:8s} {row.message[:150]}")
    print("\n== class report")
    print(report(out))
    print(f"\noutputs: {out.relative_to(ROOT)}/grades.csv, report.html, feedback/<student>/<notebook>.html, "
          "gradebook.db (nbgrader's formgrader: make lab-instructor)")
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
