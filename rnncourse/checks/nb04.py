"""Visible checks for notebook 04: quick comparisons with PyTorch's own LSTM and GRU modules.

Each function takes the student's function and raises ``AssertionError`` with a hint when
something is off. The grader runs more (hidden) checks; passing these is a good sign, not a
guarantee.
"""
import torch
from torch import nn

from rnncourse.checks import expect_close, visible_check

B, D, H, T = 2, 3, 4, 5


def _passed(name, n):
    print(f"✔ {name}: {n} visible checks passed")


def _inputs(seed, *shapes):
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(*s, generator=g) for s in shapes]


def _loaded(module, W_ih, W_hh, b_ih, b_hh, suffix=""):
    module.load_state_dict({f"weight_ih{suffix}": W_ih, f"weight_hh{suffix}": W_hh,
                            f"bias_ih{suffix}": b_ih, f"bias_hh{suffix}": b_hh})
    return module


def _pair(result, what):
    assert isinstance(result, tuple) and len(result) == 2, \
        f"{what} should return a pair (h, c), got {type(result).__name__}"
    return result


def _lstm_gates_as(order, x, h, c, W_ih, W_hh, b_ih, b_hh):
    """The LSTM step when the stacked rows are read as the gates in ``order`` (a known mistake)."""
    z = dict(zip(order, (x @ W_ih.T + b_ih + h @ W_hh.T + b_hh).chunk(4, dim=-1)))
    c_new = torch.sigmoid(z["f"]) * c + torch.sigmoid(z["i"]) * torch.tanh(z["g"])
    return torch.sigmoid(z["o"]) * torch.tanh(c_new), c_new


@visible_check
def lstm_cell(fn):
    x, h, c, W_ih, W_hh, b_ih, b_hh = _inputs(1, (B, D), (B, H), (B, H), (4 * H, D), (4 * H, H),
                                              (4 * H,), (4 * H,))
    h_new, c_new = _pair(fn(x, (h, c), W_ih, W_hh, b_ih, b_hh), "lstm_cell")
    assert tuple(h_new.shape) == (B, H) and tuple(c_new.shape) == (B, H), \
        (f"h and c should both be (B, H) = {(B, H)}, "
         f"got {tuple(h_new.shape)} and {tuple(c_new.shape)}")
    with torch.no_grad():
        ref_h, ref_c = _loaded(nn.LSTMCell(D, H), W_ih, W_hh, b_ih, b_hh)(x, (h, c))
    if torch.allclose(h_new, ref_c, atol=1e-5) and torch.allclose(c_new, ref_h, atol=1e-5):
        raise AssertionError("h and c are swapped: return (h_new, c_new) in that order")
    expect_close(c_new, ref_c, "c", likely={
        f"the gates are read in the order {', '.join(order)} instead of PyTorch's i, f, g, o":
            _lstm_gates_as(order, x, h, c, W_ih, W_hh, b_ih, b_hh)[1]
        for order in ("ifog", "fiog", "gifo", "oifg")})
    assert torch.allclose(h_new, ref_h, atol=1e-5), "c is right but h is not: h = o * tanh(c_new)"
    _passed("lstm_cell", 3)


@visible_check(uses=("lstm_cell",))
def lstm_forward(fn):
    x, h0, c0, W_ih, W_hh, b_ih, b_hh = _inputs(2, (B, T, D), (B, H), (B, H), (4 * H, D),
                                                (4 * H, H), (4 * H,), (4 * H,))
    result = fn(x, (h0, c0), W_ih, W_hh, b_ih, b_hh)
    assert isinstance(result, tuple) and len(result) == 2, "return (output, (h_T, c_T))"
    output, (h_T, c_T) = result[0], _pair(result[1], "the second item of lstm_forward's result")
    assert tuple(output.shape) == (B, T, H), \
        f"output should be (B, T, H) = {(B, T, H)}, got {tuple(output.shape)}"
    with torch.no_grad():
        lstm = _loaded(nn.LSTM(D, H, batch_first=True), W_ih, W_hh, b_ih, b_hh, suffix="_l0")
        ref, (h_n, c_n) = lstm(x, (h0.unsqueeze(0), c0.unsqueeze(0)))
    assert torch.allclose(output, ref, atol=1e-5), \
        "output differs from nn.LSTM's: is lstm_cell right, and are both h and c carried forward?"
    assert torch.allclose(h_T, h_n[0], atol=1e-5) and torch.allclose(c_T, c_n[0], atol=1e-5), \
        "(h_T, c_T) should be the state after the last step"
    _passed("lstm_forward", 3)


@visible_check
def peephole_lstm_cell(fn):
    x, h, c, W_ih, W_hh, b_ih, b_hh = _inputs(3, (B, D), (B, H), (B, H), (4 * H, D), (4 * H, H),
                                              (4 * H,), (4 * H,))
    zero = torch.zeros(H)
    result = fn(x, (h, c), W_ih, W_hh, b_ih, b_hh, zero, zero, zero)
    h_new, c_new = _pair(result, "peephole_lstm_cell")
    with torch.no_grad():
        ref_h, ref_c = _loaded(nn.LSTMCell(D, H), W_ih, W_hh, b_ih, b_hh)(x, (h, c))
    assert torch.allclose(h_new, ref_h, atol=1e-5) and torch.allclose(c_new, ref_c, atol=1e-5), \
        "with zero peephole weights the cell should equal nn.LSTMCell"
    # a peephole only on the forget gate: c_new follows from the forget gate alone
    w_cf = torch.full((H,), 2.0)
    _, c_peep = fn(x, (h, c), W_ih, W_hh, b_ih, b_hh, zero, w_cf, zero)
    i, f, g, _ = (x @ W_ih.T + b_ih + h @ W_hh.T + b_hh).chunk(4, dim=1)
    want = torch.sigmoid(f + w_cf * c) * c + torch.sigmoid(i) * torch.tanh(g)
    assert torch.allclose(c_peep, want, atol=1e-5), \
        "with only w_cf non-zero, c_new is wrong: the forget gate adds w_cf * c_prev (element-wise)"
    _passed("peephole_lstm_cell", 2)


@visible_check
def gru_cell(fn):
    x, h, W_ih, W_hh, b_ih, b_hh = _inputs(4, (B, D), (B, H), (3 * H, D), (3 * H, H), (3 * H,),
                                           (3 * H,))
    out = fn(x, h, W_ih, W_hh, b_ih, b_hh)
    assert isinstance(out, torch.Tensor), \
        f"gru_cell should return a tensor, got {type(out).__name__}"
    assert tuple(out.shape) == (B, H), f"h should be (B, H) = {(B, H)}, got {tuple(out.shape)}"
    with torch.no_grad():
        ref = _loaded(nn.GRUCell(D, H), W_ih, W_hh, b_ih, b_hh)(x, h)
    assert torch.allclose(out, ref, atol=1e-5), \
        ("h differs from nn.GRUCell's: order r, z, n; h = (1 - z) * n + z * h_prev; "
         "the reset gate multiplies (h W_hn^T + b_hn), after the product")
    _passed("gru_cell", 2)


@visible_check
def count_lstm_gru_params(fn):
    for d, h in ((10, 20), (10_000, 100)):
        got = fn(d, h)
        assert isinstance(got, dict) and set(got) == {"rnn", "lstm", "gru"}, \
            f"return a dict with keys 'rnn', 'lstm', 'gru', got {got!r}"
        for kind, cls in (("rnn", nn.RNN), ("lstm", nn.LSTM), ("gru", nn.GRU)):
            want = sum(p.numel() for p in cls(d, h).parameters())
            assert got[kind] == want, \
                f"{cls.__name__}({d}, {h}) has {want} parameters, you say {got[kind]}"
    _passed("count_lstm_gru_params", 2)
