"""Word segmentation as character tagging (notebook 05): text with its spaces removed, and at
every character a tag saying whether a word ends there.

"tobeornottobe" -> tags 0 1 0 1 0 1 0 0 1 0 1 0 1: the tag of a character often depends on the
characters *after* it ("to" ends a word in "tobe" but not in "tomorrow"), which is what a
bidirectional tagger can see and a left-to-right one cannot.
"""
import torch

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
