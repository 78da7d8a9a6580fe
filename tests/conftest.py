"""Shared fixtures: one sandbox for the session, and a way to grade a notebook dict directly."""
import pytest
import torch

from grader.classroom import write_submission
from grader.grade import grade_submission
from grader.notebooks import notebook_names, read_release
from grader.sandbox import Sandbox

NOTEBOOKS = notebook_names()


@pytest.fixture(scope="session", autouse=True)
def one_thread():
    """Grade as a lane does: the checks are many tiny ops, faster on one thread."""
    torch.set_num_threads(1)


@pytest.fixture(scope="session")
def sandbox():
    with Sandbox() as box:
        yield box


@pytest.fixture(scope="session")
def grade(sandbox, tmp_path_factory):
    """grade(name, notebook_dict) -> SubmissionResult, through the real isolated pipeline."""
    root = tmp_path_factory.mktemp("graded")
    releases = {}
    counter = iter(range(1_000_000))

    def run(name: str, nb: dict):
        if name not in releases:
            releases[name] = read_release(name)
        path = write_submission(root, f"s{next(counter)}", name, nb)
        return grade_submission(sandbox, releases[name], path, path.parent.name)

    return run
