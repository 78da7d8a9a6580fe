"""Plots the notebooks share, so each figure looks the same across the course."""
import matplotlib.pyplot as plt


def plot_curves(curves: dict[str, list[float]], xlabel: str, ylabel: str, title: str = "",
                logy: bool = False, ax=None, x0: int = 0):
    """One line per named curve (e.g. training and validation loss) on shared axes; point ``i``
    of a curve is drawn at ``x0 + i`` (a running mean at the last step it covers, say)."""
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3.5))
    for name, ys in curves.items():
        ax.plot(range(x0, x0 + len(ys)), ys, label=name)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if logy:
        ax.set_yscale("log")
    if title:
        ax.set_title(title)
    ax.legend()
    ax.grid(alpha=0.3)
    return ax


def use_hangul_font() -> str:
    """Make matplotlib draw Hangul: register NanumGothic and put it first in the sans-serif list.

    The font file ships inside the ``koreanize-matplotlib`` wheel (a pinned dependency; SIL Open
    Font License). Only the file is used: importing that package would also change other
    settings. Returns the font's family name. Any notebook that labels a figure in Korean calls
    this once.
    """
    import importlib.util
    from pathlib import Path

    from matplotlib import font_manager

    spec = importlib.util.find_spec("koreanize_matplotlib")
    path = Path(spec.submodule_search_locations[0]) / "fonts" / "NanumGothic.ttf"
    font_manager.fontManager.addfont(str(path))
    family = font_manager.FontProperties(fname=str(path)).get_name()
    plt.rcParams["font.sans-serif"] = [family, *plt.rcParams["font.sans-serif"]]
    plt.rcParams["axes.unicode_minus"] = False   # NanumGothic has no U+2212 minus sign
    return family
