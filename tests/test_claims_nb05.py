"""Notebook 05's prose, checked at the notebook's full settings and seed, with the solution's
own ``CharTagger`` and the notebook's helpers."""
import pytest
import torch

from rnncourse import setup
from rnncourse.data import read_text
from rnncourse.tagging import (LEAK_STEPS, TAGGER_STEPS, CharVocab, evaluate_tagger, segmentation_tags,
                               train_next_char, train_tagger)
from tests.solution_code import reference_answers


@pytest.fixture(scope="module")
def CharTagger():
    return reference_answers("05", "CharTagger")["CharTagger"]


@pytest.mark.slow
def test_bidirectional_tagger_makes_several_times_fewer_errors(CharTagger):
    """'both taggers beat that baseline, and the bidirectional one makes several times fewer
    errors than the left-to-right one'."""
    setup(0)
    train_text, valid_text = read_text("shakespeare/train.txt"), read_text("shakespeare/valid.txt")
    train_chars, train_tags = segmentation_tags(train_text)
    valid_chars, valid_tags = segmentation_tags(valid_text)
    vocab = CharVocab(train_chars)
    train_ids, valid_ids = vocab.encode(train_chars), vocab.encode(valid_chars)
    majority = 1 - valid_tags.float().mean().item()
    accuracy = {}
    for bidirectional in (False, True):
        torch.manual_seed(0)
        model = CharTagger(len(vocab), 2, embed_dim=32, hidden_size=64, num_layers=2, dropout=0.1,
                           bidirectional=bidirectional)
        train_tagger(model, train_ids, train_tags, TAGGER_STEPS)
        accuracy[bidirectional] = evaluate_tagger(model, valid_ids, valid_tags)["accuracy"]
    assert min(accuracy.values()) > majority, (accuracy, majority)
    assert (1 - accuracy[False]) > 2.5 * (1 - accuracy[True]), accuracy


@pytest.mark.slow
def test_bidirectional_language_model_cheats(CharTagger):
    """'the bidirectional loss ends far below the left-to-right one, and below one bit per character'."""
    setup(0)
    train_text = read_text("shakespeare/train.txt")
    lm_vocab = {ch: i for i, ch in enumerate(sorted(set(train_text)))}
    lm_ids = torch.tensor([lm_vocab[ch] for ch in train_text[:200_000]])
    final = {}
    for bidirectional in (False, True):
        torch.manual_seed(0)
        model = CharTagger(len(lm_vocab), len(lm_vocab), num_layers=1, bidirectional=bidirectional)
        final[bidirectional] = sum(train_next_char(model, lm_ids, LEAK_STEPS)[-10:]) / 10
    assert final[True] < 1.0 and final[True] < 0.5 * final[False], final
