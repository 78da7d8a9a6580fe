"""A small labelled task for notebook 06's transfer-learning demo: is this word a name?

The labels come from the text's capital letters (which the lower-cased word vectors never saw);
the classifier averages its input's word vectors and applies one linear layer, so the embedding
does nearly all the work.
"""
import re
from collections import Counter

import torch
from torch import nn
from tqdm.auto import tqdm



def proper_noun_labels(text: str, min_uses: int = 3) -> dict[str, int]:
    """{word: 1 if a proper noun, 0 if not}, read from capital letters inside lines.

    Verse capitalises every line's first word, so only the other words count: a word written
    with a capital at least 90% of the time there is a name (Hamlet, Denmark, Rome), one written
    with a capital at most 10% of the time is not. Words used fewer than ``min_uses`` times
    inside lines, one-letter words, contractions of "I" (I'll, I'd), roman numerals (scene
    numbers) and all-capital headings are left out.
    """
    capital, uses = Counter(), Counter()
    for row in text.splitlines():
        if row.isupper():
            continue
        for match in list(re.finditer(r"[A-Za-z]+(?:'[A-Za-z]+)*", row))[1:]:
            word = match.group().lower()
            uses[word] += 1
            capital[word] += match.group()[0].isupper()
    labels = {}
    for word, n in uses.items():
        if n >= min_uses and len(word) > 1 and not re.fullmatch(r"i'.*|[ivxlc]+", word):
            share = capital[word] / n
            if share >= 0.9 or share <= 0.1:
                labels[word] = int(share >= 0.9)
    return labels


def few_shot_split(labels: list[int], per_class: int, test_per_class: int, seed: int = 0):
    """Indices of ``per_class`` training and ``test_per_class`` test lines of every class."""
    g = torch.Generator().manual_seed(seed)
    labels_t = torch.tensor(labels)
    train, test = [], []
    for c in labels_t.unique().tolist():
        idx = (labels_t == c).nonzero().squeeze(1)
        idx = idx[torch.randperm(len(idx), generator=g)]
        train += idx[:per_class].tolist()
        test += idx[per_class:per_class + test_per_class].tolist()
    return train, test


class BagOfEmbeddings(nn.Module):
    """Mean of a line's word vectors (padding excluded), then one linear layer."""

    def __init__(self, embedding: nn.Embedding, num_classes: int):
        super().__init__()
        self.embedding = embedding
        self.head = nn.Linear(embedding.embedding_dim, num_classes)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        mask = (ids != self.embedding.padding_idx).float().unsqueeze(-1)
        mean = (self.embedding(ids) * mask).sum(1) / mask.sum(1).clamp(min=1)
        return self.head(mean)


def train_and_test(model: nn.Module, train_x, train_y, test_x, test_y, steps: int,
                   lr: float = 0.01, desc: str = "classifier") -> float:
    """Full-batch Adam for ``steps`` steps; returns the test accuracy."""
    opt = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=lr)
    for _ in tqdm(range(steps), desc=desc):
        loss = nn.functional.cross_entropy(model(train_x), train_y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    with torch.no_grad():
        return (model(test_x).argmax(1) == test_y).float().mean().item()
