"""Answers to notebook 07's exercises: mistakes students make, and correct rewrites."""
from grader.variants import Variant

VARIANTS = [
    # ---- pad_batch ----
    Variant("pad_batch", "wrong", "pads put before each sequence", '''
def pad_batch(sequences, pad_id=0):
    sequences = list(sequences)
    lengths = torch.tensor([len(s) for s in sequences])
    T = int(lengths.max())
    padded = sequences[0].new_full((len(sequences), T, *sequences[0].shape[1:]), pad_id)
    for b, s in enumerate(sequences):
        padded[b, T - len(s):] = s
    return padded, lengths
'''),
    Variant("pad_batch", "wrong", "pads are zeros whatever pad_id says", '''
def pad_batch(sequences, pad_id=0):
    sequences = list(sequences)
    lengths = torch.tensor([len(s) for s in sequences])
    padded = sequences[0].new_zeros((len(sequences), int(lengths.max()), *sequences[0].shape[1:]))
    for b, s in enumerate(sequences):
        padded[b, :len(s)] = s
    return padded, lengths
'''),
    Variant("pad_batch", "wrong", "time-major (T, B) like pad_sequence's default", '''
def pad_batch(sequences, pad_id=0):
    sequences = list(sequences)
    lengths = torch.tensor([len(s) for s in sequences])
    padded = sequences[0].new_full((int(lengths.max()), len(sequences), *sequences[0].shape[1:]), pad_id)
    for b, s in enumerate(sequences):
        padded[:len(s), b] = s
    return padded, lengths
'''),
    Variant("pad_batch", "wrong", "padded to the first sequence's length", '''
def pad_batch(sequences, pad_id=0):
    sequences = list(sequences)
    lengths = torch.tensor([len(s) for s in sequences])
    T = len(sequences[0])
    padded = sequences[0].new_full((len(sequences), T, *sequences[0].shape[1:]), pad_id)
    for b, s in enumerate(sequences):
        padded[b, :min(T, len(s))] = s[:T]
    return padded, lengths
'''),
    Variant("pad_batch", "wrong", "float padding turns ids into floats", '''
def pad_batch(sequences, pad_id=0):
    sequences = list(sequences)
    lengths = torch.tensor([len(s) for s in sequences])
    padded = torch.full((len(sequences), int(lengths.max()), *sequences[0].shape[1:]), float(pad_id))
    for b, s in enumerate(sequences):
        padded[b, :len(s)] = s
    return padded, lengths
'''),
    Variant("pad_batch", "wrong", "uses pad_sequence", '''
from torch.nn.utils.rnn import pad_sequence

def pad_batch(sequences, pad_id=0):
    sequences = list(sequences)
    return pad_sequence(sequences, batch_first=True, padding_value=pad_id), torch.tensor([len(s) for s in sequences])
'''),
    Variant("pad_batch", "correct", "F.pad each sequence, then stack", '''
def pad_batch(sequences, pad_id=0):
    sequences = tuple(sequences)
    T = max(s.shape[0] for s in sequences)
    rows = []
    for s in sequences:
        widths = [0, 0] * (s.dim() - 1) + [0, T - s.shape[0]]   # F.pad counts from the last axis
        rows.append(F.pad(s, widths, value=pad_id))
    return torch.stack(rows), torch.tensor([s.shape[0] for s in sequences], dtype=torch.int64)
'''),

    # ---- lengths_to_mask ----
    Variant("lengths_to_mask", "wrong", "inverted mask (True on pads)", '''
def lengths_to_mask(lengths, max_len=None):
    T = int(lengths.max()) if max_len is None else max_len
    return torch.arange(T)[None, :] >= lengths[:, None]
'''),
    Variant("lengths_to_mask", "wrong", "off by one (t <= length)", '''
def lengths_to_mask(lengths, max_len=None):
    T = int(lengths.max()) if max_len is None else max_len
    return torch.arange(T)[None, :] <= lengths[:, None]
'''),
    Variant("lengths_to_mask", "wrong", "float mask", '''
def lengths_to_mask(lengths, max_len=None):
    T = int(lengths.max()) if max_len is None else max_len
    return (torch.arange(T)[None, :] < lengths[:, None]).float()
'''),
    Variant("lengths_to_mask", "wrong", "max_len ignored", '''
def lengths_to_mask(lengths, max_len=None):
    return torch.arange(int(lengths.max()))[None, :] < lengths[:, None]
'''),
    Variant("lengths_to_mask", "correct", "a loop filling rows", '''
def lengths_to_mask(lengths, max_len=None):
    T = max_len if max_len is not None else max(int(n) for n in lengths)
    mask = torch.zeros(len(lengths), T, dtype=torch.bool)
    for b, n in enumerate(lengths.tolist()):
        mask[b, :n] = True
    return mask
'''),

    # ---- packed_batch_sizes ----
    Variant("packed_batch_sizes", "wrong", "counted per sequence (the sorted lengths)", '''
def packed_batch_sizes(lengths):
    return torch.sort(lengths, descending=True).values
'''),
    Variant("packed_batch_sizes", "wrong", "off by one (lengths >= t, from t = 1)", '''
def packed_batch_sizes(lengths):
    T = int(lengths.max())
    return torch.stack([(lengths > t + 1).sum() for t in range(T)])
'''),
    Variant("packed_batch_sizes", "wrong", "assumes sorted lengths (the first is the longest)", '''
def packed_batch_sizes(lengths):
    T = int(lengths[0])
    return torch.stack([(lengths > t).sum() for t in range(T)])
'''),
    Variant("packed_batch_sizes", "wrong", "float counts", '''
def packed_batch_sizes(lengths):
    T = int(lengths.max())
    return (lengths[None, :] > torch.arange(T)[:, None]).float().sum(dim=1)
'''),
    Variant("packed_batch_sizes", "wrong", "uses pack_padded_sequence", '''
def packed_batch_sizes(lengths):
    return pack_padded_sequence(torch.zeros(len(lengths), int(lengths.max())), lengths, batch_first=True,
                                enforce_sorted=False).batch_sizes
'''),
    Variant("packed_batch_sizes", "correct", "bincount of the lengths, counted from the end", '''
def packed_batch_sizes(lengths):
    ends = torch.bincount(lengths, minlength=int(lengths.max()) + 1)   # ends[n]: sequences of length n
    still = ends.flip(0).cumsum(0).flip(0)                              # still[t]: lengths >= t
    return still[1:]                                                    # lengths > t for t = 0 .. T-1
'''),

    # ---- pack_manually ----
    Variant("pack_manually", "wrong", "sequence after sequence (batch-major)", '''
def pack_manually(padded, lengths, enforce_sorted=True):
    if not enforce_sorted:
        lengths, order = torch.sort(lengths, descending=True)
        padded = padded[order]
    elif (lengths[1:] > lengths[:-1]).any():
        raise ValueError("unsorted")
    return torch.cat([padded[b, :n] for b, n in enumerate(lengths.tolist())])
'''),
    Variant("pack_manually", "wrong", "enforce_sorted=False does not sort", '''
def pack_manually(padded, lengths, enforce_sorted=True):
    if enforce_sorted and (lengths[1:] > lengths[:-1]).any():
        raise ValueError("unsorted")
    mask = torch.arange(padded.shape[1])[None, :] < lengths[:, None]
    return padded.transpose(0, 1)[mask.t()]
'''),
    Variant("pack_manually", "wrong", "lengths left unsorted with enforce_sorted=True (no error)", '''
def pack_manually(padded, lengths, enforce_sorted=True):
    if not enforce_sorted:
        lengths, order = torch.sort(lengths, descending=True)
        padded = padded[order]
    steps = []
    for t in range(int(lengths.max())):
        steps.append(padded[:int((lengths > t).sum()), t])
    return torch.cat(steps)
'''),
    Variant("pack_manually", "wrong", "pads kept (every row at every step)", '''
def pack_manually(padded, lengths, enforce_sorted=True):
    if not enforce_sorted:
        lengths, order = torch.sort(lengths, descending=True)
        padded = padded[order]
    elif (lengths[1:] > lengths[:-1]).any():
        raise ValueError("unsorted")
    return padded.transpose(0, 1).reshape(-1, *padded.shape[2:])
'''),
    Variant("pack_manually", "wrong", "uses pack_padded_sequence", '''
def pack_manually(padded, lengths, enforce_sorted=True):
    return pack_padded_sequence(padded, lengths, batch_first=True, enforce_sorted=enforce_sorted).data
'''),
    Variant("pack_manually", "correct", "a boolean mask over the time-major batch", '''
def pack_manually(padded, lengths, enforce_sorted=True):
    if enforce_sorted:
        if not torch.equal(lengths, torch.sort(lengths, descending=True).values):
            raise ValueError("enforce_sorted=True needs lengths in decreasing order")
        order = torch.arange(len(lengths))
    else:
        order = torch.argsort(lengths, descending=True)
    running = torch.arange(padded.shape[1])[:, None] < lengths[order][None, :]     # (T, B)
    return padded[order].transpose(0, 1)[running]
'''),

    # ---- last_valid_outputs ----
    Variant("last_valid_outputs", "wrong", "output[:, -1] for every sequence", '''
def last_valid_outputs(output, lengths):
    return output[:, -1]
'''),
    Variant("last_valid_outputs", "wrong", "one step past the end (lengths, not lengths - 1)", '''
def last_valid_outputs(output, lengths):
    return output[torch.arange(output.shape[0]), lengths.clamp(max=output.shape[1] - 1)]
'''),
    Variant("last_valid_outputs", "wrong", "gather with an index not expanded over H", '''
def last_valid_outputs(output, lengths):
    return output.gather(1, (lengths - 1).view(-1, 1, 1)).squeeze(1)
'''),
    Variant("last_valid_outputs", "wrong", "detached result (no gradient)", '''
def last_valid_outputs(output, lengths):
    return output.detach()[torch.arange(output.shape[0]), lengths - 1]
'''),
    Variant("last_valid_outputs", "correct", "gather along time", '''
def last_valid_outputs(output, lengths):
    index = (lengths - 1).view(-1, 1, 1).expand(-1, 1, output.shape[2])   # (B, 1, H)
    return output.gather(1, index).squeeze(1)
'''),

    # ---- masked_cross_entropy ----
    Variant("masked_cross_entropy", "wrong", "mean over padded positions too", '''
def masked_cross_entropy(logits, targets, lengths):
    return F.cross_entropy(logits.transpose(1, 2), targets)
'''),
    Variant("masked_cross_entropy", "wrong", "masked sum divided by B*T", '''
def masked_cross_entropy(logits, targets, lengths):
    mask = lengths_to_mask(lengths, logits.shape[1])
    per_step = F.cross_entropy(logits.transpose(1, 2), targets, reduction="none")
    return (per_step * mask).mean()
'''),
    Variant("masked_cross_entropy", "wrong", "inverted mask", '''
def masked_cross_entropy(logits, targets, lengths):
    mask = ~lengths_to_mask(lengths, logits.shape[1])
    return F.cross_entropy(logits[mask], targets[mask])
'''),
    Variant("masked_cross_entropy", "wrong", "mean of per-sequence means", '''
def masked_cross_entropy(logits, targets, lengths):
    mask = lengths_to_mask(lengths, logits.shape[1])
    per_step = F.cross_entropy(logits.transpose(1, 2), targets, reduction="none")
    return ((per_step * mask).sum(1) / lengths).mean()
'''),
    Variant("masked_cross_entropy", "wrong", "sum instead of mean", '''
def masked_cross_entropy(logits, targets, lengths):
    mask = lengths_to_mask(lengths, logits.shape[1])
    return F.cross_entropy(logits[mask], targets[mask], reduction="sum")
'''),
    Variant("masked_cross_entropy", "correct", "log_softmax and gather, weighted by the mask", '''
def masked_cross_entropy(logits, targets, lengths):
    mask = (torch.arange(logits.shape[1])[None, :] < lengths[:, None]).to(logits.dtype)
    nll = -logits.log_softmax(-1).gather(-1, targets.unsqueeze(-1)).squeeze(-1)   # (B, T)
    return (nll * mask).sum() / mask.sum()
'''),

    # ---- encode_packed ----
    Variant("encode_packed", "wrong", "no packing: h_n of the padded batch", '''
def encode_packed(embed, rnn, ids, lengths):
    _, (h_n, _) = rnn(embed(ids))
    return torch.cat([h_n[-2], h_n[-1]], dim=1) if rnn.bidirectional else h_n[-1]
'''),
    Variant("encode_packed", "wrong", "enforce_sorted left True on unsorted lengths", '''
def encode_packed(embed, rnn, ids, lengths):
    _, (h_n, _) = rnn(pack_padded_sequence(embed(ids), lengths.cpu(), batch_first=True))
    return torch.cat([h_n[-2], h_n[-1]], dim=1) if rnn.bidirectional else h_n[-1]
'''),
    Variant("encode_packed", "wrong", "output[:, -1] of the unpacked output", '''
def encode_packed(embed, rnn, ids, lengths):
    out, _ = rnn(pack_padded_sequence(embed(ids), lengths.cpu(), batch_first=True, enforce_sorted=False))
    out, _ = pad_packed_sequence(out, batch_first=True)
    return out[:, -1]
'''),
    Variant("encode_packed", "wrong", "last valid output for both halves", '''
def encode_packed(embed, rnn, ids, lengths):
    out, _ = rnn(pack_padded_sequence(embed(ids), lengths.cpu(), batch_first=True, enforce_sorted=False))
    out, _ = pad_packed_sequence(out, batch_first=True)
    return out[torch.arange(out.shape[0]), lengths - 1]
'''),
    Variant("encode_packed", "wrong", "sorted by hand, never unsorted", '''
def encode_packed(embed, rnn, ids, lengths):
    lengths, order = torch.sort(lengths, descending=True)
    _, (h_n, _) = rnn(pack_padded_sequence(embed(ids[order]), lengths.cpu(), batch_first=True))
    return torch.cat([h_n[-2], h_n[-1]], dim=1) if rnn.bidirectional else h_n[-1]
'''),
    Variant("encode_packed", "wrong", "the first layer's final states", '''
def encode_packed(embed, rnn, ids, lengths):
    _, (h_n, _) = rnn(pack_padded_sequence(embed(ids), lengths.cpu(), batch_first=True, enforce_sorted=False))
    return torch.cat([h_n[0], h_n[1]], dim=1) if rnn.bidirectional else h_n[0]
'''),
    Variant("encode_packed", "correct", "sort by hand, pack sorted, unsort; h_n viewed by layer", '''
def encode_packed(embed, rnn, ids, lengths):
    sorted_lengths, order = lengths.sort(descending=True)
    packed = pack_padded_sequence(embed(ids)[order], sorted_lengths.tolist(), batch_first=True)
    _, (h_n, _) = rnn(packed)
    dirs = 2 if rnn.bidirectional else 1
    top = h_n.view(rnn.num_layers, dirs, ids.shape[0], rnn.hidden_size)[-1]   # (dirs, B, H)
    feats = torch.cat(list(top), dim=1)
    return feats[torch.argsort(order)]
'''),
]
