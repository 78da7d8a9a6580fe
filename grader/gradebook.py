"""Scores into nbgrader's gradebook (SQLite by default, any SQLAlchemy URL by ``--db``).

Only the autograde process writes, one submission at a time: SQLite is not safe for
concurrent writers, and one writer keeps a resumed run from duplicating anything (every
write is an update of the same Grade row).
"""
import warnings

from nbgrader.api import Grade, Gradebook
from sqlalchemy import event
from sqlalchemy.exc import SAWarning

from grader.notebooks import Release, clean_text


class GradebookWriter:
    def __init__(self, db_url: str, releases: list[Release]):
        self.gb = Gradebook(db_url)
        if self.gb.engine.dialect.name == "sqlite":
            event.listen(self.gb.engine, "connect", _write_ahead)
            self.gb.engine.dispose()  # the connection nbgrader opened, reopened with the pragmas
        self.releases = {r.name: r for r in releases}
        for release in releases:
            self.gb.update_or_create_assignment(release.name)
            self.gb.update_or_create_notebook(release.name, release.name)
            for exercise in release.exercises:
                self.gb.update_or_create_solution_cell(exercise.name, release.name, release.name)
                self.gb.update_or_create_grade_cell(exercise.test_id, release.name, release.name,
                                                    max_score=exercise.points, cell_type="code")

    def record(self, result, names: dict | None = None, timestamp=None) -> None:
        """Write one graded submission (a ``SubmissionResult``) as auto scores; with the
        student's ``names`` and hand-in ``timestamp`` when known (formgrader lists them), and
        formgrader's flag on a submission whose own checks were made to lie."""
        release = self.releases[result.notebook]
        student = clean_text(result.student_id)  # a folder name that is not UTF-8 text
        self.gb.update_or_create_student(student, **(names or {}))
        with warnings.catch_warnings():  # nbgrader's own autoflush warnings, harmless here
            warnings.simplefilter("ignore", SAWarning)
            self.gb.update_or_create_submission(result.notebook, student,
                                                **({"timestamp": timestamp} if timestamp else {}))
        notebook = self.gb.find_submission_notebook(result.notebook, result.notebook, student)
        notebook.flagged = any(row.status == "tampered" for row in result.rows)
        scores = {row.exercise: row.score for row in result.rows}
        grades = {grade.name: grade for grade in notebook.grades}
        for exercise in release.exercises:
            grade = grades[exercise.test_id]
            grade.auto_score = scores.get(exercise.name, 0.0)
            grade.needs_manual_grade = False
        self.gb.db.commit()

    def scores(self) -> dict[tuple[str, str, str], float]:
        """Every recorded auto score, keyed by (student, notebook, exercise)."""
        out = {}
        for grade in self.gb.db.query(Grade).all():
            submitted = grade.notebook
            exercise = self.releases[submitted.name].exercise_of(grade.name)
            out[(submitted.assignment.student_id, submitted.name, exercise)] = grade.auto_score
        return out

    def close(self):
        self.gb.close()


def _write_ahead(connection, _record):
    """SQLite in write-ahead mode: a commit no longer waits for the disk (a killed grader loses
    nothing committed; only a power cut could take the last few), and formgrader can read
    while autograde writes."""
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()
