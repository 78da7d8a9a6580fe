"""Figures for deep and bidirectional RNNs (notebook 05): the stacked bidirectional network
unrolled in time, and which row of ``h_n`` holds which layer and direction."""
import matplotlib.pyplot as plt
from matplotlib.lines import Line2D
from matplotlib.patches import FancyArrowPatch, Patch, Rectangle

FORWARD, BACKWARD, INPUT = "#fdd0a2", "#c6dbef", "#e5e5e5"


def _arrow(ax, start, end, color="black"):
    ax.add_patch(FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=9, color=color, lw=1))


def draw_stacked_bidirectional(num_layers: int = 2, steps: int = 4, ax=None):
    """A bidirectional RNN with ``num_layers`` layers unrolled over ``steps`` steps.

    Each layer's state at step t is drawn as one box split in two: the forward half (orange,
    recurrence to the right) and the backward half (blue, recurrence to the left). Both halves
    read the whole box below (the input, or the concatenated state of the layer below), and the
    whole box, [forward; backward], is what the next layer and the output read.
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(2.8 * steps + 1, 2.2 + 1.7 * num_layers))
    gap, rise = 1.5, 1.1                       # between time steps, between layers
    for t in range(steps):
        x = gap * t
        ax.add_patch(Rectangle((x - 0.5, -0.2), 1.0, 0.4, fc=INPUT, ec="black", lw=1))
        ax.text(x, 0, f"$x_{t + 1}$", ha="center", va="center", fontsize=12)
        for layer in range(num_layers):
            y = rise * (layer + 1)
            for dx, color, arrow in ((-0.25, FORWARD, "\\overrightarrow"), (0.25, BACKWARD, "\\overleftarrow")):
                ax.add_patch(Rectangle((x + dx - 0.25, y - 0.2), 0.5, 0.4, fc=color, ec="black", lw=1))
                ax.text(x + dx, y, f"${arrow}{{h}}^{{({layer + 1})}}_{t + 1}$", ha="center",
                        va="center", fontsize=11)
            _arrow(ax, (x, y - rise + 0.2), (x, y - 0.2), "grey")             # the whole box below
            if t:
                _arrow(ax, (x - gap + 0.5, y - 0.1), (x - 0.5, y - 0.1), "tab:orange")
                _arrow(ax, (x - 0.5, y + 0.1), (x - gap + 0.5, y + 0.1), "tab:blue")
        top = rise * num_layers + 0.2
        _arrow(ax, (x, top), (x, top + 0.4))
        ax.text(x, top + 0.5, f"$y_{t + 1}$", ha="center", va="bottom", fontsize=12)
    ax.set_xlim(-0.7, gap * (steps - 1) + 0.7)
    ax.set_ylim(-0.35, rise * num_layers + 1.0)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.legend(handles=[Patch(fc=FORWARD, ec="black", label="forward half (reads left to right)"),
                       Patch(fc=BACKWARD, ec="black", label="backward half (reads right to left)"),
                       Patch(fc=INPUT, ec="black", label="input"),
                       Line2D([], [], color="grey", marker=">", label="reads the whole box below")],
              loc="upper center", bbox_to_anchor=(0.5, 0.0), ncol=2, fontsize=11, frameon=False)
    ax.set_title(f"{num_layers}-layer bidirectional RNN: each box is $[\\overrightarrow{{h}}_t ; "
                 "\\overleftarrow{h}_t]$, and $y_t$ is the top layer's box", fontsize=12)
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
