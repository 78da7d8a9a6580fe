"""Character-level text helpers for notebook 03: batching a stream for truncated BPTT, a bigram
baseline, evaluation in bits per character, and colouring text by a hidden unit's activation
(Karpathy, Johnson & Fei-Fei, "Visualizing and Understanding Recurrent Networks", 2015).

Everything takes integer ids (``torch.long``) and models as arguments; a model is anything
called as ``model(x (B, T), h) -> (logits (B, T, V), h)``, with ``h = None`` at the start.
"""
import html
import math

import matplotlib.pyplot as plt
import torch
import torch.nn.functional as F
from matplotlib.patches import Rectangle

LN2 = math.log(2)


# ---- batching a long stream ----

def stream_rows(ids: torch.Tensor, batch_size: int) -> torch.Tensor:
    """Cut a 1-D stream of ids into ``batch_size`` equal rows, shape ``(B, N // B)``.

    Row b continues where it left off from one chunk to the next, so the hidden state carried
    between chunks belongs to the same text (the classic layout for truncated BPTT).
    """
    n = ids.numel() // batch_size
    return ids[:n * batch_size].view(batch_size, n)


def tbptt_chunks(rows: torch.Tensor, seq_len: int):
    """Yield ``(B, seq_len + 1)`` windows of ``rows`` that overlap by one character.

    Inputs are ``chunk[:, :-1]`` and targets ``chunk[:, 1:]``; the next chunk starts at the
    last input's successor, so no character is skipped as a target.
    """
    for start in range(0, rows.shape[1] - 1, seq_len):
        chunk = rows[:, start:start + seq_len + 1]
        if chunk.shape[1] > 1:
            yield chunk


# ---- evaluation ----

@torch.no_grad()
def stream_nats(model, ids: torch.Tensor, batch_size: int = 32, seq_len: int = 256) -> float:
    """Mean negative log-likelihood (nats per character) of a model over a whole stream.

    The hidden state is carried across chunks, as when the model reads the text in one go.
    Characters cut off by the row layout (fewer than ``batch_size``) are not scored.
    """
    was_training = model.training
    model.eval()
    total, count, h = 0.0, 0, None
    for chunk in tbptt_chunks(stream_rows(ids, batch_size), seq_len):
        logits, h = model(chunk[:, :-1], h)
        total += F.cross_entropy(logits.reshape(-1, logits.shape[-1]), chunk[:, 1:].reshape(-1),
                                 reduction="sum").item()
        count += chunk[:, 1:].numel()
    model.train(was_training)
    return total / count


def bigram_nats(train_ids: torch.Tensor, test_ids: torch.Tensor, vocab_size: int,
                smoothing: float = 1.0) -> float:
    """Test loss (nats per character) of a bigram model counted on ``train_ids``.

    P(next | current) = (count(current, next) + smoothing) / (count(current) + smoothing * V):
    add-one (Laplace) smoothing keeps unseen pairs possible. The baseline a char-RNN must beat.
    """
    counts = torch.full((vocab_size, vocab_size), float(smoothing))
    counts.index_put_((train_ids[:-1], train_ids[1:]), torch.ones(train_ids.numel() - 1), accumulate=True)
    log_probs = (counts / counts.sum(dim=1, keepdim=True)).log()
    return -log_probs[test_ids[:-1], test_ids[1:]].mean().item()


# ---- looking inside ----

@torch.no_grad()
def hidden_states(model, ids: torch.Tensor) -> torch.Tensor:
    """The last layer's hidden state after each character of a 1-D ``ids``, shape ``(T, H)``.

    ``model`` must be laid out as the notebook's ``CharRNN``: a batch-first ``rnn`` (``nn.RNN``,
    ``nn.LSTM`` or ``nn.GRU``) reading one-hot characters, then a linear ``head``.
    """
    x = F.one_hot(ids, model.head.out_features).float().unsqueeze(0)   # (1, T, V)
    out, _ = model.rnn(x)
    return out[0]


def most_correlated_units(states: torch.Tensor, feature: torch.Tensor, k: int = 3) -> list[tuple[int, float]]:
    """The ``k`` hidden units whose activation over time correlates most with ``feature``.

    ``states (T, H)``, ``feature (T,)``. Returns ``[(unit, Pearson r), ...]``, strongest |r| first.
    """
    s = states - states.mean(dim=0)
    f = feature.float() - feature.float().mean()
    r = (s * f[:, None]).sum(dim=0) / (s.norm(dim=0) * f.norm() + 1e-12)
    order = r.abs().argsort(descending=True)[:k]
    return [(int(u), float(r[u])) for u in order]


def coloured_text_html(text: str, values: torch.Tensor, title: str = "") -> str:
    """HTML in which each character's background shows ``values`` in [-1, 1] (tanh units).

    Blue is negative, red positive, white zero: the display of Karpathy et al. (2015). Newlines
    are kept, so the layout of the text is visible.
    """
    spans = []
    for ch, v in zip(text, values.tolist()):
        v = max(-1.0, min(1.0, v))
        fade = int(255 * (1 - abs(v)))
        colour = f"rgb(255,{fade},{fade})" if v > 0 else f"rgb({fade},{fade},255)"
        shown = "⏎<br>" if ch == "\n" else html.escape(ch).replace(" ", "&nbsp;")
        spans.append(f'<span style="background:{colour}">{shown}</span>')
    head = f"<b>{html.escape(title)}</b><br>" if title else ""
    return (f'<div style="font-family:monospace;line-height:1.5;color:black;background:white">'
            f'{head}{"".join(spans)}</div>')


# ---- readable features of Shakespeare text ----

def inside_brackets(text: str) -> torch.Tensor:
    """1.0 for characters inside a ``[stage direction]`` (the brackets included), else 0.0."""
    inside, out = False, []
    for ch in text:
        if ch == "[":
            inside = True
        out.append(1.0 if inside else 0.0)
        if ch == "]":
            inside = False
    return torch.tensor(out)


def position_in_line(text: str) -> torch.Tensor:
    """How many characters precede each character on its line (0 at a line's start)."""
    out, col = [], 0
    for ch in text:
        out.append(float(col))
        col = 0 if ch == "\n" else col + 1
    return torch.tensor(out)


# ---- figures ----

def plot_char_matrix(values: torch.Tensor, row_labels: list[str], col_labels: list[str],
                     title: str = "", marks: list[int] | None = None, ax=None):
    """A ``(T, V)`` matrix (one-hot vectors, or next-character probabilities) as a heatmap.

    Rows are time steps, columns characters; ``marks[t]`` (a column per row) is outlined, e.g.
    the character that should come next.
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(0.6 * len(col_labels) + 1.5, 0.45 * len(row_labels) + 1))
    im = ax.imshow(values, cmap="Blues", vmin=0, vmax=1)
    for t, row in enumerate(values.tolist()):
        for v, p in enumerate(row):
            ax.text(v, t, f"{p:.2f}".rstrip("0").rstrip("."), ha="center", va="center", fontsize=8,
                    color="white" if p > 0.6 else "black")
    for t, v in enumerate(marks or []):
        ax.add_patch(Rectangle((v - 0.5, t - 0.5), 1, 1, fill=False, ec="tab:red", lw=2))
    show = [repr(c)[1:-1] for c in col_labels]
    ax.set_xticks(range(len(col_labels)), show)
    ax.set_yticks(range(len(row_labels)), row_labels)
    if title:
        ax.set_title(title, fontsize=10)
    ax.figure.colorbar(im, ax=ax, fraction=0.04)
    return ax
