"""Answers to notebook 03's exercises: mistakes students make, and correct rewrites."""
from grader.variants import Variant

VARIANTS = [
    # ---- build_vocab ----
    Variant("build_vocab", "wrong", "order of first appearance (not sorted)", '''
def build_vocab(text):
    itos = list(dict.fromkeys(text))
    return itos, {ch: i for i, ch in enumerate(itos)}
'''),
    Variant("build_vocab", "wrong", "repeated characters kept", '''
def build_vocab(text):
    itos = sorted(text)
    return itos, {ch: i for i, ch in enumerate(itos)}
'''),
    Variant("build_vocab", "wrong", "lower-cased first", '''
def build_vocab(text):
    itos = sorted(set(text.lower()))
    return itos, {ch: i for i, ch in enumerate(itos)}
'''),
    Variant("build_vocab", "wrong", "whitespace dropped", '''
def build_vocab(text):
    itos = sorted(set(text.replace(" ", "").replace("\\n", "").replace("\\t", "")))
    return itos, {ch: i for i, ch in enumerate(itos)}
'''),
    Variant("build_vocab", "correct", "counting characters, then sorting the keys", '''
def build_vocab(text):
    from collections import Counter
    itos = sorted(Counter(text))
    stoi = {}
    for i, ch in enumerate(itos):
        stoi[ch] = i
    return itos, stoi
'''),
    # ---- encode ----
    Variant("encode", "wrong", "returns a list", '''
def encode(text, stoi):
    return [stoi[ch] for ch in text]
'''),
    Variant("encode", "wrong", "float dtype", '''
def encode(text, stoi):
    return torch.tensor([stoi[ch] for ch in text], dtype=torch.float32)
'''),
    Variant("encode", "wrong", "ids start at 1", '''
def encode(text, stoi):
    return torch.tensor([stoi[ch] + 1 for ch in text], dtype=torch.long)
'''),
    Variant("encode", "wrong", "ord instead of the vocabulary", '''
def encode(text, stoi):
    return torch.tensor([ord(ch) for ch in text], dtype=torch.long)
'''),
    Variant("encode", "correct", "map over the characters, empty-safe", '''
def encode(text, stoi):
    return torch.as_tensor(list(map(stoi.__getitem__, text)), dtype=torch.int64)
'''),
    # ---- decode ----
    Variant("decode", "wrong", "joined with spaces", '''
def decode(ids, itos):
    return " ".join(itos[int(i)] for i in ids)
'''),
    Variant("decode", "wrong", "chr(i) instead of the vocabulary", '''
def decode(ids, itos):
    return "".join(chr(int(i)) for i in ids)
'''),
    Variant("decode", "wrong", "one place off", '''
def decode(ids, itos):
    return "".join(itos[(int(i) + 1) % len(itos)] for i in ids)
'''),
    Variant("decode", "correct", "tolist, then a list comprehension", '''
def decode(ids, itos):
    if isinstance(ids, torch.Tensor):
        ids = ids.tolist()
    return "".join([itos[i] for i in ids])
'''),
    # ---- one_hot ----
    Variant("one_hot", "wrong", "width from the largest id, not vocab_size", '''
def one_hot(ids, vocab_size):
    return torch.eye(int(ids.max()) + 1)[ids]
'''),
    Variant("one_hot", "wrong", "integer dtype", '''
def one_hot(ids, vocab_size):
    out = torch.zeros(*ids.shape, vocab_size, dtype=torch.long)
    return out.scatter_(-1, ids.unsqueeze(-1), 1)
'''),
    Variant("one_hot", "wrong", "uses F.one_hot (the function to write)", '''
def one_hot(ids, vocab_size):
    return torch.nn.functional.one_hot(ids, vocab_size).float()
'''),
    Variant("one_hot", "wrong", "the 1 one position off", '''
def one_hot(ids, vocab_size):
    return torch.eye(vocab_size + 1)[ids + 1][..., :vocab_size]
'''),
    Variant("one_hot", "correct", "scatter into zeros", '''
def one_hot(ids, vocab_size):
    out = torch.zeros(*ids.shape, vocab_size)
    return out.scatter_(-1, ids.unsqueeze(-1), 1.0)
'''),
    Variant("one_hot", "correct", "comparison with an arange", '''
def one_hot(ids, vocab_size):
    return (ids.unsqueeze(-1) == torch.arange(vocab_size)).float()
'''),
    # ---- sample ----
    Variant("sample", "wrong", "temperature ignored", '''
def sample(logits, generator, temperature=1.0, top_k=None):
    if top_k is not None:
        kth = torch.topk(logits, top_k, dim=-1).values[:, -1:]
        logits = logits.masked_fill(logits < kth, float("-inf"))
    probs = torch.softmax(logits, dim=-1)
    return torch.multinomial(probs, 1, generator=generator).squeeze(-1)
'''),
    Variant("sample", "wrong", "multiplies by the temperature", '''
def sample(logits, generator, temperature=1.0, top_k=None):
    logits = logits * temperature
    if top_k is not None:
        kth = torch.topk(logits, top_k, dim=-1).values[:, -1:]
        logits = logits.masked_fill(logits < kth, float("-inf"))
    probs = torch.softmax(logits, dim=-1)
    return torch.multinomial(probs, 1, generator=generator).squeeze(-1)
'''),
    Variant("sample", "wrong", "top-k keeps k + 1", '''
def sample(logits, generator, temperature=1.0, top_k=None):
    logits = logits / temperature
    if top_k is not None:
        kth = torch.topk(logits, min(top_k + 1, logits.shape[-1]), dim=-1).values[:, -1:]
        logits = logits.masked_fill(logits < kth, float("-inf"))
    probs = torch.softmax(logits, dim=-1)
    return torch.multinomial(probs, 1, generator=generator).squeeze(-1)
'''),
    Variant("sample", "wrong", "top-k keeps the smallest k", '''
def sample(logits, generator, temperature=1.0, top_k=None):
    logits = logits / temperature
    if top_k is not None:
        kth = torch.topk(logits, top_k, dim=-1, largest=False).values[:, -1:]
        logits = logits.masked_fill(logits > kth, float("-inf"))
    probs = torch.softmax(logits, dim=-1)
    return torch.multinomial(probs, 1, generator=generator).squeeze(-1)
'''),
    Variant("sample", "wrong", "global random state instead of the generator", '''
def sample(logits, generator, temperature=1.0, top_k=None):
    logits = logits / temperature
    if top_k is not None:
        kth = torch.topk(logits, top_k, dim=-1).values[:, -1:]
        logits = logits.masked_fill(logits < kth, float("-inf"))
    probs = torch.softmax(logits, dim=-1)
    return torch.multinomial(probs, 1).squeeze(-1)
'''),
    Variant("sample", "wrong", "softmax over the batch axis", '''
def sample(logits, generator, temperature=1.0, top_k=None):
    logits = logits / temperature
    if top_k is not None:
        kth = torch.topk(logits, top_k, dim=-1).values[:, -1:]
        logits = logits.masked_fill(logits < kth, float("-inf"))
    probs = torch.softmax(logits, dim=0)
    return torch.multinomial(probs, 1, generator=generator).squeeze(-1)
'''),
    Variant("sample", "wrong", "argmax instead of sampling", '''
def sample(logits, generator, temperature=1.0, top_k=None):
    return logits.argmax(dim=-1)
'''),
    Variant("sample", "correct", "inverse-CDF sampling with torch.rand and a sorted top-k", '''
def sample(logits, generator, temperature=1.0, top_k=None):
    values, order = torch.sort(logits / temperature, dim=-1, descending=True)
    if top_k is not None:
        values = values[:, :top_k]
        order = order[:, :top_k]
    cdf = torch.softmax(values, dim=-1).cumsum(dim=-1)
    u = torch.rand(logits.shape[0], 1, generator=generator)
    pick = (cdf < u).sum(dim=-1).clamp(max=values.shape[1] - 1)
    return order.gather(-1, pick[:, None]).squeeze(-1)
'''),
    # ---- CharRNN ----
    Variant("CharRNN", "wrong", "hidden state passed in is ignored", '''
class CharRNN(nn.Module):
    def __init__(self, vocab_size, hidden_size, num_layers=1):
        super().__init__()
        self.vocab_size = vocab_size
        self.rnn = nn.RNN(vocab_size, hidden_size, num_layers, batch_first=True)
        self.head = nn.Linear(hidden_size, vocab_size)

    def forward(self, x, h=None):
        out, h = self.rnn(one_hot(x, self.vocab_size))
        return self.head(out), h

    @torch.no_grad()
    def generate(self, prefix, length, generator, temperature=1.0, top_k=None):
        logits, h = self(prefix)
        out = []
        for _ in range(length):
            nxt = sample(logits[:, -1], generator, temperature, top_k)
            out.append(nxt)
            logits, h = self(nxt[:, None], h)
        return torch.stack(out, dim=1)
'''),
    Variant("CharRNN", "wrong", "softmax in forward", '''
class CharRNN(nn.Module):
    def __init__(self, vocab_size, hidden_size, num_layers=1):
        super().__init__()
        self.vocab_size = vocab_size
        self.rnn = nn.RNN(vocab_size, hidden_size, num_layers, batch_first=True)
        self.head = nn.Linear(hidden_size, vocab_size)

    def forward(self, x, h=None):
        out, h = self.rnn(one_hot(x, self.vocab_size), h)
        return torch.softmax(self.head(out), dim=-1), h

    @torch.no_grad()
    def generate(self, prefix, length, generator, temperature=1.0, top_k=None):
        logits, h = self(prefix)
        out = []
        for _ in range(length):
            nxt = sample(logits[:, -1], generator, temperature, top_k)
            out.append(nxt)
            logits, h = self(nxt[:, None], h)
        return torch.stack(out, dim=1)
'''),
    Variant("CharRNN", "wrong", "generate does not carry h", '''
class CharRNN(nn.Module):
    def __init__(self, vocab_size, hidden_size, num_layers=1):
        super().__init__()
        self.vocab_size = vocab_size
        self.rnn = nn.RNN(vocab_size, hidden_size, num_layers, batch_first=True)
        self.head = nn.Linear(hidden_size, vocab_size)

    def forward(self, x, h=None):
        out, h = self.rnn(one_hot(x, self.vocab_size), h)
        return self.head(out), h

    @torch.no_grad()
    def generate(self, prefix, length, generator, temperature=1.0, top_k=None):
        logits, _ = self(prefix)
        out = []
        for _ in range(length):
            nxt = sample(logits[:, -1], generator, temperature, top_k)
            out.append(nxt)
            logits, _ = self(nxt[:, None])
        return torch.stack(out, dim=1)
'''),
    Variant("CharRNN", "wrong", "generate ignores temperature and top_k", '''
class CharRNN(nn.Module):
    def __init__(self, vocab_size, hidden_size, num_layers=1):
        super().__init__()
        self.vocab_size = vocab_size
        self.rnn = nn.RNN(vocab_size, hidden_size, num_layers, batch_first=True)
        self.head = nn.Linear(hidden_size, vocab_size)

    def forward(self, x, h=None):
        out, h = self.rnn(one_hot(x, self.vocab_size), h)
        return self.head(out), h

    @torch.no_grad()
    def generate(self, prefix, length, generator, temperature=1.0, top_k=None):
        logits, h = self(prefix)
        out = []
        for _ in range(length):
            nxt = sample(logits[:, -1], generator)
            out.append(nxt)
            logits, h = self(nxt[:, None], h)
        return torch.stack(out, dim=1)
'''),
    Variant("CharRNN", "wrong", "one layer whatever num_layers says", '''
class CharRNN(nn.Module):
    def __init__(self, vocab_size, hidden_size, num_layers=1):
        super().__init__()
        self.vocab_size = vocab_size
        self.rnn = nn.RNN(vocab_size, hidden_size, batch_first=True)
        self.head = nn.Linear(hidden_size, vocab_size)

    def forward(self, x, h=None):
        out, h = self.rnn(one_hot(x, self.vocab_size), h)
        return self.head(out), h

    @torch.no_grad()
    def generate(self, prefix, length, generator, temperature=1.0, top_k=None):
        logits, h = self(prefix)
        out = []
        for _ in range(length):
            nxt = sample(logits[:, -1], generator, temperature, top_k)
            out.append(nxt)
            logits, h = self(nxt[:, None], h)
        return torch.stack(out, dim=1)
'''),
    Variant("CharRNN", "correct", "re-reads the whole text each step (slow but right), F.one_hot input", '''
class CharRNN(nn.Module):
    def __init__(self, vocab_size, hidden_size, num_layers=1):
        super().__init__()
        self.rnn = nn.RNN(input_size=vocab_size, hidden_size=hidden_size, num_layers=num_layers,
                          batch_first=True)
        self.head = nn.Linear(hidden_size, vocab_size)

    def forward(self, x, h=None):
        x = torch.nn.functional.one_hot(x, self.head.out_features).float()
        out, h_n = self.rnn(x) if h is None else self.rnn(x, h)
        return self.head(out), h_n

    def generate(self, prefix, length, generator, temperature=1.0, top_k=None):
        text = prefix
        with torch.no_grad():
            for _ in range(length):
                logits, _ = self(text)
                nxt = sample(logits[:, -1, :], generator, temperature=temperature, top_k=top_k)
                text = torch.cat([text, nxt.unsqueeze(1)], dim=1)
        return text[:, prefix.shape[1]:]
'''),
    # ---- sequence_loss ----
    Variant("sequence_loss", "wrong", "off by one: targets are the inputs", '''
def sequence_loss(logits, chunk):
    V = logits.shape[-1]
    return F.cross_entropy(logits.reshape(-1, V), chunk[:, :-1].reshape(-1))
'''),
    Variant("sequence_loss", "wrong", "summed, not averaged", '''
def sequence_loss(logits, chunk):
    V = logits.shape[-1]
    return F.cross_entropy(logits.reshape(-1, V), chunk[:, 1:].reshape(-1), reduction="sum")
'''),
    Variant("sequence_loss", "wrong", "softmax before cross_entropy", '''
def sequence_loss(logits, chunk):
    V = logits.shape[-1]
    return F.cross_entropy(torch.softmax(logits, -1).reshape(-1, V), chunk[:, 1:].reshape(-1))
'''),
    Variant("sequence_loss", "wrong", "computed through .item() (no gradient)", '''
def sequence_loss(logits, chunk):
    V = logits.shape[-1]
    return torch.tensor(F.cross_entropy(logits.reshape(-1, V), chunk[:, 1:].reshape(-1)).item())
'''),
    Variant("sequence_loss", "correct", "log_softmax and gather", '''
def sequence_loss(logits, chunk):
    logp = torch.log_softmax(logits, dim=-1)                      # (B, T, V)
    picked = logp.gather(-1, chunk[:, 1:].unsqueeze(-1))         # (B, T, 1)
    return -picked.mean()
'''),
    # ---- bits_per_char ----
    Variant("bits_per_char", "wrong", "natural log (nats)", '''
def bits_per_char(logits, targets):
    V = logits.shape[-1]
    return F.cross_entropy(logits.reshape(-1, V), targets.reshape(-1)).item()
'''),
    Variant("bits_per_char", "wrong", "log10", '''
def bits_per_char(logits, targets):
    p = torch.softmax(logits, -1).gather(-1, targets.unsqueeze(-1))
    return -torch.log10(p).mean().item()
'''),
    Variant("bits_per_char", "wrong", "probabilities averaged before the log", '''
def bits_per_char(logits, targets):
    p = torch.softmax(logits, -1).gather(-1, targets.unsqueeze(-1))
    return -math.log2(p.mean().item())
'''),
    Variant("bits_per_char", "correct", "log2 of the softmax, as a 0-d tensor", '''
def bits_per_char(logits, targets):
    p = torch.softmax(logits.double(), dim=-1)
    return -torch.log2(p.gather(-1, targets[..., None])).mean()
'''),
]
