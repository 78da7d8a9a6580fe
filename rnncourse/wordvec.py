"""Word-vector plumbing for notebook 06: a word tokenizer, the skip-gram training loop, a 2-D map.

The loop takes the loss function as an argument (the notebook passes the student's
``negative_sampling_loss``), so nothing here computes an exercise's answer.
"""
import re

import matplotlib.pyplot as plt
from matplotlib.transforms import Bbox
import torch
from tqdm.auto import tqdm

WORD = re.compile(r"[a-z]+(?:'[a-z]+)*")


def words(text: str) -> list[str]:
    """Lower-cased words; an apostrophe inside a word keeps it whole (``o'er``, ``'tis`` -> ``tis``)."""
    return WORD.findall(text.lower())


def noise_distribution(counts: torch.Tensor, power: float = 0.75) -> torch.Tensor:
    """word2vec's noise distribution: unigram counts raised to 3/4, normalised (shape (V,))."""
    weights = counts.double() ** power
    return (weights / weights.sum()).float()


def counts_of(ids: torch.Tensor, vocab_size: int) -> torch.Tensor:
    return torch.bincount(ids, minlength=vocab_size)


def train_skipgram(loss_fn, centers, contexts, noise, dim: int, steps: int, batch_size: int = 1024,
                   negatives: int = 5, lr: float = 0.01, seed: int = 0):
    """Train word2vec's two tables with ``loss_fn`` for a fixed number of steps.

    ``loss_fn(in_vectors, out_vectors, centers, contexts, noise, k, generator)`` is the negative
    sampling loss. The input vectors start small and random, the output vectors at zero (as in
    word2vec). Returns ``(in_vectors, losses)``; the input vectors are the word vectors.
    """
    V = noise.shape[0]
    g = torch.Generator().manual_seed(seed)
    in_vectors = ((torch.rand(V, dim, generator=g) - 0.5) / dim).requires_grad_(True)
    out_vectors = torch.zeros(V, dim, requires_grad=True)
    opt = torch.optim.Adam([in_vectors, out_vectors], lr=lr)
    losses = []
    for _ in tqdm(range(steps), desc="skip-gram"):
        batch = torch.randint(len(centers), (batch_size,), generator=g)
        loss = loss_fn(in_vectors, out_vectors, centers[batch], contexts[batch], noise, negatives, g)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return in_vectors.detach(), losses


# beside a point: right-up first, then the other corners, then above and below
_LABEL_SPOTS = ((4, 3, "left", "bottom"), (4, -3, "left", "top"), (-4, 3, "right", "bottom"),
                (-4, -3, "right", "top"), (0, 7, "center", "bottom"), (0, -7, "center", "top"))


def _label_points(ax, points, labels, colours):
    """Write each label beside its point, at the first spot where it overlaps no earlier label
    and no other point."""
    ax.figure.canvas.draw()                                  # settles the limits; gives a renderer
    renderer, placed = ax.figure.canvas.get_renderer(), []
    dots = [Bbox.from_bounds(*(ax.transData.transform((x, y)) - 3), 6, 6) for x, y in points]
    for k, ((x, y), label, colour) in enumerate(zip(points, labels, colours)):
        others = placed + dots[:k] + dots[k + 1:]
        for dx, dy, ha, va in _LABEL_SPOTS:
            text = ax.annotate(label, (x, y), xytext=(dx, dy), textcoords="offset points", ha=ha,
                               va=va, fontsize=10, color=colour)
            box = text.get_window_extent(renderer).expanded(1.05, 1.15)
            if not any(box.overlaps(other) for other in others):
                break
            if (dx, dy, ha, va) != _LABEL_SPOTS[-1]:
                text.remove()                               # crowded everywhere: keep the last spot
        placed.append(box)


def plot_word_map(vectors: torch.Tensor, labels: list[str], groups: list[int] | None = None,
                  title: str = "", ax=None):
    """The vectors' first two principal components, one labelled dot per word."""
    centred = vectors - vectors.mean(dim=0)
    _, _, V = torch.linalg.svd(centred, full_matrices=False)
    xy = centred @ V[:2].T
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 5.5))
    palette = plt.cm.tab10.colors
    colours = [palette[(groups[i] if groups else 0) % len(palette)] for i in range(len(labels))]
    ax.scatter(xy[:, 0], xy[:, 1], color=colours, s=25)
    _label_points(ax, xy.tolist(), labels, colours)
    ax.set_xlabel("principal component 1")
    ax.set_ylabel("principal component 2")
    if title:
        ax.set_title(title)
    ax.grid(alpha=0.3)
    return ax
