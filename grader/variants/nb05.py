"""Answers to notebook 05's exercises: mistakes students make, and correct rewrites."""
from grader.variants import Variant

_NAMES = '("weight_ih", "weight_hh", "bias_ih", "bias_hh")'

VARIANTS = [
    # ---- stacked_rnn_forward ----
    Variant("stacked_rnn_forward", "wrong", "every layer reads x (layers not chained)", f'''
def stacked_rnn_forward(x, params, num_layers, state=None, dropout=0.0, generator=None):
    B, H = x.shape[0], params["weight_hh_l0"].shape[1]
    h0, c0 = state if state is not None else (x.new_zeros(num_layers, B, H), x.new_zeros(num_layers, B, H))
    h_n, c_n = [], []
    for k in range(num_layers):
        w = [params[f"{{n}}_l{{k}}"] for n in {_NAMES}]
        out, (h, c) = lstm_layer(x, (h0[k], c0[k]), *w)
        h_n.append(h)
        c_n.append(c)
    return out, (torch.stack(h_n), torch.stack(c_n))
'''),
    Variant("stacked_rnn_forward", "wrong", "every layer starts from state[0]", f'''
def stacked_rnn_forward(x, params, num_layers, state=None, dropout=0.0, generator=None):
    B, H = x.shape[0], params["weight_hh_l0"].shape[1]
    h0, c0 = state if state is not None else (x.new_zeros(num_layers, B, H), x.new_zeros(num_layers, B, H))
    out, h_n, c_n = x, [], []
    for k in range(num_layers):
        w = [params[f"{{n}}_l{{k}}"] for n in {_NAMES}]
        out, (h, c) = lstm_layer(out, (h0[0], c0[0]), *w)
        h_n.append(h)
        c_n.append(c)
    return out, (torch.stack(h_n), torch.stack(c_n))
'''),
    Variant("stacked_rnn_forward", "wrong", "h_n only holds the last layer", f'''
def stacked_rnn_forward(x, params, num_layers, state=None, dropout=0.0, generator=None):
    B, H = x.shape[0], params["weight_hh_l0"].shape[1]
    h0, c0 = state if state is not None else (x.new_zeros(num_layers, B, H), x.new_zeros(num_layers, B, H))
    out = x
    for k in range(num_layers):
        w = [params[f"{{n}}_l{{k}}"] for n in {_NAMES}]
        out, (h, c) = lstm_layer(out, (h0[k], c0[k]), *w)
    return out, (h.unsqueeze(0), c.unsqueeze(0))
'''),
    Variant("stacked_rnn_forward", "wrong", "dropout not rescaled by 1/(1-p)", f'''
def stacked_rnn_forward(x, params, num_layers, state=None, dropout=0.0, generator=None):
    B, H = x.shape[0], params["weight_hh_l0"].shape[1]
    h0, c0 = state if state is not None else (x.new_zeros(num_layers, B, H), x.new_zeros(num_layers, B, H))
    out, h_n, c_n = x, [], []
    for k in range(num_layers):
        if k > 0 and dropout > 0:
            out = out * (torch.rand(out.shape, generator=generator) >= dropout)
        w = [params[f"{{n}}_l{{k}}"] for n in {_NAMES}]
        out, (h, c) = lstm_layer(out, (h0[k], c0[k]), *w)
        h_n.append(h)
        c_n.append(c)
    return out, (torch.stack(h_n), torch.stack(c_n))
'''),
    Variant("stacked_rnn_forward", "wrong", "dropout treated as the keep probability", f'''
def stacked_rnn_forward(x, params, num_layers, state=None, dropout=0.0, generator=None):
    B, H = x.shape[0], params["weight_hh_l0"].shape[1]
    h0, c0 = state if state is not None else (x.new_zeros(num_layers, B, H), x.new_zeros(num_layers, B, H))
    out, h_n, c_n = x, [], []
    for k in range(num_layers):
        if k > 0 and dropout > 0:
            out = out * (torch.rand(out.shape, generator=generator) < dropout) / dropout
        w = [params[f"{{n}}_l{{k}}"] for n in {_NAMES}]
        out, (h, c) = lstm_layer(out, (h0[k], c0[k]), *w)
        h_n.append(h)
        c_n.append(c)
    return out, (torch.stack(h_n), torch.stack(c_n))
'''),
    Variant("stacked_rnn_forward", "wrong", "dropout after every layer, the last included", f'''
def stacked_rnn_forward(x, params, num_layers, state=None, dropout=0.0, generator=None):
    B, H = x.shape[0], params["weight_hh_l0"].shape[1]
    h0, c0 = state if state is not None else (x.new_zeros(num_layers, B, H), x.new_zeros(num_layers, B, H))
    out, h_n, c_n = x, [], []
    for k in range(num_layers):
        w = [params[f"{{n}}_l{{k}}"] for n in {_NAMES}]
        out, (h, c) = lstm_layer(out, (h0[k], c0[k]), *w)
        if dropout > 0:
            out = out * (torch.rand(out.shape, generator=generator) >= dropout) / (1 - dropout)
        h_n.append(h)
        c_n.append(c)
    return out, (torch.stack(h_n), torch.stack(c_n))
'''),
    Variant("stacked_rnn_forward", "wrong", "F.dropout ignores the generator", f'''
def stacked_rnn_forward(x, params, num_layers, state=None, dropout=0.0, generator=None):
    B, H = x.shape[0], params["weight_hh_l0"].shape[1]
    h0, c0 = state if state is not None else (x.new_zeros(num_layers, B, H), x.new_zeros(num_layers, B, H))
    out, h_n, c_n = x, [], []
    for k in range(num_layers):
        if k > 0:
            out = F.dropout(out, p=dropout, training=dropout > 0)
        w = [params[f"{{n}}_l{{k}}"] for n in {_NAMES}]
        out, (h, c) = lstm_layer(out, (h0[k], c0[k]), *w)
        h_n.append(h)
        c_n.append(c)
    return out, (torch.stack(h_n), torch.stack(c_n))
'''),
    Variant("stacked_rnn_forward", "wrong", "uses nn.LSTM itself", '''
def stacked_rnn_forward(x, params, num_layers, state=None, dropout=0.0, generator=None):
    H = params["weight_hh_l0"].shape[1]
    lstm = nn.LSTM(x.shape[2], H, num_layers, batch_first=True)
    lstm.load_state_dict(params)
    return lstm(x, state)
'''),
    Variant("stacked_rnn_forward", "correct", "nn.LSTMCell per layer, time loop outside, bernoulli mask", '''
def stacked_rnn_forward(x, params, num_layers, state=None, dropout=0.0, generator=None):
    B, T, _ = x.shape
    H = params["weight_hh_l0"].shape[1]
    if state is None:
        state = (torch.zeros(num_layers, B, H), torch.zeros(num_layers, B, H))
    hs, cs = list(state[0].unbind(0)), list(state[1].unbind(0))
    cells = []
    for k in range(num_layers):
        cell = nn.LSTMCell(params[f"weight_ih_l{k}"].shape[1], H)
        cell.weight_ih, cell.weight_hh = nn.Parameter(params[f"weight_ih_l{k}"]), nn.Parameter(params[f"weight_hh_l{k}"])
        cell.bias_ih, cell.bias_hh = nn.Parameter(params[f"bias_ih_l{k}"]), nn.Parameter(params[f"bias_hh_l{k}"])
        cells.append(cell)
    masks = [torch.bernoulli(torch.full((B, T, H), 1 - dropout), generator=generator) / (1 - dropout)
             if dropout > 0 else None for _ in range(num_layers - 1)]
    top = []
    for t in range(T):
        inp = x[:, t]
        for k, cell in enumerate(cells):
            if k > 0 and masks[k - 1] is not None:
                inp = inp * masks[k - 1][:, t]
            hs[k], cs[k] = cell(inp, (hs[k], cs[k]))
            inp = hs[k]
        top.append(inp)
    return torch.stack(top, dim=1), (torch.stack(hs), torch.stack(cs))
'''),
    # ---- bidirectional_forward ----
    Variant("bidirectional_forward", "wrong", "directions concatenated backward first", f'''
def bidirectional_forward(x, params, num_layers, state=None):
    B, H = x.shape[0], params["weight_hh_l0"].shape[1]
    h0, c0 = state if state is not None else (x.new_zeros(2 * num_layers, B, H), x.new_zeros(2 * num_layers, B, H))
    inp, h_n, c_n = x, [], []
    for k in range(num_layers):
        wf = [params[f"{{n}}_l{{k}}"] for n in {_NAMES}]
        wb = [params[f"{{n}}_l{{k}}_reverse"] for n in {_NAMES}]
        f, (hf, cf) = lstm_layer(inp, (h0[2 * k], c0[2 * k]), *wf)
        b, (hb, cb) = lstm_layer(inp.flip(1), (h0[2 * k + 1], c0[2 * k + 1]), *wb)
        inp = torch.cat([b.flip(1), f], dim=2)
        h_n += [hf, hb]
        c_n += [cf, cb]
    return inp, (torch.stack(h_n), torch.stack(c_n))
'''),
    Variant("bidirectional_forward", "wrong", "backward outputs not flipped back", f'''
def bidirectional_forward(x, params, num_layers, state=None):
    B, H = x.shape[0], params["weight_hh_l0"].shape[1]
    h0, c0 = state if state is not None else (x.new_zeros(2 * num_layers, B, H), x.new_zeros(2 * num_layers, B, H))
    inp, h_n, c_n = x, [], []
    for k in range(num_layers):
        wf = [params[f"{{n}}_l{{k}}"] for n in {_NAMES}]
        wb = [params[f"{{n}}_l{{k}}_reverse"] for n in {_NAMES}]
        f, (hf, cf) = lstm_layer(inp, (h0[2 * k], c0[2 * k]), *wf)
        b, (hb, cb) = lstm_layer(inp.flip(1), (h0[2 * k + 1], c0[2 * k + 1]), *wb)
        inp = torch.cat([f, b], dim=2)
        h_n += [hf, hb]
        c_n += [cf, cb]
    return inp, (torch.stack(h_n), torch.stack(c_n))
'''),
    Variant("bidirectional_forward", "wrong", "backward direction reads x unreversed", f'''
def bidirectional_forward(x, params, num_layers, state=None):
    B, H = x.shape[0], params["weight_hh_l0"].shape[1]
    h0, c0 = state if state is not None else (x.new_zeros(2 * num_layers, B, H), x.new_zeros(2 * num_layers, B, H))
    inp, h_n, c_n = x, [], []
    for k in range(num_layers):
        wf = [params[f"{{n}}_l{{k}}"] for n in {_NAMES}]
        wb = [params[f"{{n}}_l{{k}}_reverse"] for n in {_NAMES}]
        f, (hf, cf) = lstm_layer(inp, (h0[2 * k], c0[2 * k]), *wf)
        b, (hb, cb) = lstm_layer(inp, (h0[2 * k + 1], c0[2 * k + 1]), *wb)
        inp = torch.cat([f, b], dim=2)
        h_n += [hf, hb]
        c_n += [cf, cb]
    return inp, (torch.stack(h_n), torch.stack(c_n))
'''),
    Variant("bidirectional_forward", "wrong", "h_n stacked direction-major (all forward layers first)", f'''
def bidirectional_forward(x, params, num_layers, state=None):
    B, H = x.shape[0], params["weight_hh_l0"].shape[1]
    h0, c0 = state if state is not None else (x.new_zeros(2 * num_layers, B, H), x.new_zeros(2 * num_layers, B, H))
    inp, hf_all, hb_all, cf_all, cb_all = x, [], [], [], []
    for k in range(num_layers):
        wf = [params[f"{{n}}_l{{k}}"] for n in {_NAMES}]
        wb = [params[f"{{n}}_l{{k}}_reverse"] for n in {_NAMES}]
        f, (hf, cf) = lstm_layer(inp, (h0[2 * k], c0[2 * k]), *wf)
        b, (hb, cb) = lstm_layer(inp.flip(1), (h0[2 * k + 1], c0[2 * k + 1]), *wb)
        inp = torch.cat([f, b.flip(1)], dim=2)
        hf_all.append(hf); hb_all.append(hb); cf_all.append(cf); cb_all.append(cb)
    return inp, (torch.stack(hf_all + hb_all), torch.stack(cf_all + cb_all))
'''),
    Variant("bidirectional_forward", "wrong", "backward direction starts from the forward's initial state", f'''
def bidirectional_forward(x, params, num_layers, state=None):
    B, H = x.shape[0], params["weight_hh_l0"].shape[1]
    h0, c0 = state if state is not None else (x.new_zeros(2 * num_layers, B, H), x.new_zeros(2 * num_layers, B, H))
    inp, h_n, c_n = x, [], []
    for k in range(num_layers):
        wf = [params[f"{{n}}_l{{k}}"] for n in {_NAMES}]
        wb = [params[f"{{n}}_l{{k}}_reverse"] for n in {_NAMES}]
        f, (hf, cf) = lstm_layer(inp, (h0[2 * k], c0[2 * k]), *wf)
        b, (hb, cb) = lstm_layer(inp.flip(1), (h0[2 * k], c0[2 * k]), *wb)
        inp = torch.cat([f, b.flip(1)], dim=2)
        h_n += [hf, hb]
        c_n += [cf, cb]
    return inp, (torch.stack(h_n), torch.stack(c_n))
'''),
    Variant("bidirectional_forward", "wrong", "uses nn.LSTM(bidirectional=True)", '''
def bidirectional_forward(x, params, num_layers, state=None):
    H = params["weight_hh_l0"].shape[1]
    lstm = nn.LSTM(x.shape[2], H, num_layers, batch_first=True, bidirectional=True)
    lstm.load_state_dict(params)
    return lstm(x, state)
'''),
    Variant("bidirectional_forward", "correct", "stepwise nn.LSTMCell pairs, reversed index loop", '''
def _cell(params, key, hidden):
    cell = nn.LSTMCell(params[f"weight_ih_{key}"].shape[1], hidden)
    cell.load_state_dict({"weight_ih": params[f"weight_ih_{key}"], "weight_hh": params[f"weight_hh_{key}"],
                          "bias_ih": params[f"bias_ih_{key}"], "bias_hh": params[f"bias_hh_{key}"]})
    return cell


def bidirectional_forward(x, params, num_layers, state=None):
    B, T, _ = x.shape
    H = params["weight_hh_l0"].shape[1]
    if state is None:
        state = (torch.zeros(2 * num_layers, B, H), torch.zeros(2 * num_layers, B, H))
    seq = list(x.unbind(1))
    h_n, c_n = [], []
    for k in range(num_layers):
        fwd, bwd = _cell(params, f"l{k}", H), _cell(params, f"l{k}_reverse", H)
        h, c = state[0][2 * k], state[1][2 * k]
        f_out = []
        for t in range(T):
            h, c = fwd(seq[t], (h, c))
            f_out.append(h)
        h_n.append(h); c_n.append(c)
        h, c = state[0][2 * k + 1], state[1][2 * k + 1]
        b_out = [None] * T
        for t in reversed(range(T)):
            h, c = bwd(seq[t], (h, c))
            b_out[t] = h
        h_n.append(h); c_n.append(c)
        seq = [torch.cat([f, b], dim=1) for f, b in zip(f_out, b_out)]
    return torch.stack(seq, dim=1), (torch.stack(h_n), torch.stack(c_n))
'''),
    # ---- split_h_n ----
    Variant("split_h_n", "wrong", "forward and backward swapped", '''
def split_h_n(h_n, num_layers):
    return h_n[-1], h_n[-2]
'''),
    Variant("split_h_n", "wrong", "h_n viewed as (num_directions, num_layers, B, H)", '''
def split_h_n(h_n, num_layers):
    v = h_n.view(2, num_layers, h_n.shape[1], h_n.shape[2])
    return v[0, -1], v[1, -1]
'''),
    Variant("split_h_n", "wrong", "first layer instead of the last", '''
def split_h_n(h_n, num_layers):
    return h_n[0], h_n[1]
'''),
    Variant("split_h_n", "wrong", "squeeze drops the batch axis when B = 1", '''
def split_h_n(h_n, num_layers):
    last = h_n.view(num_layers, 2, h_n.shape[1], h_n.shape[2])[-1]
    return last[0].squeeze(), last[1].squeeze()
'''),
    Variant("split_h_n", "wrong", "layers indexed on the last axis of a permuted view", '''
def split_h_n(h_n, num_layers):
    v = h_n.view(num_layers, 2, h_n.shape[1], h_n.shape[2]).permute(1, 2, 3, 0)  # (2, B, H, L)
    return v[0, ..., 0], v[1, ..., 0]
'''),
    Variant("split_h_n", "correct", "negative indexing", '''
def split_h_n(h_n, num_layers):
    return h_n[-2], h_n[-1]
'''),
    Variant("split_h_n", "correct", "reshape and unbind", '''
def split_h_n(h_n, num_layers):
    per_layer = h_n.reshape(num_layers, 2, *h_n.shape[1:])
    forward, backward = per_layer[num_layers - 1].unbind(0)
    return forward, backward
'''),
    # ---- final_states_for_classifier ----
    Variant("final_states_for_classifier", "wrong", "output[:, -1] (backward half has read one step)", '''
def final_states_for_classifier(output):
    return output[:, -1]
'''),
    Variant("final_states_for_classifier", "wrong", "backward half first", '''
def final_states_for_classifier(output):
    H = output.shape[-1] // 2
    return torch.cat([output[:, 0, H:], output[:, -1, :H]], dim=-1)
'''),
    Variant("final_states_for_classifier", "wrong", "time ends swapped", '''
def final_states_for_classifier(output):
    H = output.shape[-1] // 2
    return torch.cat([output[:, 0, :H], output[:, -1, H:]], dim=-1)
'''),
    Variant("final_states_for_classifier", "wrong", "mean over time", '''
def final_states_for_classifier(output):
    return output.mean(dim=1)
'''),
    Variant("final_states_for_classifier", "wrong", "only the forward final state", '''
def final_states_for_classifier(output):
    H = output.shape[-1] // 2
    return output[:, -1, :H]
'''),
    Variant("final_states_for_classifier", "correct", "chunk into directions", '''
def final_states_for_classifier(output):
    forward, backward = output.chunk(2, dim=2)
    return torch.cat((forward[:, -1], backward[:, 0]), dim=1)
'''),
    # ---- CharTagger ----
    Variant("CharTagger", "wrong", "head ignores bidirectional (reads hidden_size features)", '''
class CharTagger(nn.Module):
    def __init__(self, vocab_size, num_tags, embed_dim=32, hidden_size=64, num_layers=2, dropout=0.0,
                 bidirectional=True):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, embed_dim)
        self.rnn = nn.LSTM(embed_dim, hidden_size, num_layers, batch_first=True, dropout=dropout,
                           bidirectional=bidirectional)
        self.head = nn.Linear(hidden_size, num_tags)

    def forward(self, x):
        return self.head(self.rnn(self.embed(x))[0])
'''),
    Variant("CharTagger", "wrong", "batch_first left out", '''
class CharTagger(nn.Module):
    def __init__(self, vocab_size, num_tags, embed_dim=32, hidden_size=64, num_layers=2, dropout=0.0,
                 bidirectional=True):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, embed_dim)
        self.rnn = nn.LSTM(embed_dim, hidden_size, num_layers, dropout=dropout, bidirectional=bidirectional)
        self.head = nn.Linear(hidden_size * (2 if bidirectional else 1), num_tags)

    def forward(self, x):
        return self.head(self.rnn(self.embed(x))[0])
'''),
    Variant("CharTagger", "wrong", "always bidirectional", '''
class CharTagger(nn.Module):
    def __init__(self, vocab_size, num_tags, embed_dim=32, hidden_size=64, num_layers=2, dropout=0.0,
                 bidirectional=True):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, embed_dim)
        self.rnn = nn.LSTM(embed_dim, hidden_size, num_layers, batch_first=True, dropout=dropout,
                           bidirectional=True)
        self.head = nn.Linear(2 * hidden_size, num_tags)

    def forward(self, x):
        return self.head(self.rnn(self.embed(x))[0])
'''),
    Variant("CharTagger", "wrong", "returns softmax probabilities", '''
class CharTagger(nn.Module):
    def __init__(self, vocab_size, num_tags, embed_dim=32, hidden_size=64, num_layers=2, dropout=0.0,
                 bidirectional=True):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, embed_dim)
        self.rnn = nn.LSTM(embed_dim, hidden_size, num_layers, batch_first=True, dropout=dropout,
                           bidirectional=bidirectional)
        self.head = nn.Linear(hidden_size * (2 if bidirectional else 1), num_tags)

    def forward(self, x):
        return self.head(self.rnn(self.embed(x))[0]).softmax(dim=-1)
'''),
    Variant("CharTagger", "wrong", "many-to-one: one prediction per sequence from the last step", '''
class CharTagger(nn.Module):
    def __init__(self, vocab_size, num_tags, embed_dim=32, hidden_size=64, num_layers=2, dropout=0.0,
                 bidirectional=True):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, embed_dim)
        self.rnn = nn.LSTM(embed_dim, hidden_size, num_layers, batch_first=True, dropout=dropout,
                           bidirectional=bidirectional)
        self.head = nn.Linear(hidden_size * (2 if bidirectional else 1), num_tags)

    def forward(self, x):
        return self.head(self.rnn(self.embed(x))[0][:, -1])
'''),
    Variant("CharTagger", "correct", "time-major LSTM with explicit transposes, functional head", '''
class CharTagger(nn.Module):
    def __init__(self, vocab_size, num_tags, embed_dim=32, hidden_size=64, num_layers=2, dropout=0.0,
                 bidirectional=True):
        super().__init__()
        directions = 2 if bidirectional else 1
        self.embed = nn.Embedding(num_embeddings=vocab_size, embedding_dim=embed_dim)
        self.rnn = nn.LSTM(input_size=embed_dim, hidden_size=hidden_size, num_layers=num_layers,
                           dropout=dropout, bidirectional=bidirectional)   # time-major: (T, B, D)
        self.head = nn.Linear(directions * hidden_size, num_tags)

    def forward(self, x):
        emb = self.embed(x.T)                          # (T, B, E)
        out, _ = self.rnn(emb)                         # (T, B, dirs * H)
        return F.linear(out, self.head.weight, self.head.bias).transpose(0, 1)
'''),
]
