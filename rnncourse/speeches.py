"""Shakespeare's speeches labelled by play (notebook 07): a many-to-one task whose inputs have
real, very uneven lengths (most speeches are a line, a few run to hundreds of words).

Everything is derived from ``data/shakespeare/train.txt`` (seven plays, see ``data/README.md``):
a speech is a block that starts with a speaker's name ("Ham.", "First Clown.") and runs to the
next blank line; the speaker's name and the stage directions in brackets are removed, since the
name alone would give the play away.
"""
import re
from collections import Counter
from typing import NamedTuple

import torch

# In the order data/build.py writes them; a title line is followed, two lines on, by this one.
PLAYS = ("Hamlet", "King Lear", "Macbeth", "Othello", "Romeo and Juliet", "Julius Caesar", "The Tempest")
BYLINE = "by William Shakespeare"
PAD, UNK = "<pad>", "<unk>"

_SPEAKER = re.compile(r"[A-Z][A-Za-z' ]{0,30}\.")
_STAGE_DIRECTION = re.compile(r"\[[^\]]*\]")
_WORD = re.compile(r"[a-z]+(?:'[a-z]+)*")


class Speech(NamedTuple):
    words: list[str]
    play: int          # index into PLAYS


def words_of(text: str) -> list[str]:
    """Lower-cased words, apostrophes kept inside a word ("o'er", "'tis" -> "tis")."""
    return _WORD.findall(text.lower())


def play_texts(text: str) -> list[str]:
    """The seven plays of ``train.txt``, in ``PLAYS`` order, each from its title line on."""
    lines = text.split("\n")
    starts = [i - 2 for i, line in enumerate(lines) if line == BYLINE]
    if len(starts) != len(PLAYS):
        raise ValueError(f"expected {len(PLAYS)} plays, found {len(starts)} title blocks")
    return ["\n".join(lines[a:b]) for a, b in zip(starts, starts[1:] + [len(lines)])]


def speeches_of(play_text: str) -> list[list[str]]:
    """Every speech of one play as a list of words, in the order they are spoken."""
    speeches = []
    for block in re.split(r"\n\s*\n", play_text):
        lines = block.strip().split("\n")
        if len(lines) < 2 or not _SPEAKER.fullmatch(lines[0]):
            continue                                   # titles, scene headings, stage directions
        words = words_of(_STAGE_DIRECTION.sub(" ", " ".join(lines[1:])))
        if words:
            speeches.append(words)
    return speeches


def split_speeches(text: str, test_fraction: float = 0.15) -> tuple[list[Speech], list[Speech]]:
    """(train, test): the last ``test_fraction`` of every play's speeches is held out.

    Holding out each play's closing scenes, rather than random speeches, keeps a test speech
    away from the replies around it in training.
    """
    train, test = [], []
    for label, play in enumerate(play_texts(text)):
        speeches = speeches_of(play)
        cut = round(len(speeches) * (1 - test_fraction))
        train += [Speech(w, label) for w in speeches[:cut]]
        test += [Speech(w, label) for w in speeches[cut:]]
    return train, test


class WordVocab:
    """Words <-> ids: ``<pad>`` is id 0, ``<unk>`` id 1, then every word seen ``min_count`` times."""

    def __init__(self, speeches: list[Speech], min_count: int = 2):
        counts = Counter(w for s in speeches for w in s.words)
        kept = sorted(w for w, c in counts.items() if c >= min_count)
        self.itos = [PAD, UNK] + kept
        self.stoi = {w: i for i, w in enumerate(self.itos)}
        self.pad_id, self.unk_id = 0, 1

    def __len__(self) -> int:
        return len(self.itos)

    def encode(self, words: list[str], max_len: int | None = None) -> torch.Tensor:
        """Ids of ``words`` (the first ``max_len`` of them), unknown words as ``<unk>``."""
        return torch.tensor([self.stoi.get(w, self.unk_id) for w in words[:max_len]], dtype=torch.long)


def majority_baseline(train: list[Speech], test: list[Speech]) -> tuple[str, float]:
    """The most frequent play among the training speeches, and the test accuracy of always
    answering it: the score a classifier must beat."""
    top = Counter(s.play for s in train).most_common(1)[0][0]
    return PLAYS[top], sum(s.play == top for s in test) / len(test)


def as_examples(speeches: list[Speech], vocab: WordVocab, max_len: int | None = None):
    """(list of 1-D id tensors, labels (N,)): the speeches as a model reads them."""
    return [vocab.encode(s.words, max_len) for s in speeches], torch.tensor([s.play for s in speeches])
