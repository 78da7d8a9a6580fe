"""Answers to notebook 08's exercises: mistakes students make and correct rewrites."""
from grader.variants import Variant

_ENCODER_INIT = '''
class Encoder(nn.Module):
    def __init__(self, vocab_size, emb_dim, hidden_size):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, emb_dim, padding_idx=PAD)
        self.rnn = nn.GRU(emb_dim, hidden_size, batch_first=True)
'''

_DECODER_INIT = '''
class Decoder(nn.Module):
    def __init__(self, vocab_size, emb_dim, hidden_size):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, emb_dim)
        self.cell = nn.GRUCell(emb_dim, hidden_size)
        self.out = nn.Linear(hidden_size, vocab_size)
'''


def _decode_train(next_input):
    """decode_train with the next step's input chosen by the expression ``next_input``."""
    return f'''
def decode_train(decoder, h, memory, tgt, teacher_forcing_ratio, generator):
    y = torch.full((tgt.shape[0],), SOS, dtype=torch.long)
    steps = []
    for t in range(tgt.shape[1]):
        logits, h = decoder(y, h, memory)
        steps.append(logits)
        y = {next_input}
    return torch.stack(steps, dim=1)
'''


def _beam(gain, score, normalised):
    """The notebook's beam search with one expression changed: the per-step gain, how it is added
    to the score, or how a finished hypothesis of ``length`` tokens is ranked."""
    return f'''
def beam_search(decoder, h, memory, beam_width, max_len, alpha):
    tokens, scores, y, finished = [[]], torch.zeros(1), torch.tensor([SOS]), []
    rank = lambda s, length: {normalised}
    for _ in range(max_len):
        logits, h = decoder(y, h, memory)
        gain = {gain}
        total = {score}
        best, flat = total.flatten().topk(min(beam_width, total.numel()))
        rows, cols = (flat // total.shape[1]).tolist(), (flat % total.shape[1]).tolist()
        live = [(s, r, c) for s, r, c in zip(best.tolist(), rows, cols) if c != EOS]
        finished += [(rank(s, len(tokens[r]) + 1), tokens[r])
                     for s, r, c in zip(best.tolist(), rows, cols) if c == EOS]
        if not live:
            break
        tokens = [tokens[r] + [c] for _, r, c in live]
        scores = torch.tensor([s for s, _, _ in live])
        h, y = h[[r for _, r, _ in live]], torch.tensor([c for _, _, c in live])
    else:
        finished += [(rank(s, len(t)), t) for s, t in zip(scores.tolist(), tokens)]
    return max(finished, key=lambda f: f[0])[1]
'''


VARIANTS = [
    # ---- Encoder ----
    Variant("Encoder", "wrong", "runs the GRU through the padding (no packing)", _ENCODER_INIT + '''
    def forward(self, src, lengths):
        outputs, h_n = self.rnn(self.embedding(src))
        return outputs, h_n[0]
'''),
    Variant("Encoder", "wrong", "h is the last column of the padded outputs", _ENCODER_INIT + '''
    def forward(self, src, lengths):
        packed = nn.utils.rnn.pack_padded_sequence(self.embedding(src), lengths, batch_first=True,
                                                   enforce_sorted=False)
        outputs, _ = nn.utils.rnn.pad_packed_sequence(self.rnn(packed)[0], batch_first=True,
                                                      total_length=src.shape[1])
        return outputs, outputs[:, -1]
'''),
    Variant("Encoder", "wrong", "h keeps the layer axis (1, B, H)", _ENCODER_INIT + '''
    def forward(self, src, lengths):
        packed = nn.utils.rnn.pack_padded_sequence(self.embedding(src), lengths, batch_first=True,
                                                   enforce_sorted=False)
        out, h_n = self.rnn(packed)
        outputs, _ = nn.utils.rnn.pad_packed_sequence(out, batch_first=True, total_length=src.shape[1])
        return outputs, h_n
'''),
    Variant("Encoder", "wrong", "packs with enforce_sorted=True on unsorted lengths", _ENCODER_INIT + '''
    def forward(self, src, lengths):
        packed = nn.utils.rnn.pack_padded_sequence(self.embedding(src), lengths, batch_first=True)
        out, h_n = self.rnn(packed)
        outputs, _ = nn.utils.rnn.pad_packed_sequence(out, batch_first=True, total_length=src.shape[1])
        return outputs, h_n[0]
'''),
    Variant("Encoder", "correct", "runs the GRU unpacked and picks the state at lengths - 1",
            _ENCODER_INIT + '''
    def forward(self, src, lengths):
        outputs, _ = self.rnn(self.embedding(src))                       # (B, S, H)
        real = torch.arange(src.shape[1]).unsqueeze(0) < lengths.unsqueeze(1)
        outputs = outputs * real.unsqueeze(2)                            # zero at the padding
        h = outputs[torch.arange(len(src)), lengths - 1]                 # each true last step
        return outputs, h
'''),
    # ---- Decoder ----
    Variant("Decoder", "wrong", "returns probabilities (softmax) instead of logits", _DECODER_INIT + '''
    def forward(self, y_prev, h, memory=None):
        h = self.cell(self.embedding(y_prev), h)
        return torch.softmax(self.out(h), dim=-1), h
'''),
    Variant("Decoder", "wrong", "logits read from the old state", _DECODER_INIT + '''
    def forward(self, y_prev, h, memory=None):
        logits = self.out(h)
        return logits, self.cell(self.embedding(y_prev), h)
'''),
    Variant("Decoder", "wrong", "returns the old state", _DECODER_INIT + '''
    def forward(self, y_prev, h, memory=None):
        return self.out(self.cell(self.embedding(y_prev), h)), h
'''),
    Variant("Decoder", "wrong", "state detached every step", _DECODER_INIT + '''
    def forward(self, y_prev, h, memory=None):
        h = self.cell(self.embedding(y_prev), h.detach())
        return self.out(h), h
'''),
    Variant("Decoder", "correct", "a one-step nn.GRU call written out with the cell's weights",
            _DECODER_INIT + '''
    def forward(self, y_prev, h, memory=None):
        x = self.embedding(y_prev)
        gi = nn.functional.linear(x, self.cell.weight_ih, self.cell.bias_ih)
        gh = nn.functional.linear(h, self.cell.weight_hh, self.cell.bias_hh)
        (i_r, i_z, i_n), (h_r, h_z, h_n) = gi.chunk(3, 1), gh.chunk(3, 1)
        r, z = torch.sigmoid(i_r + h_r), torch.sigmoid(i_z + h_z)
        h_new = (1 - z) * torch.tanh(i_n + r * h_n) + z * h
        return self.out(h_new), h_new
'''),
    # ---- decode_train ----
    *[Variant("decode_train", "wrong", description, _decode_train(next_input))
      for description, next_input in (
          ("teacher forcing at every step, whatever the ratio", "tgt[:, t]"),
          ("coin drawn from the global RNG (generator ignored)",
           "tgt[:, t] if torch.rand(()) < teacher_forcing_ratio else logits.argmax(-1)"),
          ("feeds the logits instead of the chosen token",
           "tgt[:, t] if torch.rand((), generator=generator) < teacher_forcing_ratio else logits"),
          ("coin compared the wrong way (rand > ratio)",
           "tgt[:, t] if torch.rand((), generator=generator) > teacher_forcing_ratio "
           "else logits.argmax(-1)"))],
    Variant("decode_train", "wrong", "decoder reads tgt[:, t] at step t (sees the answer)", '''
def decode_train(decoder, h, memory, tgt, teacher_forcing_ratio, generator):
    y = tgt[:, 0]
    steps = []
    for t in range(tgt.shape[1]):
        logits, h = decoder(y, h, memory)
        steps.append(logits)
        nxt = tgt[:, t + 1] if t + 1 < tgt.shape[1] else tgt[:, t]
        y = nxt if torch.rand((), generator=generator) < teacher_forcing_ratio else logits.argmax(-1)
    return torch.stack(steps, dim=1)
'''),
    Variant("decode_train", "correct", "one coin per sequence, torch.where", '''
def decode_train(decoder, h, memory, tgt, teacher_forcing_ratio, generator):
    B, T = tgt.shape
    y = torch.full((B,), SOS, dtype=torch.long)
    coins = torch.rand(B, T, generator=generator) < teacher_forcing_ratio   # (B, T)
    all_logits = []
    for t in range(T):
        logits, h = decoder(y, h, memory)
        all_logits.append(logits)
        y = torch.where(coins[:, t], tgt[:, t], logits.argmax(dim=1))
    return torch.stack(all_logits, 1)
'''),
    # ---- greedy_decode ----
    Variant("greedy_decode", "wrong", "<eos> does not stop a sequence", '''
def greedy_decode(decoder, h, memory, max_len):
    y = torch.full((h.shape[0],), SOS, dtype=torch.long)
    outputs = [[] for _ in range(h.shape[0])]
    for _ in range(max_len):
        logits, h = decoder(y, h, memory)
        y = logits.argmax(dim=-1)
        for b, token in enumerate(y.tolist()):
            if token != EOS:
                outputs[b].append(token)
    return outputs
'''),
    Variant("greedy_decode", "wrong", "keeps <eos> in the output", '''
def greedy_decode(decoder, h, memory, max_len):
    y = torch.full((h.shape[0],), SOS, dtype=torch.long)
    outputs = [[] for _ in range(h.shape[0])]
    done = [False] * h.shape[0]
    for _ in range(max_len):
        logits, h = decoder(y, h, memory)
        y = logits.argmax(dim=-1)
        for b, token in enumerate(y.tolist()):
            if not done[b]:
                outputs[b].append(token)
                done[b] = token == EOS
        if all(done):
            break
    return outputs
'''),
    Variant("greedy_decode", "wrong", "stops the whole batch when the first sequence ends", '''
def greedy_decode(decoder, h, memory, max_len):
    y = torch.full((h.shape[0],), SOS, dtype=torch.long)
    outputs = [[] for _ in range(h.shape[0])]
    for _ in range(max_len):
        logits, h = decoder(y, h, memory)
        y = logits.argmax(dim=-1)
        if (y == EOS).any():
            break
        for b, token in enumerate(y.tolist()):
            outputs[b].append(token)
    return outputs
'''),
    Variant("greedy_decode", "wrong", "feeds the logits back instead of the chosen token", '''
def greedy_decode(decoder, h, memory, max_len):
    y = torch.full((h.shape[0],), SOS, dtype=torch.long)
    outputs = [[] for _ in range(h.shape[0])]
    done = torch.zeros(h.shape[0], dtype=torch.bool)
    for _ in range(max_len):
        logits, h = decoder(y, h, memory)
        choice = logits.argmax(dim=-1)
        for b in range(h.shape[0]):
            if not done[b] and choice[b] != EOS:
                outputs[b].append(int(choice[b]))
        done |= choice == EOS
        if done.all():
            break
        y = logits
    return outputs
'''),
    Variant("greedy_decode", "correct", "decodes into a tensor, then cuts each row at its EOS", '''
def greedy_decode(decoder, h, memory, max_len):
    y = torch.full((h.shape[0],), SOS, dtype=torch.long)
    chosen = []
    for _ in range(max_len):
        logits, h = decoder(y, h, memory)
        y = logits.argmax(dim=-1)
        chosen.append(y)
        if (torch.stack(chosen, 1) == EOS).any(dim=1).all():
            break
    rows = torch.stack(chosen, dim=1).tolist()
    return [row[:row.index(EOS)] if EOS in row else row for row in rows]
'''),
    # ---- sequence_accuracy ----
    Variant("sequence_accuracy", "wrong", "zip: a prefix counts as right", '''
def sequence_accuracy(predictions, tgt):
    right = 0
    for pred, gold in zip(predictions, tgt.tolist()):
        right += all(p == g for p, g in zip(pred, gold))
    return right / len(predictions)
'''),
    Variant("sequence_accuracy", "wrong", "token accuracy instead of sequence accuracy", '''
def sequence_accuracy(predictions, tgt):
    scores = []
    for pred, gold in zip(predictions, tgt.tolist()):
        gold = gold[:gold.index(EOS)]
        n = min(len(pred), len(gold))
        scores.append(sum(p == g for p, g in zip(pred[:n], gold[:n])) / n if n else 0.0)
    return sum(scores) / len(scores)
'''),
    Variant("sequence_accuracy", "wrong", "compares with the target including <eos> and padding", '''
def sequence_accuracy(predictions, tgt):
    return sum(list(p) == g for p, g in zip(predictions, tgt.tolist())) / len(predictions)
'''),
    Variant("sequence_accuracy", "wrong", "returns a tensor", '''
def sequence_accuracy(predictions, tgt):
    right = [list(p) == g[:g.index(EOS)] for p, g in zip(predictions, tgt.tolist())]
    return torch.tensor(right).float().mean()
'''),
    Variant("sequence_accuracy", "correct", "pads the predictions into a tensor and compares rows", '''
def sequence_accuracy(predictions, tgt):
    width = max(tgt.shape[1], max(len(p) for p in predictions) + 1)
    padded = torch.full((len(predictions), width), PAD)
    for b, p in enumerate(predictions):
        padded[b, :len(p) + 1] = torch.tensor(list(p) + [EOS])
    gold = torch.nn.functional.pad(tgt, (0, width - tgt.shape[1]), value=PAD)
    return (padded == gold).all(dim=1).float().mean().item()
'''),
    # ---- beam_search ----
    *[Variant("beam_search", "wrong", description, _beam(gain, score, normalised))
      for description, gain, score, normalised in (
          ("adds probabilities instead of log-probabilities", "torch.softmax(logits, dim=-1)",
           "scores.unsqueeze(1) + gain", "s / length ** alpha"),
          ("no length normalisation", "torch.log_softmax(logits, dim=-1)",
           "scores.unsqueeze(1) + gain", "s"),
          ("scores replaced by the last step's log-probability", "torch.log_softmax(logits, dim=-1)",
           "gain", "s / length ** alpha"),
          ("adds raw logits (no log_softmax)", "logits", "scores.unsqueeze(1) + gain",
           "s / length ** alpha"))],
    Variant("beam_search", "correct", "one decoder call per hypothesis, hypotheses as tuples", '''
import math

def beam_search(decoder, h, memory, beam_width, max_len, alpha):
    beam = [(0.0, (), h)]                            # (log-probability, tokens, state (1, H))
    done = []
    for _ in range(max_len):
        candidates = []
        for score, seq, state in beam:
            prev = torch.tensor([seq[-1] if seq else SOS])
            logits, new_state = decoder(prev, state, memory)
            logp = torch.log_softmax(logits[0].double(), dim=0).tolist()
            candidates += [(score + lp, seq + (tok,), new_state) for tok, lp in enumerate(logp)]
        candidates.sort(key=lambda c: c[0], reverse=True)
        beam = []
        for score, seq, state in candidates[:beam_width]:
            if seq[-1] == EOS:
                done.append((score / math.pow(len(seq), alpha), list(seq[:-1])))
            else:
                beam.append((score, seq, state))
        if not beam:
            break
    else:
        done += [(score / math.pow(len(seq), alpha), list(seq)) for score, seq, _ in beam]
    return max(done)[1]
'''),
    # ---- additive_attention ----
    Variant("additive_attention", "wrong", "softmax over the batch axis", '''
def additive_attention(query, keys, mask, W_q, W_k, v):
    scores = torch.tanh((query @ W_q.T).unsqueeze(1) + keys @ W_k.T) @ v
    weights = torch.softmax(scores.masked_fill(~mask, float("-inf")), dim=0)
    return (weights.unsqueeze(2) * keys).sum(dim=1), weights
'''),
    Variant("additive_attention", "wrong", "padding not masked", '''
def additive_attention(query, keys, mask, W_q, W_k, v):
    scores = torch.tanh((query @ W_q.T).unsqueeze(1) + keys @ W_k.T) @ v
    weights = torch.softmax(scores, dim=1)
    return (weights.unsqueeze(2) * keys).sum(dim=1), weights
'''),
    Variant("additive_attention", "wrong", "padding zeroed after the softmax, not renormalised", '''
def additive_attention(query, keys, mask, W_q, W_k, v):
    scores = torch.tanh((query @ W_q.T).unsqueeze(1) + keys @ W_k.T) @ v
    weights = torch.softmax(scores, dim=1) * mask
    return (weights.unsqueeze(2) * keys).sum(dim=1), weights
'''),
    Variant("additive_attention", "wrong", "tanh left out", '''
def additive_attention(query, keys, mask, W_q, W_k, v):
    scores = ((query @ W_q.T).unsqueeze(1) + keys @ W_k.T) @ v
    weights = torch.softmax(scores.masked_fill(~mask, float("-inf")), dim=1)
    return (weights.unsqueeze(2) * keys).sum(dim=1), weights
'''),
    Variant("additive_attention", "correct", "einsum, and a large negative number for the mask", '''
def additive_attention(query, keys, mask, W_q, W_k, v):
    projected = torch.einsum("ah,bh->ba", W_q, query)[:, None, :] + torch.einsum("ak,bsk->bsa", W_k, keys)
    scores = torch.einsum("bsa,a->bs", torch.tanh(projected), v)
    scores = torch.where(mask, scores, torch.full_like(scores, -1e9))
    weights = scores.softmax(dim=-1)
    return torch.bmm(weights.unsqueeze(1), keys).squeeze(1), weights
'''),
]
