"""Diagrams of gated recurrent cells, drawn with matplotlib (no image files)."""
import matplotlib.pyplot as plt
from matplotlib.patches import Circle, FancyArrowPatch, FancyBboxPatch

_GATE = {"σ": "#fdd0a2", "tanh": "#c7e9c0"}


def _arrow(ax, points, color="black", lw=1.4):
    """A polyline through ``points`` with an arrow head on the last segment."""
    for start, end in zip(points[:-2], points[1:-1]):
        ax.plot([start[0], end[0]], [start[1], end[1]], color=color, lw=lw)
    ax.add_patch(FancyArrowPatch(points[-2], points[-1], arrowstyle="-|>", mutation_scale=12,
                                 color=color, lw=lw, shrinkB=9))


def _gate(ax, x, y, kind, label):
    ax.add_patch(FancyBboxPatch((x - 0.32, y - 0.22), 0.64, 0.44, boxstyle="round,pad=0.04",
                                fc=_GATE[kind], ec="black"))
    ax.text(x, y, kind, ha="center", va="center", fontsize=10)
    ax.text(x + 0.08, y + 0.45, label, ha="left", va="center", fontsize=11, color="tab:blue")


def _op(ax, x, y, symbol):
    ax.add_patch(Circle((x, y), 0.2, fc="white", ec="black", zorder=3))
    ax.text(x, y, symbol, ha="center", va="center", fontsize=12, zorder=4)


def draw_lstm_cell(ax=None):
    """One LSTM step: four gates read $[h_{t-1}, x_t]$; the cell state runs along the top.

    The top line is the additive path c_{t-1} -> (× f_t) -> (+ i_t ⊙ g_t) -> c_t that carries
    gradients across time (the constant error carousel); h_t = o_t ⊙ tanh(c_t) leaves at the
    right.
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(8.5, 4.2))
    top, gates_y, bus = 3.2, 1.5, 0.5
    xs = {"f": 2.0, "i": 3.0, "g": 4.0, "o": 5.0}
    # the cell-state highway
    _arrow(ax, [(0.2, top), (1.8, top)], color="tab:red", lw=2.2)
    _op(ax, 2.0, top, "×")
    _arrow(ax, [(2.2, top), (3.3, top)], color="tab:red", lw=2.2)
    _op(ax, 3.5, top, "+")
    _arrow(ax, [(3.7, top), (7.6, top)], color="tab:red", lw=2.2)
    ax.text(0.1, top + 0.3, "$c_{t-1}$", fontsize=12, color="tab:red")
    ax.text(7.3, top + 0.3, "$c_t$", fontsize=12, color="tab:red")
    # inputs: [h_{t-1}, x_t] on a bus feeding every gate
    ax.text(0.0, bus, "$h_{t-1}$", fontsize=12, va="center")
    ax.text(0.9, -0.55, "$x_t$", fontsize=12)
    ax.plot([0.6, xs["o"]], [bus, bus], color="black", lw=1.4)
    ax.plot([1.0, 1.0], [-0.3, bus], color="black", lw=1.4)
    for name, kind in (("f", "σ"), ("i", "σ"), ("g", "tanh"), ("o", "σ")):
        _arrow(ax, [(xs[name], bus), (xs[name], gates_y - 0.2)])
        _gate(ax, xs[name], gates_y, kind, f"${name}_t$")
    # f scales the old memory; i ⊙ g is added
    _arrow(ax, [(xs["f"], gates_y + 0.25), (xs["f"], top - 0.05)])
    _op(ax, 3.5, 2.4, "×")
    _arrow(ax, [(xs["i"], gates_y + 0.25), (xs["i"], 2.4), (3.35, 2.4)])
    _arrow(ax, [(xs["g"], gates_y + 0.25), (xs["g"], 2.4), (3.65, 2.4)])
    _arrow(ax, [(3.5, 2.6), (3.5, top - 0.05)])
    # h_t = o ⊙ tanh(c_t)
    ax.add_patch(FancyBboxPatch((5.9 - 0.32, 2.4 - 0.2), 0.64, 0.4, boxstyle="round,pad=0.04",
                                fc=_GATE["tanh"], ec="black"))
    ax.text(5.9, 2.4, "tanh", ha="center", va="center", fontsize=10)
    _arrow(ax, [(5.9, top), (5.9, 2.62)])
    _op(ax, 5.9, gates_y, "×")
    _arrow(ax, [(5.9, 2.18), (5.9, gates_y + 0.05)])
    _arrow(ax, [(xs["o"] + 0.35, gates_y), (5.72, gates_y)])
    _arrow(ax, [(6.1, gates_y), (7.6, gates_y)])
    ax.text(7.3, gates_y + 0.25, "$h_t$", fontsize=12)
    ax.text(4.6, top + 0.35, "cell state: long-term memory (additive path)", fontsize=9,
            color="tab:red", ha="center")
    ax.text(6.9, gates_y - 0.5, "hidden state:\nfiltered view", fontsize=9, ha="center")
    ax.set_xlim(-0.1, 8.0)
    ax.set_ylim(-0.8, 3.9)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title("One LSTM step: four gates read $[h_{t-1}, x_t]$; "
                 "the cell state runs along the top")
    return ax
