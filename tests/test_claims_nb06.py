"""Every comparative or quantitative claim in notebook 06's prose, checked at full settings.

The solution notebook's code cells run in this process (its hidden-check calls left out, figures
drawn off screen), seeded and on one thread as the notebook runs, and each test below asserts
one paragraph's statements on the values the notebook printed them from.
"""
import os
import re

import matplotlib
import nbformat
import pytest
import torch

from grader.notebooks import SOLUTIONS

NOTEBOOK = SOLUTIONS / "06_embeddings_tokenization.ipynb"
HIDDEN = re.compile(r"### BEGIN HIDDEN TESTS.*?### END HIDDEN TESTS", re.S)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def run():
    """The notebook's namespace after running every code cell at full settings (about 40 s CPU)."""
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    assert os.environ.get("COURSE_FAST", "0") in ("", "0"), "claims hold at full settings only"
    namespace = {}
    threads = torch.get_num_threads()
    try:
        for cell in nbformat.read(NOTEBOOK, as_version=4).cells:
            if cell.cell_type == "code":
                exec(compile(HIDDEN.sub("", cell.source), str(NOTEBOOK), "exec"), namespace)
                plt.close("all")
    finally:
        torch.set_num_threads(threads)
    return namespace


def neighbours(ns, word, k=5):
    return [ns["sg_words"][i] for i in ns["nearest_neighbors"](ns["vectors"], ns["sg_vocab"][word], k).tolist()]


def test_right_and_wrong_neighbours(run):
    thou = set(neighbours(run, "thou"))
    assert len(thou & {"hast", "dost", "wilt", "canst", "art"}) >= 4, thou
    hamlet = set(neighbours(run, "hamlet"))
    assert {"ophelia", "king", "queen"} <= hamlet and {"pol", "laer"} <= hamlet, hamlet
    assert neighbours(run, "king")[0] == "queen"
    assert "five" in neighbours(run, "two")
    assert not set(neighbours(run, "night")) & {"day", "morning", "evening", "dark", "darkness", "moon", "sleep"}
    assert not set(neighbours(run, "love")) & {"hate", "loves", "loved", "lover", "heart", "dear", "kiss"}
    assert not set(neighbours(run, "sword")) & {"dagger", "rapier", "weapon", "blade", "knife", "swords", "arms"}
    assert len(set(neighbours(run, "lady")) & {"capulet", "macduff", "macbeth"}) >= 2


def test_pronoun_analogies_right_the_rest_wrong(run):
    results = run["analogy_results"]
    for a, b, c, want in run["questions"]:
        top = results[(a, b, c)][0]
        if (a, b, c) in (("he", "his", "she"), ("he", "him", "she")):
            assert top == want, (a, b, c, top)
        else:
            assert top != want, (a, b, c, top)
    assert set(results[("man", "woman", "king")]) <= set(neighbours(run, "king"))


def test_transfer_beats_scratch(run):
    acc = run["transfer"]
    assert acc["frozen"] > acc["from scratch"] + 0.05
    assert acc["fine-tuned"] > acc["from scratch"] + 0.05
    assert abs(acc["from scratch"] - 0.5) < 0.1, "from scratch should stay near chance (50%)"
    assert abs(acc["fine-tuned"] - acc["frozen"]) < 0.05, "fine-tuning ends up close to freezing"
    test_words = {int(i) for i in run["x_te"].flatten()}
    assert not test_words & {int(i) for i in run["x_tr"].flatten()}, "test words are not training words"


def test_contextual_vectors_separate_the_senses(run):
    static = run["cosine_similarity_matrix"](run["static"], run["static"])
    assert torch.allclose(static, torch.ones(4, 4), atol=1e-5)
    ctx = run["cosine_similarity_matrix"](run["contextual"], run["contextual"])
    off = ~torch.eye(4, dtype=torch.bool)
    assert (ctx[off] < 0.999).all(), ctx
    same = torch.stack([ctx[0, 1], ctx[2, 3]])
    cross = ctx[:2, 2:]
    assert same.min() > cross.max(), ctx


def test_bpe_agrees_with_tokenizers_until_a_tie(run):
    merges, hf, prefix = run["merges"], run["hf_merges"], run["same_prefix"]
    assert len(merges) == len(hf) == 2000
    assert prefix >= 100
    assert len(set(merges) & set(hf)) >= 0.9 * len(merges), "they still share most merges"
    assert prefix < len(merges)
    counts = run["counts_then"]
    assert counts[merges[prefix]] == counts[hf[prefix]], "the first difference is a tie"


def test_english_table(run):
    word, char, bpe = run["english"]
    oov = "OOV rate (held-out)"
    assert word["vocabulary"] > 11_000 and word["vocabulary"] == max(r["vocabulary"] for r in run["english"])
    assert word[oov] > 0 and char[oov] == 0 and bpe[oov] == 0
    assert word["vocabulary"] > 3 * bpe["vocabulary"], "BPE's vocabulary is several times smaller"
    assert 1 < bpe["tokens per word"] < 1.5
    assert 3.5 < char["tokens per word"] < 4.5, "characters: about four times longer"


def test_korean_table(run):
    syll, eojeol, morph, bpe = run["korean"]
    oov, tpw = "OOV rate (held-out)", "tokens per word"
    assert eojeol["vocabulary"] == max(r["vocabulary"] for r in run["korean"])
    assert 0.25 < eojeol[oov] < 0.42, "about a third of the held-out 어절 are unknown"
    assert morph["vocabulary"] < eojeol["vocabulary"] and morph[oov] < eojeol[oov] / 3
    assert bpe["vocabulary"] < eojeol["vocabulary"] and bpe[oov] < eojeol[oov] / 3
    assert syll["vocabulary"] == min(r["vocabulary"] for r in run["korean"])
    assert 0 < syll[oov] == min(r[oov] for r in run["korean"])
    assert syll[tpw] == max(r[tpw] for r in run["korean"])
    assert run["bpe_encode"]("어업을", run["ko_merges"]) == ["어", "업", "을</w>"]
    assert "보호" in run["bpe_encode"]("보호·육성하기", run["ko_merges"]), "the stem 보호 stays whole"
