"""Hidden checks for notebook 03, character-level language models.

References are independent of the solution: Python's ``sorted``/``set`` for the vocabulary,
``torch.eye`` rows for one-hot vectors, ``nn.RNN`` + ``nn.Linear`` for the model,
``F.cross_entropy`` and autograd for the loss. ``sample`` is random, so it is checked by
distribution (tens of thousands of draws in one call, compared with the exact probabilities)
and by its generator (the same generator state must give the same draws, whatever the global
seed), never against a particular random stream. ``CharRNN.generate`` is checked with the
student's ``sample`` replaced by a recording argmax, so the loop is tested on its own.
"""
import math

import torch
import torch.nn.functional as F
from torch import nn

from grader.checks import check, expect_close, expect_equal, expect_shape, expect_tensor, type_name

FORBIDDEN = {"one_hot": ["torch.nn.functional.one_hot"]}

TEXT = "First Citizen:\nBefore we proceed any further, hear me speak.\n\nAll:\tSpeak, speak! «Ça va?»"


def ref_vocab(text):
    itos = sorted(set(text))
    return itos, {ch: i for i, ch in enumerate(itos)}


def ref_one_hot(ids, vocab_size):
    return torch.eye(vocab_size)[ids]


def as_number(x, what):
    """A Python number or a one-element tensor, as a float."""
    if type(x) in (int, float):
        return float(x)
    if type(x) is torch.Tensor and x.numel() == 1:
        return float(x.reshape(()))
    raise AssertionError(f"{what}: expected a number, got {type_name(x)}"
                         + (f" of shape {tuple(x.shape)}" if type(x) is torch.Tensor else ""))


# ---- build_vocab, encode, decode ----

@check("build_vocab", points=1)
def test_build_vocab_hello(student):
    """build_vocab('hello') gives the sorted distinct characters and their indices"""
    result = student.build_vocab("hello")
    if type(result) is not tuple or len(result) != 2:
        raise AssertionError("build_vocab should return a pair (itos, stoi)")
    itos, stoi = result
    expect_equal(itos, ["e", "h", "l", "o"], "itos for 'hello'", likely={
        "the characters are kept in order of first appearance (sort them)": ["h", "e", "l", "o"],
        "repeated characters are kept (each character once)": ["e", "h", "l", "l", "o"],
        "the characters are not made distinct and not sorted": list("hello"),
    })
    expect_equal(stoi, {"e": 0, "h": 1, "l": 2, "o": 3}, "stoi for 'hello'")


@check("build_vocab", points=1)
def test_build_vocab_any_text(student):
    """build_vocab handles spaces, newlines, punctuation and non-ASCII, and stoi inverts itos"""
    itos, stoi = student.build_vocab(TEXT)
    ref_itos, ref_stoi = ref_vocab(TEXT)
    expect_equal(itos, ref_itos, "itos", likely={
        "the characters are in order of first appearance": list(dict.fromkeys(TEXT)),
        "the text was lower-cased first": sorted(set(TEXT.lower())),
        "whitespace was dropped (a space and a newline are characters too)": sorted(set(TEXT) - set(" \n\t")),
    })
    expect_equal(stoi, ref_stoi, "stoi")


@check("encode", points=1)
def test_encode_hello(student):
    """encode turns a string into a (T,) tensor of torch.long ids"""
    itos, stoi = ref_vocab("hello")
    ids = student.encode("hello", stoi)
    if type(ids) is list:
        raise AssertionError("encode returned a list: wrap it in torch.tensor(..., dtype=torch.long)")
    expect_shape(ids, (5,), "ids of 'hello'")
    if ids.dtype != torch.long:
        raise AssertionError(f"ids should be torch.long (they index rows of tables), got {ids.dtype}")
    expect_equal(ids.tolist(), [1, 0, 2, 2, 3], "ids of 'hello'", likely={
        "the ids start at 1 instead of 0": [2, 1, 3, 3, 4],
        "ord(ch) is used instead of the vocabulary": [ord(c) for c in "hello"],
    })


@check("encode", points=1)
def test_encode_long_text(student):
    """encode agrees with the vocabulary on a longer text, and encodes '' to an empty tensor"""
    _, stoi = ref_vocab(TEXT)
    ids = student.encode(TEXT, stoi)
    expect_tensor(ids, "ids")
    expect_equal(ids.tolist(), [stoi[c] for c in TEXT], "ids of a longer text")
    empty = student.encode("", stoi)
    expect_shape(empty, (0,), "ids of the empty string")


@check("decode", points=1)
def test_decode_round_trip(student):
    """decode inverts encode, for a tensor and for a plain list of ids"""
    itos, stoi = ref_vocab(TEXT)
    ids = [stoi[c] for c in TEXT]
    shifted = "".join(itos[(i + 1) % len(itos)] for i in ids)
    expect_equal(student.decode(torch.tensor(ids), itos), TEXT, "decode(tensor of ids)", likely={
        "the characters are joined with spaces": " ".join(TEXT),
        "each id is looked up one place off (itos[i + 1])": shifted,
        "chr(i) is used instead of itos[i]": "".join(chr(i) for i in ids),
    })
    expect_equal(student.decode(ids, itos), TEXT, "decode(list of ids)")


# ---- one_hot ----

@check("one_hot", points=1)
def test_one_hot_values(student):
    """one_hot of (B, T) ids is (B, T, V) float, one 1 per vector at the id's position"""
    ids = torch.tensor([[3, 0, 5], [1, 1, 6]])
    x = student.one_hot(ids, 7)
    expect_shape(x, (2, 3, 7), "one_hot(ids (2, 3), vocab_size=7)")
    if not x.is_floating_point():
        raise AssertionError(f"one-hot vectors are multiplied by weights, so make them float, got {x.dtype}")
    ref = ref_one_hot(ids, 7)
    expect_close(x, ref, "one-hot vectors", likely={
        "the 1 is put one position off (ids + 1)": torch.eye(8)[ids + 1][..., :7],
    })


@check("one_hot", points=1)
def test_one_hot_vocab_size_and_shapes(student):
    """one_hot uses vocab_size (not the largest id seen) and works for any shape of ids"""
    ids = torch.tensor([2, 0, 1])
    expect_shape(student.one_hot(ids, 10), (3, 10), "one_hot(ids (3,), vocab_size=10)",
                 hint="the width is vocab_size, even when the ids seen are smaller")
    ids3 = torch.randint(0, 5, (2, 3, 4))
    expect_close(student.one_hot(ids3, 5), ref_one_hot(ids3, 5), "one_hot of (2, 3, 4) ids")


# ---- sample ----

N_DRAWS = 40_000
LOGITS = torch.tensor([1.5, 0.5, 2.5, -1.0, 0.0, 1.0])   # ranks: 2 > 0 > 5 > 1 > 4 > 3


def frequencies(ids, vocab_size):
    expect_shape(ids, (N_DRAWS,), "sampled ids")
    if ids.dtype != torch.long:
        raise AssertionError(f"sampled ids should be torch.long, got {ids.dtype}")
    if ids.min() < 0 or ids.max() >= vocab_size:
        raise AssertionError(f"sampled ids should lie in [0, {vocab_size}), got {ids.min()}..{ids.max()}")
    return torch.bincount(ids, minlength=vocab_size).double() / ids.numel()


def top_k_probs(logits, k, temperature=1.0):
    keep = logits.argsort(descending=True)[:k]
    probs = torch.zeros_like(logits, dtype=torch.float64)
    probs[keep] = F.softmax(logits[keep].double() / temperature, dim=-1)
    return probs


# With 40,000 draws a frequency is within 0.008 of its probability (over 3 standard errors),
# and every mistake below moves some probability by more than 0.05.
FREQ_ATOL = 0.012


@check("sample", points=1)
def test_sample_distribution(student):
    """sample draws from softmax(logits / temperature), for temperatures 1, 0.5 and 2"""
    logits = LOGITS.repeat(N_DRAWS, 1)
    for temperature in (1.0, 0.5, 2.0):
        g = torch.Generator().manual_seed(11)
        freq = frequencies(student.sample(logits, g, temperature=temperature), 6)
        expect_close(freq, F.softmax(LOGITS.double() / temperature, dim=-1),
                     f"frequencies at temperature {temperature}", atol=FREQ_ATOL, rtol=0, likely={
                         "the temperature is ignored": F.softmax(LOGITS.double(), dim=-1),
                         "the logits are multiplied by the temperature instead of divided":
                             F.softmax(LOGITS.double() * temperature, dim=-1),
                         "the most likely id is always taken (argmax, no sampling)":
                             F.one_hot(LOGITS.argmax(), 6).double(),
                         "the ids are drawn uniformly (softmax over the batch axis?)": torch.full((6,), 1 / 6,
                                                                                          dtype=torch.float64),
                     })


@check("sample", points=1)
def test_sample_top_k(student):
    """with top_k, only the k highest logits can be drawn, in proportion to their softmax"""
    logits = LOGITS.repeat(N_DRAWS, 1)
    for k, temperature in ((3, 1.0), (2, 0.5), (6, 1.0)):
        g = torch.Generator().manual_seed(12)
        freq = frequencies(student.sample(logits, g, temperature=temperature, top_k=k), 6)
        smallest = LOGITS.argsort()[:k]
        smallest_probs = torch.zeros(6, dtype=torch.float64)
        smallest_probs[smallest] = F.softmax(LOGITS[smallest].double() / temperature, dim=-1)
        likely = {"the k smallest logits are kept instead of the k largest": smallest_probs,
                  "the temperature is ignored": top_k_probs(LOGITS, k)}
        if k < 6:
            likely["k + 1 logits are kept (off by one)"] = top_k_probs(LOGITS, k + 1, temperature)
            likely["top_k is ignored"] = F.softmax(LOGITS.double() / temperature, dim=-1)
        expect_close(freq, top_k_probs(LOGITS, k, temperature), f"frequencies with top_k={k}, "
                     f"temperature={temperature}", atol=FREQ_ATOL, rtol=0, likely=likely)
    g = torch.Generator().manual_seed(13)
    rows = torch.randn(50, 9)
    greedy = student.sample(rows, g, top_k=1)
    expect_close(greedy, rows.argmax(dim=-1), "ids with top_k=1 (always the largest logit, row by row)")


@check("sample", points=1)
def test_sample_rows_independent(student):
    """each row of logits is sampled from its own distribution"""
    first, second = LOGITS, LOGITS.flip(0)
    logits = torch.stack([first, second]).repeat(N_DRAWS // 2, 1)        # rows alternate
    ids = student.sample(logits, torch.Generator().manual_seed(14))
    frequencies(ids, 6)  # shape, dtype and range first: bincount sizes its output by the ids
    freq_even = torch.bincount(ids[0::2], minlength=6).double() / (N_DRAWS // 2)
    freq_odd = torch.bincount(ids[1::2], minlength=6).double() / (N_DRAWS // 2)
    mixed = (F.softmax(first.double(), -1) + F.softmax(second.double(), -1)) / 2
    expect_close(freq_even, F.softmax(first.double(), -1), "frequencies of the even rows",
                 atol=1.5 * FREQ_ATOL, rtol=0, likely={"the rows are mixed up (softmax over the wrong axis?)": mixed})
    expect_close(freq_odd, F.softmax(second.double(), -1), "frequencies of the odd rows",
                 atol=1.5 * FREQ_ATOL, rtol=0, likely={"the rows are mixed up (softmax over the wrong axis?)": mixed})


@check("sample", points=1)
def test_sample_uses_generator(student):
    """the draws come from the generator argument: the same generator state gives the same ids"""
    logits = torch.randn(200, 10)
    g = torch.Generator().manual_seed(15)
    student.seed(1)
    a = student.sample(logits, g)
    student.seed(2)          # a different global seed must not matter
    b = student.sample(logits, g)
    expect_tensor(a, "sampled ids")
    if not torch.equal(a, b):
        raise AssertionError("two calls with a generator in the same state gave different ids: pass "
                             "generator=generator to torch.multinomial (not the global random state)")
    c = student.sample(logits, torch.Generator().manual_seed(16))
    if torch.equal(a, c):
        raise AssertionError("generators with different seeds gave the same ids: are you sampling at all?")


# ---- CharRNN ----

V, H = 7, 6


def reference_parts(vocab_size=V, hidden=H, num_layers=1):
    rnn = nn.RNN(vocab_size, hidden, num_layers, batch_first=True)
    head = nn.Linear(hidden, vocab_size)
    state = {**{f"rnn.{k}": v for k, v in rnn.state_dict().items()},
             **{f"head.{k}": v for k, v in head.state_dict().items()}}
    return rnn, head, state


def reference_forward(rnn, head, x, h=None):
    with torch.no_grad():
        out, h_n = rnn(ref_one_hot(x, head.out_features), h)
        return head(out), h_n


def student_model(student, num_layers=1):
    rnn, head, state = reference_parts(num_layers=num_layers)
    args = (V, H) if num_layers == 1 else (V, H, num_layers)
    model = student.CharRNN(*args)
    keys = sorted(model.state_dict())
    if keys != sorted(state):
        raise AssertionError(f"CharRNN{args}'s state_dict keys should be {sorted(state)} (nn.RNN named rnn, "
                             f"nn.Linear named head), got {keys}")
    model.load_state_dict(state)
    return model, rnn, head


@check("CharRNN", points=1)
def test_charrnn_forward(student):
    """CharRNN(x) gives (B, T, V) logits and (num_layers, B, H) h_n, as nn.RNN + nn.Linear on one-hot inputs"""
    with student.stub("one_hot", ref_one_hot):
        model, rnn, head = student_model(student)
        x = torch.randint(0, V, (3, 5))
        result = model(x)
    if type(result) is not tuple or len(result) != 2:
        raise AssertionError("forward should return a pair (logits, h)")
    logits, h = result
    ref_logits, ref_h = reference_forward(rnn, head, x)
    expect_shape(logits, (3, 5, V), "logits", hint="(B, T, V): one score per character at every step")
    expect_close(logits, ref_logits, "logits", likely={
        "softmax is applied (forward should return raw scores, the loss applies log-softmax)":
            F.softmax(ref_logits, dim=-1)})
    expect_close(h, ref_h, "h_n")


@check("CharRNN", points=1)
def test_charrnn_carries_state(student):
    """forward starts from the given h: two chunks carried through h equal one long sequence"""
    with student.stub("one_hot", ref_one_hot):
        model, rnn, head = student_model(student)
        x = torch.randint(0, V, (2, 8))
        _, h_mid = model(x[:, :3])
        logits2, h_end = model(x[:, 3:], h_mid)
        h0 = torch.randn(1, 2, H)
        logits_h0, _ = model(x, h0)
    ref_all, ref_h = reference_forward(rnn, head, x)
    fresh, _ = reference_forward(rnn, head, x[:, 3:])
    expect_close(logits2, ref_all[:, 3:], "logits of the second chunk", likely={
        "the hidden state passed in is ignored (each call starts from zeros)": fresh})
    expect_close(h_end, ref_h, "h after the second chunk")
    expect_close(logits_h0, reference_forward(rnn, head, x, h0)[0], "logits from a random h0")


@check("CharRNN", points=1)
def test_charrnn_layers(student):
    """CharRNN(V, H, num_layers=2) stacks two RNN layers"""
    with student.stub("one_hot", ref_one_hot):
        model, rnn, head = student_model(student, num_layers=2)
        x = torch.randint(0, V, (2, 4))
        logits, h = model(x)
    ref_logits, ref_h = reference_forward(rnn, head, x)
    expect_shape(h, (2, 2, H), "h_n", hint="(num_layers, B, H)")
    expect_close(logits, ref_logits, "logits with two layers")


@check("CharRNN", points=1)
def test_charrnn_generate(student):
    """generate reads the prefix, then feeds each sampled character back in, carrying h"""
    calls = []

    def recording_argmax(logits, generator, temperature=1.0, top_k=None):
        calls.append((tuple(logits.shape), temperature, top_k, logits.clone()))
        return logits.argmax(dim=-1)

    with student.stub("one_hot", ref_one_hot), student.stub("sample", recording_argmax):
        model, rnn, head = student_model(student)
        prefix = torch.randint(0, V, (2, 4))
        new = model.generate(prefix, 6, torch.Generator().manual_seed(3), temperature=0.7, top_k=4)
    expect_shape(new, (2, 6), "generate(prefix (2, 4), length=6)", hint="only the new characters, (B, length)")
    # the reference loop: greedy decoding with nn.RNN + nn.Linear, one character at a time
    logits, h = reference_forward(rnn, head, prefix)
    seen, out = [], []
    for _ in range(6):
        seen.append(logits[:, -1])
        nxt = logits[:, -1].argmax(dim=-1)
        out.append(nxt)
        logits, h = reference_forward(rnn, head, nxt[:, None], h)
    want = torch.stack(out, dim=1)
    # the same loop with the mistake of starting every step from a blank state
    restart, restart_seen = [], []
    logits, _ = reference_forward(rnn, head, prefix)
    for _ in range(6):
        restart_seen.append(logits[:, -1])
        nxt = logits[:, -1].argmax(dim=-1)
        restart.append(nxt)
        logits, _ = reference_forward(rnn, head, nxt[:, None])
    not_carried = "the hidden state is not carried from one step to the next"
    expect_close(new, want, "generated ids (with sample replaced by argmax)",
                 likely={not_carried: torch.stack(restart, dim=1)})
    expect_equal(len(calls), 6, "number of calls to sample for length=6")
    expect_equal([c[:3] for c in calls], [((2, V), 0.7, 4)] * 6,
                 "the (logits shape, temperature, top_k) passed to sample at each step",
                 likely={"temperature and top_k are not passed on to sample": [((2, V), 1.0, None)] * 6})
    for step, (call, ref, wrong) in enumerate(zip(calls, seen, restart_seen)):
        expect_close(call[3], ref, f"the logits passed to sample at step {step}",
                     likely={not_carried: wrong} if step else None)


# ---- sequence_loss ----

def loss_case(B=3, T=5, vocab=6):
    return torch.randn(B, T, vocab), torch.randint(0, vocab, (B, T + 1))


@check("sequence_loss", points=1)
def test_sequence_loss_value(student):
    """sequence_loss is the mean cross-entropy of each step's logits against the next character"""
    for B, T, vocab in ((3, 5, 6), (1, 1, 4), (4, 7, 7)):
        logits, chunk = loss_case(B, T, vocab)
        ref = F.cross_entropy(logits.reshape(-1, vocab), chunk[:, 1:].reshape(-1))
        got = student.sequence_loss(logits, chunk)
        expect_shape(got, (), "loss", hint="a 0-d tensor: the mean over every (b, t)")
        expect_close(got, ref, f"loss for B={B}, T={T}, V={vocab}", likely={
            "the targets are chunk[:, :-1] (off by one: predict the next character, chunk[:, 1:])":
                F.cross_entropy(logits.reshape(-1, vocab), chunk[:, :-1].reshape(-1)),
            "the loss is summed instead of averaged":
                F.cross_entropy(logits.reshape(-1, vocab), chunk[:, 1:].reshape(-1), reduction="sum"),
            "softmax is applied before cross_entropy (it applies log-softmax itself)":
                F.cross_entropy(F.softmax(logits, -1).reshape(-1, vocab), chunk[:, 1:].reshape(-1)),
        })


@check("sequence_loss", points=1)
def test_sequence_loss_gradient(student):
    """the gradient of sequence_loss with respect to the logits is autograd's"""
    logits, chunk = loss_case()
    got = student.grad(student.sequence_loss, logits, chunk)
    leaf = logits.clone().requires_grad_(True)
    F.cross_entropy(leaf.reshape(-1, 6), chunk[:, 1:].reshape(-1)).backward()
    if got.arg_grads[0] is None:
        raise AssertionError("no gradient reached the logits: is the loss computed with .item(), numpy or "
                             "under torch.no_grad()?")
    expect_close(got.arg_grads[0], leaf.grad, "d loss / d logits")


# ---- bits_per_char ----

@check("bits_per_char", points=1)
def test_bits_per_char_value(student):
    """bits_per_char is the mean of -log2 p(target) over every character"""
    for B, T, vocab in ((2, 5, 6), (3, 1, 9)):
        logits = 2 * torch.randn(B, T, vocab)
        targets = torch.randint(0, vocab, (B, T))
        nats = F.cross_entropy(logits.reshape(-1, vocab), targets.reshape(-1)).item()
        got = as_number(student.bits_per_char(logits, targets), "bits_per_char")
        probs = F.softmax(logits, -1).gather(-1, targets[..., None])
        mistakes = {
            "natural log is used (that is nats; divide by ln 2)": nats,
            "log10 is used (divide nats by ln 2, not ln 10)": nats / math.log(10),
            "the probabilities are averaged before taking the log": -math.log2(probs.mean().item()),
        }
        if abs(got - nats / math.log(2)) > 1e-4:
            for mistake, value in mistakes.items():
                if abs(got - value) < 1e-4:
                    raise AssertionError(f"bits per character is wrong: it is what you get when {mistake}")
            raise AssertionError(f"bits per character: expected {nats / math.log(2):.5f}, got {got:.5f}")


@check("bits_per_char", points=1)
def test_bits_per_char_extremes(student):
    """a uniform guess costs log2(V) bits; a confident right guess costs almost nothing"""
    for vocab in (2, 65):
        got = as_number(student.bits_per_char(torch.zeros(1, 4, vocab), torch.zeros(1, 4, dtype=torch.long)),
                        "bits_per_char")
        if abs(got - math.log2(vocab)) > 1e-4:
            raise AssertionError(f"uniform logits over V={vocab} should cost log2({vocab}) = "
                                 f"{math.log2(vocab):.4f} bits per character, got {got:.4f}")
    targets = torch.tensor([[1, 0, 2]])
    confident = 50 * ref_one_hot(targets, 3)
    got = as_number(student.bits_per_char(confident, targets), "bits_per_char")
    if abs(got) > 1e-4:
        raise AssertionError(f"logits that put almost all probability on the right character should cost ~0 "
                             f"bits, got {got:.4f}: is the target looked up in the right place?")


# Trusted stand-ins for a tampered exercise, so its callers are graded on their own.
REFERENCES = {"one_hot": ref_one_hot}
