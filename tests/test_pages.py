"""Feedback pages and the class report, rendered from made-up results (no grading needed)."""
import base64
import csv
import json
from html.parser import HTMLParser
from types import SimpleNamespace

from grader.feedback import render
from grader.report import report

# a 1x1 PNG
PNG = base64.b64encode(bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360f8ffff3f0005fe02fea7d6a4c50000000049454e44ae426082")).decode()


class Tags(HTMLParser):
    def __init__(self, text):
        super().__init__()
        self.tags = []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def _cell(kind, source, **meta):
    cell = {"cell_type": kind, "source": source, "metadata": {"nbgrader": meta} if meta else {}}
    if kind == "code":
        cell["outputs"] = []
    return cell


def _result(rows, checks):
    return SimpleNamespace(student_id="s1", notebook="01_x", notes=[],
                           rows=[SimpleNamespace(exercise=e, score=s, max_score=m, status=st, message=msg)
                                 for e, s, m, st, msg in rows],
                           checks=[SimpleNamespace(exercise=e, name=n, points=p, passed=ok, message=msg)
                                   for e, n, p, ok, msg in checks])


def _page():
    answer = _cell("code", "def f(x):\n    return x", solution=True, grade_id="f")
    answer["outputs"] = [{"output_type": "stream", "name": "stdout", "text": "loss 0.5\n"},
                         {"output_type": "display_data", "data": {"image/png": PNG, "text/plain": "<Figure>"}}]
    nb = {"cells": [
        _cell("markdown", "# Lesson title\n\nThe recurrence $$h_t = \\tanh(x_t W^\\top)$$ with $x_t$ inline.\n\n"
                          "![remote](http://evil.example/a.png) <img src=\"http://evil.example/b.png\">"
                          "<script src=\"https://evil.example/c.js\"></script>"),
        _cell("markdown", "**Q.** Why?\n<details><summary>Answer</summary>Because **shared**.</details>\n"
                          "<details open onclick=\"alert(1)\"><summary>x</summary>y</details>"),
        _cell("markdown", "### Exercise: write `f`"),
        answer,
        _cell("code", "check.f(f)", grade=True, grade_id="test_f", points=2),
    ]}
    result = _result([("f", 1, 2, "failed", "second check: off by one"),
                      ("g", 0, 1, "missing", "no answer cell for g")],
                     [("f", "first check", 1, True, ""), ("f", "second check", 1, False, "off by one")])
    return render(result, nb)


def test_equations_are_mathml_and_details_work():
    page = _page()
    assert "$$" not in page and page.count("<math") == 2
    assert "<details><summary>Answer</summary><p>Because <strong>shared</strong>.</p>" in page
    assert "onclick" not in [k for _, attrs in Tags(page).tags for k in attrs], "attributes must stay escaped"


def test_no_remote_resources():
    page = _page()
    assert "Content-Security-Policy" in page
    for tag, attrs in Tags(page).tags:
        for key in ("src", "href", "data"):
            value = attrs.get(key) or ""
            assert tag == "a" or not value or value.startswith(("data:", "#")), f"<{tag} {key}={value}>"
    assert not any(tag == "script" for tag, _ in Tags(page).tags)


def test_outputs_figures_and_one_line_per_check_beside_the_answer():
    page = _page()
    section = page[page.index('id="ex-f"'):page.index("</section>")]
    assert "loss 0.5" in section and f"data:image/png;base64,{PNG}" in section
    assert "Exercise: write" in section, "the exercise's task is shown open with the answer"
    assert section.count("<li") == 2 and "✔ first check (1 pt)" in section
    assert "✘ second check (1 pt): off by one" in section
    assert "second check: off by one" not in section, "the row's joined message is not repeated"


def test_score_table_links_to_every_exercise_and_lesson_is_folded():
    page = _page()
    tags = Tags(page).tags
    ids = [a.get("id") for _, a in tags if a.get("id")]
    for target in ("ex-f", "ex-g"):
        assert ("a", {"href": f"#{target}"}) in tags and ids.count(target) == 1
    assert "no answer cell for g" in page
    lessons = [a for t, a in tags if t == "details" and a.get("class") == "lesson"]
    assert lessons and all("open" not in a for a in lessons)
    assert page.index("Lesson title") > page.index('<details class="lesson">')


def test_report_page_counts_students_only(tmp_path):
    rows = [("reference", "f", 2, "passed", ""), ("a", "f", 0, "failed", "off by one; more"),
            ("b", "f", 0, "failed", "off by one"), ("c", "f", 2, "passed", ""),
            ("c", "g", 0, "tampered", "flagged for the instructor")]
    with open(tmp_path / "grades.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["student_id", "notebook", "exercise", "score", "max_score", "status", "message"])
        for student, exercise, score, status, message in rows:
            w.writerow([student, "01_x", exercise, score, 2, status, message])
    (tmp_path / "class.json").write_text(json.dumps({"label": "A made-up class",
                                                     "not_students": {"reference": "the answers"}}))
    text = report(tmp_path)
    assert "3 students (not counted: reference)" in text
    page = (tmp_path / "report.html").read_text()
    assert "A made-up class" in page and "<b>3 students</b>" in page
    assert "<b>2×</b> off by one" in page, "the most common mistake with its count"
    assert "<td class='num'>33%</td>" in page, "1 of 3 students passed f (the reference is not counted)"
    assert page.count("data:image/png;base64,") == 2 and (tmp_path / "report.png").exists()
    flagged = page[page.index("id='flagged'"):page.index("id='students'")]
    assert "<td>c</td>" in flagged
    students = page[page.index("id='students'"):]
    assert "reference <span class='muted'>(not counted)</span>" in students and "<td>a</td>" in students


def test_report_rates_exercises_among_those_who_handed_the_notebook_in(tmp_path):
    """A student who did not submit a notebook is 'not submitted' there, not a failure of its
    exercises: pass rates, mean scores and histograms count the students who handed it in."""
    from grader.notebooks import not_submitted
    rows = [("a", "01_x", "f", 2, "passed", ""), ("b", "01_x", "f", 0, "failed", "off by one"),
            ("c", "01_x", "f", 0, "missing", not_submitted("01_x")),
            ("a", "02_y", "g", 1, "passed", ""), ("b", "02_y", "g", 1, "passed", ""),
            ("c", "02_y", "g", 1, "passed", "")]
    with open(tmp_path / "grades.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["student_id", "notebook", "exercise", "score", "max_score", "status", "message"])
        for student, notebook, exercise, score, status, message in rows:
            w.writerow([student, notebook, exercise, score, 1 if exercise == "g" else 2, status, message])
    text = report(tmp_path)
    line = next(l for l in text.splitlines() if l.startswith("01_x") and " f " in l)
    assert "50%" in line and "1.00/2" in line and "not submitted 1" in line, line
    assert not_submitted("01_x") not in text, "a missing notebook is not a common mistake"
    page = (tmp_path / "report.html").read_text()
    assert "<td class='num'>50%</td>" in page and "(1 not)" in page
    students = page[page.index("id='students'"):]
    assert "<td class='muted'>not submitted</td>" in students and "<td class='num'>2 / 2</td>" in students


def test_a_formula_the_converter_cannot_read_is_shown_as_source():
    nested = "\\frac{" * 3000 + "x" + "}" * 3000
    bad = "\\begin{nothing}"
    nb = {"cells": [_cell("markdown", f"$${nested}$$\n\n$${bad}$$")]}
    page = render(_result([], []), nb)
    assert page.count("<code>") == 2 and "<math" not in page
