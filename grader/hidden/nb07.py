"""Hidden checks for notebook 07, padding, masks and packed sequences.

References are PyTorch's own ``pad_sequence``, ``pack_padded_sequence`` (its ``data`` and
``batch_sizes``), ``pad_packed_sequence``, ``nn.LSTM`` run on a packed batch and on each sequence
alone (no pad anywhere), and ``F.cross_entropy`` on the real steps (and, as a second formulation,
with ``ignore_index``). Shapes, seeds and length orders vary, lengths include 1 and the full
width, so a swapped axis, an off-by-one step or an order mix-up changes the result.
"""
import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence, pad_sequence

from grader.checks import check, expect_close, expect_shape, expect_tensor, type_name
from grader.student import StudentError
from rnncourse.play_classifier import PlayClassifier

_PACK = ["torch.nn.utils.rnn.pack_padded_sequence", "torch.nn.utils.rnn.pack_sequence",
         "torch._C._VariableFunctions._pack_padded_sequence"]
FORBIDDEN = {
    "pad_batch": ["torch.nn.utils.rnn.pad_sequence", "torch._C._nn.pad_sequence",
                  "torch.nn.utils.rnn.pack_sequence", "torch.nn.utils.rnn.pad_packed_sequence"],
    "packed_batch_sizes": _PACK,
    "pack_manually": _PACK,
}

# (lengths, padded width T): unsorted, with 1 and T among them; one sorted with ties
CASES = [([3, 7, 1, 5], 7), ([2, 6, 4, 1, 3, 5], 6), ([4], 4), ([1, 8, 2], 8)]
SORTED = [([6, 4, 4, 2, 1, 1], 6), ([3, 3, 3], 3), ([5, 2], 5)]


def gen(seed):
    return torch.Generator().manual_seed(seed)


def id_sequences(lengths, seed, vocab=9):
    return [torch.randint(1, vocab, (n,), generator=gen(seed + i)) for i, n in enumerate(lengths)]


def vector_sequences(lengths, seed, d=3):
    return [torch.randn(n, d, generator=gen(seed + i)) for i, n in enumerate(lengths)]


def padded_vectors(lengths, width, seed, d=3):
    """(B, width, d) random vectors, also random on the pads (a wrong order or a read pad shows)."""
    x = torch.randn(len(lengths), width, d, generator=gen(seed))
    return x, torch.tensor(lengths)


def expect_integer(x, shape, what):
    expect_tensor(x, what)
    if x.is_floating_point() or x.dtype == torch.bool:
        raise AssertionError(f"{what} should be an integer tensor (torch.long), got dtype {x.dtype}")
    return expect_shape(x, shape, what)


def expect_pair(result, what):
    if not isinstance(result, tuple) or len(result) != 2:
        raise AssertionError(f"{what} should return a pair, got {type_name(result)}")
    return result


def real_mask(lengths, width):
    return torch.arange(width)[None, :] < torch.as_tensor(lengths)[:, None]


# ---- pad_batch ----

@check("pad_batch", points=1)
def test_pad_ids(student):
    """pad_batch matches pad_sequence(batch_first=True, padding_value=pad_id) on id sequences, pads after the end"""
    for seed, (lengths, _) in enumerate(CASES + SORTED):
        seqs = id_sequences(lengths, seed)
        padded, got_lengths = expect_pair(student.pad_batch(seqs, pad_id=11), "pad_batch")
        ref = pad_sequence(seqs, batch_first=True, padding_value=11)
        expect_shape(padded, ref.shape, "padded", hint="(B, T): one row per sequence, T = the longest length")
        if padded.dtype != ref.dtype:
            raise AssertionError(f"padded has dtype {padded.dtype}; keep the sequences' dtype {ref.dtype} "
                                 "(build it with seq.new_full or dtype=seq.dtype)")
        expect_close(padded, ref, f"padded for lengths {lengths}", likely={
            "the pads are put before each sequence (they go after its end)":
                pad_sequence(seqs, batch_first=True, padding_value=11, padding_side="left"),
            "the pads are 0 instead of pad_id": pad_sequence(seqs, batch_first=True, padding_value=0),
        })
        expect_integer(got_lengths, (len(lengths),), "lengths")
        expect_close(got_lengths, torch.tensor(lengths), "lengths")


@check("pad_batch", points=1)
def test_pad_vectors(student):
    """pad_batch pads sequences of vectors (L_i, D) to (B, T, D), keeps their dtype, and takes a list or a tuple"""
    for seed, (lengths, _) in enumerate(CASES[:3]):
        seqs = vector_sequences(lengths, seed, d=4)
        ref = pad_sequence(seqs, batch_first=True, padding_value=0.0)
        for given in (seqs, tuple(seqs)):
            padded, got_lengths = expect_pair(student.pad_batch(given, pad_id=0.0), "pad_batch")
            expect_shape(padded, ref.shape, "padded vectors", hint="(B, T, D)")
            if padded.dtype != ref.dtype:
                raise AssertionError(f"padded has dtype {padded.dtype}; keep the sequences' dtype {ref.dtype}")
            expect_close(padded, ref, f"padded vectors for lengths {lengths}")
            expect_integer(got_lengths, (len(lengths),), "lengths")
            expect_close(got_lengths, torch.tensor(lengths), "lengths")


# ---- lengths_to_mask ----

@check("lengths_to_mask", points=1)
def test_mask_values(student):
    """lengths_to_mask is True exactly where t < lengths[b], as a (B, max(lengths)) torch.bool tensor"""
    for lengths, width in CASES + SORTED:
        lengths_t = torch.tensor(lengths)
        mask = expect_tensor(student.lengths_to_mask(lengths_t), "mask")
        if mask.dtype != torch.bool:
            raise AssertionError(f"the mask has dtype {mask.dtype}: return a torch.bool tensor (x[mask] "
                                 "needs one; compare with <, do not convert)")
        ref = real_mask(lengths, width)
        expect_close(mask, ref, f"mask for lengths {lengths}", likely={
            "the mask is inverted (True should mark the real elements, False the pads)": ~ref,
            "t <= lengths[b] is used: one pad too many is marked real": real_mask([n + 1 for n in lengths], width),
            "t < lengths[b] - 1 is used: each sequence's last element is marked as a pad":
                real_mask([n - 1 for n in lengths], width),
        })


@check("lengths_to_mask", points=1)
def test_mask_max_len(student):
    """lengths_to_mask(lengths, max_len) is (B, max_len), also wider than every sequence, for int32 or int64 lengths"""
    for lengths, width in CASES[:2]:
        for dtype in (torch.long, torch.int32):
            mask = student.lengths_to_mask(torch.tensor(lengths, dtype=dtype), max_len=width + 3)
            expect_shape(mask, (len(lengths), width + 3), "mask with max_len",
                         hint="max_len sets the number of columns")
            expect_close(mask, real_mask(lengths, width + 3), "mask with max_len")


# ---- packed_batch_sizes ----

def reference_batch_sizes(lengths):
    return pack_padded_sequence(torch.zeros(len(lengths), max(lengths)), torch.tensor(lengths),
                                batch_first=True, enforce_sorted=False).batch_sizes


@check("packed_batch_sizes", points=1)
def test_batch_sizes_sorted(student):
    """packed_batch_sizes equals PackedSequence.batch_sizes for sorted lengths, ties and length-1 sequences included"""
    for lengths, _ in SORTED + [([1], 1)]:
        ref = reference_batch_sizes(lengths)
        sizes = expect_integer(student.packed_batch_sizes(torch.tensor(lengths)), ref.shape, "batch_sizes")
        expect_close(sizes, ref, f"batch_sizes for lengths {lengths}", likely={
            "the lengths themselves are returned (batch_sizes counts sequences per step, not steps per "
            "sequence)": torch.tensor(sorted(lengths, reverse=True)[:len(ref)]),
            "lengths[b] >= t is counted from t = 1: one step late": torch.tensor(
                [sum(n > t + 1 for n in lengths) for t in range(len(ref))]),
        })


@check("packed_batch_sizes", points=1)
def test_batch_sizes_unsorted(student):
    """packed_batch_sizes does not depend on the order of the lengths (random orders, several batch sizes)"""
    for seed in range(4):
        lengths = torch.randint(1, 9, (3 + 2 * seed,), generator=gen(seed)).tolist()
        ref = reference_batch_sizes(lengths)
        sizes = expect_integer(student.packed_batch_sizes(torch.tensor(lengths)), ref.shape,
                               f"batch_sizes for lengths {lengths}")
        expect_close(sizes, ref, f"batch_sizes for lengths {lengths}")


# ---- pack_manually ----

def reference_data(padded, lengths, enforce_sorted):
    return pack_padded_sequence(padded, lengths, batch_first=True, enforce_sorted=enforce_sorted).data


def sequence_major(padded, lengths, order):
    """The real elements of the rows in ``order``, one sequence after the other."""
    return torch.cat([padded[b, :lengths[b]] for b in order])


def time_major(padded, lengths, order):
    """The real elements step after step, the running rows taken in ``order`` at each step."""
    return torch.cat([padded[[b for b in order if lengths[b] > t], t] for t in range(max(lengths))])


@check("pack_manually", points=1)
def test_pack_sorted(student):
    """pack_manually equals PackedSequence.data for sorted batches (ids and vectors, ties included), enforce_sorted=True"""
    for seed, (lengths, width) in enumerate(SORTED):
        lengths_t = torch.tensor(lengths)
        for padded in (torch.randint(0, 9, (len(lengths), width), generator=gen(seed)),
                       padded_vectors(lengths, width, seed)[0]):
            ref = reference_data(padded, lengths_t, True)
            data = student.pack_manually(padded, lengths_t, True)
            expect_shape(data, ref.shape, "data", hint="sum(lengths) rows, no pad")
            expect_close(data, ref, f"data for lengths {lengths}", likely={
                "the data goes sequence after sequence; a PackedSequence goes step after step (all "
                "sequences' step 0, then step 1, ...)": sequence_major(padded, lengths, range(len(lengths))),
            })


@check("pack_manually", points=1)
def test_pack_unsorted(student):
    """with enforce_sorted=False, pack_manually sorts by decreasing length first, and gradients reach exactly the real elements"""
    for seed, (lengths, width) in enumerate(CASES):
        padded, lengths_t = padded_vectors(lengths, width, seed)
        ref = reference_data(padded, lengths_t, False)
        unsorted = time_major(padded, lengths, range(len(lengths)))
        ascending = time_major(padded, lengths, torch.sort(lengths_t).indices.tolist())
        result = student.grad(student.pack_manually, padded, lengths_t, False)
        expect_shape(result.output, ref.shape, "data", hint="sum(lengths) rows, no pad")
        expect_close(result.output, ref, f"data for lengths {lengths}", likely={
            "the rows are not sorted by length first (enforce_sorted=False must sort them)": unsorted,
            "the data goes sequence after sequence instead of step after step":
                sequence_major(padded, lengths, torch.sort(lengths_t, descending=True).indices),
            "the rows are sorted by increasing length": ascending,
        })
        expect_close(result.arg_grads[0], real_mask(lengths, width)[..., None].float().expand_as(padded),
                     "the gradient of the padded input (1 on real elements, 0 on pads)")


@check("pack_manually", points=1)
def test_pack_enforce_sorted(student):
    """with enforce_sorted=True, pack_manually raises ValueError for unsorted lengths and accepts sorted ones"""
    for seed, (lengths, width) in enumerate(CASES[:2] + [([2, 3], 3)]):
        padded, lengths_t = padded_vectors(lengths, width, seed)
        try:
            student.pack_manually(padded, lengths_t, True)
        except StudentError as e:
            if not str(e).startswith("ValueError"):
                raise AssertionError(f"enforce_sorted=True with unsorted lengths {lengths} should raise a "
                                     f"ValueError, got {str(e)[:120]}") from None
        else:
            raise AssertionError(f"enforce_sorted=True with unsorted lengths {lengths} packed silently: "
                                 "raise a ValueError (the rows would be mixed up)")
    padded, lengths_t = padded_vectors([4, 4, 2], 4, 7)
    expect_close(student.pack_manually(padded, lengths_t, True), reference_data(padded, lengths_t, True),
                 "data for sorted lengths [4, 4, 2] with a tie")


# ---- last_valid_outputs ----

def packed_lstm_output(lengths, width, seed, h=4):
    """A packed nn.LSTM's padded output (B, width, h) and h_n[-1] (B, h): the reference."""
    torch.manual_seed(seed)
    lstm = nn.LSTM(3, h, batch_first=True)
    x, lengths_t = padded_vectors(lengths, width, seed)
    with torch.no_grad():
        out, (h_n, _) = lstm(pack_padded_sequence(x, lengths_t, batch_first=True, enforce_sorted=False))
        output, _ = pad_packed_sequence(out, batch_first=True, total_length=width + 2)
    return output, lengths_t, h_n[-1]


@check("last_valid_outputs", points=1)
def test_last_values(student):
    """last_valid_outputs(output, lengths) equals h_n of a packed nn.LSTM, for several batches (lengths 1 and T included)"""
    for seed, (lengths, width) in enumerate(CASES):
        output, lengths_t, ref = packed_lstm_output(lengths, width, seed)
        last = student.last_valid_outputs(output, lengths_t)
        expect_shape(last, ref.shape, "the last valid outputs", hint="(B, H): one row per sequence")
        rows = torch.arange(len(lengths))
        expect_close(last, ref, f"the last valid outputs for lengths {lengths}", likely={
            "output[:, -1] is taken: for a padded batch that is a pad step": output[:, -1],
            "output[b, lengths[b]] is taken: one step past the end (use lengths[b] - 1)": output[rows, lengths_t],
            "output[b, lengths[b] - 2] is taken: one step too early": output[rows, (lengths_t - 2).clamp(min=0)],
        })


@check("last_valid_outputs", points=1)
def test_last_gradient(student):
    """gradients from last_valid_outputs reach exactly output[b, lengths[b] - 1]"""
    output, lengths_t, _ = packed_lstm_output([2, 5, 1, 4], 5, 3)
    upstream = torch.randn(4, 4, generator=gen(0))
    result = student.grad(student.last_valid_outputs, output, lengths_t, upstream=[upstream])
    expected = torch.zeros_like(output)
    expected[torch.arange(4), lengths_t - 1] = upstream
    expect_close(result.arg_grads[0], expected, "the gradient of output")


# ---- masked_cross_entropy ----

def reference_lengths_to_mask(lengths, max_len=None):
    width = int(max(lengths)) if max_len is None else max_len
    return real_mask(torch.as_tensor(lengths).tolist(), width)


def loss_case(lengths, width, seed, classes=5):
    g = gen(seed)
    return (torch.randn(len(lengths), width, classes, generator=g) * 2,
            torch.randint(0, classes, (len(lengths), width), generator=g), torch.tensor(lengths))


@check("masked_cross_entropy", points=1)
def test_mce_value(student):
    """masked_cross_entropy equals F.cross_entropy over the real steps (and with ignore_index on the pads)"""
    for seed, (lengths, width) in enumerate(CASES + SORTED[:1]):
        logits, targets, lengths_t = loss_case(lengths, width + 1, seed)
        mask = real_mask(lengths, width + 1)
        ref = F.cross_entropy(logits[mask], targets[mask])
        second = F.cross_entropy(logits.transpose(1, 2), targets.masked_fill(~mask, -100))
        assert torch.allclose(ref, second)
        per_token = F.cross_entropy(logits.transpose(1, 2), targets, reduction="none")      # (B, T)
        with student.stub("lengths_to_mask", reference_lengths_to_mask):
            loss = student.masked_cross_entropy(logits, targets, lengths_t)
        expect_shape(loss, (), "the loss", hint="a scalar: average, do not return one value per step")
        expect_close(loss, ref, f"the loss for lengths {lengths}", likely={
            "the mean is taken over all B*T slots, pads included": per_token.mean(),
            "the masked losses are summed but divided by B*T (a mean over padded positions)":
                (per_token * mask).sum() / mask.numel(),
            "the mask is inverted (the loss of the pads)": per_token[~mask].mean(),
            "the losses are summed instead of averaged": per_token[mask].sum(),
            "each sequence is averaged first, then the sequences (a short sequence's words weigh more)":
                ((per_token * mask).sum(1) / lengths_t).mean(),
        })


@check("masked_cross_entropy", points=1)
def test_mce_gradient(student):
    """the gradient of masked_cross_entropy matches autograd of the reference: zero on every pad step"""
    logits, targets, lengths_t = loss_case([3, 6, 1, 4], 6, 11)
    mask = real_mask([3, 6, 1, 4], 6)
    ref_logits = logits.clone().requires_grad_(True)
    F.cross_entropy(ref_logits[mask], targets[mask]).backward()
    with student.stub("lengths_to_mask", reference_lengths_to_mask):
        result = student.grad(student.masked_cross_entropy, logits, targets, lengths_t)
    all_logits = logits.clone().requires_grad_(True)
    F.cross_entropy(all_logits.transpose(1, 2), targets).backward()
    expect_close(result.arg_grads[0], ref_logits.grad, "the gradient of the logits", likely={
        "the pads receive gradient (they are part of the loss)": all_logits.grad})


@check("masked_cross_entropy", points=1)
def test_mce_edges(student):
    """masked_cross_entropy on a batch without pads equals plain F.cross_entropy; also for B = 1 and many classes"""
    for lengths, width, classes in (([4, 4, 4], 4, 3), ([5], 5, 12), ([1, 2], 2, 7)):
        logits, targets, lengths_t = loss_case(lengths, width, width, classes)
        mask = real_mask(lengths, width)
        with student.stub("lengths_to_mask", reference_lengths_to_mask):
            loss = student.masked_cross_entropy(logits, targets, lengths_t)
        expect_shape(loss, (), "the loss")
        expect_close(loss, F.cross_entropy(logits[mask], targets[mask]), f"the loss for lengths {lengths}")


# ---- encode_packed ----

V, E, H, C = 13, 5, 4, 3


def classifier_pair(student, bidirectional, layers, seed):
    """The reference PlayClassifier and the same one built in the student's process (same weights)."""
    torch.manual_seed(seed)
    ref = PlayClassifier(None, V, C, pad_id=0, embed_dim=E, hidden_size=H, bidirectional=bidirectional,
                         num_layers=layers, dropout=0.0).eval()
    with torch.no_grad():
        for name, p in ref.named_parameters():
            if name.startswith("rnn."):
                p.copy_(0.6 * torch.randn_like(p))
    model = student.PlayClassifier(student.value("encode_packed"), V, C, pad_id=0, embed_dim=E, hidden_size=H,
                                   bidirectional=bidirectional, num_layers=layers, dropout=0.0)
    model.load_state_dict({k: v.clone() for k, v in ref.state_dict().items()})
    model.eval()
    return ref, model


def alone(ref, ids, lengths, layer=-1):
    """Each sequence run on its own, unpadded: ``layer``'s [forward ; backward] final state."""
    rnn, rows = ref.rnn, []
    dirs = 2 if rnn.bidirectional else 1
    with torch.no_grad():
        for b in range(len(lengths)):
            _, (h, _) = rnn(ref.embed(ids[b:b + 1, :lengths[b]]))
            rows.append(torch.cat(list(h.view(rnn.num_layers, dirs, 1, rnn.hidden_size)[layer]), dim=1))
    return torch.cat(rows)


def padded_run(ref, ids):
    with torch.no_grad():
        out, (h, _) = ref.rnn(ref.embed(ids))
    return out, h


def batch(lengths, width, seed):
    ids = torch.randint(1, V, (len(lengths), width), generator=gen(seed))
    lengths_t = torch.tensor(lengths)
    return ids.masked_fill(~real_mask(lengths, width), 0), lengths_t


def run_encoder(student, model, ids, lengths_t):
    return student.encode_packed(model.embed, model.rnn, ids, lengths_t)


@check("encode_packed", points=1)
def test_encode_one_direction(student):
    """encode_packed with a one-layer, one-direction LSTM gives each sequence's own final state, in the batch's order"""
    ref, model = classifier_pair(student, False, 1, 0)
    for seed, (lengths, width) in enumerate(CASES):
        ids, lengths_t = batch(lengths, width + 1, seed)
        expected = alone(ref, ids, lengths_t)
        out, h = padded_run(ref, ids)
        order = torch.sort(lengths_t, descending=True).indices
        feats = run_encoder(student, model, ids, lengths_t)
        expect_shape(feats, expected.shape, "features", hint="(B, H) for one direction")
        expect_close(feats, expected, f"features for lengths {lengths}", likely={
            "the LSTM runs over the padded batch: h_n has read the pads (pack the embedded batch)": h[-1],
            "the rows come back sorted by length (keep the batch's order: use h_n, which is unsorted "
            "for you)": expected[order],
        })


@check("encode_packed", points=1)
def test_encode_bidirectional(student):
    """encode_packed with a bidirectional LSTM returns [forward ; backward] final states, no pad read by either"""
    ref, model = classifier_pair(student, True, 1, 1)
    for seed, (lengths, width) in enumerate(CASES):
        ids, lengths_t = batch(lengths, width + 2, seed + 10)
        expected = alone(ref, ids, lengths_t)
        out, h = padded_run(ref, ids)
        feats = run_encoder(student, model, ids, lengths_t)
        expect_shape(feats, expected.shape, "features", hint="(B, 2H): forward and backward concatenated")
        expect_close(feats, expected, f"features for lengths {lengths}", likely={
            "the LSTM runs over the padded batch: the backward direction starts on pads (pack it)":
                torch.cat([h[-2], h[-1]], dim=1),
            "the backward half comes first": torch.cat([expected[:, H:], expected[:, :H]], dim=1),
        })


@check("encode_packed", points=1)
def test_encode_deep(student):
    """encode_packed reads the top layer of 2-layer LSTMs (both direction settings) and works in the classifier"""
    for bidirectional in (True, False):
        ref, model = classifier_pair(student, bidirectional, 2, 2)
        ids, lengths_t = batch([2, 5, 1, 3], 6, 20)
        expected = alone(ref, ids, lengths_t)
        first_layer = alone(ref, ids, lengths_t, layer=0)
        feats = run_encoder(student, model, ids, lengths_t)
        width = (2 if bidirectional else 1) * H
        expect_shape(feats, (4, width), f"features of a 2-layer LSTM (bidirectional={bidirectional})")
        expect_close(feats, expected, f"features of a 2-layer LSTM (bidirectional={bidirectional})", likely={
            "the first layer's final states are used (h_n[0], h_n[1]): take the top layer's, h_n[-2] "
            "and h_n[-1]": first_layer})
        with torch.no_grad():
            logits = ref.head(expected)
        expect_close(model(ids, lengths_t), logits, "PlayClassifier's logits with your encode_packed")
