"""Visible checks for notebook 07: quick comparisons with PyTorch's own padding and packing.

Each function takes the student's function and raises ``AssertionError`` with a hint when
something is off. The grader runs more (hidden) checks; passing these is a good sign, not a
guarantee.
"""
import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_sequence

from rnncourse.checks import visible_check

LENGTHS = torch.tensor([3, 5, 1, 4])          # unsorted, distinct: every order mistake shows


def _passed(name, n):
    print(f"✔ {name}: {n} visible checks passed")


def _sequences(lengths, *trailing, seed=0):
    gen = torch.Generator().manual_seed(seed)
    if trailing:
        return [torch.randn(int(n), *trailing, generator=gen) for n in lengths]
    return [torch.randint(1, 9, (int(n),), generator=gen) for n in lengths]


def _integer_tensor(x, what):
    assert isinstance(x, torch.Tensor) and not x.is_floating_point() and x.dtype != torch.bool, \
        f"{what} should be an integer tensor (torch.long), got {type(x).__name__}" + \
        (f" of dtype {x.dtype}" if isinstance(x, torch.Tensor) else "")


@visible_check
def pad_batch(fn):
    seqs = _sequences(LENGTHS)
    result = fn(seqs, pad_id=0)
    assert isinstance(result, tuple) and len(result) == 2, "return a pair (padded, lengths)"
    padded, lengths = result
    assert isinstance(padded, torch.Tensor), "padded should be a tensor"
    assert tuple(padded.shape) == (4, 5), \
        f"padded should be (B, T) = (4, 5) for lengths {LENGTHS.tolist()}, got {tuple(padded.shape)}"
    _integer_tensor(lengths, "lengths")
    assert lengths.tolist() == LENGTHS.tolist(), f"lengths should be {LENGTHS.tolist()}, got {lengths.tolist()}"
    ref = pad_sequence(seqs, batch_first=True, padding_value=0)
    assert padded.dtype == ref.dtype, f"padded has dtype {padded.dtype}; keep the sequences' dtype {ref.dtype}"
    left = pad_sequence(seqs, batch_first=True, padding_value=0, padding_side="left")
    assert not torch.equal(padded, left), "the pads are put before each sequence: they go after its end"
    assert torch.equal(padded, ref), "padded differs from pad_sequence(..., batch_first=True)"
    padded7, _ = fn(tuple(seqs), pad_id=7)
    assert torch.equal(padded7, pad_sequence(seqs, batch_first=True, padding_value=7)), \
        "with pad_id=7 (and the sequences given as a tuple) the pads should be 7"
    vectors = _sequences(LENGTHS, 3)
    padded_v, _ = fn(vectors, pad_id=0.0)
    assert torch.equal(padded_v, pad_sequence(vectors, batch_first=True)), \
        "sequences of vectors (L_i, D) should give (B, T, D)"
    _passed("pad_batch", 5)


@visible_check
def lengths_to_mask(fn):
    mask = fn(LENGTHS)
    assert isinstance(mask, torch.Tensor) and mask.dtype == torch.bool, \
        "return a torch.bool tensor (x[mask] needs a boolean mask)"
    assert tuple(mask.shape) == (4, 5), f"mask should be (B, max(lengths)) = (4, 5), got {tuple(mask.shape)}"
    ref = torch.arange(5)[None, :] < LENGTHS[:, None]
    assert not torch.equal(mask, ~ref), "the mask is inverted: True marks the real elements, False the pads"
    assert torch.equal(mask, ref), "mask[b, t] should be True exactly when t < lengths[b]"
    wide = fn(LENGTHS, max_len=7)
    assert tuple(wide.shape) == (4, 7), f"with max_len=7 the mask should be (4, 7), got {tuple(wide.shape)}"
    _passed("lengths_to_mask", 4)


@visible_check
def packed_batch_sizes(fn):
    sizes = fn(LENGTHS)
    _integer_tensor(sizes, "batch_sizes")
    ref = pack_padded_sequence(torch.zeros(4, 5), LENGTHS, batch_first=True, enforce_sorted=False).batch_sizes
    assert sizes.tolist() != sorted(LENGTHS.tolist(), reverse=True), \
        "that is the lengths sorted: batch_sizes counts sequences per time step, not steps per sequence"
    assert tuple(sizes.shape) == tuple(ref.shape), \
        f"batch_sizes should have one entry per step, max(lengths) = {len(ref)}, got shape {tuple(sizes.shape)}"
    assert sizes.tolist() == ref.tolist(), \
        f"batch_sizes should be {ref.tolist()} for lengths {LENGTHS.tolist()}, got {sizes.tolist()}"
    _passed("packed_batch_sizes", 3)


@visible_check
def pack_manually(fn):
    padded = pad_sequence(_sequences(LENGTHS, 2), batch_first=True)
    data = fn(padded, LENGTHS, enforce_sorted=False)
    ref = pack_padded_sequence(padded, LENGTHS, batch_first=True, enforce_sorted=False).data
    assert isinstance(data, torch.Tensor) and tuple(data.shape) == tuple(ref.shape), \
        f"data should be (sum(lengths), D) = {tuple(ref.shape)}, got " + \
        (str(tuple(data.shape)) if isinstance(data, torch.Tensor) else type(data).__name__)
    order = torch.sort(LENGTHS, descending=True).indices
    by_sequence = torch.cat([padded[b, :LENGTHS[b]] for b in order])
    assert not torch.equal(data, by_sequence), \
        "the data is sequence after sequence: a PackedSequence goes step after step (time-major)"
    assert torch.equal(data, ref), "data differs from pack_padded_sequence(..., enforce_sorted=False).data"
    ids = pad_sequence(_sequences([5, 4, 4, 2]), batch_first=True)
    assert torch.equal(fn(ids, torch.tensor([5, 4, 4, 2])),
                       pack_padded_sequence(ids, torch.tensor([5, 4, 4, 2]), batch_first=True).data), \
        "with sorted lengths and enforce_sorted=True, data differs from PyTorch's"
    try:
        fn(padded, LENGTHS, enforce_sorted=True)
    except Exception as e:   # run by the grader, your error arrives wrapped, its type named first
        assert isinstance(e, ValueError) or str(e).startswith("ValueError"), \
            f"enforce_sorted=True with unsorted lengths should raise a ValueError, got {type(e).__name__}: {e}"
    else:
        raise AssertionError("enforce_sorted=True with unsorted lengths should raise a ValueError")
    _passed("pack_manually", 4)


@visible_check
def last_valid_outputs(fn):
    torch.manual_seed(0)
    lstm = nn.LSTM(2, 3, batch_first=True)
    x = pad_sequence(_sequences(LENGTHS, 2), batch_first=True)
    with torch.no_grad():
        packed_out, (h_n, _) = lstm(pack_padded_sequence(x, LENGTHS, batch_first=True, enforce_sorted=False))
        output, _ = torch.nn.utils.rnn.pad_packed_sequence(packed_out, batch_first=True)
    last = fn(output, LENGTHS)
    assert isinstance(last, torch.Tensor) and tuple(last.shape) == (4, 3), \
        "the result should be (B, H) = (4, 3), got " + \
        (str(tuple(last.shape)) if isinstance(last, torch.Tensor) else type(last).__name__)
    assert not torch.allclose(last, output[:, -1]), \
        "that is output[:, -1]: for shorter sequences it is a pad step (zeros)"
    assert torch.allclose(last, h_n[-1], atol=1e-6), \
        "row b should be output[b, lengths[b] - 1], which equals h_n of a packed LSTM"
    _passed("last_valid_outputs", 3)


@visible_check(uses=('lengths_to_mask',))
def masked_cross_entropy(fn):
    gen = torch.Generator().manual_seed(0)
    logits = torch.randn(4, 5, 6, generator=gen)
    targets = torch.randint(0, 6, (4, 5), generator=gen)
    loss = fn(logits, targets, LENGTHS)
    assert isinstance(loss, torch.Tensor) and loss.dim() == 0, "return a scalar tensor (0-dim)"
    mask = torch.arange(5)[None, :] < LENGTHS[:, None]
    ref = F.cross_entropy(logits[mask], targets[mask])
    assert not torch.allclose(loss, F.cross_entropy(logits.transpose(1, 2), targets)), \
        "that is the mean over all B*T slots: the pads are counted"
    assert not torch.allclose(loss, F.cross_entropy(logits[~mask], targets[~mask])), \
        "that is the loss over the pads only: the mask is inverted"
    assert torch.allclose(loss, ref, atol=1e-6), \
        f"expected the mean over the sum(lengths) = {int(LENGTHS.sum())} real steps ({ref.item():.4f}), got {loss.item():.4f}"
    _passed("masked_cross_entropy", 3)


@visible_check
def encode_packed(fn):
    for bidirectional in (True, False):
        torch.manual_seed(0)
        embed, lstm = nn.Embedding(9, 4, padding_idx=0), nn.LSTM(4, 3, batch_first=True, bidirectional=bidirectional)
        ids = pad_sequence(_sequences(LENGTHS), batch_first=True)
        with torch.no_grad():
            feats = fn(embed, lstm, ids, LENGTHS)
            alone = []
            for b in range(4):                       # each sequence on its own: no pad anywhere
                _, (h, _) = lstm(embed(ids[b:b + 1, :LENGTHS[b]]))
                alone.append(torch.cat([h[-2], h[-1]], dim=1) if bidirectional else h[-1])
            alone = torch.cat(alone)
            _, (h_pad, _) = lstm(embed(ids))
        width = 6 if bidirectional else 3
        assert isinstance(feats, torch.Tensor) and tuple(feats.shape) == (4, width), \
            f"features should be (B, {width}) (bidirectional={bidirectional}), got " + \
            (str(tuple(feats.shape)) if isinstance(feats, torch.Tensor) else type(feats).__name__)
        assert not torch.allclose(feats, h_pad[-1] if not bidirectional else torch.cat([h_pad[-2], h_pad[-1]], 1)), \
            "the features are those of the padded batch: the LSTM has read the pads (pack it)"
        assert torch.allclose(feats, alone, atol=1e-5), \
            f"features differ from each sequence run alone (bidirectional={bidirectional}): top layer's " \
            "[forward ; backward] final states, rows in the batch's order"
    _passed("encode_packed", 3)
