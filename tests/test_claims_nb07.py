"""Are the claims notebook 07's text makes true at full settings? Each test runs the helpers the
notebook runs, with the solution notebook's own answers (pad_batch, encode_packed, ...), and
asserts what the prose says about the result, never a number a different run could change."""
import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from grader.classroom import reference_answers
from rnncourse.data import read_text
from rnncourse.packing_costs import (bucketed_batches, largest_difference, pad_fraction, random_batches,
                                     uniform_batches)
from rnncourse.play_classifier import PlayClassifier, accuracy, train_classifier
from rnncourse.speeches import PLAYS, WordVocab, as_examples, majority_baseline, split_speeches

pytestmark = pytest.mark.slow

# the settings of the notebook's full run
MAX_WORDS, STEPS, TABLE_BATCHES = 100, 800, 20


@pytest.fixture(scope="module")
def answers():
    """The solution notebook's answer cells, run in a namespace like the notebook's."""
    ns = {"torch": torch, "nn": nn, "F": F, "pack_padded_sequence": pack_padded_sequence,
          "pad_packed_sequence": pad_packed_sequence}
    for source in reference_answers("07_padding_packing").values():
        exec(source, ns)
    return ns


@pytest.fixture(scope="module")
def speeches(answers):
    train, test = split_speeches(read_text("shakespeare/train.txt"))
    vocab = WordVocab(train, min_count=2)

    def pad(examples):
        return answers["pad_batch"](examples, pad_id=vocab.pad_id)

    return train, test, vocab, pad


def _example_batch(answers):
    seqs = [torch.tensor([1, 5, 3]), torch.tensor([2, 7]), torch.tensor([1, 6, 8, 4])]
    ids, lengths = answers["pad_batch"](seqs, pad_id=0)
    torch.manual_seed(0)
    embed, lstm = nn.Embedding(9, 4, padding_idx=0), nn.LSTM(4, 3, batch_first=True)
    torch.manual_seed(0)
    bi = nn.LSTM(4, 3, batch_first=True, bidirectional=True)
    return seqs, ids, lengths, embed, lstm, bi


@torch.no_grad()
def test_pads_pollute_the_final_state_even_with_a_zero_pad_embedding(answers):
    """Section 2: the pad's embedding is zero, yet h_n of "No way" moves; its output at the last
    word equals the sequence run alone; the backward half at step 0 has read the pads."""
    seqs, ids, lengths, embed, lstm, bi = _example_batch(answers)
    assert embed.weight[0].abs().sum() == 0
    out, (h_n, _) = lstm(embed(ids))
    _, (alone, _) = lstm(embed(seqs[1][None]))
    assert (h_n[0, 1] - alone[0, 0]).abs().max() > 1e-2
    assert torch.allclose(out[1, 1], alone[0, 0], atol=1e-6)
    out_bi, _ = bi(embed(ids))
    alone_bi, _ = bi(embed(seqs[1][None]))
    assert (out_bi[1, 0, 3:] - alone_bi[0, 0, 3:]).abs().max() > 1e-2
    assert torch.allclose(out_bi[1, 0, :3], alone_bi[0, 0, :3], atol=1e-6)


@torch.no_grad()
def test_packed_h_n_identities(answers):
    """Section 4: h_n of a packed LSTM is the last valid output (forward at lengths - 1, backward at
    step 0), already in the batch's order; output[:, -1] is not."""
    seqs, ids, lengths, embed, lstm, bi = _example_batch(answers)
    rows = torch.arange(3)
    packed_out, (h_n, _) = lstm(pack_padded_sequence(embed(ids), lengths, batch_first=True, enforce_sorted=False))
    out, _ = pad_packed_sequence(packed_out, batch_first=True)
    assert torch.allclose(h_n[-1], out[rows, lengths - 1]) and not torch.allclose(h_n[-1], out[:, -1])
    packed_bi, (h_bi, _) = bi(pack_padded_sequence(embed(ids), lengths, batch_first=True, enforce_sorted=False))
    out_bi, _ = pad_packed_sequence(packed_bi, batch_first=True)
    assert torch.allclose(h_bi[-2], out_bi[rows, lengths - 1, :3]) and torch.allclose(h_bi[-1], out_bi[:, 0, 3:])
    # no pad is read by either direction: "No way" packed ends as it does run alone
    _, (h_alone, _) = bi(embed(seqs[1][None]))
    assert torch.allclose(h_bi[:, 1], h_alone[:, 0], atol=1e-6)


def test_masked_loss_equals_ignore_index(answers):
    """Section 5: the masked mean equals F.cross_entropy with the pad targets set to -100."""
    _, _, lengths, _, _, _ = _example_batch(answers)
    tags = torch.randint(0, 5, (3, 4), generator=torch.Generator().manual_seed(0))
    logits = torch.randn(3, 4, 5, generator=torch.Generator().manual_seed(1))
    mask = answers["lengths_to_mask"](lengths)
    masked = answers["masked_cross_entropy"](logits, tags, lengths)
    assert torch.allclose(masked, F.cross_entropy(logits.transpose(1, 2), tags.masked_fill(~mask, -100)))
    assert not torch.allclose(masked, F.cross_entropy(logits.transpose(1, 2), tags))


@pytest.fixture(scope="module")
def classifier(answers, speeches):
    """Section 6's classifier, trained as the notebook trains it."""
    train, _, vocab, pad = speeches
    train_x, train_y = as_examples(train, vocab, MAX_WORDS)
    torch.manual_seed(0)
    model = PlayClassifier(answers["encode_packed"], len(vocab), len(PLAYS), pad_id=vocab.pad_id)
    train_classifier(model, train_x, train_y, pad, steps=STEPS, generator=torch.Generator().manual_seed(0))
    return model


def test_classifier_beats_the_majority_baseline(classifier, speeches):
    """Section 6: trained for the full number of steps, the packed classifier beats always answering
    the most frequent play, and stays far from 100% (many speeches are a single line)."""
    train, test, vocab, pad = speeches
    test_x, test_y = as_examples(test, vocab, MAX_WORDS)
    _, baseline = majority_baseline(train, test)
    acc = accuracy(classifier, test_x, test_y, pad)
    assert baseline + 0.05 < acc < 0.6, (acc, baseline)


def test_padding_table_claims(answers, speeches, classifier):
    """Section 7: random batches of real lengths are mostly padding, bucketing brings the pad share
    close to zero, uniform lengths have none; the naive encoder's features are far from the packed
    ones on real lengths, still off on bucketed batches, and agree up to rounding on uniform ones."""
    train, _, vocab, pad = speeches
    train_x, _ = as_examples(train, vocab, MAX_WORDS)
    gen = torch.Generator().manual_seed(1)
    mean_length = round(sum(len(x) for x in train_x) / len(train_x))
    real = random_batches(train_x, pad, 32, TABLE_BATCHES, gen)
    bucketed = bucketed_batches(train_x, pad, 32, TABLE_BATCHES, gen)
    uniform = uniform_batches(len(vocab), mean_length, 32, TABLE_BATCHES, gen)
    assert pad_fraction(real) > 0.5
    assert pad_fraction(bucketed) < 0.05
    assert pad_fraction(uniform) == 0
    model = classifier.eval()

    def encode_padded(embed, rnn, ids, lengths):      # the notebook's naive encoder, bidirectional
        _, (h_n, _) = rnn(embed(ids))
        return torch.cat(list(h_n[-2:]), dim=1)

    packed = answers["encode_packed"]
    assert largest_difference(encode_padded, packed, model.embed, model.rnn, real) > 0.1
    assert largest_difference(encode_padded, packed, model.embed, model.rnn, bucketed) > 0.01
    assert largest_difference(encode_padded, packed, model.embed, model.rnn, uniform) < 1e-5
