"""Notebook 02's prose, checked at the notebook's full settings and seeds.

The gradient figure (section 4) and the truncated-BPTT experiment (section 8) are recomputed
with the notebook's helpers; the exercises the experiment uses (``batchify``,
``tbptt_batches``, ``detach_state``) are written out here as plain references.
"""
import math

import pytest
import torch

from rnncourse import agreement, setup
from rnncourse.data import read_text
from rnncourse.gradients import hidden_grad_norms, scaled_recurrent_weight
from rnncourse.minchar import train_min_char_rnn

RADII = (0.5, 0.9, 1.0, 1.5, 3.0)


@pytest.fixture(scope="module")
def grad_norms():
    """Section 4's curves: {(activation, radius): [||dL/dh_t|| for t = 1..40]}."""
    gen = torch.Generator().manual_seed(0)
    B, T, D, H = 16, 40, 8, 32
    x = torch.randn(B, T, D, generator=gen)
    W_xh, b = torch.randn(H, D, generator=gen) / D ** 0.5, torch.zeros(H)
    W = {r: scaled_recurrent_weight(H, r, generator=torch.Generator().manual_seed(1)) for r in RADII}
    return {(name, r): hidden_grad_norms(x, W_xh, W[r], b, activation=act)
            for name, act in (("linear", lambda z: z), ("tanh", torch.tanh)) for r in RADII}


def test_linear_rnn_gradient_scales_by_rho_per_step(grad_norms):
    """'each step back multiplies the gradient by rho (the printout)'."""
    for r in RADII:
        norms = grad_norms["linear", r]
        per_step = (norms[0] / norms[20]) ** (1 / 20)
        assert per_step == pytest.approx(r, rel=0.1), (r, per_step)


def test_linear_rnn_orders_of_magnitude(grad_norms):
    """'down by 12 orders of magnitude over 40 steps at rho = 0.5 ..., up by 18 at rho = 3'."""
    assert -13 < math.log10(grad_norms["linear", 0.5][0] / grad_norms["linear", 0.5][-1]) < -11
    assert 17 < math.log10(grad_norms["linear", 3.0][0] / grad_norms["linear", 3.0][-1]) < 19


def test_tanh_rnn_vanishes_up_to_1_5_and_explodes_at_3(grad_norms):
    """'At rho = 1, and even at 1.5, the gradient still vanishes; only at rho = 3 does it explode'."""
    for r in (0.5, 0.9, 1.0, 1.5):
        assert grad_norms["tanh", r][0] < 0.1 * grad_norms["tanh", r][-1], r
    assert grad_norms["tanh", 3.0][0] > 10 * grad_norms["tanh", 3.0][-1]


def test_what_reaches_the_cat(grad_norms):
    """'rho = 0.9: ten positions back about 1.4e-3 of the last step, the previous word about half'."""
    norms = grad_norms["tanh", 0.9]
    assert 1.0e-3 < norms[-11] / norms[-1] < 2.0e-3
    assert 0.35 < norms[-2] / norms[-1] < 0.65


def rows(stream, batch):
    n = stream.numel() // batch
    return stream[:n * batch].view(batch, n)


def windows(data, bptt):
    return [(data[:, i:i + min(bptt, data.shape[1] - 1 - i)], data[:, i + 1:i + 1 + min(bptt, data.shape[1] - 1 - i)])
            for i in range(0, data.shape[1] - 1, bptt)]


def detach(state):
    return tuple(s.detach() for s in state)


@pytest.mark.slow
def test_truncation_stops_the_short_window_from_learning_agreement():
    """Section 8: the 50-step window learns the agreement, the 5-step window stays near chance,
    with the same number of training tokens (notebook seed 0, full settings)."""
    setup(0)
    train, test = agreement.experiment_streams(seed=0)
    train, test = rows(train, 32), rows(test, 16)
    curves = {w: agreement.train_truncated(windows(train, w), test, agreement.LONG_WINDOW_UPDATES * 50 // w,
                                           detach, seed=0)
              for w in agreement.WINDOWS}
    short, long = (curves[w] for w in agreement.WINDOWS)
    assert long[-1][1] > 0.95, long                                # ends close to 100 %
    assert long[1][1] < 0.6, long                                  # after sitting at chance a while
    assert max(a for _, a in short) < 0.65, short                  # never leaves the chance band


@pytest.mark.slow
def test_min_char_rnn_learns():
    """Section 6: with correct bptt and clipping, the loss ends well below the uniform guess."""
    setup(0)
    text = read_text("shakespeare/train.txt")[:200_000]
    chars = sorted(set(text))
    stoi = {c: i for i, c in enumerate(chars)}
    ids = torch.tensor([stoi[c] for c in text])
    losses, _ = train_min_char_rnn(ids, len(chars), 6000, None, None)    # autograd and PyTorch's clipping
    assert sum(losses[-300:]) / 300 < 0.65 * math.log(len(chars))


def test_subject_to_verb_distance():
    """'From subject to verb there are 14 to 24 tokens'."""
    train, _ = agreement.experiment_streams(seed=0)
    tokens = train.tolist()
    verbs = [i for i, t in enumerate(tokens) if t in agreement.VERBS]
    subjects = [i - 2 for i, t in enumerate(tokens) if t == agreement.WHICH]   # subject , which
    distances = [v - s for s, v in zip(subjects, verbs)]
    assert len(distances) == 4000 and min(distances) == 14 and max(distances) == 24


def test_retain_graph_trades_one_error_for_another():
    """Section 7: without detach, window 1's backward fails; with retain_graph=True it fails too,
    once the optimizer has updated the weights in place."""
    torch.manual_seed(0)
    lstm = torch.nn.LSTM(3, 4, batch_first=True)
    opt = torch.optim.SGD(lstm.parameters(), lr=0.1)
    for retain_graph, message in ((False, "backward through the graph a second time"),
                                  (True, "modified by an inplace operation")):
        state = None
        with pytest.raises(RuntimeError, match=message):
            for _ in range(2):
                out, state = lstm(torch.randn(2, 5, 3), state)
                opt.zero_grad()
                out.sum().backward(retain_graph=retain_graph)
                opt.step()

