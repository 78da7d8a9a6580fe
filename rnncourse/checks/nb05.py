"""Visible checks for notebook 05: quick comparisons with PyTorch's own nn.LSTM.

Each function takes the student's function or class and raises ``AssertionError`` with a hint
when something is off. The grader runs more (hidden) checks; passing these is a good sign, not a
guarantee.
"""
import torch
from torch import nn

from rnncourse.checks import visible_check

B, T, D, H = 2, 5, 3, 4


def _passed(name, n):
    print(f"✔ {name}: {n} visible checks passed")


def _lstm(layers=1, bidirectional=False, seed=1):
    torch.manual_seed(seed)
    return nn.LSTM(D, H, layers, batch_first=True, bidirectional=bidirectional)


def _params(lstm):
    return {k: v.detach().clone() for k, v in lstm.state_dict().items()}


def _x(seed=2, batch=B):
    return torch.randn(batch, T, D, generator=torch.Generator().manual_seed(seed))


def _unpack(result, name):
    assert isinstance(result, tuple) and len(result) == 2 and isinstance(result[1], tuple), \
        f"{name} should return (output, (h_n, c_n)) like nn.LSTM"
    return result[0], result[1][0], result[1][1]


@visible_check
def stacked_rnn_forward(fn):
    lstm = _lstm(layers=2)
    x = _x()
    out, h_n, c_n = _unpack(fn(x, _params(lstm), 2), "stacked_rnn_forward")
    assert tuple(out.shape) == (B, T, H), f"output should be (B, T, H) = {(B, T, H)}, got {tuple(out.shape)}"
    assert tuple(h_n.shape) == (2, B, H), f"h_n should be (num_layers, B, H) = {(2, B, H)}, got {tuple(h_n.shape)}"
    with torch.no_grad():
        ref, (ref_h, ref_c) = lstm(x)
    assert torch.allclose(out, ref, atol=1e-5), \
        "output differs from nn.LSTM's: does layer 1 read layer 0's output, with its own weights?"
    assert torch.allclose(h_n, ref_h, atol=1e-5) and torch.allclose(c_n, ref_c, atol=1e-5), \
        "h_n or c_n differs from nn.LSTM's: one row per layer, layer 0 first"
    dropped, _ = fn(x, _params(lstm), 2, None, 0.5, torch.Generator().manual_seed(0))
    assert not torch.allclose(dropped, ref, atol=1e-5), "with dropout=0.5 the output should change"
    _passed("stacked_rnn_forward", 4)


@visible_check
def bidirectional_forward(fn):
    for layers in (1, 2):
        lstm = _lstm(layers=layers, bidirectional=True)
        x = _x()
        out, h_n, c_n = _unpack(fn(x, _params(lstm), layers), "bidirectional_forward")
        assert tuple(out.shape) == (B, T, 2 * H), \
            f"output should be (B, T, 2H) = {(B, T, 2 * H)}, got {tuple(out.shape)}"
        assert tuple(h_n.shape) == (2 * layers, B, H), \
            f"h_n should be (2 * num_layers, B, H) = {(2 * layers, B, H)}, got {tuple(h_n.shape)}"
        with torch.no_grad():
            ref, (ref_h, ref_c) = lstm(x)
        assert torch.allclose(out[..., :H], ref[..., :H], atol=1e-5), \
            f"the forward half of output differs from nn.LSTM's ({layers} layer(s)): forward comes first"
        assert torch.allclose(out, ref, atol=1e-5), \
            f"the backward half of output differs ({layers} layer(s)): reverse the input, then flip the outputs back"
        assert torch.allclose(h_n, ref_h, atol=1e-5) and torch.allclose(c_n, ref_c, atol=1e-5), \
            "h_n or c_n differs from nn.LSTM's: rows go layer 0 forward, layer 0 backward, layer 1 forward, ..."
    _passed("bidirectional_forward", 5)


@visible_check
def split_h_n(fn):
    lstm = _lstm(layers=2, bidirectional=True)
    with torch.no_grad():
        out, (h_n, _) = lstm(_x())
    result = fn(h_n, 2)
    assert isinstance(result, tuple) and len(result) == 2, "return a pair (h_forward, h_backward)"
    fwd, bwd = result
    assert tuple(fwd.shape) == (B, H) and tuple(bwd.shape) == (B, H), \
        f"each state should be (B, H) = {(B, H)}, got {tuple(fwd.shape)} and {tuple(bwd.shape)}"
    assert torch.allclose(fwd, out[:, -1, :H]), "h_forward should be the last layer's forward state"
    assert torch.allclose(bwd, out[:, 0, H:]), "h_backward should be the last layer's backward state"
    _passed("split_h_n", 3)


@visible_check
def final_states_for_classifier(fn):
    lstm = _lstm(layers=2, bidirectional=True)
    with torch.no_grad():
        out, (h_n, _) = lstm(_x())
    feats = fn(out)
    assert tuple(feats.shape) == (B, 2 * H), f"features should be (B, 2H) = {(B, 2 * H)}, got {tuple(feats.shape)}"
    assert not torch.allclose(feats, out[:, -1]), \
        "that is output[:, -1]: its backward half has only read the last step"
    assert torch.allclose(feats, torch.cat([h_n[-2], h_n[-1]], dim=1), atol=1e-6), \
        "features should equal cat(h_n[-2], h_n[-1]): forward final state, then backward final state"
    _passed("final_states_for_classifier", 3)


@visible_check
def CharTagger(cls):
    for bi in (True, False):
        torch.manual_seed(0)
        model = cls(vocab_size=7, num_tags=3, embed_dim=5, hidden_size=H, num_layers=2, bidirectional=bi)
        names = set(model.state_dict())
        for part in ("embed.weight", "rnn.weight_ih_l1", "head.weight"):
            assert part in names, f"no parameter {part}: name the parts embed, rnn and head, with num_layers layers"
        x = torch.randint(0, 7, (B, T))
        model.eval()
        logits = model(x)
        assert tuple(logits.shape) == (B, T, 3), \
            f"logits should be (B, T, num_tags) = {(B, T, 3)}, got {tuple(logits.shape)} (bidirectional={bi})"
        future = x.clone()
        future[:, -1] = (x[:, -1] + 1) % 7
        moved = not torch.allclose(model(future)[:, 0], logits[:, 0])
        assert moved == bi, ("bidirectional=True should let step 0 see later characters" if bi else
                             "bidirectional=False must not let step 0 see later characters")
    _passed("CharTagger", 4)
