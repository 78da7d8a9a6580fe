"""A grading lane: one trusted process with one sandbox, grading the jobs it is sent.

``autograde`` runs ``--jobs`` lanes side by side. A lane reads one JSON job per line on
stdin and answers with one JSON result per line on its own copy of stdout; anything else
that prints goes to stderr, so it cannot corrupt the answers.
"""
import json
import os
import sys
from pathlib import Path

import torch

from grader.grade import grade_submission
from grader.notebooks import RELEASE, read_release
from grader.sandbox import Sandbox


def main(argv: list[str]) -> int:
    isolate = "--no-isolation" not in argv
    release_dir = Path(argv[argv.index("--release") + 1]) if "--release" in argv else RELEASE
    answers = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    releases = {}
    torch.set_num_threads(1)  # checks are many tiny ops; a second thread only adds contention
    with Sandbox(isolate=isolate) as sandbox:
        answers.write(json.dumps({"ready": True}) + "\n")
        for line in sys.stdin:
            job = json.loads(line)
            name = job["notebook"]
            if name not in releases:
                releases[name] = read_release(name, release_dir)
            result = grade_submission(sandbox, releases[name], Path(job["path"]), job["student_id"])
            answers.write(json.dumps(result.to_json()) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
