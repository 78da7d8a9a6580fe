"""Hidden checks for notebook 08, sequence to sequence.

The encoder and decoder are compared with PyTorch's ``nn.GRU`` (one sequence at a time, so no
padding is involved) and ``nn.functional.linear``, with copied weights, and with autograd. The
decoding loops (``decode_train``, ``greedy_decode``, ``beam_search``) are driven by a trusted
decoder: a small table model answered on the trusted side through ``student.stub``, which records
every token the student's loop feeds it. So the loops are checked on their own, whatever the
student's ``Decoder`` does, and randomness is checked through the generator and by its
distribution, never as an exact stream. Beam search is compared with a second implementation
written here in float64 over Python lists; attention with a loop over the real positions.
"""
import contextlib
import math

import torch
from torch import nn

from grader.checks import check, expect_close, expect_equal, expect_shape, expect_tensor

PAD, SOS, EOS = 0, 1, 2
V, E, H = 7, 4, 5

# no PyTorch module computes any of these exercises; attention modules would at least be
# another kind of attention, never additive
FORBIDDEN = {
    "additive_attention": ["torch.nn.MultiheadAttention",
                           "torch.nn.functional.scaled_dot_product_attention"],
}


# ---- a trusted decoder, run on the trusted side ----

class TableDecoder:
    """logits = table[y_prev] + bias[step]; the state h (B, 1) counts steps. Records its inputs."""

    def __init__(self, table, step_bias=None):
        self.table = table
        self.step_bias = step_bias if step_bias is not None else torch.zeros(64, table.shape[1])
        self.inputs, self.states, self.memories = [], [], []

    def __call__(self, y_prev, h, memory=None):
        if not isinstance(y_prev, torch.Tensor) or y_prev.is_floating_point() or y_prev.dim() != 1:
            shape = tuple(y_prev.shape) if isinstance(y_prev, torch.Tensor) else type(y_prev).__name__
            raise AssertionError(f"the decoder was fed {shape} floats instead of token ids (B,): "
                                 "feed the chosen token (logits.argmax(-1)), not the logits")
        self.inputs.append(y_prev.clone())
        self.states.append(h.clone())
        self.memories.append(memory)
        steps = h[:, 0].long().clamp(0, len(self.step_bias) - 1)
        return self.table[y_prev] + self.step_bias[steps], h + 1


@contextlib.contextmanager
def trusted(student, decoder):
    """A handle the student's code can call as its decoder, answered by ``decoder`` here."""
    with student.stub("reference_decoder", decoder):
        yield student.value("reference_decoder")


def random_table(seed, vocab=V, scale=2.0):
    g = torch.Generator().manual_seed(seed)
    table = scale * torch.randn(vocab, vocab, generator=g)
    table[:, PAD] = table[:, SOS] = -30.0                     # never chosen
    return table, scale * torch.randn(64, vocab, generator=g)


def targets(batch, steps, seed, avoid=None):
    """(B, T) targets ending with EOS at different steps, padded; never using token ``avoid``."""
    g = torch.Generator().manual_seed(seed)
    tokens = [t for t in range(3, V) if t != avoid]
    tgt = torch.full((batch, steps), PAD)
    for b in range(batch):
        n = int(torch.randint(1, steps, (1,), generator=g))
        picks = torch.randint(len(tokens), (n,), generator=g)
        tgt[b, :n] = torch.tensor(tokens)[picks]
        tgt[b, n] = EOS
    return tgt


# ---- Encoder ----

def encoder_weights(seed, vocab=V, emb=E, hidden=H):
    torch.manual_seed(seed)
    embedding, gru = nn.Embedding(vocab, emb, padding_idx=PAD), nn.GRU(emb, hidden, batch_first=True)
    state = {"embedding.weight": embedding.weight.detach().clone(),
             **{f"rnn.{k}": v.detach().clone() for k, v in gru.state_dict().items()}}
    return state, embedding, gru


def padded_batch(lengths, seed, vocab=V):
    g = torch.Generator().manual_seed(seed)
    src = torch.randint(3, vocab, (len(lengths), max(lengths)), generator=g)
    for b, n in enumerate(lengths):
        src[b, n:] = PAD
    return src, torch.tensor(lengths)


def loaded(student, cls, state, sizes, parts):
    """The student's module ``cls(*sizes)`` with ``state`` loaded; ``parts`` names what it needs."""
    module = getattr(student, cls)(*sizes)
    try:
        module.load_state_dict(state)
    except Exception as e:
        raise AssertionError(f"{cls}'s weights could not be loaded: it needs {parts}: {e}") from None
    return module


def student_encoder(student, state, vocab=V, emb=E, hidden=H):
    return loaded(student, "Encoder", state, (vocab, emb, hidden),
                  "`embedding` (nn.Embedding) and `rnn` (nn.GRU, batch_first=True)")


def ref_encoder(embedding, gru, src, lengths):
    """Each sequence alone, without padding: outputs zero-padded (B, S, H), h (B, H)."""
    outputs = torch.zeros(*src.shape, gru.hidden_size)
    h = torch.zeros(len(src), gru.hidden_size)
    with torch.no_grad():
        for b, n in enumerate(lengths.tolist()):
            out, h_n = gru(embedding(src[b:b + 1, :n]))
            outputs[b, :n], h[b] = out[0], h_n[0, 0]
    return outputs, h


def encoder_result(result):
    if not isinstance(result, tuple) or len(result) != 2:
        raise AssertionError("Encoder.forward should return a pair (outputs, h)")
    return result


@check("Encoder", points=1)
def test_encoder_shapes(student):
    """Encoder returns outputs (B, S, H) and h (B, H) without a layer axis"""
    state, _, _ = encoder_weights(0)
    src, lengths = padded_batch([4, 6, 2], 1)
    outputs, h = encoder_result(student_encoder(student, state)(src, lengths))
    expect_shape(outputs, (3, 6, H), "outputs", hint="batch_first: (B, S, H)")
    expect_shape(h, (3, H), "h", hint="h_n has a layer axis: take h_n[0] (or h_n[-1])")


@check("Encoder", points=2)
def test_encoder_final_state(student):
    """h is each sequence's state after its last real character (several batches, sizes, seeds)"""
    for seed, lengths, (vocab, emb, hidden) in ((2, [5, 3, 1, 5], (V, E, H)), (3, [2, 7], (11, 3, 6)),
                                                (4, [6, 6, 4], (V, 6, 4))):
        state, embedding, gru = encoder_weights(seed, vocab, emb, hidden)
        src, lens = padded_batch(lengths, seed, vocab)
        _, h = encoder_result(student_encoder(student, state, vocab, emb, hidden)(src, lens))
        outputs, want = ref_encoder(embedding, gru, src, lens)
        with torch.no_grad():
            outputs_padded, h_padded = gru(embedding(src))
        expect_close(h, want, f"h for lengths {lengths}", likely={
            "h is the last column of the padded outputs (zeros, or a padded step, for the shorter "
            "sequences): take each sequence's state at lengths - 1": outputs[:, -1],
            "the GRU runs on through the padding (h after the last column, not after each "
            "sequence's last real character: pack the sequences)": h_padded[0],
            "h is the output at the first step": outputs_padded[:, 0]})


@check("Encoder", points=1)
def test_encoder_outputs(student):
    """outputs match nn.GRU's on the real characters and are zero at the padding"""
    state, embedding, gru = encoder_weights(5)
    src, lengths = padded_batch([3, 7, 5], 6)
    outputs, _ = encoder_result(student_encoder(student, state)(src, lengths))
    want, _ = ref_encoder(embedding, gru, src, lengths)
    with torch.no_grad():
        padded, _ = gru(embedding(src))
    expect_close(outputs, want, "outputs", likely={
        "the padded positions hold the GRU's outputs over <pad> instead of zeros": padded})


# ---- Decoder ----

def decoder_weights(seed, vocab=V, emb=E, hidden=H):
    g = torch.Generator().manual_seed(seed)
    return {"embedding.weight": torch.randn(vocab, emb, generator=g),
            "cell.weight_ih": 0.5 * torch.randn(3 * hidden, emb, generator=g),
            "cell.weight_hh": 0.5 * torch.randn(3 * hidden, hidden, generator=g),
            "cell.bias_ih": 0.5 * torch.randn(3 * hidden, generator=g),
            "cell.bias_hh": 0.5 * torch.randn(3 * hidden, generator=g),
            "out.weight": torch.randn(vocab, hidden, generator=g),
            "out.bias": torch.randn(vocab, generator=g)}


def ref_decoder_step(w, y, h):
    """One step through nn.GRU (a one-step sequence) and a linear read-out, differentiable in w."""
    gru = nn.GRU(w["embedding.weight"].shape[1], h.shape[1], batch_first=True)
    params = {f"{k[5:]}_l0": v for k, v in w.items() if k.startswith("cell.")}
    x = w["embedding.weight"][y].unsqueeze(1)                  # (B, 1, E)
    _, h_n = torch.func.functional_call(gru, params, (x, h.unsqueeze(0)))
    h_new = h_n[0]
    return nn.functional.linear(h_new, w["out.weight"], w["out.bias"]), h_new


def student_decoder(student, w, vocab=V, emb=E, hidden=H):
    return loaded(student, "Decoder", w, (vocab, emb, hidden),
                  "`embedding`, `cell` (nn.GRUCell) and `out` (nn.Linear)")


def decoder_pair(result):
    if not isinstance(result, tuple) or len(result) != 2:
        raise AssertionError("Decoder.forward should return a pair (logits, h_new)")
    return result


@check("Decoder", points=2)
def test_decoder_matches_gru(student):
    """one Decoder step equals nn.GRU over one step and a linear read-out (three sizes and seeds)"""
    for seed, (batch, vocab, emb, hidden) in ((0, (3, V, E, H)), (1, (1, 9, 3, 6)), (2, (4, 6, 5, 3))):
        w = decoder_weights(seed, vocab, emb, hidden)
        y = torch.randint(vocab, (batch,), generator=torch.Generator().manual_seed(seed))
        h = torch.randn(batch, hidden)
        logits, h_new = decoder_pair(student_decoder(student, w, vocab, emb, hidden)(y, h, None))
        with torch.no_grad():
            want_logits, want_h = ref_decoder_step(w, y, h)
        expect_close(h_new, want_h, "h_new", likely={"h is returned unchanged": h})
        expect_close(logits, want_logits, "logits", likely={
            "the logits are turned into probabilities (softmax): return logits":
                torch.softmax(want_logits, -1),
            "the logits are log-probabilities (log_softmax): return logits":
                torch.log_softmax(want_logits, -1),
            "the logits are read from the old state h instead of h_new":
                nn.functional.linear(h, w["out.weight"], w["out.bias"])})


@check("Decoder", points=1)
def test_decoder_gradients(student):
    """gradients reach h and every parameter of the Decoder, as autograd says"""
    w = decoder_weights(3)
    y, h = torch.tensor([3, 0, 6]), torch.randn(3, H)
    dec = student_decoder(student, w)
    got = student.grad(dec, y, h, None)
    params = {k: v.clone().requires_grad_(True) for k, v in w.items()}
    h_ref = h.clone().requires_grad_(True)
    logits, h_new = ref_decoder_step(params, y, h_ref)
    (logits.sum() + h_new.sum()).backward()
    if got.arg_grads[1] is None:
        raise AssertionError("no gradient reached h: is something detached?")
    expect_close(got.arg_grads[1], h_ref.grad, "the gradient with respect to h")
    for name, p in params.items():
        g = got.param_grads.get(name)
        if g is None:
            raise AssertionError(f"no gradient reached {name}")
        expect_close(g, p.grad, f"the gradient with respect to {name}")


# ---- decode_train ----

def run_decode_train(student, tgt, ratio, seed, table_seed=0, memory=None):
    """The inputs (B, T) the student's loop fed a table decoder, its logits, and the decoder."""
    table, bias = random_table(table_seed)
    dec = TableDecoder(table, bias)
    with trusted(student, dec) as handle:
        logits = student.decode_train(handle, torch.zeros(len(tgt), 1), memory, tgt, ratio,
                                      torch.Generator().manual_seed(seed))
    expect_shape(logits, (*tgt.shape, V), "decode_train's logits", hint="(B, T, V)")
    if len(dec.inputs) != tgt.shape[1]:
        raise AssertionError(f"the decoder was called {len(dec.inputs)} times for T = "
                             f"{tgt.shape[1]} target steps: call it once per step")
    return torch.stack(dec.inputs, dim=1), logits, dec


def teacher_inputs(tgt):
    return torch.cat([torch.full((len(tgt), 1), SOS), tgt[:, :-1]], dim=1)


def expected_logits(dec, fed):
    steps = torch.arange(fed.shape[1]).expand_as(fed)
    return dec.table[fed] + dec.step_bias[steps]


@check("decode_train", points=1)
def test_decode_train_full_teacher_forcing(student):
    """with ratio 1.0 the decoder reads <sos> then the ground truth, and its logits come back (B, T, V)"""
    for batch, steps, seed in ((3, 5, 0), (2, 8, 1), (4, 2, 2)):
        tgt = targets(batch, steps, seed)
        fed, logits, dec = run_decode_train(student, tgt, 1.0, seed, table_seed=seed)
        want = teacher_inputs(tgt)
        expect_equal(fed.tolist(), want.tolist(), "with ratio 1.0, the tokens fed to the decoder",
                     likely={"the decoder ran free at ratio 1.0: the coin is compared the wrong way "
                             "(teacher-force when rand < ratio)": free_running(dec, batch, steps).tolist(),"the decoder reads tgt[:, t] at step t (the very token it must predict)":
                             tgt.tolist(),
                             "the first input is not <sos>": torch.cat([tgt[:, :1], tgt[:, :-1]], 1).tolist()})
        expect_close(logits, expected_logits(dec, fed), "the logits", likely={
            "the state h is not carried from step to step": dec.table[fed] + dec.step_bias[0]})


def free_running(dec, batch, steps):
    """Inputs the table decoder gets when it reads its own argmax at every step."""
    y, fed = torch.full((batch,), SOS), []
    for t in range(steps):
        fed.append(y)
        y = (dec.table[y] + dec.step_bias[t]).argmax(-1)
    return torch.stack(fed, dim=1)


@check("decode_train", points=1)
def test_decode_train_free_running(student):
    """with ratio 0.0 (inference) the decoder reads its own previous choice, never the ground truth"""
    for batch, steps, seed in ((3, 6, 3), (5, 4, 4)):
        table, bias = random_table(seed)
        favourite = int((table[SOS] + bias[0]).argmax())
        tgt = targets(batch, steps, seed, avoid=favourite)
        fed, logits, dec = run_decode_train(student, tgt, 0.0, seed, table_seed=seed)
        expect_equal(fed.tolist(), free_running(dec, batch, steps).tolist(),
                     "with ratio 0.0, the tokens fed to the decoder",
                     likely={"teacher forcing is applied even at ratio 0.0 (the inference setting)":
                             teacher_inputs(tgt).tolist()})


def forced_fraction(fed, tgt):
    """Fraction of steps t >= 1 whose input was the ground truth tgt[:, t - 1]."""
    return (fed[:, 1:] == tgt[:, :-1]).float().mean().item()


@check("decode_train", points=1)
def test_decode_train_uses_generator(student):
    """the coin comes from the generator: same generator state, same run, whatever the global seed"""
    tgt = targets(4, 8, 5)
    patterns = []
    for global_seed in (11, 12):
        student.seed(global_seed)
        patterns.append(run_decode_train(student, tgt, 0.5, seed=3, table_seed=5)[0].tolist())
    if patterns[0] != patterns[1]:
        raise AssertionError("with the generator in the same state the runs differ: the coin is "
                             "drawn from the global random state, not from `generator`")


@check("decode_train", points=1)
def test_decode_train_ratio_distribution(student):
    """over many generator seeds the share of teacher-forced steps is close to the ratio"""
    for ratio in (0.25, 0.75):
        shares = []
        for seed in range(24):
            table, bias = random_table(seed)
            tgt = targets(3, 7, seed, avoid=int((table[SOS] + bias[0]).argmax()))
            fed, _, dec = run_decode_train(student, tgt, ratio, seed=100 + seed, table_seed=seed)
            # a step counts as forced when its input is the ground truth and not the own choice
            own = (dec.table[fed[:, :-1]] + dec.step_bias[torch.arange(6)]).argmax(-1)
            decided = own != tgt[:, :-1]
            shares.append((fed[:, 1:] == tgt[:, :-1])[decided].float())
        share = torch.cat(shares).mean().item()
        if abs(share - ratio) > 0.12:
            flipped = " (it looks like 1 - ratio: is the comparison reversed?)" \
                if abs(share - (1 - ratio)) < 0.12 else ""
            raise AssertionError(f"with ratio {ratio} the ground truth was fed at {share:.0%} of the "
                                 f"steps{flipped}")


@check("decode_train", points=1)
def test_decode_train_passes_memory(student):
    """the state and the memory reach the decoder at every step (with a batch of one)"""
    memory = (torch.randn(1, 4, 3), torch.ones(1, 4, dtype=torch.bool))
    tgt = targets(1, 5, 6)
    fed, _, dec = run_decode_train(student, tgt, 1.0, 0, table_seed=6, memory=memory)
    for t, m in enumerate(dec.memories):
        if not (isinstance(m, (tuple, list)) and len(m) == 2 and torch.equal(m[0], memory[0])
                and torch.equal(m[1], memory[1])):
            raise AssertionError(f"at step {t} the decoder did not get the memory it was given")
    got = [s[0, 0].item() for s in dec.states]
    expect_equal(got, [float(t) for t in range(5)], "the state counter the decoder saw at each step",
                 likely={"the initial state is fed at every step": [0.0] * 5})


# ---- greedy_decode ----

class ScriptedDecoder(TableDecoder):
    """Row b writes script[b][k] at its k-th step, whatever it reads."""

    def __init__(self, script):
        super().__init__(torch.zeros(V, V))
        self.script = script

    def __call__(self, y_prev, h, memory=None):
        super().__call__(y_prev, h, memory)
        steps = h[:, 0].long().clamp(max=self.script.shape[1] - 1)
        return 6.0 * nn.functional.one_hot(self.script[torch.arange(len(h)), steps], V).float(), h + 1


def scripted_answer(script, max_len):
    out = []
    for row in script.tolist():
        row = row[:max_len]
        out.append(row[:row.index(EOS)] if EOS in row else row)
    return out


def run_greedy(student, dec, batch, max_len):
    with trusted(student, dec) as handle:
        out = student.greedy_decode(handle, torch.zeros(batch, 1), None, max_len)
    if not isinstance(out, list) or len(out) != batch:
        raise AssertionError(f"greedy_decode should return a list of B = {batch} lists of ids")
    try:
        return [[int(t) for t in seq] for seq in out]
    except (TypeError, ValueError):
        raise AssertionError("each item of greedy_decode's result should be a list of ids") from None


def scripts(seed, batch, width):
    g = torch.Generator().manual_seed(seed)
    script = torch.randint(3, V, (batch, width), generator=g)
    for b in range(batch - 1):                                 # the last row never ends
        script[b, int(torch.randint(0, width - 1, (1,), generator=g))] = EOS
    return script


@check("greedy_decode", points=2)
def test_greedy_decode_stops_each_sequence(student):
    """each sequence ends at its own <eos> (dropped), the others run on, up to max_len"""
    for seed, batch, max_len in ((0, 4, 6), (1, 3, 9), (2, 5, 4)):
        script = scripts(seed, batch, 10)
        want = scripted_answer(script, max_len)
        got = run_greedy(student, ScriptedDecoder(script), batch, max_len)
        ended = min((r.index(EOS) for r in script.tolist() if EOS in r[:max_len]), default=max_len)
        expect_equal(got, want, "the decoded sequences", likely={
            "<eos> does not stop a sequence (tokens after it are kept)":
                [[t for t in r[:max_len] if t != EOS] for r in script.tolist()],
            "<eos> is kept in the output": [r[:r.index(EOS) + 1] if EOS in r else r
                                             for r in (row[:max_len] for row in script.tolist())],
            "the whole batch stops when its first sequence ends":
                [s[:ended] for s in scripted_answer(script, max_len)],
            "the whole batch stops when its first sequence ends (after that step's tokens)":
                [s[:ended + 1] for s in scripted_answer(script, max_len)]})


@check("greedy_decode", points=1)
def test_greedy_decode_stops_when_all_ended(student):
    """the loop stops as soon as every sequence has ended (and never runs past max_len)"""
    script = torch.tensor([[3, EOS, 4, 4, 4, 4], [5, 5, EOS, 3, 3, 3]])
    dec = ScriptedDecoder(script)
    run_greedy(student, dec, 2, 6)
    expect_equal(len(dec.inputs), 3, "the number of decoder calls",
                 likely={"the loop runs to max_len after every sequence has ended": 6})
    dec = ScriptedDecoder(torch.full((2, 9), 4))
    run_greedy(student, dec, 2, 5)
    expect_equal(len(dec.inputs), 5, "the number of decoder calls with max_len = 5 and no <eos>")


@check("greedy_decode", points=1)
def test_greedy_decode_feeds_own_choice(student):
    """the decoder reads <sos>, then its own argmax (random table decoders)"""
    for seed in (7, 8, 9):
        table, bias = random_table(seed)
        dec = TableDecoder(table, bias)
        out = run_greedy(student, dec, 1, 6)
        y, want = torch.tensor([SOS]), []
        for t in range(6):                                      # independent per-step replay
            y = (table[y] + bias[t]).argmax(-1)
            if y.item() == EOS:
                break
            want.append(y.item())
        expect_equal(out, [want], "the greedy output of a table decoder")


# ---- beam_search ----

def beam_reference(table, bias, width, max_len, alpha, mistake=None):
    """Beam search as the notebook specifies, in float64 over Python lists.

    ``mistake`` reproduces a known error so a failure can name it.
    """
    logp = torch.log_softmax(table.double().unsqueeze(0) + bias.double().unsqueeze(1), dim=-1)
    raw = table.double().unsqueeze(0) + bias.double().unsqueeze(1)
    live, finished = [((), 0.0)], []
    for t in range(max_len):
        cands = []
        for seq, score in live:
            prev = seq[-1] if seq else SOS
            for tok in range(table.shape[1]):
                step = {"prob": logp[t, prev, tok].exp().item(), "logits": raw[t, prev, tok].item()}
                gain = step.get(mistake, logp[t, prev, tok].item())
                cands.append((gain if mistake == "last" else score + gain, seq + (tok,)))
        cands.sort(key=lambda c: -c[0])
        live = []
        for score, seq in cands[:width]:
            if seq[-1] == EOS:
                finished.append((score, seq[:-1], len(seq)))
            else:
                live.append((seq, score))
        if not live:
            break
    else:
        finished += [(score, seq, len(seq)) for seq, score in live]
    power = 0.0 if mistake == "no normalisation" else alpha
    return list(max(finished, key=lambda f: f[0] / f[2] ** power)[1])


def beam_mistakes(table, bias, width, max_len, alpha):
    """Known mistakes by the output they give; mistakes that give the same output share a line."""
    named: dict = {}
    for description, output in single_beam_mistakes(table, bias, width, max_len, alpha).items():
        named.setdefault(tuple(output), []).append(description)
    return {", or when ".join(descriptions): list(output) for output, descriptions in named.items()}


def single_beam_mistakes(table, bias, width, max_len, alpha):
    return {
        "the hypotheses are not length-normalised (alpha ignored)":
            beam_reference(table, bias, width, max_len, alpha, "no normalisation"),
        "probabilities are added instead of log-probabilities (scores not in log space)":
            beam_reference(table, bias, width, max_len, alpha, "prob"),
        "raw logits are added instead of log-probabilities (no log_softmax)":
            beam_reference(table, bias, width, max_len, alpha, "logits"),
        "the score is the last step's log-probability only, not accumulated":
            beam_reference(table, bias, width, max_len, alpha, "last"),
    }


def run_beam(student, table, bias, width, max_len, alpha):
    with trusted(student, TableDecoder(table, bias)) as handle:
        out = student.beam_search(handle, torch.zeros(1, 1), None, width, max_len, alpha)
    try:
        return [int(t) for t in out]
    except (TypeError, ValueError):
        raise AssertionError("beam_search should return a list of token ids") from None


@check("beam_search", points=1)
def test_beam_width_one_is_greedy(student):
    """with beam width 1 beam search gives the greedy output"""
    for seed in (20, 21, 22):
        table, bias = random_table(seed)
        want = beam_reference(table, bias, 1, 6, 0.0)
        expect_equal(run_beam(student, table, bias, 1, 6, 0.0), want, "beam_search with width 1")


@check("beam_search", points=2)
def test_beam_matches_reference(student):
    """beam search matches an independent implementation (widths 2 to 4, alpha 0, 0.7, 1)"""
    cases = [(30, 2, 5, 0.0), (31, 3, 6, 0.7), (32, 4, 5, 1.0), (33, 3, 7, 0.7), (34, 2, 6, 1.0),
             (35, 4, 6, 0.0)]
    for seed, width, max_len, alpha in cases:
        table, bias = random_table(seed, scale=1.5)
        table[:, EOS] += 1.0                                    # outputs of several lengths end
        got = run_beam(student, table, bias, width, max_len, alpha)
        expect_equal(got, beam_reference(table, bias, width, max_len, alpha),
                     f"beam_search (width {width}, max_len {max_len}, alpha {alpha})",
                     likely=beam_mistakes(table, bias, width, max_len, alpha))


@check("beam_search", points=1)
def test_beam_length_normalisation(student):
    """alpha = 1 prefers a longer output with a better mean log-probability"""
    probs = torch.full((V, V), 1e-4)
    probs[SOS, 3], probs[SOS, 4] = 0.55, 0.45
    probs[3, EOS], probs[3, 5] = 0.6, 0.4                       # [3]: P = 0.33 over 2 tokens
    probs[4, 5] = 0.99
    probs[5, EOS], probs[5, 5] = 0.6, 0.4                       # [4, 5]: P = 0.267 over 3 tokens
    table, bias = probs.log(), torch.zeros(64, V)
    for alpha in (0.0, 1.0):
        want = beam_reference(table, bias, 3, 5, alpha)
        expect_equal(run_beam(student, table, bias, 3, 5, alpha), want,
                     f"beam_search with alpha {alpha}", likely=beam_mistakes(table, bias, 3, 5, alpha))


# ---- sequence_accuracy ----

def accuracy_by_strings(predictions, tgt):
    """A second formulation: compare the texts of the outputs, the target cut at <eos>."""
    def text(ids):
        return " ".join(str(i) for i in ids)
    golds = [text(row).split(f" {EOS}")[0] if not text(row).startswith(f"{EOS}") else ""
             for row in tgt.tolist()]
    return sum(text(p) == g for p, g in zip(predictions, golds)) / len(predictions)


def accuracy_case(seed, batch=8, steps=6):
    g = torch.Generator().manual_seed(seed)
    tgt = targets(batch, steps, seed)
    predictions = []
    for row in tgt.tolist():
        gold = row[:row.index(EOS)]
        kind = int(torch.randint(4, (1,), generator=g))
        predictions.append([gold, gold[:-1], gold + [3], [4] + gold[1:]][kind])
    return predictions, tgt


@check("sequence_accuracy", points=1)
def test_sequence_accuracy_matches_strings(student):
    """sequence accuracy equals a text comparison, on predictions that are right, short, long, off"""
    for seed in (0, 1, 2, 3):
        predictions, tgt = accuracy_case(seed)
        got = student.sequence_accuracy(predictions, tgt)
        want = accuracy_by_strings(predictions, tgt)
        prefix = sum(all(a == b for a, b in zip(p, row)) for p, row in zip(predictions, tgt.tolist()))
        tokens = [(torch.tensor(p[:len(r)]) == torch.tensor(r[:len(p)])).float().mean().item()
                  if p and r else 0.0 for p, r in zip(predictions, (row[:row.index(EOS)]
                                                                    for row in tgt.tolist()))]
        if type(got) is not float:
            raise AssertionError(f"sequence_accuracy should return a Python float, got {type(got).__name__}")
        if not math.isclose(got, want, abs_tol=1e-6):
            if math.isclose(got, prefix / len(predictions), abs_tol=1e-6):
                raise AssertionError("a prediction that is a prefix of its target (or the other way "
                                     "round) counts as right: zip stops at the shorter sequence")
            if math.isclose(got, sum(list(p) == row for p, row in zip(predictions, tgt.tolist()))
                            / len(predictions), abs_tol=1e-6):
                raise AssertionError("the predictions are compared with the whole target row, "
                                     "<eos> and padding included: cut the target at its first <eos>")
            if math.isclose(got, sum(tokens) / len(tokens), abs_tol=1e-6):
                raise AssertionError("this is token accuracy: a sequence counts only if all of it is right")
            raise AssertionError(f"sequence accuracy {got} should be {want}")


@check("sequence_accuracy", points=1)
def test_sequence_accuracy_edges(student):
    """all right gives 1.0, all wrong 0.0, a batch of one and a target filling the whole width"""
    tgt = torch.tensor([[3, 4, 5, EOS], [6, EOS, PAD, PAD]])
    for predictions, want in (([[3, 4, 5], [6]], 1.0), ([[3, 4], [6, 2]], 0.0),
                              ([[3, 4, 5, 6]], 0.0), ([[3, 4, 5]], 1.0)):
        got = student.sequence_accuracy(predictions, tgt[:len(predictions)])
        if type(got) is not float or not math.isclose(got, want, abs_tol=1e-6):
            raise AssertionError(f"sequence_accuracy({predictions}, ...) should be {want}, got {got!r}")


# ---- additive_attention ----

def attention_inputs(seed, B, S, Hq, K, A, lengths):
    g = torch.Generator().manual_seed(seed)
    mask = torch.arange(S).unsqueeze(0) < torch.tensor(lengths).unsqueeze(1)
    return (torch.randn(B, Hq, generator=g), torch.randn(B, S, K, generator=g), mask,
            torch.randn(A, Hq, generator=g), torch.randn(A, K, generator=g), torch.randn(A, generator=g))


def attention_by_loop(query, keys, mask, W_q, W_k, v):
    """Per sequence, over its real positions only, in float64."""
    q, k, Wq, Wk, vv = (t.double() for t in (query, keys, W_q, W_k, v))
    contexts, weights = [], []
    for b in range(len(q)):
        real = mask[b].nonzero().flatten()
        scores = torch.stack([vv @ torch.tanh(Wq @ q[b] + Wk @ k[b, j]) for j in real])
        row = torch.zeros(mask.shape[1], dtype=torch.float64).index_put((real,), torch.softmax(scores, 0))
        weights.append(row)
        contexts.append(row @ k[b])
    return torch.stack(contexts), torch.stack(weights)


def attention_mistakes(query, keys, mask, W_q, W_k, v):
    scores = torch.tanh((query @ W_q.T).unsqueeze(1) + keys @ W_k.T) @ v
    no_tanh = ((query @ W_q.T).unsqueeze(1) + keys @ W_k.T) @ v
    masked = scores.masked_fill(~mask, float("-inf"))
    unmasked_w = torch.softmax(scores, dim=1)
    return {
        "the softmax is taken over the batch axis (dim 0) instead of the source positions":
            torch.softmax(masked, dim=0).nan_to_num(0.0),
        "padding is not masked: padded positions get attention weight":
            unmasked_w,
        "the weights are zeroed at padding after the softmax without renormalising":
            unmasked_w * mask,
        "tanh is left out of the score": torch.softmax(no_tanh.masked_fill(~mask, float("-inf")), 1),
    }


def attention_pair(result):
    if not isinstance(result, tuple) or len(result) != 2:
        raise AssertionError("additive_attention should return a pair (context, weights)")
    return result


@check("additive_attention", points=2)
def test_attention_matches_loop(student):
    """context and weights equal a per-sequence loop over the real positions (several shapes, seeds)"""
    for seed, (B, S, Hq, K, A), lengths in ((0, (3, 5, 4, 6, 7), [5, 3, 1]),
                                            (1, (2, 8, 5, 3, 4), [8, 6]),
                                            (2, (4, 3, 6, 6, 2), [3, 1, 2, 3])):
        args = attention_inputs(seed, B, S, Hq, K, A, lengths)
        context, weights = attention_pair(student.additive_attention(*args))
        want_context, want_weights = attention_by_loop(*args)
        expect_shape(weights, (B, S), "weights", hint="(B, S): one distribution per sequence")
        expect_shape(context, (B, K), "context", hint="(B, K): a weighted sum of the keys")
        expect_close(weights, want_weights.float(), "weights", likely=attention_mistakes(*args))
        expect_close(context, want_context.float(), "context")


@check("additive_attention", points=1)
def test_attention_ignores_padding(student):
    """what sits at padded positions changes nothing, and gets weight exactly 0"""
    query, keys, mask, W_q, W_k, v = attention_inputs(3, 3, 6, 4, 5, 3, [6, 2, 4])
    noisy = keys.clone()
    noisy[~mask] = 50.0
    c1, w1 = attention_pair(student.additive_attention(query, keys, mask, W_q, W_k, v))
    c2, w2 = attention_pair(student.additive_attention(query, noisy, mask, W_q, W_k, v))
    expect_tensor(w1, "weights")
    if not torch.all(w1[~mask] == 0):
        raise AssertionError("padded positions get non-zero weight: set their scores to -inf "
                             "before the softmax")
    expect_close(c2, c1, "context with different values at the padding",
                 likely={"padding is not masked": attention_by_loop(query, noisy, torch.ones_like(mask),
                                                                     W_q, W_k, v)[0].float()})
    expect_close(w2, w1, "weights with different values at the padding")


@check("additive_attention", points=1)
def test_attention_gradients(student):
    """gradients reach query, keys, W_q, W_k and v as autograd says"""
    args = attention_inputs(4, 2, 4, 3, 5, 6, [4, 2])
    got = student.grad(student.additive_attention, *args)
    ref = [a.clone().double().requires_grad_(True) if a.is_floating_point() else a for a in args]
    context, weights = attention_by_loop(*ref)
    (context.sum() + weights.sum()).backward()
    for i, name in ((0, "query"), (1, "keys"), (3, "W_q"), (4, "W_k"), (5, "v")):
        g = got.arg_grads[i]
        if g is None:
            raise AssertionError(f"no gradient reached {name}: is something detached?")
        expect_close(g, ref[i].grad.float(), f"the gradient with respect to {name}")
