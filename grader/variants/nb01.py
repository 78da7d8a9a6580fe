"""Answers to notebook 01's exercises: mistakes students make, and correct rewrites."""
from grader.variants import Variant

VARIANTS = [
    # ---- rnn_cell ----
    Variant("rnn_cell", "wrong", "tanh left out", '''
def rnn_cell(x_t, h_prev, W_xh, W_hh, b):
    return x_t @ W_xh.T + h_prev @ W_hh.T + b
'''),
    Variant("rnn_cell", "wrong", "W_hh not transposed", '''
def rnn_cell(x_t, h_prev, W_xh, W_hh, b):
    return torch.tanh(x_t @ W_xh.T + h_prev @ W_hh + b)
'''),
    Variant("rnn_cell", "wrong", "bias left out", '''
def rnn_cell(x_t, h_prev, W_xh, W_hh, b):
    return torch.tanh(x_t @ W_xh.T + h_prev @ W_hh.T)
'''),
    Variant("rnn_cell", "wrong", "h_prev ignored", '''
def rnn_cell(x_t, h_prev, W_xh, W_hh, b):
    return torch.tanh(x_t @ W_xh.T + b)
'''),
    Variant("rnn_cell", "wrong", "goes through numpy (no gradient)", '''
def rnn_cell(x_t, h_prev, W_xh, W_hh, b):
    import numpy as np
    z = x_t.detach().numpy() @ W_xh.detach().numpy().T + h_prev.detach().numpy() @ W_hh.detach().numpy().T
    return torch.from_numpy(np.tanh(z + b.detach().numpy()))
'''),
    Variant("rnn_cell", "wrong", "calls nn.RNNCell (forbidden shortcut)", '''
def rnn_cell(x_t, h_prev, W_xh, W_hh, b):
    cell = nn.RNNCell(W_xh.shape[1], W_xh.shape[0])
    cell.load_state_dict({"weight_ih": W_xh, "weight_hh": W_hh, "bias_ih": b, "bias_hh": torch.zeros_like(b)})
    return cell(x_t, h_prev)
'''),
    Variant("rnn_cell", "wrong", "reaches torch.rnn_tanh_cell by a string (forbidden shortcut)", '''
def rnn_cell(x_t, h_prev, W_xh, W_hh, b):
    fn = getattr(torch, "rnn_" + "tanh_cell")
    return fn(x_t, h_prev, W_xh, W_hh, b, torch.zeros_like(b))
'''),
    Variant("rnn_cell", "correct", "weights on the left, then transposed back", '''
def rnn_cell(x_t, h_prev, W_xh, W_hh, b):
    z = W_xh @ x_t.T + W_hh @ h_prev.T + b[:, None]   # (H, B)
    return torch.tanh(z).T
'''),
    Variant("rnn_cell", "correct", "nn.functional.linear and a concatenated weight", '''
def rnn_cell(x_t, h_prev, W_xh, W_hh, b):
    W = torch.cat([W_xh, W_hh], dim=1)                     # (H, D + H)
    return torch.tanh(torch.nn.functional.linear(torch.cat([x_t, h_prev], dim=1), W, b))
'''),
    # ---- rnn_forward ----
    Variant("rnn_forward", "wrong", "hidden state not carried forward", '''
def rnn_forward(x, h0, W_xh, W_hh, b):
    states = [rnn_cell(x[:, t], h0, W_xh, W_hh, b) for t in range(x.shape[1])]
    all_states = torch.stack(states, dim=1)
    return all_states, all_states[:, -1]
'''),
    Variant("rnn_forward", "wrong", "states shifted by one (h0 kept, last state dropped)", '''
def rnn_forward(x, h0, W_xh, W_hh, b):
    h, states = h0, []
    for t in range(x.shape[1]):
        states.append(h)
        h = rnn_cell(x[:, t], h, W_xh, W_hh, b)
    return torch.stack(states, dim=1), h
'''),
    Variant("rnn_forward", "wrong", "stacked on the wrong axis (time first)", '''
def rnn_forward(x, h0, W_xh, W_hh, b):
    h, states = h0, []
    for t in range(x.shape[1]):
        h = rnn_cell(x[:, t], h, W_xh, W_hh, b)
        states.append(h)
    return torch.stack(states), h
'''),
    Variant("rnn_forward", "wrong", "returns h0 as the last state", '''
def rnn_forward(x, h0, W_xh, W_hh, b):
    h, states = h0, []
    for t in range(x.shape[1]):
        h = rnn_cell(x[:, t], h, W_xh, W_hh, b)
        states.append(h)
    return torch.stack(states, dim=1), h0
'''),
    Variant("rnn_forward", "wrong", "hands the whole sequence to nn.RNN (forbidden shortcut)", '''
def rnn_forward(x, h0, W_xh, W_hh, b):
    rnn = nn.RNN(W_xh.shape[1], W_xh.shape[0], batch_first=True)
    rnn.load_state_dict({"weight_ih_l0": W_xh, "weight_hh_l0": W_hh, "bias_ih_l0": b,
                         "bias_hh_l0": torch.zeros_like(b)})
    out, h_n = rnn(x, h0.unsqueeze(0))
    return out, h_n[0]
'''),
    Variant("rnn_forward", "correct", "preallocated output and unbind over time", '''
def rnn_forward(x, h0, W_xh, W_hh, b):
    out = x.new_zeros(x.shape[0], x.shape[1], h0.shape[1])
    h = h0
    for t, x_t in enumerate(x.unbind(dim=1)):
        h = rnn_cell(x_t, h, W_xh, W_hh, b)
        out[:, t] = h
    return out, h
'''),
    # ---- load_into_nn_rnn ----
    Variant("load_into_nn_rnn", "wrong", "bias copied into both bias vectors", '''
def load_into_nn_rnn(W_xh, W_hh, b):
    rnn = nn.RNN(W_xh.shape[1], W_xh.shape[0], batch_first=True)
    with torch.no_grad():
        rnn.weight_ih_l0.copy_(W_xh)
        rnn.weight_hh_l0.copy_(W_hh)
        rnn.bias_ih_l0.copy_(b)
        rnn.bias_hh_l0.copy_(b)
    return rnn
'''),
    Variant("load_into_nn_rnn", "wrong", "batch_first left at its default", '''
def load_into_nn_rnn(W_xh, W_hh, b):
    rnn = nn.RNN(W_xh.shape[1], W_xh.shape[0])
    with torch.no_grad():
        rnn.weight_ih_l0.copy_(W_xh)
        rnn.weight_hh_l0.copy_(W_hh)
        rnn.bias_ih_l0.copy_(b)
        rnn.bias_hh_l0.zero_()
    return rnn
'''),
    Variant("load_into_nn_rnn", "wrong", "weights swapped", '''
def load_into_nn_rnn(W_xh, W_hh, b):
    rnn = nn.RNN(W_xh.shape[1], W_xh.shape[0], batch_first=True)
    with torch.no_grad():
        rnn.weight_ih_l0.copy_(W_hh[:, :W_xh.shape[1]])
        rnn.weight_hh_l0.copy_(W_hh)
        rnn.bias_ih_l0.copy_(b)
        rnn.bias_hh_l0.zero_()
    return rnn
'''),
    Variant("load_into_nn_rnn", "wrong", "random bias_hh left in place", '''
def load_into_nn_rnn(W_xh, W_hh, b):
    rnn = nn.RNN(W_xh.shape[1], W_xh.shape[0], batch_first=True)
    with torch.no_grad():
        rnn.weight_ih_l0.copy_(W_xh)
        rnn.weight_hh_l0.copy_(W_hh)
        rnn.bias_ih_l0.copy_(b)
    return rnn
'''),
    Variant("load_into_nn_rnn", "correct", "load_state_dict with the bias split in halves", '''
def load_into_nn_rnn(W_xh, W_hh, b):
    rnn = nn.RNN(input_size=W_xh.shape[1], hidden_size=W_xh.shape[0], batch_first=True)
    rnn.load_state_dict({"weight_ih_l0": W_xh, "weight_hh_l0": W_hh,
                         "bias_ih_l0": b / 2, "bias_hh_l0": b / 2})
    return rnn
'''),
    # ---- count_rnn_params ----
    Variant("count_rnn_params", "wrong", "one bias vector only", '''
def count_rnn_params(input_size, hidden_size, num_layers=1, bidirectional=False, bias=True):
    dirs = 2 if bidirectional else 1
    total = 0
    for layer in range(num_layers):
        d = input_size if layer == 0 else hidden_size * dirs
        total += dirs * (hidden_size * d + hidden_size * hidden_size + (hidden_size if bias else 0))
    return total
'''),
    Variant("count_rnn_params", "wrong", "later layers take input_size inputs", '''
def count_rnn_params(input_size, hidden_size, num_layers=1, bidirectional=False, bias=True):
    dirs = 2 if bidirectional else 1
    per_dir = hidden_size * input_size + hidden_size * hidden_size + (2 * hidden_size if bias else 0)
    return num_layers * dirs * per_dir
'''),
    Variant("count_rnn_params", "wrong", "directions ignored", '''
def count_rnn_params(input_size, hidden_size, num_layers=1, bidirectional=False, bias=True):
    total = 0
    for layer in range(num_layers):
        d = input_size if layer == 0 else hidden_size
        total += hidden_size * d + hidden_size * hidden_size + (2 * hidden_size if bias else 0)
    return total
'''),
    Variant("count_rnn_params", "wrong", "bias=False ignored", '''
def count_rnn_params(input_size, hidden_size, num_layers=1, bidirectional=False, bias=True):
    dirs = 2 if bidirectional else 1
    total = 0
    for layer in range(num_layers):
        d = input_size if layer == 0 else hidden_size * dirs
        total += dirs * (hidden_size * d + hidden_size * hidden_size + 2 * hidden_size)
    return total
'''),
    Variant("count_rnn_params", "correct", "closed form", '''
def count_rnn_params(input_size, hidden_size, num_layers=1, bidirectional=False, bias=True):
    k, H = (2 if bidirectional else 1), hidden_size
    first = H * input_size + H * H + 2 * H * bias
    rest = H * (k * H) + H * H + 2 * H * bias
    return k * (first + (num_layers - 1) * rest)
'''),
    # ---- heads ----
    Variant("many_to_one_head", "wrong", "first time step", '''
def many_to_one_head(outputs, W_hy, b_y):
    return outputs[:, 0] @ W_hy.T + b_y
'''),
    Variant("many_to_one_head", "wrong", "mean over time", '''
def many_to_one_head(outputs, W_hy, b_y):
    return outputs.mean(dim=1) @ W_hy.T + b_y
'''),
    Variant("many_to_one_head", "wrong", "time-major indexing (last sequence of the batch)", '''
def many_to_one_head(outputs, W_hy, b_y):
    return outputs[-1] @ W_hy.T + b_y
'''),
    Variant("many_to_one_head", "wrong", "bias left out", '''
def many_to_one_head(outputs, W_hy, b_y):
    return outputs[:, -1] @ W_hy.T
'''),
    Variant("many_to_one_head", "correct", "nn.functional.linear on the last step", '''
def many_to_one_head(outputs, W_hy, b_y):
    return torch.nn.functional.linear(outputs[:, outputs.shape[1] - 1, :], W_hy, b_y)
'''),
    Variant("many_to_many_head", "wrong", "only the last step", '''
def many_to_many_head(outputs, W_hy, b_y):
    return outputs[:, -1] @ W_hy.T + b_y
'''),
    Variant("many_to_many_head", "wrong", "reshape mixes batch and time", '''
def many_to_many_head(outputs, W_hy, b_y):
    B, T, H = outputs.shape
    flat = outputs.transpose(0, 1).reshape(B * T, H)
    return (flat @ W_hy.T + b_y).reshape(B, T, -1)
'''),
    Variant("many_to_many_head", "wrong", "bias left out", '''
def many_to_many_head(outputs, W_hy, b_y):
    return outputs @ W_hy.T
'''),
    Variant("many_to_many_head", "correct", "flatten, apply, unflatten", '''
def many_to_many_head(outputs, W_hy, b_y):
    B, T, H = outputs.shape
    return (outputs.reshape(B * T, H) @ W_hy.T + b_y).reshape(B, T, -1)
'''),
    Variant("many_to_many_head", "correct", "einsum", '''
def many_to_many_head(outputs, W_hy, b_y):
    return torch.einsum("bth,ch->btc", outputs, W_hy) + b_y
'''),
]
