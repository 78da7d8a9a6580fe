"""Notebook 03's prose, checked at the notebook's full settings and seed, with the solution's
own ``CharRNN`` (and the ``one_hot`` and ``sample`` it uses) and the notebook's helpers."""
import math

import pytest
import torch

from rnncourse import setup
from rnncourse.charlm import LN2, stream_nats, train_char_model
from rnncourse.data import read_lines, read_text
from rnncourse.text import (bigram_nats, hidden_states, inside_brackets, most_correlated_units,
                            position_in_line)
from tests.solution_code import reference_answers


@pytest.fixture(scope="module")
def CharRNN():
    return reference_answers("03", "one_hot", "sample", "CharRNN")["CharRNN"]


def encode(text, stoi):
    return torch.tensor([stoi[c] for c in text])


def test_corpus_facts():
    """'seven plays (about 0.94 MB)', 'the last 10% for validation', 'vocabulary ... (76 here)',
    '29,910 first names'."""
    train, valid = read_text("shakespeare/train.txt"), read_text("shakespeare/valid.txt")
    assert 0.9e6 < len((train + valid).encode()) < 0.98e6
    assert 0.08 < len(valid) / (len(train) + len(valid)) < 0.12
    assert len(set(train)) == 76
    assert len(read_lines("names.txt")) == 29_910


@pytest.mark.slow
def test_shakespeare_rnn_beats_the_bigram_clearly_and_is_still_learning(CharRNN):
    """'a uniform guess costs log2 V ... a bigram model does much better, ... a model that
    remembers more should do better still'; 'the CharRNN beats the bigram model clearly'; 'the
    training curve is still falling'."""
    setup(0)
    train, valid = read_text("shakespeare/train.txt"), read_text("shakespeare/valid.txt")
    itos = sorted(set(train))
    stoi = {c: i for i, c in enumerate(itos)}
    train_ids, valid_ids = encode(train, stoi), encode(valid, stoi)
    bigram = bigram_nats(train_ids, valid_ids, len(itos)) / LN2
    assert bigram < math.log2(len(itos)) - 2
    torch.manual_seed(0)
    model = CharRNN(len(itos), 256)
    losses = train_char_model(model, train_ids, 2500, lr=5e-3, seq_len=64)
    valid_bpc = stream_nats(model, valid_ids) / LN2
    assert valid_bpc < bigram - 0.5, (valid_bpc, bigram)
    assert sum(losses[-250:]) < sum(losses[-500:-250])
    # section 13: 'the unit whose activation correlates most with it' does follow the feature, in part
    start = valid.index("[", 2000) - 300
    snippet = valid[start:start + 700]
    states = hidden_states(model, encode(snippet, stoi))
    for feature in (inside_brackets(snippet), position_in_line(snippet)):
        (_, r), *_ = most_correlated_units(states, feature)
        assert abs(r) > 0.3, r


@pytest.mark.slow
def test_names_rnn_beats_the_bigram_and_makes_new_names(CharRNN):
    """'the RNN beats the bigram model on names it has never seen'; 'learned what a name looks
    like, not a list of names' (most of the 20 generated names are new)."""
    setup(0)
    names = read_lines("names.txt")
    order = torch.randperm(len(names), generator=torch.Generator().manual_seed(0)).tolist()
    n_test = len(names) // 10
    test_names, train_names = [names[i] for i in order[:n_test]], [names[i] for i in order[n_test:]]
    itos = sorted(set("\n".join(names) + "\n"))
    stoi = {c: i for i, c in enumerate(itos)}
    train_ids = encode("\n".join(train_names) + "\n", stoi)
    test_ids = encode("\n" + "\n".join(test_names) + "\n", stoi)
    bigram = bigram_nats(train_ids, test_ids, len(itos))
    torch.manual_seed(0)
    model = CharRNN(len(itos), 128)
    train_char_model(model, train_ids, 3000, lr=3e-3, seq_len=32)
    assert stream_nats(model, test_ids) < bigram
    raw = model.generate(torch.full((20, 1), stoi["\n"]), 20, torch.Generator().manual_seed(2), temperature=0.8)
    made = ["".join(itos[i] for i in row).strip("\n").split("\n")[0] for row in raw.tolist()]
    assert sum(n not in set(names) for n in made) >= 10, made
