"""Visible checks for notebook 01: quick comparisons with PyTorch's own modules.

Each function takes the student's function and raises ``AssertionError`` with a hint when
something is off. The grader runs more (hidden) checks; passing these is a good sign, not a
guarantee.
"""
import torch
from torch import nn

from rnncourse.checks import expect_close, visible_check

B, D, H, C, T = 2, 3, 4, 2, 5


def _passed(name, n):
    print(f"✔ {name}: {n} visible checks passed")


def rnn_with(W_xh, W_hh, b):
    """An nn.RNN(batch_first=True) computing tanh(x W_xh^T + h W_hh^T + b): the reference."""
    rnn = nn.RNN(W_xh.shape[1], W_xh.shape[0], batch_first=True)
    with torch.no_grad():
        rnn.weight_ih_l0.copy_(W_xh)
        rnn.weight_hh_l0.copy_(W_hh)
        rnn.bias_ih_l0.copy_(b)
        rnn.bias_hh_l0.zero_()
    return rnn


def _weights():
    g = torch.Generator().manual_seed(1)
    return (torch.randn(H, D, generator=g), torch.randn(H, H, generator=g), torch.randn(H, generator=g))


@visible_check
def rnn_cell(fn):
    W_xh, W_hh, b = _weights()
    g = torch.Generator().manual_seed(2)
    x, h = torch.randn(B, D, generator=g), torch.randn(B, H, generator=g)
    out = fn(x, h, W_xh, W_hh, b)
    assert isinstance(out, torch.Tensor), f"rnn_cell should return a tensor, got {type(out).__name__}"
    assert tuple(out.shape) == (B, H), f"h_t should have shape (B, H) = {(B, H)}, got {tuple(out.shape)}"
    with torch.no_grad():
        _, h_n = rnn_with(W_xh, W_hh, b)(x.unsqueeze(1), h.unsqueeze(0))
    expect_close(out, h_n[0], "h_t", likely={
        "tanh is left out": x @ W_xh.T + h @ W_hh.T + b,
        "the bias is left out": torch.tanh(x @ W_xh.T + h @ W_hh.T),
        "sigmoid is used instead of tanh": torch.sigmoid(x @ W_xh.T + h @ W_hh.T + b),
        "h_prev is ignored": torch.tanh(x @ W_xh.T + b),
        "W_hh is not transposed (h_prev @ W_hh instead of h_prev @ W_hh.T)": torch.tanh(x @ W_xh.T + h @ W_hh + b)})
    _passed("rnn_cell", 3)


@visible_check(uses=("rnn_cell",))
def rnn_forward(fn):
    W_xh, W_hh, b = _weights()
    g = torch.Generator().manual_seed(3)
    x, h0 = torch.randn(B, T, D, generator=g), torch.randn(B, H, generator=g)
    states, last = fn(x, h0, W_xh, W_hh, b)
    assert tuple(states.shape) == (B, T, H), f"all_states should be (B, T, H) = {(B, T, H)}, got {tuple(states.shape)}"
    assert tuple(last.shape) == (B, H), f"h_last should be (B, H), got {tuple(last.shape)}"
    with torch.no_grad():
        ref, h_n = rnn_with(W_xh, W_hh, b)(x, h0.unsqueeze(0))
    h0_every_step = torch.tanh(x @ W_xh.T + (h0 @ W_hh.T).unsqueeze(1) + b)
    expect_close(states, ref, "all_states", likely={
        "the hidden state is not carried forward (h0 is used at every step)": h0_every_step,
        "the states are shifted by one step (h0 included, the last state missing)":
            torch.cat([h0.unsqueeze(1), ref[:, :-1]], dim=1)})
    assert torch.allclose(last, h_n[0], atol=1e-5), "h_last should be the state after the last step"
    _passed("rnn_forward", 4)


@visible_check
def load_into_nn_rnn(fn):
    W_xh, W_hh, b = _weights()
    rnn = fn(W_xh, W_hh, b)
    assert rnn.batch_first is True, "create the nn.RNN with batch_first=True"
    g = torch.Generator().manual_seed(4)
    x = torch.randn(B, T, D, generator=g)
    out, _ = rnn(x)
    with torch.no_grad():
        ref, _ = rnn_with(W_xh, W_hh, b)(x)
    assert torch.allclose(out, ref, atol=1e-5), "outputs differ: which of nn.RNN's four tensors gets each weight?"
    _passed("load_into_nn_rnn", 2)


@visible_check
def count_rnn_params(fn):
    for d, h in ((10, 20), (10_000, 100)):
        want = sum(p.numel() for p in nn.RNN(d, h).parameters())
        got = fn(d, h)
        assert got == want, f"nn.RNN({d}, {h}) has {want} parameters, count_rnn_params says {got}"
    _passed("count_rnn_params", 2)


@visible_check
def many_to_one_head(fn):
    g = torch.Generator().manual_seed(5)
    outputs, W, b = torch.randn(B, T, H, generator=g), torch.randn(C, H, generator=g), torch.randn(C, generator=g)
    logits = fn(outputs, W, b)
    assert tuple(logits.shape) == (B, C), f"logits should be (B, C) = {(B, C)}, got {tuple(logits.shape)}"
    assert torch.allclose(logits, outputs[:, -1] @ W.T + b, atol=1e-5), "use the last time step's hidden state"
    _passed("many_to_one_head", 2)


@visible_check
def many_to_many_head(fn):
    g = torch.Generator().manual_seed(6)
    outputs, W, b = torch.randn(B, T, H, generator=g), torch.randn(C, H, generator=g), torch.randn(C, generator=g)
    logits = fn(outputs, W, b)
    assert tuple(logits.shape) == (B, T, C), f"logits should be (B, T, C) = {(B, T, C)}, got {tuple(logits.shape)}"
    assert torch.allclose(logits[:, 0], outputs[:, 0] @ W.T + b, atol=1e-5), "step 0's logits are wrong"
    _passed("many_to_many_head", 2)
