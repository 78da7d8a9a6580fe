"""Training and measuring character-level language models on a long stream (notebooks 03, 04).

A model is anything called as ``model(x (B, T), h) -> (logits (B, T, V), h)``, with ``h = None``
at the start and ``h`` a tensor or a tuple of tensors (an LSTM's ``(h, c)``).

The stream is laid out as ``B`` contiguous rows read in windows with the state carried across
them: notebook 02's truncated BPTT. The layout is written inline here, not offered as a
function, because writing it is an exercise of notebook 02.
"""
import math
import time

import torch
import torch.nn.functional as F
from torch import nn

from rnncourse.train import steps

LN2 = math.log(2)
CELLS = {"RNN": nn.RNN, "LSTM": nn.LSTM, "GRU": nn.GRU}
COMPARE_STEPS = 1000     # notebook 04's full budget for each cell in compare_cells


class CharLM(nn.Module):
    """Embedding -> one recurrent layer (``"RNN"``, ``"LSTM"`` or ``"GRU"``) -> linear head."""

    def __init__(self, cell: str, vocab_size: int, hidden_size: int, embed_dim: int = 64):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, embed_dim)
        self.rnn = CELLS[cell](embed_dim, hidden_size, batch_first=True)
        self.head = nn.Linear(hidden_size, vocab_size)

    def forward(self, x, h=None):
        out, h = self.rnn(self.embed(x), h)       # (B, T, H)
        return self.head(out), h


def _cut(h):
    """The carried state without its history (a tensor, or a tuple of them)."""
    return tuple(s.detach() for s in h) if isinstance(h, tuple) else h.detach()


def train_char_model(model, ids: torch.Tensor, n_steps: int, lr: float, batch_size: int = 32,
                     seq_len: int = 64, loss_fn=None, desc: str = "training") -> list[float]:
    """Truncated-BPTT training for ``n_steps`` steps on the 1-D stream ``ids``; every step's loss.

    Each step reads the next window of ``seq_len`` characters of every row, carrying the state
    (cut from the graph) from the previous window; after the last window it starts again with a
    fresh state. Adam with the gradient norm clipped to 1; the learning rate falls linearly
    from ``lr`` to ``lr / 10``. ``loss_fn(logits, chunk)`` scores the logits of
    ``chunk[:, :-1]`` against ``chunk[:, 1:]`` (default: the mean cross-entropy).
    """
    if loss_fn is None:
        def loss_fn(logits, chunk):
            return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), chunk[:, 1:].reshape(-1))
    n = ids.numel() // batch_size
    rows = ids[:n * batch_size].view(batch_size, n)
    starts = range(0, n - 1, seq_len)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    losses, h = [], None
    for step in steps(n_steps, desc=desc):
        opt.param_groups[0]["lr"] = lr * (1 - 0.9 * step / max(1, n_steps - 1))
        start = starts[step % len(starts)]
        if start == 0:
            h = None                                # back at the start of the rows: no context
        chunk = rows[:, start:start + seq_len + 1]
        logits, h = model(chunk[:, :-1], h)
        h = _cut(h)                                 # truncate: no gradient into earlier windows
        loss = loss_fn(logits, chunk)
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        losses.append(loss.item())
    return losses


@torch.no_grad()
def stream_nats(model, ids: torch.Tensor, batch_size: int = 32, seq_len: int = 256) -> float:
    """Mean negative log-likelihood (nats per character) of a model over a whole stream.

    The state is carried across windows, as when the model reads the text in one go.
    Characters cut off by the row layout (fewer than ``batch_size``) are not scored.
    """
    was_training = model.training
    model.eval()
    n = ids.numel() // batch_size
    rows = ids[:n * batch_size].view(batch_size, n)
    total, count, h = 0.0, 0, None
    for start in range(0, n - 1, seq_len):
        chunk = rows[:, start:start + seq_len + 1]
        logits, h = model(chunk[:, :-1], h)
        total += F.cross_entropy(logits.reshape(-1, logits.shape[-1]), chunk[:, 1:].reshape(-1),
                                 reduction="sum").item()
        count += chunk[:, 1:].numel()
    model.train(was_training)
    return total / count


def compare_cells(train_ids: torch.Tensor, valid_ids: torch.Tensor, vocab_size: int, n_steps: int,
                  hidden_size: int = 256, lr: float = 5e-3, cells=("RNN", "LSTM", "GRU"),
                  seed: int = 0) -> dict[str, dict]:
    """Train one :class:`CharLM` per cell for the same ``n_steps`` on the same batches.

    Returns ``{cell: {"parameters", "bpc" (validation bits per character), "cpu_seconds"}}``.
    """
    results = {}
    for cell in cells:
        torch.manual_seed(seed)
        model = CharLM(cell, vocab_size, hidden_size)
        start = time.process_time()
        train_char_model(model, train_ids, n_steps, lr=lr, desc=f"{cell} on Shakespeare")
        results[cell] = {"parameters": sum(p.numel() for p in model.parameters()),
                         "bpc": stream_nats(model, valid_ids) / LN2,
                         "cpu_seconds": time.process_time() - start}
    return results
