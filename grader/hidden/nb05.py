"""Hidden checks for notebook 05, deep and bidirectional RNNs.

References are PyTorch's own ``nn.LSTM`` (stacked, bidirectional) with the same weights, one-layer
``nn.LSTM`` modules run on hand-reversed input for the known mistakes, and the identity
output[:, -1, :H] == h_n[-2], output[:, 0, H:] == h_n[-1] as a second formulation of h_n's layout.
Sizes differ (B=3, T=7, D=4, H=5) so a swapped axis is a wrong shape; weights are drawn larger
than nn.LSTM's default so that a wrong wiring moves the result well beyond the tolerance.
"""
import torch
from torch import nn

from grader.checks import check, expect_close, expect_equal, expect_shape, type_name

B, T, D, H = 3, 7, 4, 5

FORBIDDEN = {
    "stacked_rnn_forward": ["torch.nn.LSTM"],
    "bidirectional_forward": ["torch.nn.LSTM"],
}

WEIGHTS = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")


def make_lstm(d=D, h=H, layers=1, bidirectional=False, scale=0.6):
    lstm = nn.LSTM(d, h, layers, batch_first=True, bidirectional=bidirectional)
    with torch.no_grad():
        for p in lstm.parameters():
            p.copy_(scale * torch.randn_like(p))
    return lstm


def params_of(lstm) -> dict:
    return {k: v.detach().clone() for k, v in lstm.state_dict().items()}


def one_layer(params, k, suffix=""):
    """A one-layer, one-direction nn.LSTM holding layer k's weights (suffix "_reverse": backward)."""
    w_ih = params[f"weight_ih_l{k}{suffix}"]
    lstm = nn.LSTM(w_ih.shape[1], w_ih.shape[0] // 4, batch_first=True)
    with torch.no_grad():
        for name in WEIGHTS:
            getattr(lstm, f"{name}_l0").copy_(params[f"{name}_l{k}{suffix}"])
    return lstm


def run(lstm, x, state=None):
    with torch.no_grad():
        out, (h, c) = lstm(x, state)
    return out, h, c


def unpack(result, what):
    """(output, (h_n, c_n)) as nn.LSTM returns it, or a message saying what came back instead."""
    ok = (isinstance(result, tuple) and len(result) == 2 and isinstance(result[1], tuple)
          and len(result[1]) == 2)
    if not ok:
        raise AssertionError(f"{what} should return (output, (h_n, c_n)) like nn.LSTM, got "
                             f"{type_name(result)}{'' if not isinstance(result, tuple) else f' of {len(result)}'}")
    return result[0], result[1][0], result[1][1]


def random_state(layers, batch=B, h=H):
    return torch.randn(layers, batch, h), torch.randn(layers, batch, h)


# ---- stacked_rnn_forward ----

@check("stacked_rnn_forward", points=1)
def test_stacked_shapes(student):
    """stacked_rnn_forward returns output (B, T, H) and h_n, c_n of shape (num_layers, B, H)"""
    lstm = make_lstm(layers=2)
    out, h_n, c_n = unpack(student.stacked_rnn_forward(torch.randn(B, T, D), params_of(lstm), 2),
                           "stacked_rnn_forward")
    expect_shape(out, (B, T, H), "output", hint="the top layer's state at every step, batch first")
    expect_shape(h_n, (2, B, H), "h_n", hint="one final state per layer, stacked on a new first axis")
    expect_shape(c_n, (2, B, H), "c_n")


@check("stacked_rnn_forward", points=1)
def test_stacked_matches_torch(student):
    """stacked_rnn_forward matches nn.LSTM(num_layers=2) given the same weights and initial state"""
    lstm = make_lstm(layers=2)
    params = params_of(lstm)
    x, (h0, c0) = torch.randn(B, T, D), random_state(2)
    ref_out, ref_h, ref_c = run(lstm, x, (h0, c0))
    out, h_n, c_n = unpack(student.stacked_rnn_forward(x, params, 2, (h0, c0)), "stacked_rnn_forward")
    # the same network with every layer started from layer 0's state, and with no state at all
    low0, lh0, lc0 = run(one_layer(params, 0), x, (h0[:1], c0[:1]))
    same_start, _, _ = run(one_layer(params, 1), low0, (h0[:1], c0[:1]))
    zero_start, _, _ = run(lstm, x)
    expect_close(out, ref_out, "output", likely={
        "every layer starts from state[0] (layer k's initial state is h0[k], c0[k])": same_start,
        "the initial state is ignored (zeros used instead)": zero_start,
    })
    expect_close(h_n, ref_h, "h_n", likely={
        "h_n lists the layers top first (it starts with layer 0)": ref_h.flip(0),
        "h_n holds the initial state": h0,
    })
    expect_close(c_n, ref_c, "c_n", likely={"c_n holds the hidden states h instead of the cell states":
                                            ref_h})


@check("stacked_rnn_forward", points=1)
def test_stacked_depths(student):
    """stacked_rnn_forward feeds each layer the one below for 1 and 3 layers (state defaults to zeros)"""
    for layers in (1, 3):
        lstm = make_lstm(d=H, layers=layers)  # D == H, so feeding x to every layer would also run
        params = params_of(lstm)
        x = torch.randn(2, T, H)
        ref_out, ref_h, ref_c = run(lstm, x)
        unchained, _, _ = run(one_layer(params, layers - 1), x)
        out, h_n, c_n = unpack(student.stacked_rnn_forward(x, params, layers), "stacked_rnn_forward")
        expect_close(out, ref_out, f"output with {layers} layer(s)", likely={
            "every layer reads the input x (layer k should read layer k-1's output)": unchained})
        expect_close(h_n, ref_h, f"h_n with {layers} layer(s)")
        expect_close(c_n, ref_c, f"c_n with {layers} layer(s)")


def isolating_top_layer(params, h):
    """Layer 1 weights that make its output tanh(tanh(u_t)) of its input u_t (gates i, o open, f shut).

    Its input can then be read back exactly: u = atanh(atanh(output)).
    """
    w_ih = torch.zeros(4 * h, h)
    w_ih[2 * h:3 * h] = torch.eye(h)                             # g = tanh(u)
    b_ih = torch.cat([torch.full((h,), 30.0), torch.full((h,), -30.0), torch.zeros(h),
                      torch.full((h,), 30.0)])                    # i = o = 1, f = 0
    return dict(params, weight_ih_l1=w_ih, weight_hh_l1=torch.zeros(4 * h, h), bias_ih_l1=b_ih,
                bias_hh_l1=torch.zeros(4 * h))


@check("stacked_rnn_forward", points=1)
def test_stacked_dropout(student):
    """dropout zeroes a fraction p of the outputs passed between layers, scales the rest by 1/(1 - p), draws from `generator`, and never touches the last layer"""
    p, batch, steps = 0.25, 10, 12
    params = isolating_top_layer(params_of(make_lstm(layers=2)), H)
    x = torch.randn(batch, steps, D)
    y0, _, _ = run(one_layer(params, 0), x)                        # what layer 0 hands up
    single = params_of(make_lstm(layers=1))
    ref_out, _, _ = run(one_layer(single, 0), x)
    out1, _, _ = unpack(student.stacked_rnn_forward(x, single, 1, None, 0.5, torch.Generator().manual_seed(7)),
                        "stacked_rnn_forward")
    expect_close(out1, ref_out, "the output of a one-layer network with dropout=0.5 (no layer boundary, "
                 "so nothing may be dropped: dropout never touches the last layer's output)")
    gen = torch.Generator().manual_seed(5)
    out, _, _ = unpack(student.stacked_rnn_forward(x, params, 2, None, p, gen), "stacked_rnn_forward")
    expect_shape(out, (batch, steps, H), "output")
    if not (out.abs() < 0.76).all():   # tanh(tanh(u)) < tanh(1) for any u
        raise AssertionError(f"with dropout={p}, layer 1 receives values larger than layer 0's outputs "
                             "divided by 1 - p can be: divide the kept values by 1 - dropout (dropout is the "
                             "probability of zeroing a value, not of keeping it)")
    u = torch.atanh(torch.atanh(out.double())).float()            # layer 1's input, read back
    dropped = u.abs() < 1e-4
    if not dropped.any():
        raise AssertionError(f"with dropout={p} no value passed from layer 0 to layer 1 was zeroed: "
                             "apply dropout to each lower layer's output when dropout > 0")
    kept = ~dropped
    expect_close(u[kept], y0[kept] / (1 - p), "layer 1's input (the values that survived dropout)", atol=1e-3, likely={
        "they are not scaled (inverted dropout divides them by 1 - p)": y0[kept],
        "they are divided by p instead of 1 - p": y0[kept] / p,
    })
    frac = dropped.float().mean().item()
    if abs(frac - p) > 0.08:
        raise AssertionError(f"{frac:.0%} of the values were zeroed, expected about {p:.0%}: dropout "
                             "is the probability of zeroing a value (as in nn.Dropout), not of keeping it")
    again, _, _ = unpack(student.stacked_rnn_forward(x, params, 2, None, p, torch.Generator().manual_seed(5)),
                         "stacked_rnn_forward")
    other, _, _ = unpack(student.stacked_rnn_forward(x, params, 2, None, p, torch.Generator().manual_seed(6)),
                         "stacked_rnn_forward")
    if not torch.equal(again, out) or torch.equal(other, out):
        raise AssertionError("the dropout mask does not come from `generator`: the same generator state "
                             "must give the same mask, another state another mask (use torch.rand(..., "
                             "generator=generator) or torch.bernoulli(..., generator=generator))")


# ---- bidirectional_forward ----

def bi_pieces(params, x, state=None, k=0):
    """Layer k's forward output and the backward direction's output computed three ways."""
    s_f = None if state is None else (state[0][2 * k:2 * k + 1], state[1][2 * k:2 * k + 1])
    s_b = None if state is None else (state[0][2 * k + 1:2 * k + 2], state[1][2 * k + 1:2 * k + 2])
    fwd, _, _ = run(one_layer(params, k), x, s_f)
    bwd_reversed, _, _ = run(one_layer(params, k, "_reverse"), x.flip(1), s_b)
    bwd_unreversed, _, _ = run(one_layer(params, k, "_reverse"), x, s_b)
    return fwd, bwd_reversed, bwd_unreversed


@check("bidirectional_forward", points=1)
def test_bi_shapes(student):
    """bidirectional_forward returns output (B, T, 2H) and h_n, c_n of shape (2 * num_layers, B, H)"""
    lstm = make_lstm(layers=2, bidirectional=True)
    out, h_n, c_n = unpack(student.bidirectional_forward(torch.randn(B, T, D), params_of(lstm), 2),
                           "bidirectional_forward")
    expect_shape(out, (B, T, 2 * H), "output", hint="forward and backward states concatenated on the last axis")
    expect_shape(h_n, (4, B, H), "h_n", hint="(num_layers * num_directions, B, H), as nn.LSTM returns it")
    expect_shape(c_n, (4, B, H), "c_n")


@check("bidirectional_forward", points=1)
def test_bi_one_layer(student):
    """one bidirectional layer matches nn.LSTM(bidirectional=True): forward states first, backward states in time order"""
    lstm = make_lstm(bidirectional=True)
    params = params_of(lstm)
    x = torch.randn(B, T, D)
    ref_out, ref_h, ref_c = run(lstm, x)
    fwd, bwd_rev, bwd_unrev = bi_pieces(params, x)
    out, h_n, c_n = unpack(student.bidirectional_forward(x, params, 1), "bidirectional_forward")
    expect_close(out, ref_out, "output", likely={
        "the directions are concatenated in the wrong order (forward first, then backward)":
            torch.cat([bwd_rev.flip(1), fwd], dim=2),
        "the backward outputs are left in reversed time order (flip them back)": torch.cat([fwd, bwd_rev], dim=2),
        "the backward direction reads x left to right (reverse the input first)":
            torch.cat([fwd, bwd_unrev], dim=2),
    })
    expect_close(h_n, ref_h, "h_n", likely={"h_n has the backward state before the forward one":
                                            ref_h.flip(0)})
    expect_close(c_n, ref_c, "c_n")


@check("bidirectional_forward", points=1)
def test_bi_two_layers(student):
    """two bidirectional layers match nn.LSTM(num_layers=2, bidirectional=True); h_n interleaves layers and directions"""
    lstm = make_lstm(layers=2, bidirectional=True)
    params = params_of(lstm)
    x = torch.randn(B, T, D)
    ref_out, ref_h, ref_c = run(lstm, x)
    out, h_n, c_n = unpack(student.bidirectional_forward(x, params, 2), "bidirectional_forward")
    expect_close(out, ref_out, "output")
    direction_major = torch.cat([ref_h[0::2], ref_h[1::2]])
    expect_close(h_n, ref_h, "h_n", likely={
        "h_n is ordered direction first (all forward layers, then all backward); PyTorch's order is "
        "layer 0 forward, layer 0 backward, layer 1 forward, layer 1 backward": direction_major})
    expect_close(c_n, ref_c, "c_n", likely={"c_n is ordered direction first (see h_n)":
                                            torch.cat([ref_c[0::2], ref_c[1::2]])})


@check("bidirectional_forward", points=1)
def test_bi_initial_state(student):
    """bidirectional_forward starts each layer and direction from its own row of the initial state"""
    lstm = make_lstm(layers=2, bidirectional=True)
    params = params_of(lstm)
    x, state = torch.randn(B, T, D), random_state(4)
    ref_out, ref_h, ref_c = run(lstm, x, state)
    shared = (state[0][0::2].repeat_interleave(2, dim=0), state[1][0::2].repeat_interleave(2, dim=0))
    shared_out, _, _ = run(lstm, x, shared)
    zero_out, _, _ = run(lstm, x)
    out, h_n, c_n = unpack(student.bidirectional_forward(x, params, 2, state), "bidirectional_forward")
    expect_close(out, ref_out, "output", likely={
        "the backward direction starts from the forward direction's initial state (it has its own "
        "row: h0[2 * k + 1])": shared_out,
        "the initial state is ignored (zeros used instead)": zero_out})
    expect_close(h_n, ref_h, "h_n")
    expect_close(c_n, ref_c, "c_n")


# ---- split_h_n ----

def expect_pair(result, what):
    if not isinstance(result, tuple) or len(result) != 2:
        raise AssertionError(f"{what} should return a pair (h_forward, h_backward), got {type_name(result)}")
    return result


@check("split_h_n", points=1)
def test_split_one_layer(student):
    """split_h_n returns the forward and backward final states (B, H) of a one-layer bidirectional LSTM"""
    for batch in (B, 1):
        lstm = make_lstm(bidirectional=True)
        out, h_n, _ = run(lstm, torch.randn(batch, T, D))
        fwd, bwd = expect_pair(student.split_h_n(h_n, 1), "split_h_n")
        expect_shape(fwd, (batch, H), "h_forward", hint="do not squeeze away the batch axis")
        expect_shape(bwd, (batch, H), "h_backward")
        expect_close(fwd, out[:, -1, :H], "h_forward (the forward state after the last step)",
                     likely={"forward and backward are swapped": out[:, 0, H:]})
        expect_close(bwd, out[:, 0, H:], "h_backward (the backward state after reading back to step 0)")


@check("split_h_n", points=1)
def test_split_deep(student):
    """split_h_n picks the last layer of 2- and 3-layer bidirectional LSTMs (h_n.view(num_layers, 2, B, H))"""
    for layers in (2, 3):
        lstm = make_lstm(layers=layers, bidirectional=True)
        out, h_n, _ = run(lstm, torch.randn(B, T, D))
        fwd, bwd = expect_pair(student.split_h_n(h_n, layers), "split_h_n")
        expect_close(fwd, out[:, -1, :H], f"h_forward with {layers} layers", likely={
            "the first layer is used instead of the last": h_n[0],
            "forward and backward are swapped": h_n[-1],
            "h_n is viewed as (num_directions, num_layers, B, H): the layer axis comes first": h_n[layers - 1],
        })
        expect_close(bwd, out[:, 0, H:], f"h_backward with {layers} layers", likely={
            "the first layer is used instead of the last": h_n[1],
            "forward and backward are swapped": h_n[-2],
        })


# ---- final_states_for_classifier ----

@check("final_states_for_classifier", points=1)
def test_classifier_shape(student):
    """final_states_for_classifier returns one (B, 2H) feature row per sequence"""
    out, _, _ = run(make_lstm(bidirectional=True), torch.randn(B, T, D))
    expect_shape(student.final_states_for_classifier(out), (B, 2 * H), "features",
                 hint="the forward and the backward final states concatenated")


@check("final_states_for_classifier", points=1)
def test_classifier_values(student):
    """final_states_for_classifier equals cat(h_n[-2], h_n[-1]) of a 2-layer bidirectional LSTM"""
    lstm = make_lstm(layers=2, bidirectional=True)
    out, h_n, _ = run(lstm, torch.randn(B, T, D))
    expected = torch.cat([h_n[-2], h_n[-1]], dim=1)
    expect_close(student.final_states_for_classifier(out), expected, "features", likely={
        "output[:, -1] is used: its backward half has read only the last step": out[:, -1],
        "output[:, 0] is used: its forward half has read only the first step": out[:, 0],
        "the backward half comes first": torch.cat([h_n[-1], h_n[-2]], dim=1),
        "the two ends are swapped (forward from step 0, backward from step T-1)":
            torch.cat([out[:, 0, :H], out[:, -1, H:]], dim=1),
        "the states are averaged over time": out.mean(dim=1),
    })


# ---- CharTagger ----

V, C, E = 11, 3, 6


class RefTagger(nn.Module):
    def __init__(self, bidirectional, layers=2, dropout=0.0):
        super().__init__()
        self.embed = nn.Embedding(V, E)
        self.rnn = nn.LSTM(E, H, layers, batch_first=True, dropout=dropout, bidirectional=bidirectional)
        self.head = nn.Linear(H * (2 if bidirectional else 1), C)

    def forward(self, x):
        return self.head(self.rnn(self.embed(x))[0])


def tagger_kwargs(bidirectional, layers=2, dropout=0.0):
    return dict(vocab_size=V, num_tags=C, embed_dim=E, hidden_size=H, num_layers=layers,
                dropout=dropout, bidirectional=bidirectional)


@check("CharTagger", points=1)
def test_tagger_shapes(student):
    """CharTagger maps character ids (B, T) to logits (B, T, num_tags), both directions settings"""
    for bi in (True, False):
        model = student.CharTagger(**tagger_kwargs(bi))
        for batch, steps in ((B, T), (1, 2)):
            logits = model(torch.randint(0, V, (batch, steps)))
            expect_shape(logits, (batch, steps, C), f"logits (bidirectional={bi})",
                         hint="one prediction per character: a many-to-many tagger")


@check("CharTagger", points=1)
def test_tagger_parameters(student):
    """CharTagger holds embed (nn.Embedding), rnn (nn.LSTM) and head (nn.Linear), sized from its arguments"""
    for bi, layers in ((True, 2), (False, 1)):
        ref = {k: tuple(v.shape) for k, v in RefTagger(bi, layers).state_dict().items()}
        got = student.CharTagger(**tagger_kwargs(bi, layers)).state_dict()
        if not isinstance(got, dict):
            raise AssertionError("state_dict() did not return a dict of tensors")
        shapes = {k: tuple(v.shape) for k, v in got.items() if hasattr(v, "shape")}
        missing, extra = sorted(set(ref) - set(shapes)), sorted(set(shapes) - set(ref))
        if missing or extra:
            raise AssertionError(f"with bidirectional={bi}, num_layers={layers}: parameters missing "
                                 f"{missing[:4]}, unexpected {extra[:4]}; name the parts embed, rnn, head "
                                 "as the docstring says, and pass num_layers and bidirectional to nn.LSTM")
        for name, shape in ref.items():
            expect_equal(shapes[name], shape, f"the shape of {name} (bidirectional={bi})", likely={
                "the head reads hidden_size features, but a bidirectional LSTM outputs 2 * hidden_size":
                    (C, H)} if name == "head.weight" else None)


@check("CharTagger", points=1)
def test_tagger_forward(student):
    """with the reference weights loaded, CharTagger computes Embedding -> LSTM -> Linear at every step (eval mode)"""
    for bi in (True, False):
        ref = RefTagger(bi, dropout=0.3).eval()
        model = student.CharTagger(**tagger_kwargs(bi, dropout=0.3))
        model.load_state_dict({k: v.clone() for k, v in ref.state_dict().items()})
        model.eval()
        x = torch.randint(0, V, (B, T))
        with torch.no_grad():
            expected = ref(x)
            time_major = ref.head(ref.rnn(ref.embed(x).transpose(0, 1))[0].transpose(0, 1))
        expect_close(model(x), expected, f"logits (bidirectional={bi})", likely={
            "softmax is applied: return logits (cross_entropy applies log-softmax itself)": expected.softmax(-1),
            "nn.LSTM is built without batch_first=True, so it reads (B, T) as (T, B)": time_major,
        })


@check("CharTagger", points=1)
def test_tagger_future_context(student):
    """a bidirectional CharTagger's prediction at t depends on later characters; a unidirectional one's never does"""
    x = torch.randint(0, V, (2, 10))
    changed = x.clone()
    changed[:, 6:] = (x[:, 6:] + 1) % V                         # rewrite the future of step 5
    for bi in (True, False):
        model = student.CharTagger(**tagger_kwargs(bi))
        model.eval()
        before, after = model(x), model(changed)
        expect_shape(before, (2, 10, C), "logits")
        moved = (before[:, :6] - after[:, :6]).abs().max().item()
        if bi and moved < 1e-6:
            raise AssertionError("bidirectional=True, but the logits at steps 0-5 do not change when "
                                 "steps 6-9 change: the model does not see future context")
        if not bi and moved > 1e-6:
            raise AssertionError("bidirectional=False, but the logits at steps 0-5 change when steps 6-9 "
                                 "change: a left-to-right tagger must not see the future")
