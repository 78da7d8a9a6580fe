"""Word segmentation as character tagging (notebook 05): text with its spaces removed, and at
every character a tag saying whether a word ends there.

"tobeornottobe" -> tags 0 1 0 1 0 1 0 0 1 0 1 0 1: the tag of a character often depends on the
characters *after* it ("to" ends a word in "tobe" but not in "tomorrow"), which is what a
bidirectional tagger can see and a left-to-right one cannot.
"""
import math

import torch
import torch.nn.functional as F

from rnncourse.train import steps

UNK = "\x00"  # id 0: characters never seen in training


class CharVocab:
    """Characters <-> ids, built from training text; id 0 stands for an unseen character."""

    def __init__(self, text: str):
        self.itos = [UNK] + sorted(set(text) - {UNK} - set(" \t\r\n"))
        self.stoi = {ch: i for i, ch in enumerate(self.itos)}

    def __len__(self) -> int:
        return len(self.itos)

    def encode(self, chars: str) -> torch.Tensor:
        return torch.tensor([self.stoi.get(ch, 0) for ch in chars], dtype=torch.long)

    def decode(self, ids) -> str:
        return "".join(self.itos[int(i)] for i in ids)


def segmentation_tags(text: str) -> tuple[str, torch.Tensor]:
    """The text with all whitespace removed, and a tag per remaining character (1 = word end).

    Words are what ``str.split()`` finds, so punctuation stays attached ("Citizen:" is one word).
    """
    words = text.split()
    tags = torch.zeros(sum(len(w) for w in words), dtype=torch.long)
    ends = torch.tensor([len(w) for w in words], dtype=torch.long).cumsum(0) - 1
    tags[ends] = 1
    return "".join(words), tags


def random_windows(ids: torch.Tensor, tags: torch.Tensor, batch: int, length: int,
                   generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """A training batch: ``batch`` windows of ``length`` characters at random offsets, (B, T) each."""
    starts = torch.randint(0, len(ids) - length, (batch,), generator=generator)
    index = starts[:, None] + torch.arange(length)            # (B, T)
    return ids[index], tags[index]


def tiled_windows(ids: torch.Tensor, tags: torch.Tensor, length: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The whole stream cut into consecutive windows of ``length`` (the remainder dropped), (N, T)."""
    n = len(ids) // length * length
    return ids[:n].view(-1, length), tags[:n].view(-1, length)


def insert_spaces(chars: str, tags) -> str:
    """Put a space after every character tagged as a word end: the segmentation made readable."""
    return "".join(ch + (" " if int(t) else "") for ch, t in zip(chars, tags)).rstrip()


TAGGER_STEPS = 800   # notebook 05's full budget for each tagger
LEAK_STEPS = 150     # notebook 05's full budget for each next-character model


def train_tagger(model, ids: torch.Tensor, tags: torch.Tensor, n_steps: int, seed: int = 0,
                 desc: str = "tagger") -> list[float]:
    """Adam (lr 3e-3) on ``n_steps`` batches of 32 random windows of 64 characters; returns the
    training loss averaged over every 10 steps (a readable curve)."""
    gen = torch.Generator().manual_seed(seed)
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    model.train()
    losses = []
    for _ in steps(n_steps, desc=desc):
        x, y = random_windows(ids, tags, batch=32, length=64, generator=gen)
        logits = model(x)
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    model.eval()
    n = len(losses) // 10 * 10
    return torch.tensor(losses[:n]).view(-1, 10).mean(1).tolist() if n else losses


@torch.no_grad()
def evaluate_tagger(model, ids: torch.Tensor, tags: torch.Tensor, length: int = 100) -> dict:
    """Accuracy over all characters, and precision/recall/F1 of the word ends (tag 1)."""
    x, y = tiled_windows(ids, tags, length)
    pred = model(x).argmax(-1)
    tp = ((pred == 1) & (y == 1)).sum().item()
    precision, recall = tp / max(1, (pred == 1).sum().item()), tp / max(1, (y == 1).sum().item())
    return {"accuracy": (pred == y).float().mean().item(), "precision": precision, "recall": recall,
            "F1": 2 * precision * recall / max(1e-9, precision + recall)}


def train_next_char(model, ids: torch.Tensor, n_steps: int, seed: int = 0,
                    desc: str = "next character") -> list[float]:
    """Train a tagger-shaped model to output ``x[t + 1]`` at step ``t`` (a character language
    model) on random windows of ``ids``; returns every step's loss in bits per character."""
    gen = torch.Generator().manual_seed(seed)
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    losses = []
    for _ in steps(n_steps, desc=desc):
        starts = torch.randint(0, len(ids) - 65, (32,), generator=gen)
        window = ids[starts[:, None] + torch.arange(65)]          # (B, T + 1)
        logits = model(window[:, :-1])                            # predict x_{t+1} from the input
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), window[:, 1:].reshape(-1))
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item() / math.log(2))
    return losses
