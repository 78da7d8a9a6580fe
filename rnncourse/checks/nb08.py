"""Visible checks for notebook 08: the encoder and decoder against PyTorch's GRU modules, the
decoding loops against small decoders whose every output is known in advance.

Each function takes the student's function or class and raises ``AssertionError`` with a hint
when something is off. The grader runs more (hidden) checks; passing these is a good sign, not a
guarantee.
"""
import math

import torch
from torch import nn

from rnncourse.checks import visible_check
from rnncourse.dates import EOS, PAD, SOS

V, E, H = 9, 3, 4


def _passed(name, n):
    print(f"✔ {name}: {n} visible checks passed")


def _pair(result, what, names="(logits, h)"):
    assert isinstance(result, tuple) and len(result) == 2, \
        f"{what} should return a pair {names}, got {type(result).__name__}"
    return result


def _load(module, state, names):
    try:
        module.load_state_dict(state)
    except Exception as e:
        raise AssertionError(f"could not load weights: name the parts {names} ({e})") from None
    return module


@visible_check
def Encoder(cls):
    torch.manual_seed(1)
    emb, gru = nn.Embedding(V, E, padding_idx=PAD), nn.GRU(E, H, batch_first=True)
    state = {"embedding.weight": emb.weight.detach(),
             **{f"rnn.{k}": v.detach() for k, v in gru.state_dict().items()}}
    enc = _load(cls(V, E, H), state, "embedding and rnn")
    lengths = torch.tensor([5, 2, 4])
    src = torch.randint(3, V, (3, 5), generator=torch.Generator().manual_seed(2))
    src[1, 2:], src[2, 4:] = PAD, PAD
    outputs, h = _pair(enc(src, lengths), "Encoder.forward", "(outputs, h)")
    assert tuple(outputs.shape) == (3, 5, H) and tuple(h.shape) == (3, H), \
        f"outputs should be (B, S, H) = (3, 5, {H}) and h (B, H) = (3, {H}), " \
        f"got {tuple(outputs.shape)} and {tuple(h.shape)} (drop the layer axis of h_n)"
    with torch.no_grad():
        for b, n in enumerate(lengths.tolist()):
            out_b, h_b = gru(emb(src[b:b + 1, :n]))
            assert torch.allclose(h[b], h_b[0, 0], atol=1e-5), \
                (f"h of sequence {b} (length {n}) is not the state after its last real character: "
                 "the GRU ran on through the padding (pack the sequence, or pick the state at lengths - 1)")
            assert torch.allclose(outputs[b, :n], out_b[0], atol=1e-5), \
                f"outputs of sequence {b} differ from nn.GRU's on its real characters"
            assert torch.all(outputs[b, n:] == 0), "outputs at padded positions should be zero"
    _passed("Encoder", 3)


def _decoder_state(seed):
    torch.manual_seed(seed)
    emb, cell, out = nn.Embedding(V, E), nn.GRUCell(E, H), nn.Linear(H, V)
    return {"embedding.weight": emb.weight.detach(),
            **{f"cell.{k}": v.detach() for k, v in cell.state_dict().items()},
            **{f"out.{k}": v.detach() for k, v in out.state_dict().items()}}, emb, cell, out


@visible_check
def Decoder(cls):
    state, emb, cell, out = _decoder_state(3)
    dec = _load(cls(V, E, H), state, "embedding, cell and out")
    y, h = torch.tensor([1, 4, 7]), torch.randn(3, H, generator=torch.Generator().manual_seed(4))
    logits, h_new = _pair(dec(y, h), "Decoder.forward")
    assert tuple(logits.shape) == (3, V) and tuple(h_new.shape) == (3, H), \
        f"logits should be (B, V) = (3, {V}) and h_new (B, H) = (3, {H})"
    with torch.no_grad():
        want_h = cell(emb(y), h)
        want = out(want_h)
    assert torch.allclose(h_new, want_h, atol=1e-5), "h_new differs from nn.GRUCell(embedding(y_prev), h)"
    if torch.allclose(logits, torch.softmax(want, dim=-1), atol=1e-5):
        raise AssertionError("these are probabilities: return the logits (no softmax)")
    assert torch.allclose(logits, want, atol=1e-5), \
        "logits differ from out(h_new): read them from the new state"
    _passed("Decoder", 3)


class _TableDecoder:
    """A decoder whose logits depend only on its input token: ``table[y_prev]``. Records its inputs."""

    def __init__(self, table):
        self.table, self.inputs = table, []

    def __call__(self, y_prev, h, memory=None):
        self.inputs.append(y_prev)
        if y_prev.is_floating_point() or y_prev.dim() != 1:
            raise AssertionError(f"the decoder was fed a {y_prev.dtype} tensor of shape "
                                 f"{tuple(y_prev.shape)}: feed the chosen token ids (B,), "
                                 "not the logits (logits.argmax(-1))")
        return self.table[y_prev], h + 1


@visible_check
def decode_train(fn):
    table = torch.randn(V, V, generator=torch.Generator().manual_seed(5))
    tgt = torch.tensor([[3, 4, 5, EOS], [6, 7, EOS, PAD]])
    h = torch.zeros(2, 1)
    for ratio in (1.0, 0.0):
        dec = _TableDecoder(table)
        logits = fn(dec, h, None, tgt, ratio, torch.Generator().manual_seed(0))
        assert tuple(logits.shape) == (2, 4, V), f"logits should be (B, T, V) = (2, 4, {V})"
        fed = torch.stack(dec.inputs, dim=1)
        assert torch.all(fed[:, 0] == SOS), "the first input of every sequence should be SOS"
        if ratio == 1.0:
            assert torch.equal(fed, torch.cat([torch.full((2, 1), SOS), tgt[:, :-1]], dim=1)), \
                "with ratio 1.0 the input at step t should be the ground truth tgt[:, t - 1]"
        else:
            assert torch.equal(fed[:, 1:], table[fed[:, :-1]].argmax(-1)), \
                ("with ratio 0.0 the input at step t should be the decoder's own choice at t - 1 "
                 "(argmax), never the ground truth: that is inference, no teacher")
        assert torch.allclose(logits, table[fed]), "return the logits of every step, stacked on dim 1"
    runs = [fn(_TableDecoder(table), h, None, tgt, 0.5, torch.Generator().manual_seed(7))
            for _ in range(2)]
    assert torch.equal(runs[0], runs[1]), \
        "two runs with generators in the same state differ: draw the coin with generator="
    _passed("decode_train", 3)


@visible_check
def greedy_decode(fn):
    # row b follows its own script: it writes script[b][k] at its k-th step, whatever it reads
    script = torch.tensor([[3, 4, EOS, 5, 5, 5], [5, EOS, 3, 3, 3, 3], [3, 3, 3, 3, 3, 3]])
    inputs = []

    def scripted(y_prev, h, memory=None):
        inputs.append(y_prev)
        steps = h[:, 0].long()
        return 5.0 * nn.functional.one_hot(script[torch.arange(3), steps], V).float(), h + 1

    out = fn(scripted, torch.zeros(3, 1), None, 5)
    want = [[3, 4], [5], [3, 3, 3, 3, 3]]
    assert isinstance(out, list) and len(out) == 3, "return a list of B lists of token ids"
    out = [[int(t) for t in seq] for seq in out]
    if out[0][:3] == [3, 4, EOS]:
        raise AssertionError("a sequence should end at its EOS: drop EOS and everything after it")
    assert out[:2] == want[:2], f"expected {want[:2]} for the first two sequences, got {out[:2]}"
    assert out[2] == want[2], \
        "a sequence without EOS should run to max_len: do not stop when the first sequence ends"
    assert torch.all(inputs[0] == SOS) and torch.equal(inputs[1], torch.tensor([3, 5, 3])), \
        "feed SOS first, then each sequence's own previous choice"
    _passed("greedy_decode", 3)


@visible_check
def beam_search(fn):
    # a decoder whose next-token probabilities depend only on the previous token
    probs = torch.full((V, V), 1e-6)
    probs[SOS, 3], probs[SOS, 4] = 0.55, 0.45            # after <sos>: a or b
    probs[3, EOS], probs[3, 3], probs[3, 4] = 0.30, 0.36, 0.34
    probs[4, EOS], probs[4, 3], probs[4, 4] = 0.90, 0.05, 0.05
    dec = _TableDecoder(probs.log())
    h = torch.zeros(1, 1)
    greedy = [int(t) for t in fn(dec, h, None, 1, 3, 0.0)]
    assert greedy == [3, 3, 3], \
        f"with beam width 1 beam search is greedy: expected [3, 3, 3], got {greedy}"
    best = [int(t) for t in fn(_TableDecoder(probs.log()), h, None, 2, 3, 0.0)]
    # by hand: [b, <eos>] has probability 0.45 * 0.9 = 0.405; every other hypothesis is below 0.2
    assert best == [4], f"with beam width 2 the best output is [4] (P = 0.405), got {best}"
    # length normalisation, by hand: [a] has P = 0.55 * 0.6 = 0.33 over 2 tokens (with <eos>),
    # [b, c] has P = 0.45 * 0.99 * 0.6 = 0.267 over 3: log P / L is -0.554 against -0.440
    probs = torch.full((V, V), 1e-6)
    probs[SOS, 3], probs[SOS, 4] = 0.55, 0.45
    probs[3, EOS], probs[3, 5] = 0.6, 0.4
    probs[4, 5] = 0.99
    probs[5, EOS], probs[5, 5] = 0.6, 0.4
    for alpha, want in ((0.0, [3]), (1.0, [4, 5])):
        got = [int(t) for t in fn(_TableDecoder(probs.log()), h, None, 3, 5, alpha)]
        assert got == want, (f"with alpha = {alpha} the best output is {want}, got {got}: add "
                             "log-probabilities and divide a finished hypothesis's score by L ** alpha")
    _passed("beam_search", 4)


@visible_check
def additive_attention(fn):
    g = torch.Generator().manual_seed(6)
    B, S, Hq, K, A = 3, 5, 4, 6, 7
    query, keys = torch.randn(B, Hq, generator=g), torch.randn(B, S, K, generator=g)
    W_q, W_k, v = torch.randn(A, Hq, generator=g), torch.randn(A, K, generator=g), torch.randn(A, generator=g)
    mask = torch.tensor([[1, 1, 1, 1, 1], [1, 1, 1, 0, 0], [1, 0, 0, 0, 0]]).bool()
    context, weights = _pair(fn(query, keys, mask, W_q, W_k, v), "additive_attention",
                             "(context, weights)")
    assert tuple(context.shape) == (B, K) and tuple(weights.shape) == (B, S), \
        f"context should be (B, K) = {(B, K)} and weights (B, S) = {(B, S)}"
    assert torch.allclose(weights.sum(dim=1), torch.ones(B), atol=1e-5), \
        "each row of weights should sum to 1: the softmax runs over the source positions (dim 1)"
    assert torch.all(weights[~mask] == 0), "padded positions must get weight 0: mask the scores with -inf"
    for b in range(B):                                   # one sequence, its real positions only
        real = mask[b].nonzero().flatten()
        scores = torch.stack([v @ torch.tanh(W_q @ query[b] + W_k @ keys[b, j]) for j in real])
        want = torch.softmax(scores, dim=0)
        assert torch.allclose(weights[b, real], want, atol=1e-5), \
            f"weights of sequence {b} differ from softmax_j(v · tanh(W_q q + W_k k_j))"
        assert torch.allclose(context[b], want @ keys[b, real], atol=1e-5), \
            f"context of sequence {b} should be sum_j weights_j k_j"
    _passed("additive_attention", 3)


@visible_check
def sequence_accuracy(fn):
    tgt = torch.tensor([[3, 4, EOS, PAD], [3, 4, EOS, PAD], [5, 6, 7, EOS]])
    got = fn([[3, 4], [3], [5, 6, 7]], tgt)
    assert isinstance(got, float), f"return a Python float, got {type(got).__name__}"
    if math.isclose(got, 1.0, abs_tol=1e-6):
        raise AssertionError("[3] counted as right for [3, 4]: compare whole sequences, "
                             "not a zip of them (zip stops at the shorter one)")
    assert math.isclose(got, 2 / 3, abs_tol=1e-6), f"2 of 3 predictions are right, you say {got}"
    assert math.isclose(fn([[3, 4, 9]], tgt[:1]), 0.0, abs_tol=1e-6), \
        "a prediction longer than its target is wrong"
    _passed("sequence_accuracy", 2)
