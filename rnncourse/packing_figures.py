"""Figures for notebook 07: a batch of sentences as a padded grid, the same batch sorted by length
with the number of sequences still running at each step (``batch_sizes``), and the packed data.

The helpers draw what they are given (the order and batch sizes come from PyTorch's own
``pack_padded_sequence`` in the notebook); they compute none of it.
"""
import matplotlib.pyplot as plt
from matplotlib.patches import Rectangle

COLOURS = ("#fdd0a2", "#c6dbef", "#c7e9c0", "#dadaeb", "#fcbba1", "#d9d9d9")
PAD_COLOUR = "#f0f0f0"


def _box(ax, x, y, text, colour, pad=False):
    ax.add_patch(Rectangle((x, y), 0.95, 0.8, fc=colour, ec="grey" if pad else "black", lw=1,
                           ls="--" if pad else "-"))
    ax.text(x + 0.475, y + 0.4, text, ha="center", va="center", fontsize=10,
            color="grey" if pad else "black")


def _grid(ax, rows, labels, colours, title, pad):
    steps = max(len(r) for r in rows)
    for b, (words, label, colour) in enumerate(zip(rows, labels, colours)):
        y = len(rows) - 1 - b
        ax.text(-0.15, y + 0.4, label, ha="right", va="center", fontsize=9)
        for t in range(steps):
            if t < len(words):
                _box(ax, t, y, words[t], colour)
            else:
                _box(ax, t, y, pad, PAD_COLOUR, pad=True)
    for t in range(steps):
        ax.text(t + 0.475, len(rows) + 0.05, f"t={t}", ha="center", fontsize=9)
    ax.set_xlim(-1.1, steps + 0.1)
    ax.set_ylim(-0.9, len(rows) + 0.5)
    ax.set_title(title, fontsize=11)
    ax.axis("off")


def draw_padded_and_packed(sentences: list[list[str]], sorted_indices: list[int],
                           batch_sizes: list[int], pad: str = "<pad>"):
    """Three panels: the padded batch as given; sorted by length with ``batch_sizes`` under each
    step (pads greyed: a packed RNN skips them); the packed data, step after step."""
    fig = plt.figure(figsize=(11, 6.2))
    top_left, top_right = fig.add_subplot(2, 2, 1), fig.add_subplot(2, 2, 2)
    bottom = fig.add_subplot(2, 1, 2)
    colours = [COLOURS[b % len(COLOURS)] for b in range(len(sentences))]
    _grid(top_left, sentences, [f"seq {b}" for b in range(len(sentences))], colours,
          "1. padded batch (B, T): every row runs T steps", pad)
    ordered = [sentences[i] for i in sorted_indices]
    _grid(top_right, ordered, [f"seq {i}" for i in sorted_indices], [colours[i] for i in sorted_indices],
          "2. sorted by length: at step t only the first rows run", pad)
    for t, n in enumerate(batch_sizes):
        top_right.text(t + 0.475, -0.55, f"batch_sizes[{t}]\n= {n}", ha="center", va="center",
                       fontsize=9, color="tab:red")
        top_right.plot([t, t + 0.95], [len(ordered) - n - 0.05] * 2, color="tab:red", lw=2)
    x = 0.0
    for t, n in enumerate(batch_sizes):
        for k in range(n):
            b = sorted_indices[k]
            _box(bottom, x + k, 0, sentences[b][t], colours[b])
        bottom.annotate("", xy=(x - 0.02, 1.05), xytext=(x + n - 0.03, 1.05),
                        arrowprops=dict(arrowstyle="|-|", color="tab:red", lw=1.2))
        bottom.text(x + n / 2 - 0.03, 1.25, f"step t={t}: {n} sequence{'s' if n > 1 else ''}",
                    ha="center", fontsize=9, color="tab:red")
        x += n + 0.3
    bottom.text(x / 2, -0.45, "PackedSequence.data: no pads; each step's slice feeds one RNN step "
                "of batch_sizes[t] rows", ha="center", fontsize=10)
    bottom.set_xlim(-0.3, x)
    bottom.set_ylim(-0.8, 1.7)
    bottom.set_title("3. packed: the steps laid end to end", fontsize=11)
    bottom.axis("off")
    fig.tight_layout()
    return fig
