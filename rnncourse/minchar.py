"""A min-char-rnn (Karpathy, 2015) whose backward pass and clipping are notebook 02's exercises.

The forward pass, the softmax head and the Adagrad update are written here; the gradient of
the recurrence comes from the ``bptt`` passed in and the clipping from the ``clip_grad_norm``
passed in, the student's own. An exercise that is not written yet (it raises
``NotImplementedError``) is replaced, with a printed note, by autograd or by PyTorch's clipping,
so the loop runs from the start of the notebook.
"""
import torch
import torch.nn.functional as F

from rnncourse.train import steps


def _own_or_fallback(fn, name: str, fallback_name: str, probe):
    """``fn`` unless it is missing or still raises ``NotImplementedError`` on ``probe``, else
    ``None``; says which one the loop will use. Any other error is the student's bug: it shows."""
    if fn is not None:
        try:
            probe(fn)
            print(f"{name}: yours")
            return fn
        except NotImplementedError:
            pass
    print(f"{name}: not written yet, so the loop uses {fallback_name} instead")
    return None


def train_min_char_rnn(ids: torch.Tensor, vocab_size: int, n_steps: int, bptt, clip_grad_norm,
                       hidden: int = 100, seq_len: int = 25, batch_size: int = 8, lr: float = 0.1,
                       max_norm: float = 5.0, seed: int = 0, desc: str = "min-char-rnn"):
    """Train a one-layer tanh RNN with a softmax head on the stream ``ids`` for ``n_steps``.

    ``bptt(dstates, x, h0, states, W_xh, W_hh) -> (dx, dh0, dW_xh, dW_hh, db)`` and
    ``clip_grad_norm(grads, max_norm) -> (clipped, total_norm)`` have notebook 02's signatures.
    Returns ``(losses, params)``: the mean cross-entropy (nats per character) of every step and
    the trained weights ``{"W_xh", "W_hh", "b", "W_hy", "b_y"}``.
    """
    g = torch.Generator().manual_seed(seed)
    V, H = vocab_size, hidden
    p = {"W_xh": torch.randn(H, V, generator=g) * 0.01, "W_hh": torch.randn(H, H, generator=g) * 0.01,
         "b": torch.zeros(H), "W_hy": torch.randn(V, H, generator=g) * 0.01, "b_y": torch.zeros(V)}
    memory = {k: torch.full_like(v, 1e-8) for k, v in p.items()}       # Adagrad's sums of squares
    eye = torch.eye(V)

    def probe_bptt(fn):
        fn(torch.zeros(1, 2, H), torch.zeros(1, 2, V), torch.zeros(1, H), torch.zeros(1, 2, H),
           p["W_xh"], p["W_hh"])

    bptt = _own_or_fallback(bptt, "bptt", "autograd", probe_bptt)
    clip_grad_norm = _own_or_fallback(clip_grad_norm, "clip_grad_norm", "torch.nn.utils.clip_grad_norm_",
                                      lambda fn: fn([torch.ones(2)], 1.0))

    n = ids.numel() // batch_size
    rows = ids[:n * batch_size].view(batch_size, n)
    h, losses = torch.zeros(batch_size, H), []
    for step in steps(n_steps, desc=desc):
        start = (step * seq_len) % (n - seq_len - 1)
        if start < seq_len:
            h = torch.zeros(batch_size, H)                      # back at the start of the rows
        x, y = eye[rows[:, start:start + seq_len]], rows[:, start + 1:start + seq_len + 1]
        h0, states, state = h, [], h
        for t in range(seq_len):                                # forward, as in notebook 01
            state = torch.tanh(x[:, t] @ p["W_xh"].T + state @ p["W_hh"].T + p["b"])
            states.append(state)
        states = torch.stack(states, dim=1)                     # (B, T, H)
        logits = states @ p["W_hy"].T + p["b_y"]                # (B, T, V)
        loss = F.cross_entropy(logits.reshape(-1, V), y.reshape(-1))
        dlogits = (logits.softmax(dim=-1) - eye[y]) / y.numel()    # softmax + cross-entropy, by hand
        dstates = dlogits @ p["W_hy"]
        grads = {"W_hy": dlogits.reshape(-1, V).T @ states.reshape(-1, H), "b_y": dlogits.sum(dim=(0, 1))}
        if bptt is not None:
            _, _, grads["W_xh"], grads["W_hh"], grads["b"] = bptt(dstates, x, h0, states, p["W_xh"], p["W_hh"])
        else:
            grads.update(_autograd_recurrence(dstates, x, h0, p))
        names = list(grads)
        if clip_grad_norm is not None:
            clipped, _ = clip_grad_norm([grads[k] for k in names], max_norm)
        else:                                                   # PyTorch's clipping, in place on .grad
            holders = [torch.nn.Parameter(torch.zeros_like(grads[k])) for k in names]
            for holder, k in zip(holders, names):
                holder.grad = grads[k].clone()
            torch.nn.utils.clip_grad_norm_(holders, max_norm)
            clipped = [holder.grad for holder in holders]
        for k, dk in zip(names, clipped):                       # Adagrad, as in min-char-rnn
            memory[k] += dk * dk
            p[k] -= lr * dk / memory[k].sqrt()
        h = states[:, -1]
        losses.append(loss.item())
    return losses, p


def _autograd_recurrence(dstates, x, h0, p):
    """dW_xh, dW_hh, db of the recurrence by autograd: the fallback for an unwritten ``bptt``."""
    W = {k: p[k].clone().requires_grad_(True) for k in ("W_xh", "W_hh", "b")}
    state, states = h0, []
    for t in range(x.shape[1]):
        state = torch.tanh(x[:, t] @ W["W_xh"].T + state @ W["W_hh"].T + W["b"])
        states.append(state)
    grads = torch.autograd.grad((torch.stack(states, dim=1) * dstates).sum(), list(W.values()))
    return dict(zip(W, grads))


@torch.no_grad()
def sample_min_char_rnn(params: dict, start_id: int, length: int, generator: torch.Generator) -> list[int]:
    """``length`` ids sampled from the trained RNN, each fed back in, starting after ``start_id``."""
    V = params["W_hy"].shape[0]
    h, x, out = torch.zeros(params["W_hh"].shape[0]), start_id, []
    for _ in range(length):
        h = torch.tanh(params["W_xh"][:, x] + h @ params["W_hh"].T + params["b"])
        probs = (h @ params["W_hy"].T + params["b_y"]).softmax(dim=-1)
        x = int(torch.multinomial(probs, 1, generator=generator))
        out.append(x)
    return out

