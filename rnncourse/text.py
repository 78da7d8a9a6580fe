"""Character-level text helpers for notebook 03: a bigram baseline, and colouring text by a
hidden unit's activation (Karpathy, Johnson & Fei-Fei, "Visualizing and Understanding Recurrent
Networks", 2015). Training and evaluation are in ``rnncourse.charlm``.

Everything takes integer ids (``torch.long``) and models as arguments.
"""
import html

import matplotlib.pyplot as plt
import torch
import torch.nn.functional as F
from matplotlib.patches import Rectangle


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


def _background(v: float) -> str:
    """Blue for -1, white for 0, red for +1, never so dark that black text becomes hard to read."""
    v = max(-1.0, min(1.0, v))
    fade = int(255 - 150 * abs(v))
    return f"rgb(255,{fade},{fade})" if v > 0 else f"rgb({fade},{fade},255)"


def colour_legend_html() -> str:
    """The key to :func:`coloured_text_html`'s colours, as a row of labelled swatches."""
    swatches = "".join(f'<span style="background:{_background(v)};padding:0 0.6em">{v:+.1f}</span>'
                       for v in (-1.0, -0.5, 0.0, 0.5, 1.0))
    return (f'<div style="font-family:monospace;color:black;background:white">unit activation: '
            f'{swatches} (blue: negative, red: positive)</div>')


def coloured_text_html(text: str, values: torch.Tensor, title: str = "") -> str:
    """HTML in which each character's background shows ``values`` in [-1, 1] (tanh units).

    Blue is negative, red positive, white zero: the display of Karpathy et al. (2015). Newlines
    are kept, so the layout of the text is visible.
    """
    spans = []
    for ch, v in zip(text, values.tolist()):
        shown = "⏎<br>" if ch == "\n" else html.escape(ch).replace(" ", "&nbsp;")
        spans.append(f'<span style="background:{_background(v)}">{shown}</span>')
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
