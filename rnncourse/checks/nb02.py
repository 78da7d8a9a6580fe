"""Visible checks for notebook 02: hand-written gradients against autograd, clipping against PyTorch.

Each function takes the student's function and raises ``AssertionError`` with a hint when
something is off. The grader runs more (hidden) checks; passing these is a good sign, not a
guarantee.
"""
import torch
from torch import nn

from rnncourse.checks import expect_close, visible_check

B, D, H, T = 2, 3, 4, 5
GRAD_NAMES = ("dx_t", "dh_prev", "dW_xh", "dW_hh", "db")


def _passed(name, n):
    print(f"✔ {name}: {n} visible checks passed")


def _tensors(seed, *shapes):
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(*s, generator=g) for s in shapes]


def _expect_grads(got, want, names, fn_name):
    assert isinstance(got, (tuple, list)) and len(got) == len(want), \
        f"{fn_name} should return a tuple of {len(want)} tensors {names}"
    for name, g, w in zip(names, got, want):
        assert isinstance(g, torch.Tensor), f"{name} should be a tensor, got {type(g).__name__}"
        assert tuple(g.shape) == tuple(w.shape), \
            f"{name} should have shape {tuple(w.shape)} (the shape of what it is the gradient of), got {tuple(g.shape)}"
        assert torch.allclose(g, w, atol=1e-5), f"{name} differs from autograd's"


@visible_check
def rnn_cell_backward(fn):
    x, h_prev, W_xh, W_hh, b, dh = _tensors(1, (B, D), (B, H), (H, D), (H, H), (H,), (B, H))
    leaves = [t.clone().requires_grad_(True) for t in (x, h_prev, W_xh, W_hh, b)]
    h_t = torch.tanh(leaves[0] @ leaves[2].T + leaves[1] @ leaves[3].T + leaves[4])
    h_t.backward(dh)
    got = fn(dh, x, h_prev, h_t.detach(), W_xh, W_hh)
    h = h_t.detach()
    for mistake, dz in (("tanh' is taken at h_t (1 - tanh(h_t)^2) instead of 1 - h_t^2", dh * (1 - torch.tanh(h) ** 2)),
                        ("tanh' is left out (dz = dh)", dh)):
        if isinstance(got, (tuple, list)) and len(got) == 5 and isinstance(got[1], torch.Tensor) \
                and got[1].shape == h_prev.shape and torch.allclose(got[1], dz @ W_hh, atol=1e-5):
            raise AssertionError(f"dh_prev is wrong: it is what you get when {mistake}")
    _expect_grads(got, [leaf.grad for leaf in leaves], GRAD_NAMES, "rnn_cell_backward")
    _passed("rnn_cell_backward", 3)


@visible_check(uses=("rnn_cell_backward",))
def bptt(fn):
    x, h0, dstates = _tensors(2, (B, T, D), (B, H), (B, T, H))
    rnn = nn.RNN(D, H, batch_first=True)
    h0 = h0.requires_grad_(True)
    x = x.requires_grad_(True)
    states, _ = rnn(x, h0.unsqueeze(0))
    (states * dstates).sum().backward()
    got = fn(dstates, x.detach(), h0.detach(), states.detach(), rnn.weight_ih_l0.detach(),
             rnn.weight_hh_l0.detach())
    want = [x.grad, h0.grad, rnn.weight_ih_l0.grad, rnn.weight_hh_l0.grad, rnn.bias_ih_l0.grad]
    _expect_grads(got, want, ("dx", "dh0", "dW_xh", "dW_hh", "db"), "bptt")
    _passed("bptt", 3)


@visible_check
def clip_grad_norm(fn):
    grads = _tensors(3, (4, 3), (4,), (2, 2, 2))
    for max_norm in (1.0, 100.0):
        params = [nn.Parameter(torch.zeros_like(g)) for g in grads]
        for p, g in zip(params, grads):
            p.grad = g.clone()
        want_norm = nn.utils.clip_grad_norm_(params, max_norm)
        clipped, total = fn([g.clone() for g in grads], max_norm)
        norms = [g.norm().item() for g in grads]
        for mistake, value in (("the tensors' norms are added instead of combined as one vector", sum(norms)),
                               ("the largest single tensor norm is returned", max(norms)),
                               ("the norm is measured after clipping", min(max_norm, want_norm.item()))):
            if abs(value - want_norm.item()) > 1e-3 and abs(float(total) - value) < 1e-4 * value:
                raise AssertionError(f"total_norm is what you get when {mistake}")
        assert abs(float(total) - want_norm.item()) < 1e-4 * want_norm.item(), \
            f"total_norm should be {want_norm.item():.4f} (the norm of all gradients together, before clipping), got {float(total):.4f}"
        assert len(clipped) == len(grads), "return one clipped tensor per gradient, in order"
        for k, (c, p, g) in enumerate(zip(clipped, params, grads)):
            expect_close(c, p.grad, f"clipped[{k}] (max_norm={max_norm})", atol=1e-6, likely={
                "each tensor is clipped by its own norm instead of the global one": g * min(1.0, max_norm / g.norm().item()),
                "each value is clamped to [-max_norm, max_norm] (clipping by value)": g.clamp(-max_norm, max_norm),
                "the gradients are always rescaled to max_norm, even when their norm is below it":
                    g * max_norm / want_norm.item()})
    _passed("clip_grad_norm", 3)


@visible_check
def batchify(fn):
    out = fn(torch.arange(26), 4)
    assert isinstance(out, torch.Tensor), f"batchify should return a tensor, got {type(out).__name__}"
    assert tuple(out.shape) == (4, 6), f"26 tokens in 4 rows should give shape (4, 6), got {tuple(out.shape)}"
    assert out[1].tolist() == list(range(6, 12)), \
        f"row 1 should be the second contiguous piece [6, ..., 11], got {out[1].tolist()}"
    _passed("batchify", 2)


@visible_check
def tbptt_batches(fn):
    data = torch.arange(20).reshape(2, 10)
    windows = list(fn(data, 4))
    assert len(windows) == 3, f"10 steps with bptt=4 give 3 windows (4, 4 and 1 steps), got {len(windows)}"
    x, y = windows[0]
    assert x.tolist() == [[0, 1, 2, 3], [10, 11, 12, 13]], f"the first x should be data[:, 0:4], got {x.tolist()}"
    assert y.tolist() == [[1, 2, 3, 4], [11, 12, 13, 14]], \
        f"the first y should be the next tokens data[:, 1:5], got {y.tolist()}"
    x, y = windows[-1]
    assert x.tolist() == [[8], [18]] and y.tolist() == [[9], [19]], \
        "the last window should be x = data[:, 8:9], y = data[:, 9:10]"
    _passed("tbptt_batches", 3)


@visible_check
def detach_state(fn):
    h = torch.randn(1, B, H, requires_grad=True) * 2    # part of a graph
    c = torch.randn(1, B, H, requires_grad=True) * 2
    out = fn(h)
    assert isinstance(out, torch.Tensor), f"a tensor state should come back as a tensor, got {type(out).__name__}"
    assert torch.equal(out, h.detach()), "the values must not change (detach, do not reset)"
    assert not out.requires_grad, "the returned state still has a history: did you call .detach()?"
    pair = fn((h, c))
    assert isinstance(pair, (tuple, list)) and len(pair) == 2, "an (h, c) pair should come back as a pair"
    assert torch.equal(pair[0], h.detach()) and torch.equal(pair[1], c.detach()), "the values must not change"
    assert not pair[0].requires_grad and not pair[1].requires_grad, "detach both h and c"
    _passed("detach_state", 3)
