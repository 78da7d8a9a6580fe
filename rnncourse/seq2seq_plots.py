"""Figures of notebook 08: training curves per teacher-forcing ratio, and an attention heat map."""
import matplotlib.pyplot as plt
import numpy as np


def smooth(values, window: int = 25):
    """Moving average over ``window`` steps (shorter at the start), for a readable loss curve."""
    values = np.asarray(values, dtype=float)
    sums = np.cumsum(np.insert(values, 0, 0.0))
    lo = np.maximum(np.arange(1, len(values) + 1) - window, 0)
    return (sums[1:] - sums[lo]) / (np.arange(1, len(values) + 1) - lo)


def plot_runs(histories: dict, title: str):
    """Training loss (left, smoothed) and free-running validation accuracy (right), one line per run."""
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(10, 3.6))
    for label, h in histories.items():
        line, = ax_loss.plot(smooth(h.loss), label=label)
        ax_acc.plot(h.eval_steps, h.accuracy, marker="o", color=line.get_color(), label=label)
    ax_loss.set_yscale("log")
    ax_loss.set_xlabel("training step")
    ax_loss.set_ylabel("cross-entropy (moving average)")
    ax_loss.set_title("training loss")
    ax_acc.set_xlabel("training step")
    ax_acc.set_ylabel("sequence accuracy")
    ax_acc.set_ylim(-0.02, 1.02)
    ax_acc.set_title("free-running (greedy) validation accuracy")
    for ax in (ax_loss, ax_acc):
        ax.grid(alpha=0.3)
        ax.legend()
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_attention(weights, source: str, output: str):
    """Heat map of attention weights ``(T_out, S)``: which input character each output looked at."""
    weights = np.asarray(weights)
    fig, ax = plt.subplots(figsize=(0.32 * len(source) + 1.8, 0.32 * len(output) + 1.4))
    image = ax.imshow(weights, cmap="viridis", vmin=0, vmax=1, aspect="auto")
    ax.set_xticks(range(len(source)), [repr(c)[1:-1] if c != " " else "␣" for c in source])
    ax.set_yticks(range(len(output)), list(output))
    ax.set_xlabel("input character (encoder step)")
    ax.set_ylabel("output character")
    fig.colorbar(image, ax=ax, label="attention weight")
    fig.tight_layout()
    return fig
