"""``grade_me()``, the last cell of every release notebook: grade the saved notebook from inside it.

It runs ``python -m grader check`` (the course's hidden checks, in the grader's sandbox) on
the file this kernel belongs to and prints its table. Outside JupyterLab (the grader, nbconvert)
there is no notebook file to grade, and it says so and does nothing.
"""
import os
import subprocess
import sys
import time
from pathlib import Path


def _notebook_path() -> Path | None:
    """The notebook file of this kernel, as Jupyter's server tells the kernel (JPY_SESSION_NAME)."""
    name = os.environ.get("JPY_SESSION_NAME", "")
    if not name.endswith(".ipynb"):
        return None
    path = Path(name)
    return path if path.is_file() else None


def grade_me() -> None:
    path = _notebook_path()
    if path is None:
        print("grade_me() grades the notebook open in JupyterLab; nothing to grade here.")
        return
    age = time.time() - path.stat().st_mtime
    print(f"Grading {path.name} as saved {age:.0f} s ago (save with Ctrl+S first if you changed it) ...",
          flush=True)
    done = subprocess.run([sys.executable, "-m", "grader", "check", str(path)],
                          capture_output=True, text=True)
    print(done.stdout + done.stderr[-2000:])
