"""Answers to notebook 04's exercises: mistakes students make, shortcuts the grader forbids, and
correct rewrites."""
from grader.variants import Variant

VARIANTS = [
    # ---- lstm_cell ----
    Variant("lstm_cell", "wrong", "gates split in the order i, f, o, g", '''
def lstm_cell(x, state, W_ih, W_hh, b_ih, b_hh):
    h, c = state
    i, f, o, g = (x @ W_ih.T + b_ih + h @ W_hh.T + b_hh).chunk(4, dim=1)
    c_new = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
    return torch.sigmoid(o) * torch.tanh(c_new), c_new
'''),
    Variant("lstm_cell", "wrong", "forget gate on the candidate, input gate on the old cell", '''
def lstm_cell(x, state, W_ih, W_hh, b_ih, b_hh):
    h, c = state
    i, f, g, o = (x @ W_ih.T + b_ih + h @ W_hh.T + b_hh).chunk(4, dim=1)
    c_new = torch.sigmoid(i) * c + torch.sigmoid(f) * torch.tanh(g)
    return torch.sigmoid(o) * torch.tanh(c_new), c_new
'''),
    Variant("lstm_cell", "wrong", "h = o * c_new, tanh left out", '''
def lstm_cell(x, state, W_ih, W_hh, b_ih, b_hh):
    h, c = state
    i, f, g, o = (x @ W_ih.T + b_ih + h @ W_hh.T + b_hh).chunk(4, dim=1)
    c_new = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
    return torch.sigmoid(o) * c_new, c_new
'''),
    Variant("lstm_cell", "wrong", "h computed from the old cell", '''
def lstm_cell(x, state, W_ih, W_hh, b_ih, b_hh):
    h, c = state
    i, f, g, o = (x @ W_ih.T + b_ih + h @ W_hh.T + b_hh).chunk(4, dim=1)
    h_new = torch.sigmoid(o) * torch.tanh(c)
    return h_new, torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
'''),
    Variant("lstm_cell", "wrong", "returns (c, h)", '''
def lstm_cell(x, state, W_ih, W_hh, b_ih, b_hh):
    h, c = state
    i, f, g, o = (x @ W_ih.T + b_ih + h @ W_hh.T + b_hh).chunk(4, dim=1)
    c_new = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
    return c_new, torch.sigmoid(o) * torch.tanh(c_new)
'''),
    Variant("lstm_cell", "wrong", "shortcut: calls nn.LSTMCell", '''
def lstm_cell(x, state, W_ih, W_hh, b_ih, b_hh):
    cell = nn.LSTMCell(W_ih.shape[1], W_hh.shape[1])
    cell.load_state_dict({"weight_ih": W_ih, "weight_hh": W_hh, "bias_ih": b_ih, "bias_hh": b_hh})
    return cell(x, state)
'''),
    Variant("lstm_cell", "wrong", "shortcut: calls torch.lstm_cell", '''
def lstm_cell(x, state, W_ih, W_hh, b_ih, b_hh):
    return torch.lstm_cell(x, state, W_ih, W_hh, b_ih, b_hh)
'''),
    Variant("lstm_cell", "correct", "one slice and nn.functional.linear per gate", '''
def lstm_cell(x, state, W_ih, W_hh, b_ih, b_hh):
    h_prev, c_prev = state
    H = W_hh.shape[1]

    def pre(k):                                    # pre-activation of gate block k
        rows = slice(k * H, (k + 1) * H)
        return (torch.nn.functional.linear(x, W_ih[rows], b_ih[rows])
                + torch.nn.functional.linear(h_prev, W_hh[rows], b_hh[rows]))

    input_gate, forget_gate = torch.sigmoid(pre(0)), torch.sigmoid(pre(1))
    candidate, output_gate = torch.tanh(pre(2)), torch.sigmoid(pre(3))
    c = torch.addcmul(forget_gate * c_prev, input_gate, candidate)
    return output_gate * c.tanh(), c
'''),
    Variant("lstm_cell", "correct", "concatenated [x, h] against concatenated weights", '''
def lstm_cell(x, state, W_ih, W_hh, b_ih, b_hh):
    h, c = state
    W = torch.cat([W_ih, W_hh], dim=1)                     # (4H, D + H)
    z = torch.cat([x, h], dim=1) @ W.T + (b_ih + b_hh)     # (B, 4H)
    H = h.shape[1]
    i, f, o = (torch.sigmoid(z[:, k * H:(k + 1) * H]) for k in (0, 1, 3))
    g = torch.tanh(z[:, 2 * H:3 * H])
    c = f * c + i * g
    return o * torch.tanh(c), c
'''),
    # ---- lstm_forward ----
    Variant("lstm_forward", "wrong", "cell state not carried forward", '''
def lstm_forward(x, state, W_ih, W_hh, b_ih, b_hh):
    h, c0 = state
    outputs = []
    for t in range(x.shape[1]):
        h, c = lstm_cell(x[:, t], (h, c0), W_ih, W_hh, b_ih, b_hh)
        outputs.append(h)
    return torch.stack(outputs, dim=1), (h, c)
'''),
    Variant("lstm_forward", "wrong", "output collects the cell states", '''
def lstm_forward(x, state, W_ih, W_hh, b_ih, b_hh):
    outputs = []
    for t in range(x.shape[1]):
        state = lstm_cell(x[:, t], state, W_ih, W_hh, b_ih, b_hh)
        outputs.append(state[1])
    return torch.stack(outputs, dim=1), state
'''),
    Variant("lstm_forward", "wrong", "stacked time-major (T, B, H)", '''
def lstm_forward(x, state, W_ih, W_hh, b_ih, b_hh):
    outputs = []
    for t in range(x.shape[1]):
        state = lstm_cell(x[:, t], state, W_ih, W_hh, b_ih, b_hh)
        outputs.append(state[0])
    return torch.stack(outputs), state
'''),
    Variant("lstm_forward", "wrong", "final state returned as (c_T, h_T)", '''
def lstm_forward(x, state, W_ih, W_hh, b_ih, b_hh):
    outputs = []
    h, c = state
    for t in range(x.shape[1]):
        h, c = lstm_cell(x[:, t], (h, c), W_ih, W_hh, b_ih, b_hh)
        outputs.append(h)
    return torch.stack(outputs, dim=1), (c, h)
'''),
    Variant("lstm_forward", "wrong", "initial state ignored (starts from zeros)", '''
def lstm_forward(x, state, W_ih, W_hh, b_ih, b_hh):
    B, H = x.shape[0], W_hh.shape[1]
    state = (torch.zeros(B, H), torch.zeros(B, H))
    outputs = []
    for t in range(x.shape[1]):
        state = lstm_cell(x[:, t], state, W_ih, W_hh, b_ih, b_hh)
        outputs.append(state[0])
    return torch.stack(outputs, dim=1), state
'''),
    Variant("lstm_forward", "wrong", "shortcut: nn.LSTM with copied weights", '''
def lstm_forward(x, state, W_ih, W_hh, b_ih, b_hh):
    lstm = nn.LSTM(W_ih.shape[1], W_hh.shape[1], batch_first=True)
    lstm.load_state_dict({"weight_ih_l0": W_ih, "weight_hh_l0": W_hh,
                          "bias_ih_l0": b_ih, "bias_hh_l0": b_hh})
    out, (h, c) = lstm(x, (state[0].unsqueeze(0), state[1].unsqueeze(0)))
    return out, (h[0], c[0])
'''),
    Variant("lstm_forward", "correct", "preallocated output, unbind over time, keyword state", '''
def lstm_forward(x, state, W_ih, W_hh, b_ih, b_hh):
    h, c = state
    output = x.new_empty(x.shape[0], x.shape[1], h.shape[1])
    for t, x_t in enumerate(x.unbind(dim=1)):
        h, c = lstm_cell(x_t, state=(h, c), W_ih=W_ih, W_hh=W_hh, b_ih=b_ih, b_hh=b_hh)
        output[:, t] = h
    return output, (h, c)
'''),
    # ---- peephole_lstm_cell ----
    Variant("peephole_lstm_cell", "wrong", "output gate peeks at the old cell", '''
def peephole_lstm_cell(x, state, W_ih, W_hh, b_ih, b_hh, w_ci, w_cf, w_co):
    h, c = state
    i, f, g, o = (x @ W_ih.T + b_ih + h @ W_hh.T + b_hh).chunk(4, dim=1)
    i, f, o = torch.sigmoid(i + w_ci * c), torch.sigmoid(f + w_cf * c), torch.sigmoid(o + w_co * c)
    c_new = f * c + i * torch.tanh(g)
    return o * torch.tanh(c_new), c_new
'''),
    Variant("peephole_lstm_cell", "wrong", "input and forget peepholes swapped", '''
def peephole_lstm_cell(x, state, W_ih, W_hh, b_ih, b_hh, w_ci, w_cf, w_co):
    h, c = state
    i, f, g, o = (x @ W_ih.T + b_ih + h @ W_hh.T + b_hh).chunk(4, dim=1)
    c_new = torch.sigmoid(f + w_ci * c) * c + torch.sigmoid(i + w_cf * c) * torch.tanh(g)
    return torch.sigmoid(o + w_co * c_new) * torch.tanh(c_new), c_new
'''),
    Variant("peephole_lstm_cell", "wrong", "peephole added after the sigmoid", '''
def peephole_lstm_cell(x, state, W_ih, W_hh, b_ih, b_hh, w_ci, w_cf, w_co):
    h, c = state
    i, f, g, o = (x @ W_ih.T + b_ih + h @ W_hh.T + b_hh).chunk(4, dim=1)
    c_new = (torch.sigmoid(f) + w_cf * c) * c + (torch.sigmoid(i) + w_ci * c) * torch.tanh(g)
    return (torch.sigmoid(o) + w_co * c_new) * torch.tanh(c_new), c_new
'''),
    Variant("peephole_lstm_cell", "wrong", "peephole on the candidate g as well", '''
def peephole_lstm_cell(x, state, W_ih, W_hh, b_ih, b_hh, w_ci, w_cf, w_co):
    h, c = state
    i, f, g, o = (x @ W_ih.T + b_ih + h @ W_hh.T + b_hh).chunk(4, dim=1)
    c_new = torch.sigmoid(f + w_cf * c) * c + torch.sigmoid(i + w_ci * c) * torch.tanh(g + w_ci * c)
    return torch.sigmoid(o + w_co * c_new) * torch.tanh(c_new), c_new
'''),
    Variant("peephole_lstm_cell", "wrong", "shortcut: nn.LSTMCell, peepholes dropped", '''
def peephole_lstm_cell(x, state, W_ih, W_hh, b_ih, b_hh, w_ci, w_cf, w_co):
    cell = nn.LSTMCell(W_ih.shape[1], W_hh.shape[1])
    cell.load_state_dict({"weight_ih": W_ih, "weight_hh": W_hh, "bias_ih": b_ih, "bias_hh": b_hh})
    return cell(x, state)
'''),
    Variant("peephole_lstm_cell", "correct", "peepholes as diagonal matrices", '''
def peephole_lstm_cell(x, state, W_ih, W_hh, b_ih, b_hh, w_ci, w_cf, w_co):
    h, c = state
    H = h.shape[1]
    a = torch.addmm(b_ih + b_hh, x, W_ih.T) + h @ W_hh.T
    i = torch.sigmoid(a[:, :H] + c @ torch.diag(w_ci))
    f = torch.sigmoid(a[:, H:2 * H] + c @ torch.diag(w_cf))
    c = f * c + i * torch.tanh(a[:, 2 * H:3 * H])
    o = torch.sigmoid(a[:, 3 * H:] + c @ torch.diag(w_co))
    return o * torch.tanh(c), c
'''),
    # ---- gru_cell ----
    Variant("gru_cell", "wrong", "reset gate applied before the matrix product (d2l form)", '''
def gru_cell(x, h, W_ih, W_hh, b_ih, b_hh):
    x_r, x_z, x_n = (x @ W_ih.T + b_ih).chunk(3, dim=1)
    W_hr, W_hz, W_hn = W_hh.chunk(3, dim=0)
    b_hr, b_hz, b_hn = b_hh.chunk(3)
    r = torch.sigmoid(x_r + h @ W_hr.T + b_hr)
    z = torch.sigmoid(x_z + h @ W_hz.T + b_hz)
    n = torch.tanh(x_n + (r * h) @ W_hn.T + b_hn)
    return (1 - z) * n + z * h
'''),
    Variant("gru_cell", "wrong", "update gate weights the candidate (lecture-notes convention)", '''
def gru_cell(x, h, W_ih, W_hh, b_ih, b_hh):
    x_r, x_z, x_n = (x @ W_ih.T + b_ih).chunk(3, dim=1)
    h_r, h_z, h_n = (h @ W_hh.T + b_hh).chunk(3, dim=1)
    r, z = torch.sigmoid(x_r + h_r), torch.sigmoid(x_z + h_z)
    n = torch.tanh(x_n + r * h_n)
    return z * n + (1 - z) * h
'''),
    Variant("gru_cell", "wrong", "gates split in the order z, r, n", '''
def gru_cell(x, h, W_ih, W_hh, b_ih, b_hh):
    x_z, x_r, x_n = (x @ W_ih.T + b_ih).chunk(3, dim=1)
    h_z, h_r, h_n = (h @ W_hh.T + b_hh).chunk(3, dim=1)
    r, z = torch.sigmoid(x_r + h_r), torch.sigmoid(x_z + h_z)
    n = torch.tanh(x_n + r * h_n)
    return (1 - z) * n + z * h
'''),
    Variant("gru_cell", "wrong", "b_hn added outside the reset gate", '''
def gru_cell(x, h, W_ih, W_hh, b_ih, b_hh):
    H = h.shape[1]
    x_r, x_z, x_n = (x @ W_ih.T + b_ih).chunk(3, dim=1)
    h_r, h_z, _ = (h @ W_hh.T + b_hh).chunk(3, dim=1)
    r, z = torch.sigmoid(x_r + h_r), torch.sigmoid(x_z + h_z)
    n = torch.tanh(x_n + r * (h @ W_hh[2 * H:].T) + b_hh[2 * H:])
    return (1 - z) * n + z * h
'''),
    Variant("gru_cell", "wrong", "shortcut: calls nn.GRUCell", '''
def gru_cell(x, h, W_ih, W_hh, b_ih, b_hh):
    cell = nn.GRUCell(W_ih.shape[1], W_hh.shape[1])
    cell.load_state_dict({"weight_ih": W_ih, "weight_hh": W_hh, "bias_ih": b_ih, "bias_hh": b_hh})
    return cell(x, h)
'''),
    Variant("gru_cell", "correct", "weight blocks and the interpolation h + (1 - z)(n - h)", '''
def gru_cell(x, h, W_ih, W_hh, b_ih, b_hh):
    F = torch.nn.functional
    (W_ir, W_iz, W_in), (W_hr, W_hz, W_hn) = W_ih.chunk(3), W_hh.chunk(3)
    (b_ir, b_iz, b_in), (b_hr, b_hz, b_hn) = b_ih.chunk(3), b_hh.chunk(3)
    r = torch.sigmoid(F.linear(x, W_ir, b_ir) + F.linear(h, W_hr, b_hr))
    z = torch.sigmoid(F.linear(x, W_iz, b_iz) + F.linear(h, W_hz, b_hz))
    n = torch.tanh(F.linear(x, W_in, b_in) + r * F.linear(h, W_hn, b_hn))
    return h + (1 - z) * (n - h)
'''),
    # ---- count_lstm_gru_params ----
    Variant("count_lstm_gru_params", "wrong", "one bias vector per gate", '''
def count_lstm_gru_params(input_size, hidden_size):
    block = hidden_size * (input_size + hidden_size + 1)
    return {"rnn": block, "lstm": 4 * block, "gru": 3 * block}
'''),
    Variant("count_lstm_gru_params", "wrong", "LSTM and GRU multipliers swapped", '''
def count_lstm_gru_params(input_size, hidden_size):
    block = hidden_size * (input_size + hidden_size + 2)
    return {"rnn": block, "lstm": 3 * block, "gru": 4 * block}
'''),
    Variant("count_lstm_gru_params", "wrong", "W_hh counted as (H, D)", '''
def count_lstm_gru_params(input_size, hidden_size):
    block = 2 * hidden_size * input_size + 2 * hidden_size
    return {"rnn": block, "lstm": 4 * block, "gru": 3 * block}
'''),
    Variant("count_lstm_gru_params", "wrong", "GRU derived by division: a float", '''
def count_lstm_gru_params(input_size, hidden_size):
    lstm = 4 * hidden_size * (input_size + hidden_size + 2)
    return {"rnn": lstm // 4, "lstm": lstm, "gru": lstm * 3 / 4}
'''),
    Variant("count_lstm_gru_params", "wrong", "shortcut: builds the modules", '''
def count_lstm_gru_params(input_size, hidden_size):
    return {name: sum(p.numel() for p in cls(input_size, hidden_size).parameters())
            for name, cls in (("rnn", nn.RNN), ("lstm", nn.LSTM), ("gru", nn.GRU))}
'''),
    Variant("count_lstm_gru_params", "correct", "sum over the four tensors of each module", '''
def count_lstm_gru_params(input_size, hidden_size):
    def count(blocks):
        shapes = [(blocks * hidden_size, input_size), (blocks * hidden_size, hidden_size),
                  (blocks * hidden_size, 1), (blocks * hidden_size, 1)]
        return sum(rows * cols for rows, cols in shapes)
    return {"rnn": count(1), "lstm": count(4), "gru": count(3)}
'''),
]
