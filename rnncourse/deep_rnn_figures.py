"""Figures for deep and bidirectional RNNs (notebook 05): the stacked bidirectional network
unrolled in time, and which row of ``h_n`` holds which layer and direction."""
import matplotlib.pyplot as plt
from matplotlib.patches import FancyArrowPatch, Patch, Rectangle

FORWARD, BACKWARD, INPUT = "#fdd0a2", "#c6dbef", "#e5e5e5"


def _cell(ax, x, y, color, text=""):
    ax.add_patch(Rectangle((x - 0.4, y - 0.2), 0.8, 0.4, fc=color, ec="black", lw=1))
    if text:
        ax.text(x, y, text, ha="center", va="center", fontsize=11)


def _arrow(ax, start, end, color="black"):
    ax.add_patch(FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=9, color=color, lw=1))


def draw_stacked_bidirectional(num_layers: int = 2, steps: int = 4, ax=None):
    """A bidirectional RNN with ``num_layers`` layers unrolled over ``steps`` steps.

    Each layer has a forward row (orange, arrows to the right) and a backward row (blue, arrows to
    the left); both read the whole output of the layer below, and their states are concatenated.
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(3.5 * steps + 1.5, 3.4 + 2.9 * num_layers))
    for t in range(steps):
        x = 1.5 * t
        _cell(ax, x, 0, INPUT, f"$x_{t + 1}$")
        for layer in range(num_layers):
            yf, yb = 1 + 1.3 * layer, 1.5 + 1.3 * layer
            _cell(ax, x, yf, FORWARD, f"$\\overrightarrow{{h}}^{{({layer + 1})}}_{t + 1}$")
            _cell(ax, x, yb, BACKWARD, f"$\\overleftarrow{{h}}^{{({layer + 1})}}_{t + 1}$")
            below = 0.2 if layer == 0 else yb - 1.3 + 0.2
            _arrow(ax, (x - 0.2, below), (x - 0.2, yf - 0.2), "grey")
            _arrow(ax, (x + 0.45, below), (x + 0.45, yb), "grey")
            _arrow(ax, (x + 0.45, yb), (x + 0.4, yb), "grey")
            if t:
                _arrow(ax, (x - 1.1, yf), (x - 0.4, yf), "tab:orange")
                _arrow(ax, (x - 0.4, yb), (x - 1.1, yb), "tab:blue")
        _arrow(ax, (x, 1.7 + 1.3 * (num_layers - 1)), (x, 2.1 + 1.3 * (num_layers - 1)))
        ax.text(x, 2.3 + 1.3 * (num_layers - 1), f"$y_{t + 1}$", ha="center", fontsize=12)
    ax.set_xlim(-0.7, 1.5 * (steps - 1) + 0.9)
    ax.set_ylim(-0.4, 2.6 + 1.3 * (num_layers - 1))
    ax.set_aspect("equal")
    ax.axis("off")
    ax.legend(handles=[Patch(fc=FORWARD, ec="black", label="forward direction (reads left to right)"),
                       Patch(fc=BACKWARD, ec="black", label="backward direction (reads right to left)"),
                       Patch(fc=INPUT, ec="black", label="input")],
              loc="upper center", bbox_to_anchor=(0.5, 0.0), ncol=3, fontsize=11, frameon=False)
    ax.set_title(f"{num_layers}-layer bidirectional RNN: $y_t = [\\overrightarrow{{h}}_t ; "
                 "\\overleftarrow{h}_t]$ of the top layer", fontsize=12)
    return ax


def draw_h_n_layout(num_layers: int = 2, bidirectional: bool = True, ax=None):
    """The rows of ``h_n`` (num_layers * num_directions, B, H), labelled with layer and direction."""
    dirs = 2 if bidirectional else 1
    if ax is None:
        _, ax = plt.subplots(figsize=(6.5, 0.5 * num_layers * dirs + 0.8))
    rows = num_layers * dirs
    for i in range(rows):
        layer, d = divmod(i, dirs)
        y = rows - 1 - i
        color = BACKWARD if d else FORWARD
        ax.add_patch(Rectangle((0, y), 3.8, 0.9, fc=color, ec="black"))
        last = "  (last layer)" if layer == num_layers - 1 else ""
        ax.text(1.9, y + 0.45, f"h_n[{i}]: layer {layer}, {'backward' if d else 'forward'}{last}",
                ha="center", va="center", fontsize=9)
    ax.text(4.0, rows / 2, f"h_n.view({num_layers}, {dirs}, B, H)[-1]\n= the last layer's "
            f"{'two directions' if dirs == 2 else 'state'}", va="center", fontsize=9)
    ax.set_xlim(0, 7)
    ax.set_ylim(-0.1, rows)
    ax.axis("off")
    ax.set_title("Rows of h_n: layer by layer, directions interleaved", fontsize=10)
    return ax
