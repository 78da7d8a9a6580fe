"""Hidden checks for notebook 01, RNN fundamentals.

References are PyTorch's own ``nn.RNNCell``, ``nn.RNN`` and ``nn.Linear`` with copied weights,
and autograd; sizes are all different (B=3, D=4, H=5, C=2, T=6) so that a transposed weight or
a swapped axis shows up as a wrong shape, and square cases (D == H) catch transposes that a
shape cannot.
"""
import torch
from torch import nn

from grader.checks import check, expect_close, expect_equal, expect_module, expect_shape
from rnncourse.checks.nb01 import rnn_with

B, D, H, C, T = 3, 4, 5, 2, 6

# The point of these exercises is writing the recurrence; PyTorch's versions are off limits.
# Recognised by what is reached (any spelling, nn.RNNBase with a mode string, a helper cell).
FORBIDDEN = {
    "rnn_cell": ["torch.nn.RNNCell", "torch.nn.RNN", "torch.rnn_tanh_cell", "torch.rnn_relu_cell"],
    "rnn_forward": ["torch.nn.RNNCell", "torch.nn.RNN", "torch.rnn_tanh", "torch.rnn_tanh_cell",
                    "torch.rnn_relu", "torch.rnn_relu_cell"],
}


def weights(d=D, h=H, scale=0.5):
    return scale * torch.randn(h, d), scale * torch.randn(h, h), scale * torch.randn(h)


def ref_cell(x, h, W_xh, W_hh, b):
    """A second formulation of the cell: PyTorch's own RNNCell with the bias on the input side."""
    cell = nn.RNNCell(W_xh.shape[1], W_xh.shape[0])
    with torch.no_grad():
        cell.weight_ih.copy_(W_xh)
        cell.weight_hh.copy_(W_hh)
        cell.bias_ih.copy_(b)
        cell.bias_hh.zero_()
        return cell(x, h)


def ref_rnn(x, h0, W_xh, W_hh, b):
    with torch.no_grad():
        out, h_n = rnn_with(W_xh, W_hh, b)(x, h0.unsqueeze(0))
    return out, h_n[0]


# ---- rnn_cell ----

@check("rnn_cell", points=1)
def test_rnn_cell_shape(student):
    """rnn_cell returns the new hidden state, shape (B, H)"""
    out = student.rnn_cell(torch.randn(B, D), torch.randn(B, H), *weights())
    expect_shape(out, (B, H), "h_t")


@check("rnn_cell", points=1)
def test_rnn_cell_matches_torch(student):
    """rnn_cell matches nn.RNNCell given the same weights"""
    for _ in range(3):
        x, h = torch.randn(B, D), torch.randn(B, H)
        W_xh, W_hh, b = weights()
        expect_close(student.rnn_cell(x, h, W_xh, W_hh, b), ref_cell(x, h, W_xh, W_hh, b), "h_t", likely={
            "tanh is left out": x @ W_xh.T + h @ W_hh.T + b,
            "the bias is left out": torch.tanh(x @ W_xh.T + h @ W_hh.T),
            "sigmoid is used instead of tanh": torch.sigmoid(x @ W_xh.T + h @ W_hh.T + b),
            "h_prev is ignored": torch.tanh(x @ W_xh.T + b),
        })


@check("rnn_cell", points=1)
def test_rnn_cell_each_term(student):
    """each term of tanh(x W_xh^T + h W_hh^T + b) is right on its own (square weights, D = H)"""
    x, h = torch.randn(B, H), torch.randn(B, H)
    W_xh, W_hh, b = weights(d=H)
    zero_w, zero_b = torch.zeros(H, H), torch.zeros(H)
    terms = [
        ("the input term x_t @ W_xh.T", (x, torch.zeros(B, H), W_xh, zero_w, zero_b),
         {"W_xh is used without transposing": torch.tanh(x @ W_xh)}),
        ("the recurrent term h_prev @ W_hh.T", (torch.zeros(B, H), h, zero_w, W_hh, zero_b),
         {"W_hh is used without transposing": torch.tanh(h @ W_hh),
          "W_xh multiplies h_prev (weights swapped)": torch.tanh(h @ zero_w.T)}),
        ("the bias term", (torch.zeros(B, H), torch.zeros(B, H), zero_w, zero_w, b), {}),
    ]
    for what, args, likely in terms:
        expect_close(student.rnn_cell(*args), ref_cell(*args), f"with every other term zero, {what}",
                     likely=likely)


@check("rnn_cell", points=1)
def test_rnn_cell_gradients(student):
    """gradients flow through rnn_cell to x_t, h_prev and every weight, as autograd says"""
    args = [torch.randn(B, D), torch.randn(B, H), *weights()]
    got = student.grad(student.rnn_cell, *args)
    leaves = [a.clone().requires_grad_(True) for a in args]
    ref_cell_autograd = torch.tanh(leaves[0] @ leaves[2].T + leaves[1] @ leaves[3].T + leaves[4])
    ref_cell_autograd.sum().backward()
    for name, g, leaf in zip(("x_t", "h_prev", "W_xh", "W_hh", "b"), got.arg_grads, leaves):
        if g is None:
            raise AssertionError(f"no gradient reached {name}: is it detached or converted to numpy?")
        expect_close(g, leaf.grad, f"the gradient of h_t.sum() with respect to {name}")


# ---- rnn_forward ----

@check("rnn_forward", points=1)
def test_rnn_forward_shapes(student):
    """rnn_forward returns all hidden states (B, T, H) and the last one (B, H)"""
    result = student.rnn_forward(torch.randn(B, T, D), torch.zeros(B, H), *weights())
    if not isinstance(result, tuple) or len(result) != 2:
        raise AssertionError("rnn_forward should return a pair (all_states, h_last)")
    states, last = result
    expect_shape(states, (B, T, H), "all_states", hint="batch_first: (B, T, H)")
    expect_shape(last, (B, H), "h_last")
    expect_close(last, states[:, -1], "h_last", likely={"h_last is the first state": states[:, 0]})


@check("rnn_forward", points=1)
def test_rnn_forward_with_reference_cell(student):
    """rnn_forward matches nn.RNN when it uses a correct rnn_cell (tested on its own)"""
    x, h0 = torch.randn(B, T, D), torch.randn(B, H)
    W = weights()
    ref_out, ref_last = ref_rnn(x, h0, *W)
    with student.stub("rnn_cell", ref_cell):
        states, last = student.rnn_forward(x, h0, *W)
    h0_every_step = torch.stack([ref_cell(x[:, t], h0, *W) for t in range(T)], dim=1)
    shifted = torch.cat([h0.unsqueeze(1), ref_out[:, :-1]], dim=1)
    expect_close(states, ref_out, "all_states", likely={
        "the hidden state is not carried forward (h0 is used at every step)": h0_every_step,
        "the states are shifted by one step (h0 included, the last state missing)": shifted,
    })
    expect_close(last, ref_last, "h_last", likely={"h_last is h0": h0})


@check("rnn_forward", points=1)
def test_rnn_forward_lengths(student):
    """rnn_forward handles a single step (T = 1) and a longer sequence (T = 20)"""
    for steps in (1, 20):
        x, h0 = torch.randn(2, steps, D), torch.randn(2, H)
        W = weights()
        ref_out, ref_last = ref_rnn(x, h0, *W)
        with student.stub("rnn_cell", ref_cell):
            states, last = student.rnn_forward(x, h0, *W)
        expect_close(states, ref_out, f"all_states for T = {steps}")
        expect_close(last, ref_last, f"h_last for T = {steps}")


# ---- load_into_nn_rnn ----

@check("load_into_nn_rnn", points=1)
def test_load_into_nn_rnn_is_configured(student):
    """load_into_nn_rnn returns an nn.RNN with batch_first=True and the right sizes"""
    rnn = student.load_into_nn_rnn(*weights())
    expect_module(rnn, nn.RNN, "the returned module", (torch.randn(B, T, D),),
                  input_size=D, hidden_size=H, batch_first=True)


@check("load_into_nn_rnn", points=1)
def test_load_into_nn_rnn_outputs(student):
    """the returned nn.RNN computes exactly the hand-made recurrence"""
    W_xh, W_hh, b = weights()
    rnn = student.load_into_nn_rnn(W_xh, W_hh, b)
    x, h0 = torch.randn(B, T, D), torch.randn(B, H)
    out, h_n = rnn(x, h0.unsqueeze(0))
    ref_out, _ = ref_rnn(x, h0, W_xh, W_hh, b)
    double_bias, _ = ref_rnn(x, h0, W_xh, W_hh, 2 * b)
    expect_close(out, ref_out, "the RNN's output", likely={
        "b is copied into both bias_ih_l0 and bias_hh_l0 (the bias counts twice)": double_bias,
    })


# ---- count_rnn_params ----

def torch_count(*args, **kwargs):
    return sum(p.numel() for p in nn.RNN(*args, **kwargs).parameters())


@check("count_rnn_params", points=1)
def test_count_single_layer(student):
    """count_rnn_params agrees with nn.RNN for one layer"""
    for d, h in ((10, 20), (10_000, 100), (1, 1)):
        expect_equal(student.count_rnn_params(d, h), torch_count(d, h),
                     f"parameters of nn.RNN({d}, {h})", likely={
                         "one bias vector is left out (nn.RNN has bias_ih and bias_hh)": h * d + h * h + h,
                         "the biases are left out": h * d + h * h,
                         "W_hh is left out": h * d + 2 * h})


@check("count_rnn_params", points=1)
def test_count_layers_directions_bias(student):
    """count_rnn_params handles num_layers, bidirectional and bias=False"""
    cases = [dict(num_layers=3), dict(bidirectional=True), dict(num_layers=2, bidirectional=True),
             dict(num_layers=2, bias=False)]
    for kwargs in cases:
        d, h = 7, 11
        expect_equal(student.count_rnn_params(d, h, **kwargs), torch_count(d, h, **kwargs),
                     f"parameters of nn.RNN({d}, {h}, {', '.join(f'{k}={v}' for k, v in kwargs.items())})")


# ---- heads ----

def head_weights():
    return torch.randn(C, H), torch.randn(C)


def linear_with(W, b):
    linear = nn.Linear(H, C)
    with torch.no_grad():
        linear.weight.copy_(W)
        linear.bias.copy_(b)
    return linear


@check("many_to_one_head", points=1)
def test_many_to_one_shape(student):
    """many_to_one_head returns one row of logits per sequence, shape (B, C)"""
    expect_shape(student.many_to_one_head(torch.randn(B, T, H), *head_weights()), (B, C), "logits")


@check("many_to_one_head", points=1)
def test_many_to_one_values(student):
    """many_to_one_head reads the last time step and applies the linear layer"""
    outputs = torch.randn(B, T, H)
    W, b = head_weights()
    linear = linear_with(W, b)
    with torch.no_grad():
        expected = linear(outputs[:, -1])
        expect_close(student.many_to_one_head(outputs, W, b), expected, "logits", likely={
            "the first time step is used instead of the last": linear(outputs[:, 0]),
            "the hidden states are averaged over time": linear(outputs.mean(dim=1)),
            "the bias is left out": outputs[:, -1] @ W.T,
        })


@check("many_to_many_head", points=1)
def test_many_to_many_shape(student):
    """many_to_many_head returns logits at every step, shape (B, T, C)"""
    expect_shape(student.many_to_many_head(torch.randn(B, T, H), *head_weights()), (B, T, C),
                 "logits", hint="one prediction per time step")


@check("many_to_many_head", points=1)
def test_many_to_many_values(student):
    """many_to_many_head equals nn.Linear applied to the (B, T, H) tensor (it acts on the last axis)"""
    outputs = torch.randn(B, T, H)
    W, b = head_weights()
    linear = linear_with(W, b)
    with torch.no_grad():
        expected = linear(outputs)
        time_major = linear(outputs.transpose(0, 1).reshape(B * T, H)).reshape(B, T, C)
        expect_close(student.many_to_many_head(outputs, W, b), expected, "logits", likely={
            "batch and time are mixed up by a reshape of the time-major tensor": time_major,
            "the bias is left out": outputs @ W.T,
        })


# Trusted stand-ins for a tampered exercise, so its callers are graded on their own.
REFERENCES = {"rnn_cell": ref_cell}
