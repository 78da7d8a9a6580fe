"""Diagrams drawn with matplotlib (no image files): the unrolled RNN and the RNN types."""
import matplotlib.pyplot as plt
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

_COLORS = {"x": "#c6dbef", "h": "#fdd0a2", "y": "#c7e9c0"}


def _box(ax, x, y, text, kind, w=0.7, h=0.5):
    ax.add_patch(FancyBboxPatch((x - w / 2, y - h / 2), w, h, boxstyle="round,pad=0.05",
                                fc=_COLORS[kind], ec="black", lw=1))
    ax.text(x, y, text, ha="center", va="center", fontsize=12)


def _arrow(ax, start, end, color="black", label=None):
    ax.add_patch(FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=12, color=color, lw=1.2))
    if label:
        vertical = start[0] == end[0]
        x = start[0] + 0.3 if vertical else (start[0] + end[0]) / 2
        y = (start[1] + end[1]) / 2 + (0 if vertical else 0.12)
        ax.text(x, y, label, ha="center", va="center", fontsize=11, color=color)


def draw_unrolled_rnn(steps: int = 4, ax=None):
    """One cell (left) and the same cell unrolled over ``steps`` time steps (right).

    The same weights (W_xh, W_hh, W_hy) are used at every step: parameter sharing.
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(4 + 2.3 * steps, 5))
    _box(ax, 0, 0, "$x_t$", "x")
    _box(ax, 0, 1.2, "$h_t$", "h")
    _box(ax, 0, 2.4, "$y_t$", "y")
    _arrow(ax, (0, 0.3), (0, 0.9), label="")
    _arrow(ax, (0, 1.5), (0, 2.1))
    ax.add_patch(FancyArrowPatch((0.4, 1.3), (0.4, 1.1), connectionstyle="arc3,rad=-2.5",
                                 arrowstyle="-|>", mutation_scale=12, lw=1.2, color="tab:red"))
    ax.text(0.95, 1.2, "$W_{hh}$", color="tab:red", fontsize=11, va="center")
    ax.text(1.75, 1.2, "=", fontsize=18, va="center", ha="center")
    for t in range(steps):
        cx = 2.9 + 1.6 * t
        _box(ax, cx, 0, f"$x_{t + 1}$", "x")
        _box(ax, cx, 1.2, f"$h_{t + 1}$", "h")
        _box(ax, cx, 2.4, f"$y_{t + 1}$", "y")
        _arrow(ax, (cx, 0.3), (cx, 0.9), label="$W_{xh}$" if t == 0 else None)
        _arrow(ax, (cx, 1.5), (cx, 2.1), label="$W_{hy}$" if t == 0 else None)
        _arrow(ax, (cx - 1.6 + 0.4 if t else cx - 0.8, 1.2), (cx - 0.4, 1.2), color="tab:red",
               label="$W_{hh}$" if t else "$h_0$")
    ax.set_xlim(-0.7, 2.9 + 1.6 * steps - 0.8)
    ax.set_ylim(-0.5, 2.9)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title("An RNN cell and the same cell unrolled in time (one set of weights)")
    return ax


# (inputs at steps, outputs at steps) for each type, on a 5-step grid
_TYPES = {
    "one-to-one\n(image classification)": ([0], [0]),
    "one-to-many\n(image captioning, music)": ([0], [0, 1, 2, 3]),
    "many-to-one\n(sentiment)": ([0, 1, 2, 3], [3]),
    "many-to-many, delayed\n(translation)": ([0, 1, 2], [3, 4, 5]),
    "many-to-many, synchronous\n(POS tagging, video frames)": ([0, 1, 2, 3], [0, 1, 2, 3]),
}


def draw_rnn_types(axes=None):
    """The five input/output patterns of RNNs, each with an example task, and a colour key."""
    if axes is None:
        _, grid = plt.subplots(2, 3, figsize=(13, 6))
        axes = grid.flatten()
    for ax, (title, (ins, outs)) in zip(axes, _TYPES.items()):
        steps = max(ins + outs) + 1
        for t in range(steps):
            _box(ax, t, 1, "", "h", w=0.5, h=0.4)
            if t:
                _arrow(ax, (t - 0.75, 1), (t - 0.25, 1), color="tab:red")
            if t in ins:
                _box(ax, t, 0, "", "x", w=0.5, h=0.4)
                _arrow(ax, (t, 0.2), (t, 0.8))
            if t in outs:
                _box(ax, t, 2, "", "y", w=0.5, h=0.4)
                _arrow(ax, (t, 1.2), (t, 1.8))
        ax.set_xlim(-0.6, 5.6)
        ax.set_ylim(-0.4, 2.4)
        ax.set_aspect("equal")
        ax.axis("off")
        ax.set_title(title, fontsize=11)
    if len(axes) > len(_TYPES):                 # the spare panel holds the key
        key = axes[len(_TYPES)]
        for row, (kind, what) in enumerate((("y", "output $y_t$"), ("h", "hidden state $h_t$"),
                                             ("x", "input $x_t$"))):
            _box(key, 0.5, 2 - row, "", kind, w=0.5, h=0.4)
            key.text(1.1, 2 - row, what, va="center", fontsize=11)
        _arrow(key, (0.25, -0.9), (0.75, -0.9), color="tab:red")
        key.text(1.1, -0.9, "state carried to the next step", va="center", fontsize=11)
        key.set_xlim(-0.2, 5.6)
        key.set_ylim(-1.4, 2.4)
        key.set_aspect("equal")
        key.axis("off")
        key.set_title("key", fontsize=11)
    return axes
