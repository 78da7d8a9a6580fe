"""The reference answers of a solution notebook, for the claims tests that rerun its experiments
with the code the notebook itself runs."""
import math

import torch
import torch.nn.functional as F
from torch import nn

from grader.notebooks import SOLUTIONS, nbgrader_meta, notebook_names, read_json_notebook, source_of


def reference_answers(number: str, *exercises: str) -> dict:
    """Run the answer cells ``exercises`` of ``solutions/<number>_*.ipynb``, in the order given,
    in one namespace (with torch, nn, F and math imported, as the setup cell does); return it."""
    name = next(n for n in notebook_names() if n.startswith(number))
    cells = {nbgrader_meta(c).get("grade_id"): source_of(c)
             for c in read_json_notebook(SOLUTIONS / f"{name}.ipynb")["cells"] if nbgrader_meta(c).get("solution")}
    namespace = {"torch": torch, "nn": nn, "F": F, "math": math}
    for exercise in exercises:
        exec(cells[exercise], namespace)    # noqa: S102 (the course's own solution code)
    return namespace
