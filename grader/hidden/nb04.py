"""Hidden checks for notebook 04, LSTM and GRU.

References are PyTorch's own ``nn.LSTMCell``, ``nn.LSTM``, ``nn.GRUCell``, ``nn.RNN`` and
``nn.GRU`` with copied weights, and autograd. The peephole cell, which PyTorch lacks, is checked
against a second formulation written here: the peepholes as diagonal matrices appended to the
recurrent weights, evaluated in float64. Sizes all differ (B=3, D=4, H=5, T=6) so a transposed
weight or a swapped axis shows up as a wrong shape; known mistakes are recomputed from the
gate equations so a failure can name them.
"""
import itertools

import torch
from torch import nn

from grader.checks import check, expect_close, expect_equal, expect_shape

B, D, H, T = 3, 4, 5, 6

FORBIDDEN = {
    "lstm_cell": ["torch.nn.LSTMCell", "torch.nn.LSTM", "torch.lstm_cell", "torch.lstm"],
    "peephole_lstm_cell": ["torch.nn.LSTMCell", "torch.nn.LSTM", "torch.lstm_cell", "torch.lstm"],
    # reached, not named: calling the student's own lstm_cell is fine, torch.lstm_cell is not
    "lstm_forward": ["torch.nn.LSTM", "torch.nn.LSTMCell", "torch.lstm", "torch.lstm_cell"],
    "gru_cell": ["torch.nn.GRUCell", "torch.nn.GRU", "torch.gru_cell", "torch.gru"],
    "count_lstm_gru_params": ["torch.nn.RNN", "torch.nn.LSTM", "torch.nn.GRU"],
}


def weights(gates, d=D, h=H, scale=0.6):
    """(W_ih, W_hh, b_ih, b_hh) for a cell with ``gates`` stacked blocks."""
    return (scale * torch.randn(gates * h, d), scale * torch.randn(gates * h, h),
            scale * torch.randn(gates * h), scale * torch.randn(gates * h))


def loaded(module, W, suffix=""):
    names = [f"weight_ih{suffix}", f"weight_hh{suffix}", f"bias_ih{suffix}", f"bias_hh{suffix}"]
    module.load_state_dict(dict(zip(names, W)))
    return module


def pair(result, what):
    if not isinstance(result, tuple) or len(result) != 2:
        size = f" of length {len(result)}" if isinstance(result, (tuple, list)) else ""
        raise AssertionError(f"{what} should return a pair (h, c); "
                             f"got {type(result).__name__}{size}")
    return result


# ---- references ----

def ref_lstm_cell(x, state, W_ih, W_hh, b_ih, b_hh):
    """PyTorch's nn.LSTMCell with the given weights."""
    with torch.no_grad():
        return loaded(nn.LSTMCell(W_ih.shape[1], W_hh.shape[1]), (W_ih, W_hh, b_ih, b_hh))(x, state)


def lstm_by_hand(x, state, W_ih, W_hh, b_ih, b_hh, order="ifgo", mistake=None):
    """The LSTM equations, with the gate blocks read in ``order`` and an optional known mistake.

    Used only to produce the results of wrong answers, so a failure can name its cause.
    """
    h, c = state
    blocks = dict(zip(order, (x @ W_ih.T + b_ih + h @ W_hh.T + b_hh).chunk(4, dim=1)))
    i, f, o = torch.sigmoid(blocks["i"]), torch.sigmoid(blocks["f"]), torch.sigmoid(blocks["o"])
    g = torch.sigmoid(blocks["g"]) if mistake == "sigmoid g" else torch.tanh(blocks["g"])
    c_new = i * c + f * g if mistake == "forget on input" else f * c + i * g
    if mistake == "no tanh on c":
        return o * c_new, c_new
    if mistake == "old c in h":
        return o * torch.tanh(c), c_new
    return o * torch.tanh(c_new), c_new


def lstm_mistakes(x, state, W):
    """Known-wrong (h, c) results of lstm_cell, by description."""
    def wrong(mistake):
        return lstm_by_hand(x, state, *W, mistake=mistake)

    return {
        "the forget gate multiplies the candidate and the input gate the old cell "
        "(c = i * c_prev + f * g instead of f * c_prev + i * g)": wrong("forget on input"),
        "h is o * c_new without the tanh": wrong("no tanh on c"),
        "h uses the old cell c_prev instead of c_new": wrong("old c in h"),
        "the candidate g uses sigmoid instead of tanh": wrong("sigmoid g"),
        "the gates are split in the order i, f, o, g (PyTorch's is i, f, g, o)":
            lstm_by_hand(x, state, *W, order="ifog"),
        "b_hh is left out": lstm_by_hand(x, state, W[0], W[1], W[2], torch.zeros_like(W[3])),
    }


def expect_gradient(g, want, name, of):
    """A gradient returned by ``student.grad`` must exist and match autograd's."""
    if g is None:
        raise AssertionError(f"no gradient reached {name}: is it detached, or converted to numpy?")
    expect_close(g, want, f"the gradient of {of} with respect to {name}")


def expect_lstm_state(result, ref, what, mistakes):
    """Compare (h, c) with the reference, naming a known mistake when the result matches one."""
    h, c = pair(result, what)
    expect_shape(h, ref[0].shape, f"{what}: h")
    expect_shape(c, ref[1].shape, f"{what}: c")
    got, want = torch.stack([h, c]), torch.stack(list(ref))
    likely = {desc: torch.stack(list(wrong)) for desc, wrong in mistakes.items()}
    swapped = torch.stack([ref[1], ref[0]])
    likely["h and c are returned in the wrong order (return (h_new, c_new))"] = swapped
    expect_close(got, want, f"{what}: (h, c)", likely=likely)


# ---- lstm_cell ----

@check("lstm_cell", points=1)
def test_lstm_cell_shapes(student):
    """lstm_cell returns a pair (h, c), each of shape (B, H)"""
    state = (torch.randn(B, H), torch.randn(B, H))
    h, c = pair(student.lstm_cell(torch.randn(B, D), state, *weights(4)), "lstm_cell")
    expect_shape(h, (B, H), "h_new")
    expect_shape(c, (B, H), "c_new")


@check("lstm_cell", points=2)
def test_lstm_cell_matches_torch(student):
    """lstm_cell matches nn.LSTMCell given the same weights (three random draws)"""
    for _ in range(3):
        x, state, W = torch.randn(B, D), (torch.randn(B, H), torch.randn(B, H)), weights(4)
        expect_lstm_state(student.lstm_cell(x, state, *W), ref_lstm_cell(x, state, *W),
                          "lstm_cell", lstm_mistakes(x, state, W))


@check("lstm_cell", points=1)
def test_lstm_cell_gate_order(student):
    """each gate reads its own block of rows, in PyTorch's order i, f, g, o (biases only)"""
    zero_W = (torch.zeros(4 * H, D), torch.zeros(4 * H, H))
    b_ih, b_hh = 1.5 * torch.randn(4 * H), torch.zeros(4 * H)
    x, state = torch.randn(B, D), (torch.randn(B, H), 2 * torch.randn(B, H))
    W = (*zero_W, b_ih, b_hh)
    mistakes = {f"the gates are split in the order {', '.join(order)} (PyTorch's is i, f, g, o)":
                lstm_by_hand(x, state, *W, order="".join(order))
                for order in itertools.permutations("ifgo") if "".join(order) != "ifgo"}
    mistakes.update(lstm_mistakes(x, state, W))
    expect_lstm_state(student.lstm_cell(x, state, *W), ref_lstm_cell(x, state, *W),
                      "with every weight zero and only the biases set, lstm_cell", mistakes)


@check("lstm_cell", points=1)
def test_lstm_cell_gradients(student):
    """gradients flow through lstm_cell to x and every weight and bias, as autograd says"""
    x, state, W = torch.randn(B, D), (torch.randn(B, H), torch.randn(B, H)), weights(4)
    got = student.grad(student.lstm_cell, x, state, *W)
    cell = loaded(nn.LSTMCell(D, H), W)
    x_ref = x.clone().requires_grad_(True)
    h_ref, c_ref = cell(x_ref, state)
    (h_ref.sum() + c_ref.sum()).backward()
    wanted = [("x", x_ref.grad), ("W_ih", cell.weight_ih.grad), ("W_hh", cell.weight_hh.grad),
              ("b_ih", cell.bias_ih.grad), ("b_hh", cell.bias_hh.grad)]
    for (name, want), g in zip(wanted, [got.arg_grads[0], *got.arg_grads[2:]]):
        expect_gradient(g, want, name, "h.sum() + c.sum()")


# ---- lstm_forward ----

def ref_lstm(x, state, W):
    """PyTorch's nn.LSTM(batch_first=True) with the given weights: (output, (h_T, c_T))."""
    with torch.no_grad():
        lstm = loaded(nn.LSTM(x.shape[2], W[1].shape[1], batch_first=True), W, suffix="_l0")
        out, (h_n, c_n) = lstm(x, (state[0].unsqueeze(0), state[1].unsqueeze(0)))
    return out, (h_n[0], c_n[0])


def unroll_with(x, state, W, carry_h=True, carry_c=True, keep="h"):
    """Unroll the reference cell with a known bookkeeping mistake; returns (output, final state)."""
    h0, c0 = state
    h, c, outs = h0, c0, []
    for t in range(x.shape[1]):
        h_new, c_new = ref_lstm_cell(x[:, t], (h if carry_h else h0, c if carry_c else c0), *W)
        h, c = h_new, c_new
        outs.append(h if keep == "h" else c)
    return torch.stack(outs, dim=1), (h, c)


def expect_lstm_sequence(result, ref, what, likely_outputs=None, likely_states=None):
    if not isinstance(result, tuple) or len(result) != 2:
        raise AssertionError(f"{what} should return (output, (h_T, c_T))")
    output, final = result
    h_T, c_T = pair(final, f"{what}'s second item")
    ref_out, (ref_h, ref_c) = ref
    expect_shape(output, ref_out.shape, f"{what}: output", hint="batch_first: (B, T, H)")
    expect_close(output, ref_out, f"{what}: output", likely=likely_outputs)
    expect_close(torch.stack([h_T, c_T]), torch.stack([ref_h, ref_c]), f"{what}: (h_T, c_T)",
                 likely=likely_states)


@check("lstm_forward", points=1)
def test_lstm_forward_shapes(student):
    """lstm_forward returns output (B, T, H) and the final pair (h_T, c_T), each (B, H)"""
    x, state = torch.randn(B, T, D), (torch.zeros(B, H), torch.zeros(B, H))
    result = student.lstm_forward(x, state, *weights(4))
    if not isinstance(result, tuple) or len(result) != 2:
        raise AssertionError("lstm_forward should return (output, (h_T, c_T))")
    output, final = result
    h_T, c_T = pair(final, "lstm_forward's second item")
    expect_shape(output, (B, T, H), "output", hint="batch_first: (B, T, H)")
    expect_shape(h_T, (B, H), "h_T", hint="no layer axis: (B, H)")
    expect_shape(c_T, (B, H), "c_T", hint="no layer axis: (B, H)")
    expect_close(h_T, output[:, -1], "h_T", likely={"h_T is the first step's h": output[:, 0]})


@check("lstm_forward", points=1)
def test_lstm_forward_matches_torch(student):
    """lstm_forward (with your lstm_cell) matches nn.LSTM(batch_first=True) with copied weights"""
    x, state, W = torch.randn(B, T, D), (torch.randn(B, H), torch.randn(B, H)), weights(4)
    expect_lstm_sequence(student.lstm_forward(x, state, *W), ref_lstm(x, state, W), "lstm_forward")


@check("lstm_forward", points=1)
def test_lstm_forward_with_reference_cell(student):
    """lstm_forward carries both h and c from step to step (tested with a correct lstm_cell)"""
    x, state, W = torch.randn(B, T, D), (torch.randn(B, H), torch.randn(B, H)), weights(4)
    ref = ref_lstm(x, state, W)
    zeros = (torch.zeros(B, H), torch.zeros(B, H))
    mistakes = {
        "the cell state is not carried forward (c0 is used at every step)":
            unroll_with(x, state, W, carry_c=False),
        "the hidden state is not carried forward (h0 is used at every step)":
            unroll_with(x, state, W, carry_h=False),
        "neither state is carried forward": unroll_with(x, state, W, carry_h=False, carry_c=False),
        "the given initial state is ignored (zeros are used)": unroll_with(x, zeros, W),
    }
    cells_out = unroll_with(x, state, W, keep="c")[0]
    likely_outputs = {desc: out for desc, (out, _) in mistakes.items()}
    likely_outputs["output holds the cell states c_t instead of the hidden states h_t"] = cells_out
    likely_states = {desc: torch.stack(list(final)) for desc, (_, final) in mistakes.items()}
    ref_h, ref_c = ref[1]
    likely_states["h_T and c_T are returned in the wrong order"] = torch.stack([ref_c, ref_h])
    likely_states["(h0, c0) is returned instead of the final state"] = torch.stack(list(state))
    with student.stub("lstm_cell", ref_lstm_cell):
        result = student.lstm_forward(x, state, *W)
    expect_lstm_sequence(result, ref, "lstm_forward", likely_outputs, likely_states)


@check("lstm_forward", points=1)
def test_lstm_forward_lengths(student):
    """lstm_forward handles a single step (T = 1), a longer sequence (T = 12) and a batch of one"""
    for batch, steps in ((B, 1), (2, 12), (1, T)):
        x, W = torch.randn(batch, steps, D), weights(4)
        state = (torch.randn(batch, H), torch.randn(batch, H))
        with student.stub("lstm_cell", ref_lstm_cell):
            result = student.lstm_forward(x, state, *W)
        expect_lstm_sequence(result, ref_lstm(x, state, W),
                             f"lstm_forward with B = {batch}, T = {steps}")


# ---- peephole_lstm_cell ----

def ref_peephole(x, state, W_ih, W_hh, b_ih, b_hh, w_ci, w_cf, w_co):
    """A second formulation: the peepholes are diagonal blocks of an augmented recurrent matrix.

    The gates read [h, c_prev] through [[W_hh_i, diag(w_ci)], [W_hh_f, diag(w_cf)], [W_hh_g, 0],
    [W_hh_o, 0]]; the output gate then adds diag(w_co) c_new. Computed in float64.
    """
    x, W_ih, W_hh, b = x.double(), W_ih.double(), W_hh.double(), (b_ih + b_hh).double()
    h, c = state[0].double(), state[1].double()
    n = h.shape[1]
    zero = torch.zeros(n, n, dtype=torch.float64)
    peep = torch.cat([torch.diag(w_ci.double()), torch.diag(w_cf.double()), zero, zero], dim=0)
    W_aug = torch.cat([W_hh, peep], dim=1)                                   # (4H, 2H)
    pre = (torch.einsum("gd,bd->bg", W_ih, x)
           + torch.einsum("gk,bk->bg", W_aug, torch.cat([h, c], dim=1)) + b)
    i, f, o_part = torch.sigmoid(pre[:, :n]), torch.sigmoid(pre[:, n:2 * n]), pre[:, 3 * n:]
    c_new = f * c + i * torch.tanh(pre[:, 2 * n:3 * n])
    o = torch.sigmoid(o_part + c_new @ torch.diag(w_co.double()))
    return (o * torch.tanh(c_new)).float(), c_new.float()


def peephole_mistakes(x, state, W, w_ci, w_cf, w_co):
    """Known-wrong (h, c) results of peephole_lstm_cell, by description."""
    h, c = state
    i, f, g, o = (x @ W[0].T + W[2] + h @ W[1].T + W[3]).chunk(4, dim=1)
    c_new = torch.sigmoid(f + w_cf * c) * c + torch.sigmoid(i + w_ci * c) * torch.tanh(g)
    c_swapped = torch.sigmoid(f + w_ci * c) * c + torch.sigmoid(i + w_cf * c) * torch.tanh(g)
    c_after = (torch.sigmoid(f) + w_cf * c) * c + (torch.sigmoid(i) + w_ci * c) * torch.tanh(g)
    c_plain = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
    return {
        "the output gate peeks at the old cell c_prev instead of the new c_t":
            (torch.sigmoid(o + w_co * c) * torch.tanh(c_new), c_new),
        "the input and forget peepholes are swapped (w_ci on f, w_cf on i)":
            (torch.sigmoid(o + w_co * c_swapped) * torch.tanh(c_swapped), c_swapped),
        "the peephole terms are added after the sigmoid instead of inside it":
            ((torch.sigmoid(o) + w_co * c_after) * torch.tanh(c_after), c_after),
        "the peepholes are left out": (torch.sigmoid(o) * torch.tanh(c_plain), c_plain),
    }


def peepholes(scale=1.0):
    return tuple(scale * torch.randn(H) for _ in range(3))


@check("peephole_lstm_cell", points=1)
def test_peephole_zero_is_lstm(student):
    """with all peephole weights zero, peephole_lstm_cell equals nn.LSTMCell"""
    x, state, W = torch.randn(B, D), (torch.randn(B, H), torch.randn(B, H)), weights(4)
    zero = torch.zeros(H)
    expect_lstm_state(student.peephole_lstm_cell(x, state, *W, zero, zero, zero),
                      ref_lstm_cell(x, state, *W), "peephole_lstm_cell with zero peepholes",
                      lstm_mistakes(x, state, W))


@check("peephole_lstm_cell", points=1)
def test_peephole_matches_second_formulation(student):
    """peephole_lstm_cell matches an independent formulation (peepholes as diagonal matrices)"""
    for _ in range(3):
        x, W, P = torch.randn(B, D), weights(4), peepholes()
        state = (torch.randn(B, H), 2 * torch.randn(B, H))
        expect_lstm_state(student.peephole_lstm_cell(x, state, *W, *P),
                          ref_peephole(x, state, *W, *P),
                          "peephole_lstm_cell", peephole_mistakes(x, state, W, *P))


@check("peephole_lstm_cell", points=1)
def test_peephole_each_connection(student):
    """each peephole on its own: w_ci and w_cf see c_prev, w_co sees the new c_t"""
    x, state, W = torch.randn(B, D), (torch.randn(B, H), 2 * torch.randn(B, H)), weights(4)
    zero = torch.zeros(H)
    for k, name in enumerate(("w_ci (input gate)", "w_cf (forget gate)", "w_co (output gate)")):
        P = [zero, zero, zero]
        P[k] = 1.5 * torch.randn(H)
        expect_lstm_state(student.peephole_lstm_cell(x, state, *W, *P),
                          ref_peephole(x, state, *W, *P),
                          f"with only {name} non-zero, peephole_lstm_cell",
                          peephole_mistakes(x, state, W, *P))


@check("peephole_lstm_cell", points=1)
def test_peephole_gradients(student):
    """gradients reach x, the weights and all three peephole vectors, as autograd says"""
    x, W, P = torch.randn(B, D), weights(4), peepholes()
    state = (torch.randn(B, H), torch.randn(B, H))
    got = student.grad(student.peephole_lstm_cell, x, state, *W, *P)
    leaves = [a.double().requires_grad_(True) for a in (x, *W, *P)]
    h_ref, c_ref = ref_peephole(leaves[0], state, *leaves[1:])
    (h_ref.sum() + c_ref.sum()).backward()
    names = ("x", "W_ih", "W_hh", "b_ih", "b_hh", "w_ci", "w_cf", "w_co")
    for name, g, leaf in zip(names, [got.arg_grads[0], *got.arg_grads[2:]], leaves):
        expect_gradient(g, leaf.grad.float(), name, "h.sum() + c.sum()")


# ---- gru_cell ----

def ref_gru_cell(x, h, W):
    with torch.no_grad():
        return loaded(nn.GRUCell(W[0].shape[1], W[1].shape[1]), W)(x, h)


def gru_by_hand(x, h, W_ih, W_hh, b_ih, b_hh, order="rzn", mistake=None):
    """The GRU equations with the blocks read in ``order`` and an optional known mistake."""
    gx = dict(zip(order, (x @ W_ih.T + b_ih).chunk(3, dim=1)))
    gh = dict(zip(order, (h @ W_hh.T + b_hh).chunk(3, dim=1)))
    r, z = torch.sigmoid(gx["r"] + gh["r"]), torch.sigmoid(gx["z"] + gh["z"])
    W_hn, b_hn = dict(zip(order, W_hh.chunk(3, dim=0)))["n"], dict(zip(order, b_hh.chunk(3)))["n"]
    if mistake == "reset before product":
        n = torch.tanh(gx["n"] + (r * h) @ W_hn.T + b_hn)
    elif mistake == "b_hn outside reset":
        n = torch.tanh(gx["n"] + r * (h @ W_hn.T) + b_hn)
    elif mistake == "no reset":
        n = torch.tanh(gx["n"] + gh["n"])
    else:
        n = torch.tanh(gx["n"] + r * gh["n"])
    if mistake == "z weights n":
        return z * n + (1 - z) * h
    return (1 - z) * n + z * h


def gru_mistakes(x, h, W):
    return {
        "the reset gate is applied before the matrix product, (r * h) W_hn^T (the d2l / Cho et al. "
        "form; PyTorch computes r * (h W_hn^T + b_hn))":
            gru_by_hand(x, h, *W, mistake="reset before product"),
        "b_hn is added outside the reset gate (PyTorch puts it inside: r * (h W_hn^T + b_hn))":
            gru_by_hand(x, h, *W, mistake="b_hn outside reset"),
        "the update is z * n + (1 - z) * h_prev (the lecture notes' convention; PyTorch's is "
        "(1 - z) * n + z * h_prev)": gru_by_hand(x, h, *W, mistake="z weights n"),
        "the reset gate is left out of the candidate": gru_by_hand(x, h, *W, mistake="no reset"),
    }


@check("gru_cell", points=1)
def test_gru_cell_shape(student):
    """gru_cell returns the new hidden state, shape (B, H)"""
    out = student.gru_cell(torch.randn(B, D), torch.randn(B, H), *weights(3))
    expect_shape(out, (B, H), "h_new")


@check("gru_cell", points=1)
def test_gru_cell_matches_torch(student):
    """gru_cell matches nn.GRUCell given the same weights (three random draws)"""
    for _ in range(3):
        x, h, W = torch.randn(B, D), torch.randn(B, H), weights(3)
        likely = gru_mistakes(x, h, W)
        likely["the gates are split in the order z, r, n (PyTorch's is r, z, n)"] = \
            gru_by_hand(x, h, *W, order="zrn")
        expect_close(student.gru_cell(x, h, *W), ref_gru_cell(x, h, W), "h_new", likely=likely)


@check("gru_cell", points=1)
def test_gru_cell_gate_order(student):
    """each block of rows is used for its own gate, in PyTorch's order r, z, n (biases only)"""
    W = (torch.zeros(3 * H, D), torch.zeros(3 * H, H),
         1.5 * torch.randn(3 * H), 1.5 * torch.randn(3 * H))
    x, h = torch.randn(B, D), torch.randn(B, H)
    likely = {f"the gates are split in the order {', '.join(order)} (PyTorch's is r, z, n)":
              gru_by_hand(x, h, *W, order="".join(order))
              for order in itertools.permutations("rzn") if "".join(order) != "rzn"}
    likely.update(gru_mistakes(x, h, W))
    expect_close(student.gru_cell(x, h, *W), ref_gru_cell(x, h, W),
                 "with every weight zero and only the biases set, h_new", likely=likely)


@check("gru_cell", points=1)
def test_gru_cell_gradients(student):
    """gradients flow through gru_cell to x, h_prev and every weight and bias, as autograd says"""
    x, h, W = torch.randn(B, D), torch.randn(B, H), weights(3)
    got = student.grad(student.gru_cell, x, h, *W)
    cell = loaded(nn.GRUCell(D, H), W)
    x_ref, h_ref = x.clone().requires_grad_(True), h.clone().requires_grad_(True)
    cell(x_ref, h_ref).sum().backward()
    wanted = [("x", x_ref.grad), ("h_prev", h_ref.grad),
              ("W_ih", cell.weight_ih.grad), ("W_hh", cell.weight_hh.grad),
              ("b_ih", cell.bias_ih.grad), ("b_hh", cell.bias_hh.grad)]
    for (name, want), g in zip(wanted, got.arg_grads):
        expect_gradient(g, want, name, "h_new.sum()")


# ---- count_lstm_gru_params ----

SIZES = ((10, 20), (10_000, 100), (1, 1), (300, 256))


def torch_count(cls, d, h):
    return sum(p.numel() for p in cls(d, h).parameters())


def count_for(student, d, h, kind):
    counts = student.count_lstm_gru_params(d, h)
    if not isinstance(counts, dict) or kind not in counts:
        keys = f" with keys {sorted(counts)}" if isinstance(counts, dict) else ""
        raise AssertionError("count_lstm_gru_params should return a dict with keys 'rnn', 'lstm' "
                             f"and 'gru'; got {type(counts).__name__}{keys}")
    return counts[kind]


def block(d, h, biases=2):
    return h * (d + h + biases)


def expect_count(got, want, what, likely):
    likely["the count is a float (from a / division); return an int"] = float(want)
    expect_equal(got, want, what, likely=likely)


@check("count_lstm_gru_params", points=1)
def test_count_rnn(student):
    """the 'rnn' count agrees with nn.RNN for several sizes"""
    for d, h in SIZES:
        expect_count(count_for(student, d, h, "rnn"), torch_count(nn.RNN, d, h),
                     f"parameters of nn.RNN({d}, {h})", likely={
                         "one bias vector is counted (nn.RNN has bias_ih and bias_hh)":
                             block(d, h, 1),
                         "the biases are left out": block(d, h, 0)})


@check("count_lstm_gru_params", points=1)
def test_count_lstm(student):
    """the 'lstm' count agrees with nn.LSTM for several sizes (4 gates)"""
    for d, h in SIZES:
        expect_count(count_for(student, d, h, "lstm"), torch_count(nn.LSTM, d, h),
                     f"parameters of nn.LSTM({d}, {h})", likely={
                         "one bias vector per gate is counted (PyTorch has bias_ih and bias_hh)":
                             4 * block(d, h, 1),
                         "the biases are left out": 4 * block(d, h, 0),
                         "the LSTM is counted with three gate blocks (it has four: i, f, g, o)":
                             3 * block(d, h),
                         "W_hh is counted as (4H, D) instead of (4H, H)": 4 * h * (2 * d + 2)})


@check("count_lstm_gru_params", points=1)
def test_count_gru(student):
    """the 'gru' count agrees with nn.GRU for several sizes (3 blocks)"""
    for d, h in SIZES:
        expect_count(count_for(student, d, h, "gru"), torch_count(nn.GRU, d, h),
                     f"parameters of nn.GRU({d}, {h})", likely={
                         "one bias vector per block is counted (PyTorch has bias_ih and bias_hh)":
                             3 * block(d, h, 1),
                         "the GRU is counted with two blocks (it has three: r, z, n)":
                             2 * block(d, h),
                         "the GRU is counted with four blocks, as an LSTM (it has three: r, z, n)":
                             4 * block(d, h)})


# Trusted stand-ins for a tampered exercise, so its callers are graded on their own.
REFERENCES = {"lstm_cell": ref_lstm_cell}
