"""Visible checks for notebook 03: quick comparisons with PyTorch's own functions.

Each function takes the student's function or class and raises ``AssertionError`` with a hint
when something is off. The grader runs more (hidden) checks; passing these is a good sign, not
a guarantee. Only plain values cross into the student's code, so the grader can run these on
its side too.
"""
import math

import torch
import torch.nn.functional as F

from rnncourse.checks import visible_check


def _passed(name, n):
    print(f"✔ {name}: {n} visible checks passed")


@visible_check
def build_vocab(fn):
    itos, stoi = fn("hello")
    assert itos == ["e", "h", "l", "o"], (
        f"the vocabulary of 'hello' should be ['e', 'h', 'l', 'o'] (distinct, sorted), got {itos}")
    assert stoi == {"e": 0, "h": 1, "l": 2, "o": 3}, f"stoi should map each character to its index in itos, got {stoi}"
    _passed("build_vocab", 2)


@visible_check
def encode(fn):
    ids = fn("hello", {"e": 0, "h": 1, "l": 2, "o": 3})
    assert isinstance(ids, torch.Tensor), f"encode should return a tensor, got {type(ids).__name__}"
    assert ids.dtype == torch.long, f"ids should be torch.long (integers index tables), got {ids.dtype}"
    assert ids.tolist() == [1, 0, 2, 2, 3], f"'hello' should encode to [1, 0, 2, 2, 3], got {ids.tolist()}"
    _passed("encode", 3)


@visible_check
def decode(fn):
    text = fn(torch.tensor([1, 0, 2, 2, 3]), ["e", "h", "l", "o"])
    assert text == "hello", f"[1, 0, 2, 2, 3] should decode to 'hello', got {text!r}"
    _passed("decode", 1)


@visible_check
def one_hot(fn):
    ids = torch.tensor([[1, 0, 2, 2, 3]])
    x = fn(ids, 4)
    assert isinstance(x, torch.Tensor) and tuple(x.shape) == (1, 5, 4), (
        f"one_hot of (B, T) = (1, 5) ids with V = 4 should be (B, T, V) = (1, 5, 4), got "
        f"{tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__}")
    assert x.is_floating_point(), f"one-hot vectors feed a linear layer, so they should be float, got {x.dtype}"
    assert torch.equal(x, torch.eye(4)[ids]), "row t should be all zeros except a 1 at column ids[t]"
    _passed("one_hot", 3)


@visible_check
def sample(fn):
    logits = torch.tensor([[2.0, 1.0, 0.0, -1.0]]).repeat(4000, 1)
    g = torch.Generator().manual_seed(0)
    ids = fn(logits, g)
    assert isinstance(ids, torch.Tensor) and tuple(ids.shape) == (4000,), (
        "sample should return one id per row of logits, shape (B,)")
    assert ids.dtype == torch.long, f"ids should be torch.long, got {ids.dtype}"
    freq = torch.bincount(ids, minlength=4).float() / 4000
    want = F.softmax(logits[0] / 0.5, dim=-1)
    freq_cold = torch.bincount(fn(logits, g, temperature=0.5), minlength=4).float() / 4000
    assert (freq - F.softmax(logits[0], dim=-1)).abs().max() < 0.04, "at temperature 1, draw from softmax(logits)"
    for mistake, wrong in (("the logits are multiplied by the temperature instead of divided", logits[0] * 0.5),
                           ("the temperature is ignored", logits[0])):
        assert (freq_cold - F.softmax(wrong, dim=-1)).abs().max() >= 0.04, \
            f"the frequencies at temperature 0.5 are what you get when {mistake}: draw from softmax(logits / 0.5)"
    assert (freq_cold - want).abs().max() < 0.04, "at temperature 0.5, draw from softmax(logits / 0.5)"
    top = fn(logits, g, top_k=2)
    assert set(top.tolist()) <= {0, 1}, "with top_k=2 only the two highest-scoring ids may be drawn"
    _passed("sample", 4)


@visible_check(uses=("one_hot", "sample"))
def CharRNN(cls):
    torch.manual_seed(0)
    model = cls(5, 8)
    keys = sorted(model.state_dict())
    want = ["head.bias", "head.weight", "rnn.bias_hh_l0", "rnn.bias_ih_l0", "rnn.weight_hh_l0", "rnn.weight_ih_l0"]
    assert keys == want, f"state_dict keys should be {want} (an nn.RNN called rnn, an nn.Linear called head), got {keys}"
    rnn = torch.nn.RNN(5, 8, batch_first=True)
    head = torch.nn.Linear(8, 5)
    model.load_state_dict({**{f"rnn.{k}": v for k, v in rnn.state_dict().items()},
                           **{f"head.{k}": v for k, v in head.state_dict().items()}})
    x = torch.tensor([[0, 1, 2, 3], [4, 4, 0, 1]])
    logits, h = model(x)
    with torch.no_grad():
        out, h_ref = rnn(F.one_hot(x, 5).float())
        ref = head(out)
    assert tuple(logits.shape) == (2, 4, 5), f"logits should be (B, T, V) = (2, 4, 5), got {tuple(logits.shape)}"
    assert torch.allclose(logits, ref, atol=1e-5), "logits differ from nn.RNN + nn.Linear on one-hot inputs"
    assert torch.allclose(h, h_ref, atol=1e-5), "the returned h should be nn.RNN's h_n, shape (num_layers, B, H)"
    new = model.generate(x, 3, torch.Generator().manual_seed(0))
    assert isinstance(new, torch.Tensor) and tuple(new.shape) == (2, 3), (
        "generate(prefix (B, T0), length=3, ...) should return the 3 new ids per row, shape (2, 3)")
    _passed("CharRNN", 5)


@visible_check
def sequence_loss(fn):
    g = torch.Generator().manual_seed(0)
    logits = torch.randn(2, 5, 4, generator=g)
    chunk = torch.randint(0, 4, (2, 6), generator=g)
    loss = fn(logits, chunk)
    assert isinstance(loss, torch.Tensor) and loss.dim() == 0, "sequence_loss should return a 0-d tensor"
    ref = F.cross_entropy(logits.reshape(-1, 4), chunk[:, 1:].reshape(-1))
    assert torch.allclose(loss, ref, atol=1e-5), (
        "the loss differs from the mean cross-entropy against the next characters chunk[:, 1:]")
    _passed("sequence_loss", 2)


@visible_check
def bits_per_char(fn):
    uniform = float(fn(torch.zeros(2, 3, 8), torch.zeros(2, 3, dtype=torch.long)))
    assert abs(uniform - 3.0) < 1e-5, (
        f"a uniform guess over 8 characters costs log2(8) = 3 bits per character, got {uniform:.4f}"
        + (": that is nats; divide by ln 2" if abs(uniform - math.log(8)) < 1e-4 else ""))
    _passed("bits_per_char", 1)
