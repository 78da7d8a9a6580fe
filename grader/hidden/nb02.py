"""Hidden checks for notebook 02, BPTT and gradient flow.

References are independent of any hand-written backward pass: autograd through the cell formula
and through ``nn.RNN`` with the same weights, ``torch.nn.utils.clip_grad_norm_`` on parameters
holding the same gradients, and plain slicing for the batching. Sizes differ (B=3, D=4, H=5)
so a transposed gradient shows up as a wrong shape; square cases (D == H) catch the transposes a
shape cannot.
"""
import torch
from torch import nn

from grader.checks import check, expect_close, expect_equal, expect_shape, expect_tensor, type_name
from grader.student import StudentError

B, D, H, T = 3, 4, 5, 6

FORBIDDEN = {
    "clip_grad_norm": ["torch.nn.utils.clip_grad_norm_", "torch.nn.utils.clip_grad_norm",
                       "torch.nn.utils.clip_grad.clip_grad_norm_", "torch.nn.utils.get_total_norm",
                       "torch.nn.utils.clip_grads_with_norm_"],
}


def _pair_or_tuple(result, n, what):
    if not isinstance(result, (tuple, list)) or len(result) != n:
        raise AssertionError(f"{what} should return a tuple of {n} values, got {type_name(result)}"
                             + (f" of length {len(result)}" if isinstance(result, (tuple, list)) else ""))
    return result


# ---- rnn_cell_backward ----

def cell_case(d=D, h=H, batch=B):
    x, h_prev = torch.randn(batch, d), torch.randn(batch, h)
    W_xh, W_hh, b = 0.6 * torch.randn(h, d), 0.6 * torch.randn(h, h), 0.3 * torch.randn(h)
    dh = torch.randn(batch, h)
    return x, h_prev, W_xh, W_hh, b, dh


def autograd_cell(x, h_prev, W_xh, W_hh, b, dh):
    """(h_t, [dx, dh_prev, dW_xh, dW_hh, db]) by autograd through the formula."""
    leaves = [t.clone().requires_grad_(True) for t in (x, h_prev, W_xh, W_hh, b)]
    h_t = torch.tanh(leaves[0] @ leaves[2].T + leaves[1] @ leaves[3].T + leaves[4])
    h_t.backward(dh)
    return h_t.detach(), [leaf.grad for leaf in leaves]


def cell_mistakes(x, h_prev, W_xh, W_hh, h_t, dh):
    """What the common slips produce, for each of the five gradients."""
    dz = dh * (1 - h_t ** 2)
    dz_retanh = dh * (1 - torch.tanh(h_t) ** 2)
    return [
        {"tanh' is left out (dz = dh)": dh @ W_xh,
         "tanh' is taken at h_t (1 - tanh(h_t)^2) instead of 1 - h_t^2": dz_retanh @ W_xh,
         "tanh' is written 1 - h_t instead of 1 - h_t^2": (dh * (1 - h_t)) @ W_xh},
        {"tanh' is left out (dz = dh)": dh @ W_hh,
         "W_hh is transposed (dz @ W_hh.T instead of dz @ W_hh)": dz @ W_hh.T,
         "tanh' is taken at h_t (1 - tanh(h_t)^2) instead of 1 - h_t^2": dz_retanh @ W_hh},
        {"tanh' is left out (dz = dh)": dh.T @ x,
         "tanh' is taken at h_t (1 - tanh(h_t)^2) instead of 1 - h_t^2": dz_retanh.T @ x},
        {"dW_hh is transposed (h_prev.T @ dz instead of dz.T @ h_prev)": h_prev.T @ dz,
         "tanh' is left out (dz = dh)": dh.T @ h_prev,
         "h_t is used instead of h_prev": dz.T @ h_t,
         "tanh' is taken at h_t (1 - tanh(h_t)^2) instead of 1 - h_t^2": dz_retanh.T @ h_prev},
        {"tanh' is left out (dz = dh)": dh.sum(0),
         "db is averaged over the batch instead of summed": dz.mean(0),
         "tanh' is taken at h_t (1 - tanh(h_t)^2) instead of 1 - h_t^2": dz_retanh.sum(0)},
    ]


def compare_cell(student, x, h_prev, W_xh, W_hh, b, dh, which=range(5)):
    h_t, want = autograd_cell(x, h_prev, W_xh, W_hh, b, dh)
    got = _pair_or_tuple(student.rnn_cell_backward(dh, x, h_prev, h_t, W_xh, W_hh), 5,
                         "rnn_cell_backward")
    names = ("dx_t", "dh_prev", "dW_xh", "dW_hh", "db")
    likely = cell_mistakes(x, h_prev, W_xh, W_hh, h_t, dh)
    for k in which:
        expect_close(got[k], want[k], names[k], likely=likely[k])


@check("rnn_cell_backward", points=1)
def test_cell_backward_shapes(student):
    """rnn_cell_backward returns five gradients, each shaped like what it is the gradient of"""
    x, h_prev, W_xh, W_hh, b, dh = cell_case()
    h_t = torch.tanh(x @ W_xh.T + h_prev @ W_hh.T + b)
    got = _pair_or_tuple(student.rnn_cell_backward(dh, x, h_prev, h_t, W_xh, W_hh), 5,
                         "rnn_cell_backward")
    for g, shape, name in zip(got, ((B, D), (B, H), (H, D), (H, H), (H,)),
                              ("dx_t", "dh_prev", "dW_xh", "dW_hh", "db")):
        expect_shape(g, shape, name, hint="a gradient has the shape of the tensor it belongs to")


@check("rnn_cell_backward", points=1)
def test_cell_backward_weights(student):
    """dW_xh, dW_hh and db match autograd"""
    for _ in range(2):
        compare_cell(student, *cell_case(), which=(2, 3, 4))


@check("rnn_cell_backward", points=1)
def test_cell_backward_inputs(student):
    """dx_t and dh_prev match autograd"""
    for _ in range(2):
        compare_cell(student, *cell_case(), which=(0, 1))


@check("rnn_cell_backward", points=1)
def test_cell_backward_square(student):
    """all five gradients match autograd when D = H = B (where a transpose keeps the shape)"""
    compare_cell(student, *cell_case(d=H, h=H, batch=H))


# ---- bptt ----

def rnn_case(steps=T, batch=B, d=D, h=H):
    rnn = nn.RNN(d, h, batch_first=True)
    x, h0 = torch.randn(batch, steps, d), torch.randn(batch, h)
    return rnn, x, h0


def autograd_bptt(rnn, x, h0, dstates):
    """States and [dx, dh0, dW_xh, dW_hh, db] from autograd through nn.RNN."""
    x, h0 = x.clone().requires_grad_(True), h0.clone().requires_grad_(True)
    rnn.zero_grad()
    states, _ = rnn(x, h0.unsqueeze(0))
    states.backward(dstates)
    return states.detach(), [x.grad, h0.grad, rnn.weight_ih_l0.grad.clone(),
                             rnn.weight_hh_l0.grad.clone(), rnn.bias_ih_l0.grad.clone()]


def weights_of(rnn):
    return rnn.weight_ih_l0.detach().clone(), rnn.weight_hh_l0.detach().clone()


def reference_cell_backward(dh_t, x_t, h_prev, h_t, W_xh, W_hh):
    """A trusted rnn_cell_backward, by autograd (stubbed in so bptt is tested on its own)."""
    with torch.enable_grad():   # the grader may call a stub under no_grad
        x_t, h_prev, W_xh, W_hh = (t.detach().clone().requires_grad_(True) for t in (x_t, h_prev, W_xh, W_hh))
        b = torch.zeros(W_hh.shape[0], requires_grad=True)
        z = x_t @ W_xh.T + h_prev @ W_hh.T + b
        # the forward pass's h_t fixes tanh' (1 - h_t^2); z only routes the gradient
        torch.autograd.backward(z, dh_t * (1 - h_t.detach() ** 2))
    return x_t.grad, h_prev.grad, W_xh.grad, W_hh.grad, b.grad


def bptt_mistakes(x, h0, states, W_xh, W_hh, dstates):
    """{gradient name: {mistake: what it produces}} for the common BPTT slips, with the reference step."""
    steps = x.shape[1]

    def run(carry=True, accumulate=True, prev=lambda t: states[:, t - 1] if t else h0,
            order=lambda: reversed(range(steps))):
        dx, dh_next = torch.zeros_like(x), torch.zeros_like(h0)
        totals = [torch.zeros_like(W_xh), torch.zeros_like(W_hh), torch.zeros(W_hh.shape[0])]
        for t in order():
            g = reference_cell_backward(dstates[:, t] + (dh_next if carry else 0), x[:, t], prev(t),
                                        states[:, t], W_xh, W_hh)
            dx[:, t], dh_next = g[0], g[1]
            totals = [a + b if accumulate else b for a, b in zip(totals, g[2:])]
        return [dx, dh_next, *totals]

    mistakes = {
        "the gradient is not carried back from step t + 1 (dh = dstates[:, t] only)": run(carry=False),
        "the weight gradients are overwritten at each step instead of summed over time": run(accumulate=False),
        "at t = 0 the previous state is states[:, -1] instead of h0": run(prev=lambda t: states[:, t - 1]),
        "h_t is used as the previous state (states[:, t] instead of states[:, t - 1])":
            run(prev=lambda t: states[:, t]),
        "the loop runs forwards in time (t = 0, 1, ...) instead of backwards": run(order=lambda: range(steps)),
    }
    names = ("dx", "dh0", "dW_xh", "dW_hh", "db")
    return {name: {m: grads[k] for m, grads in mistakes.items()} for k, name in enumerate(names)}


def compare_bptt(student, rnn, x, h0, dstates, label=""):
    states, want = autograd_bptt(rnn, x, h0, dstates)
    W_xh, W_hh = weights_of(rnn)
    with student.stub("rnn_cell_backward", reference_cell_backward):
        got = _pair_or_tuple(student.bptt(dstates, x, h0, states, W_xh, W_hh), 5, "bptt")
    likely = bptt_mistakes(x, h0, states, W_xh, W_hh, dstates)
    for name, g, w in zip(("dx", "dh0", "dW_xh", "dW_hh", "db"), got, want):
        expect_close(g, w, f"{name}{label}", likely=likely.get(name), atol=1e-4)


@check("bptt", points=1)
def test_bptt_shapes(student):
    """bptt returns dx (B, T, D), dh0 (B, H), dW_xh (H, D), dW_hh (H, H), db (H,)"""
    rnn, x, h0 = rnn_case()
    states, _ = autograd_bptt(rnn, x, h0, torch.zeros(B, T, H))
    with student.stub("rnn_cell_backward", reference_cell_backward):
        got = _pair_or_tuple(student.bptt(torch.randn(B, T, H), x, h0, states, *weights_of(rnn)), 5, "bptt")
    for g, shape, name in zip(got, ((B, T, D), (B, H), (H, D), (H, H), (H,)),
                              ("dx", "dh0", "dW_xh", "dW_hh", "db")):
        expect_shape(g, shape, name, hint="batch_first: (B, T, D)" if name == "dx" else None)


@check("bptt", points=1)
def test_bptt_loss_at_every_step(student):
    """with a loss at every step, bptt matches autograd through nn.RNN (reference step stubbed in)"""
    rnn, x, h0 = rnn_case()
    compare_bptt(student, rnn, x, h0, torch.randn(B, T, H))


@check("bptt", points=1)
def test_bptt_loss_at_last_step(student):
    """with a loss at the last step only (many-to-one), the gradient still reaches every step"""
    rnn, x, h0 = rnn_case()
    dstates = torch.zeros(B, T, H)
    dstates[:, -1] = torch.randn(B, H)
    compare_bptt(student, rnn, x, h0, dstates, label=" (loss at the last step only)")


@check("bptt", points=1)
def test_bptt_lengths(student):
    """bptt handles one step (T = 1) and a long sequence (T = 25)"""
    for steps in (1, 25):
        rnn, x, h0 = rnn_case(steps=steps)
        compare_bptt(student, rnn, x, h0, torch.randn(B, steps, H), label=f" for T = {steps}")


# ---- clip_grad_norm ----

def grad_list(scale):
    return [scale * torch.randn(4, 3), scale * torch.randn(7), scale * torch.randn(2, 3, 2)]


def torch_clip(grads, max_norm):
    """torch.nn.utils.clip_grad_norm_ on parameters holding these gradients: (clipped, total)."""
    params = [nn.Parameter(torch.zeros_like(g)) for g in grads]
    for p, g in zip(params, grads):
        p.grad = g.clone()
    total = nn.utils.clip_grad_norm_(params, max_norm)
    return [p.grad for p in params], total.item()


def student_clip(student, grads, max_norm):
    result = _pair_or_tuple(student.clip_grad_norm([g.clone() for g in grads], max_norm), 2,
                            "clip_grad_norm (clipped, total_norm)")
    clipped, total = result
    if not isinstance(clipped, (list, tuple)) or len(clipped) != len(grads):
        raise AssertionError(f"clipped should be a list of {len(grads)} tensors, one per gradient, in order")
    if isinstance(total, torch.Tensor) and total.numel() == 1:
        total = total.item()
    if type(total) not in (float, int):
        raise AssertionError(f"total_norm should be a number, got {type_name(total)}")
    return list(clipped), float(total)


@check("clip_grad_norm", points=1)
def test_clip_total_norm(student):
    """total_norm is the L2 norm of all gradients together, measured before clipping"""
    grads = grad_list(3.0)
    _, want = torch_clip(grads, 1.0)
    _, total = student_clip(student, grads, 1.0)
    norms = [g.norm().item() for g in grads]
    likely = {"the tensors' norms are added instead of combined as one vector": sum(norms),
              "the norm is measured after clipping": 1.0,
              "the squares are summed but the square root is not taken": want ** 2,
              "the largest single tensor norm is returned": max(norms)}
    if abs(total - want) > 1e-4 * want:
        for mistake, value in likely.items():
            if abs(total - value) <= 1e-4 * max(abs(value), 1e-8):
                raise AssertionError(f"total_norm is wrong: it is what you get when {mistake}")
        raise AssertionError(f"total_norm: expected {want:.5f}, got {total:.5f}")


@check("clip_grad_norm", points=1)
def test_clip_above_threshold(student):
    """gradients above max_norm are scaled by one common factor, exactly as clip_grad_norm_ does"""
    for scale, max_norm in ((3.0, 1.0), (10.0, 5.0)):
        grads = grad_list(scale)
        want, total = torch_clip(grads, max_norm)
        clipped, _ = student_clip(student, grads, max_norm)
        for k, (c, w, g) in enumerate(zip(clipped, want, grads)):
            expect_close(c, w, f"clipped[{k}] (max_norm={max_norm})", likely={
                "each tensor is clipped by its own norm instead of the global one": g * min(1.0, max_norm / g.norm().item()),
                "each value is clamped to [-max_norm, max_norm] (clipping by value)": g.clamp(-max_norm, max_norm),
                "the gradients are divided by the norm but not multiplied by max_norm": g / total,
            }, atol=1e-5)


@check("clip_grad_norm", points=1)
def test_clip_below_threshold(student):
    """gradients whose norm is below max_norm come back unchanged"""
    grads = grad_list(0.1)
    want, total = torch_clip(grads, 10.0)
    clipped, _ = student_clip(student, grads, 10.0)
    for k, (c, w, g) in enumerate(zip(clipped, want, grads)):
        expect_close(c, w, f"clipped[{k}] (norm {total:.3f} below max_norm 10)", likely={
            "the gradients are always rescaled to max_norm, even when their norm is below it": g * 10.0 / total,
        })


# ---- batchify ----

def stream(n):
    return torch.randint(0, 1000, (n,))


@check("batchify", points=1)
def test_batchify_shape(student):
    """batchify returns (B, N // B), the tail that does not fit dropped"""
    for n, bsz in ((103, 4), (50, 7)):
        out = student.batchify(stream(n), bsz)
        expect_shape(out, (bsz, n // bsz), f"batchify of {n} tokens into {bsz} rows",
                     hint="batch first: one row per piece of the stream")


@check("batchify", points=1)
def test_batchify_rows_are_contiguous(student):
    """row b is the b-th contiguous piece of the stream, and the tail (not the head) is dropped"""
    data, bsz = stream(103), 4
    n = 103 // bsz
    want = torch.stack([data[b * n:(b + 1) * n] for b in range(bsz)])
    expect_close(student.batchify(data, bsz), want, "batchify's rows", likely={
        "the head of the stream is dropped instead of the tail": data[103 - n * bsz:].reshape(bsz, n),
        "the stream is dealt out round-robin (reshape to (N // B, B), then transposed)":
            data[:n * bsz].reshape(n, bsz).T,
    })


@check("batchify", points=1)
def test_batchify_edge_cases(student):
    """batchify keeps every token when N divides evenly, and works with one row"""
    data = stream(60)
    expect_close(student.batchify(data, 5), data.reshape(5, 12), "batchify of 60 tokens into 5 rows")
    expect_close(student.batchify(data[:7], 1), data[:7].reshape(1, 7), "batchify with batch_size=1")


# ---- tbptt_batches ----

def reference_windows(data, bptt):
    """PyTorch word_language_model's get_batch, batch first."""
    out = []
    for i in range(0, data.shape[1] - 1, bptt):
        n = min(bptt, data.shape[1] - 1 - i)
        out.append((data[:, i:i + n], data[:, i + 1:i + 1 + n]))
    return out


def student_windows(student, data, bptt):
    windows = student.tbptt_batches(data, bptt)
    if not isinstance(windows, (list, tuple)):
        raise AssertionError(f"tbptt_batches should return a list of (x, y) pairs, got {type_name(windows)}")
    for k, w in enumerate(windows):
        if not isinstance(w, (list, tuple)) or len(w) != 2:
            raise AssertionError(f"window {k} should be a pair (x, y), got {type_name(w)}")
        expect_tensor(w[0], f"x of window {k}")
        expect_tensor(w[1], f"y of window {k}")
    return list(windows)


@check("tbptt_batches", points=1)
def test_tbptt_window_count(student):
    """tbptt_batches makes one window per bptt steps, the last one shorter when needed"""
    data = torch.randint(0, 50, (3, 23))
    for bptt in (5, 11, 22, 30):
        want = reference_windows(data, bptt)
        got = student_windows(student, data, bptt)
        expect_equal(len(got), len(want), f"number of windows for L = 23, bptt = {bptt}", likely={
            "the last, shorter window is dropped": len(want) - 1,
            "windows start every step (they overlap)": 22,
            "a window is made for the final token too (it has no next token)": len(reference_windows(
                torch.cat([data, data[:, :1]], dim=1), bptt)),
        })
        for k, (x, y) in enumerate(got):
            expect_shape(x, want[k][0].shape, f"x of window {k} (bptt = {bptt})", hint="(B, n), batch first")
            expect_shape(y, want[k][1].shape, f"y of window {k} (bptt = {bptt})",
                         hint="y has as many steps as x")


@check("tbptt_batches", points=1)
def test_tbptt_targets_are_next_tokens(student):
    """each y is its x shifted one step along the stream"""
    data = torch.randint(0, 50, (3, 23))
    for k, ((x, y), (wx, wy)) in enumerate(zip(student_windows(student, data, 5), reference_windows(data, 5))):
        expect_close(x, wx, f"x of window {k}", likely={
            "x is shifted by one (x = data[:, i + 1 : ...])": data[:, 5 * k + 1:5 * k + 1 + wx.shape[1]]})
        expect_close(y, wy, f"y of window {k}", likely={
            "y is not shifted (y equals x)": wx,
            "y is shifted by two steps": data[:, 5 * k + 2:5 * k + 2 + wy.shape[1]],
        })


@check("tbptt_batches", points=1)
def test_tbptt_covers_stream(student):
    """the windows tile the stream: every token is an input once (but the last) and a target once (but the first)"""
    data = torch.randint(0, 50, (2, 41))
    got = student_windows(student, data, 7)
    xs = torch.cat([x for x, _ in got], dim=1)
    ys = torch.cat([y for _, y in got], dim=1)
    expect_close(xs, data[:, :-1], "all x windows side by side")
    expect_close(ys, data[:, 1:], "all y windows side by side")


# ---- detach_state ----

def expect_no_history(student, state, what):
    """The result must not lead back to ``state``'s graph: backpropagating through it must find nothing."""
    try:
        student.grad(student.detach_state, state)
    except StudentError:
        return  # nothing in the result requires grad: detached
    raise AssertionError(f"{what}: the gradient still flows back through the returned state; "
                         "did you return it without .detach() (or use .clone(), which keeps the history)?")


@check("detach_state", points=1)
def test_detach_tensor(student):
    """a tensor state comes back with the same values and no history"""
    h = torch.randn(1, B, H).requires_grad_(True)
    out = student.detach_state(h)
    expect_close(out, h.detach(), "the detached state", likely={
        "the state is reset to zeros instead of detached": torch.zeros(1, B, H)})
    expect_no_history(student, h, "a tensor state")


@check("detach_state", points=1)
def test_detach_lstm_pair(student):
    """an LSTM (h, c) pair comes back as a pair, both parts with the same values and no history"""
    h, c = torch.randn(1, B, H).requires_grad_(True), torch.randn(1, B, H).requires_grad_(True)
    out = student.detach_state((h, c))
    if not isinstance(out, (tuple, list)) or len(out) != 2:
        raise AssertionError(f"an (h, c) state should come back as a pair (h, c), got {type_name(out)}")
    expect_close(out[0], h.detach(), "h of the detached pair", likely={
        "c is returned in place of h (the pair is swapped)": c.detach()})
    expect_close(out[1], c.detach(), "c of the detached pair")
    expect_no_history(student, (h, c), "an (h, c) pair")


# Trusted stand-ins for a tampered exercise, so its callers are graded on their own.
REFERENCES = {"rnn_cell_backward": reference_cell_backward}
