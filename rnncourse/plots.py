"""Plots the notebooks share, so each figure looks the same across the course."""
import matplotlib.pyplot as plt


def plot_curves(curves: dict[str, list[float]], xlabel: str, ylabel: str, title: str = "",
                logy: bool = False, ax=None):
    """One line per named curve (e.g. training and validation loss) on shared axes."""
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3.5))
    for name, ys in curves.items():
        ax.plot(range(len(ys)), ys, label=name)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if logy:
        ax.set_yscale("log")
    if title:
        ax.set_title(title)
    ax.legend()
    ax.grid(alpha=0.3)
    return ax
