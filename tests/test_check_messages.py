"""Visible checks as a student sees them in IPython: one ✔/✘ line, no traceback, still an error."""
import pytest
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output

# A fresh kernel imports the checks in its setup cell; here they may be imported already, so reload.
SETUP = ("import importlib\nimport torch\nfrom rnncourse.checks import nb01 as check\n"
         "check = importlib.reload(check)\n")
WRONG_CELL = "def rnn_cell(x, h, W_xh, W_hh, b):\n    return x @ W_xh.T + h @ W_hh.T + b\n"
RIGHT_CELL = "def rnn_cell(x, h, W_xh, W_hh, b):\n    return torch.tanh(x @ W_xh.T + h @ W_hh.T + b)\n"


@pytest.fixture()
def shell():
    sh = InteractiveShell.instance()
    sh.reset()
    sh.run_cell(SETUP)
    yield sh
    sh.reset()


def run(sh, code):
    """Run a cell; return (text shown, exception raised or None)."""
    with capture_output() as out:
        result = sh.run_cell(code)
    return out.stdout + out.stderr, result.error_in_exec


def assert_clean(text):
    assert "Traceback" not in text and "rnncourse/checks" not in text and "File " not in text, text
    assert text.count("✘") == 1, text


def test_unfinished_exercise_says_what_to_do(shell):
    run(shell, "def rnn_cell(x, h, W_xh, W_hh, b):\n    raise NotImplementedError()\n")
    text, error = run(shell, "check.rnn_cell(rnn_cell)")
    assert isinstance(error, AssertionError)                 # Validate and the grader see a failure
    assert "write `rnn_cell` in the cell above and run it" in text
    assert_clean(text)


def test_check_run_before_its_answer_cell(shell):
    text, error = run(shell, "check.rnn_forward(rnn_forward)")
    assert isinstance(error, NameError)
    assert "`rnn_forward` is not defined yet" in text and "run that cell" in text
    assert_clean(text)


def test_other_name_errors_keep_ipythons_display(shell):
    text, error = run(shell, "undefined_thing + 1")
    assert isinstance(error, NameError) and "undefined_thing" in text and "✘" not in text


def test_wrong_answer_names_the_mistake_in_one_line(shell):
    run(shell, WRONG_CELL)
    text, error = run(shell, "check.rnn_cell(rnn_cell)")
    assert isinstance(error, AssertionError)
    assert "✘ rnn_cell: h_t is wrong: it is what you get when tanh is left out" in text
    assert_clean(text)


def test_crash_shows_the_students_frames_only(shell):
    run(shell, "def rnn_cell(x, h, W_xh, W_hh, b):\n    return x @ W_hh.T\n")
    text, error = run(shell, "check.rnn_cell(rnn_cell)")
    assert isinstance(error, AssertionError)
    assert "✘ rnn_cell: calling your code raised RuntimeError" in text
    assert "return x @ W_hh.T" in text                        # the student's own line
    assert "rnncourse" not in text and "torch/" not in text, text


def test_same_cause_is_reported_once(shell):
    run(shell, WRONG_CELL)
    run(shell, "def rnn_forward(x, h0, W_xh, W_hh, b):\n"
               "    states = []\n"
               "    for t in range(x.shape[1]):\n"
               "        h0 = rnn_cell(x[:, t], h0, W_xh, W_hh, b)\n"
               "        states.append(h0)\n"
               "    return torch.stack(states, 1), h0\n")
    run(shell, "check.rnn_cell(rnn_cell)")
    text, _ = run(shell, "check.rnn_forward(rnn_forward)")
    assert "probably the same cause" in text and "`rnn_cell`" in text
    assert_clean(text)
    run(shell, RIGHT_CELL)
    text, error = run(shell, "check.rnn_cell(rnn_cell)\ncheck.rnn_forward(rnn_forward)")
    assert error is None and text.count("✔") == 2, text


def test_plain_python_still_raises_assertion_error():
    from rnncourse.checks import nb01

    def rnn_cell(x, h, W_xh, W_hh, b):
        raise NotImplementedError()
    with pytest.raises(AssertionError, match="write `rnn_cell` in the cell above"):
        nb01.rnn_cell(rnn_cell)
