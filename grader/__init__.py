"""The course's autograder: release, isolated autograding, feedback and reports on nbgrader."""
import os
import sys

# nbgrader's Gradebook runs the `alembic` command; make the environment's own scripts findable
# even when the virtualenv is not activated (`.venv/bin/python -m grader ...`).
_bin = os.path.join(sys.prefix, "bin")
if _bin not in os.environ.get("PATH", "").split(os.pathsep):
    os.environ["PATH"] = _bin + os.pathsep + os.environ.get("PATH", "")
