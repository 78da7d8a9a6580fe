"""Answers to notebook 02's exercises: mistakes students make, and correct rewrites."""
from grader.variants import Variant

VARIANTS = [
    # ---- rnn_cell_backward ----
    Variant("rnn_cell_backward", "wrong", "tanh' left out", '''
def rnn_cell_backward(dh_t, x_t, h_prev, h_t, W_xh, W_hh):
    dz = dh_t
    return dz @ W_xh, dz @ W_hh, dz.T @ x_t, dz.T @ h_prev, dz.sum(dim=0)
'''),
    Variant("rnn_cell_backward", "wrong", "tanh' evaluated at h_t (tanh applied twice)", '''
def rnn_cell_backward(dh_t, x_t, h_prev, h_t, W_xh, W_hh):
    dz = dh_t * (1 - torch.tanh(h_t) ** 2)
    return dz @ W_xh, dz @ W_hh, dz.T @ x_t, dz.T @ h_prev, dz.sum(dim=0)
'''),
    Variant("rnn_cell_backward", "wrong", "dW_hh transposed", '''
def rnn_cell_backward(dh_t, x_t, h_prev, h_t, W_xh, W_hh):
    dz = dh_t * (1 - h_t ** 2)
    return dz @ W_xh, dz @ W_hh, dz.T @ x_t, h_prev.T @ dz, dz.sum(dim=0)
'''),
    Variant("rnn_cell_backward", "wrong", "dh_prev through W_hh transposed", '''
def rnn_cell_backward(dh_t, x_t, h_prev, h_t, W_xh, W_hh):
    dz = dh_t * (1 - h_t ** 2)
    return dz @ W_xh, dz @ W_hh.T, dz.T @ x_t, dz.T @ h_prev, dz.sum(dim=0)
'''),
    Variant("rnn_cell_backward", "wrong", "db averaged over the batch", '''
def rnn_cell_backward(dh_t, x_t, h_prev, h_t, W_xh, W_hh):
    dz = dh_t * (1 - h_t ** 2)
    return dz @ W_xh, dz @ W_hh, dz.T @ x_t, dz.T @ h_prev, dz.mean(dim=0)
'''),
    Variant("rnn_cell_backward", "correct", "einsum, tanh' expanded", '''
def rnn_cell_backward(dh_t, x_t, h_prev, h_t, W_xh, W_hh):
    dz = dh_t - dh_t * h_t * h_t
    dx = torch.einsum("bh,hd->bd", dz, W_xh)
    dh = torch.einsum("bh,hk->bk", dz, W_hh)
    return dx, dh, torch.einsum("bh,bd->hd", dz, x_t), torch.einsum("bh,bk->hk", dz, h_prev), dz.sum(0)
'''),
    # ---- bptt ----
    Variant("bptt", "wrong", "gradient not carried back from step t + 1", '''
def bptt(dstates, x, h0, states, W_xh, W_hh):
    dx = torch.zeros_like(x)
    dW_xh, dW_hh, db = torch.zeros_like(W_xh), torch.zeros_like(W_hh), torch.zeros(W_hh.shape[0])
    dh0 = torch.zeros_like(h0)
    for t in reversed(range(x.shape[1])):
        h_prev = states[:, t - 1] if t > 0 else h0
        dx[:, t], dh0, a, c, d = rnn_cell_backward(dstates[:, t], x[:, t], h_prev, states[:, t], W_xh, W_hh)
        dW_xh, dW_hh, db = dW_xh + a, dW_hh + c, db + d
    return dx, dh0, dW_xh, dW_hh, db
'''),
    Variant("bptt", "wrong", "weight gradients overwritten instead of summed over time", '''
def bptt(dstates, x, h0, states, W_xh, W_hh):
    dx = torch.zeros_like(x)
    dh = torch.zeros_like(h0)
    for t in reversed(range(x.shape[1])):
        h_prev = states[:, t - 1] if t > 0 else h0
        dx[:, t], dh, dW_xh, dW_hh, db = rnn_cell_backward(dstates[:, t] + dh, x[:, t], h_prev,
                                                           states[:, t], W_xh, W_hh)
    return dx, dh, dW_xh, dW_hh, db
'''),
    Variant("bptt", "wrong", "states[:, t - 1] at t = 0 (wraps to the last state, not h0)", '''
def bptt(dstates, x, h0, states, W_xh, W_hh):
    dx = torch.zeros_like(x)
    dW_xh, dW_hh, db = torch.zeros_like(W_xh), torch.zeros_like(W_hh), torch.zeros(W_hh.shape[0])
    dh = torch.zeros_like(h0)
    for t in reversed(range(x.shape[1])):
        dx[:, t], dh, a, c, d = rnn_cell_backward(dstates[:, t] + dh, x[:, t], states[:, t - 1],
                                                  states[:, t], W_xh, W_hh)
        dW_xh, dW_hh, db = dW_xh + a, dW_hh + c, db + d
    return dx, dh, dW_xh, dW_hh, db
'''),
    Variant("bptt", "wrong", "h_t used as the previous state", '''
def bptt(dstates, x, h0, states, W_xh, W_hh):
    dx = torch.zeros_like(x)
    dW_xh, dW_hh, db = torch.zeros_like(W_xh), torch.zeros_like(W_hh), torch.zeros(W_hh.shape[0])
    dh = torch.zeros_like(h0)
    for t in reversed(range(x.shape[1])):
        dx[:, t], dh, a, c, d = rnn_cell_backward(dstates[:, t] + dh, x[:, t], states[:, t],
                                                  states[:, t], W_xh, W_hh)
        dW_xh, dW_hh, db = dW_xh + a, dW_hh + c, db + d
    return dx, dh, dW_xh, dW_hh, db
'''),
    Variant("bptt", "wrong", "walks forwards in time", '''
def bptt(dstates, x, h0, states, W_xh, W_hh):
    dx = torch.zeros_like(x)
    dW_xh, dW_hh, db = torch.zeros_like(W_xh), torch.zeros_like(W_hh), torch.zeros(W_hh.shape[0])
    dh = torch.zeros_like(h0)
    for t in range(x.shape[1]):
        h_prev = states[:, t - 1] if t > 0 else h0
        dx[:, t], dh, a, c, d = rnn_cell_backward(dstates[:, t] + dh, x[:, t], h_prev, states[:, t],
                                                  W_xh, W_hh)
        dW_xh, dW_hh, db = dW_xh + a, dW_hh + c, db + d
    return dx, dh, dW_xh, dW_hh, db
'''),
    Variant("bptt", "correct", "previous states by concatenation, gradients collected in lists", '''
def bptt(dstates, x, h0, states, W_xh, W_hh):
    prevs = torch.cat([h0.unsqueeze(1), states[:, :-1]], dim=1)     # (B, T, H)
    dxs, grads, dh = [], [], torch.zeros_like(h0)
    for t in range(x.shape[1] - 1, -1, -1):
        dx_t, dh, *g = rnn_cell_backward(dstates[:, t] + dh, x[:, t], prevs[:, t], states[:, t], W_xh, W_hh)
        dxs.insert(0, dx_t)
        grads.append(g)
    dW_xh, dW_hh, db = (torch.stack(gs).sum(dim=0) for gs in zip(*grads))
    return torch.stack(dxs, dim=1), dh, dW_xh, dW_hh, db
'''),
    # ---- clip_grad_norm ----
    Variant("clip_grad_norm", "wrong", "each tensor clipped by its own norm", '''
def clip_grad_norm(grads, max_norm):
    total = torch.sqrt(sum((g ** 2).sum() for g in grads)).item()
    return [g * min(1.0, max_norm / (g.norm().item() + 1e-6)) for g in grads], total
'''),
    Variant("clip_grad_norm", "wrong", "rescales to max_norm even below the threshold", '''
def clip_grad_norm(grads, max_norm):
    total = torch.sqrt(sum((g ** 2).sum() for g in grads)).item()
    return [g * (max_norm / (total + 1e-6)) for g in grads], total
'''),
    Variant("clip_grad_norm", "wrong", "total norm is the sum of the tensors' norms", '''
def clip_grad_norm(grads, max_norm):
    total = sum(g.norm().item() for g in grads)
    scale = min(1.0, max_norm / (total + 1e-6))
    return [g * scale for g in grads], total
'''),
    Variant("clip_grad_norm", "wrong", "clips each value (clip by value)", '''
def clip_grad_norm(grads, max_norm):
    total = torch.sqrt(sum((g ** 2).sum() for g in grads)).item()
    return [g.clamp(-max_norm, max_norm) for g in grads], total
'''),
    Variant("clip_grad_norm", "wrong", "returns the norm after clipping", '''
def clip_grad_norm(grads, max_norm):
    total = torch.sqrt(sum((g ** 2).sum() for g in grads)).item()
    scale = min(1.0, max_norm / (total + 1e-6))
    return [g * scale for g in grads], total * scale
'''),
    Variant("clip_grad_norm", "wrong", "calls torch.nn.utils.clip_grad_norm_ (forbidden)", '''
def clip_grad_norm(grads, max_norm):
    params = [torch.nn.Parameter(torch.zeros_like(g)) for g in grads]
    for p, g in zip(params, grads):
        p.grad = g.clone()
    total = torch.nn.utils.clip_grad_norm_(params, max_norm)
    return [p.grad for p in params], total.item()
'''),
    Variant("clip_grad_norm", "correct", "vector_norm of the norms, clamp, in place, tensor total", '''
def clip_grad_norm(grads, max_norm):
    total = torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(g) for g in grads]))
    coef = torch.clamp(max_norm / (total + 1e-6), max=1.0)
    for g in grads:
        g.mul_(coef)
    return grads, total
'''),
    # ---- batchify ----
    Variant("batchify", "wrong", "drops the head instead of the tail", '''
def batchify(data, batch_size):
    n = data.shape[0] // batch_size
    return data[data.shape[0] - n * batch_size:].reshape(batch_size, n)
'''),
    Variant("batchify", "wrong", "deals tokens out round-robin (view(-1, B).t())", '''
def batchify(data, batch_size):
    n = data.shape[0] // batch_size
    return data[:n * batch_size].view(-1, batch_size).t()
'''),
    Variant("batchify", "wrong", "time-major (N // B, B) as in PyTorch's example", '''
def batchify(data, batch_size):
    n = data.shape[0] // batch_size
    return data[:n * batch_size].view(batch_size, -1).t().contiguous()
'''),
    Variant("batchify", "wrong", "pads the tail with zeros instead of dropping it", '''
def batchify(data, batch_size):
    n = -(-data.shape[0] // batch_size)
    padded = torch.cat([data, data.new_zeros(n * batch_size - data.shape[0])])
    return padded.view(batch_size, n)
'''),
    Variant("batchify", "correct", "narrow and stack the pieces", '''
def batchify(data, batch_size):
    n = len(data) // batch_size
    return torch.stack([data.narrow(0, b * n, n) for b in range(batch_size)])
'''),
    # ---- tbptt_batches ----
    Variant("tbptt_batches", "wrong", "targets not shifted (y = x)", '''
def tbptt_batches(batched, bptt):
    out = []
    for i in range(0, batched.shape[1] - 1, bptt):
        n = min(bptt, batched.shape[1] - 1 - i)
        out.append((batched[:, i:i + n], batched[:, i:i + n]))
    return out
'''),
    Variant("tbptt_batches", "wrong", "the last, shorter window dropped", '''
def tbptt_batches(batched, bptt):
    out = []
    for i in range(0, (batched.shape[1] - 1) // bptt * bptt, bptt):
        out.append((batched[:, i:i + bptt], batched[:, i + 1:i + 1 + bptt]))
    return out
'''),
    Variant("tbptt_batches", "wrong", "windows start at every step (overlapping)", '''
def tbptt_batches(batched, bptt):
    out = []
    for i in range(batched.shape[1] - 1):
        n = min(bptt, batched.shape[1] - 1 - i)
        out.append((batched[:, i:i + n], batched[:, i + 1:i + 1 + n]))
    return out
'''),
    Variant("tbptt_batches", "wrong", "the last window's y runs out of tokens (range up to L)", '''
def tbptt_batches(batched, bptt):
    return [(batched[:, i:i + bptt], batched[:, i + 1:i + 1 + bptt])
            for i in range(0, batched.shape[1], bptt)]
'''),
    Variant("tbptt_batches", "wrong", "targets shifted by two", '''
def tbptt_batches(batched, bptt):
    out = []
    for i in range(0, batched.shape[1] - 2, bptt):
        n = min(bptt, batched.shape[1] - 2 - i)
        out.append((batched[:, i:i + n], batched[:, i + 2:i + 2 + n]))
    return out
'''),
    Variant("tbptt_batches", "correct", "split inputs and targets along time, then zip", '''
def tbptt_batches(batched, bptt):
    return list(zip(batched[:, :-1].split(bptt, dim=1), batched[:, 1:].split(bptt, dim=1)))
'''),
    # ---- detach_state ----
    Variant("detach_state", "wrong", "returns the state unchanged", '''
def detach_state(state):
    return state
'''),
    Variant("detach_state", "wrong", "clone instead of detach (history kept)", '''
def detach_state(state):
    if isinstance(state, torch.Tensor):
        return state.clone()
    return tuple(s.clone() for s in state)
'''),
    Variant("detach_state", "wrong", "resets the state to zeros", '''
def detach_state(state):
    if isinstance(state, torch.Tensor):
        return torch.zeros_like(state)
    return tuple(torch.zeros_like(s) for s in state)
'''),
    Variant("detach_state", "wrong", "handles a tensor only", '''
def detach_state(state):
    return state.detach()
'''),
    Variant("detach_state", "wrong", "detaches h but not c", '''
def detach_state(state):
    if isinstance(state, torch.Tensor):
        return state.detach()
    h, c = state
    return h.detach(), c
'''),
    Variant("detach_state", "correct", ".data and a list comprehension", '''
def detach_state(state):
    if isinstance(state, (tuple, list)):
        return tuple([s.data for s in state])
    return state.data
'''),
]
