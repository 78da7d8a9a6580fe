"""Synthetic sequence tasks with a known answer, for testing what a recurrent model can remember.

Each generator takes a ``torch.Generator`` so a notebook draws the same batches on every run.
"""
import torch


def adding_problem(batch: int, steps: int, generator: torch.Generator | None = None):
    """The adding problem (Hochreiter & Schmidhuber, 1997): add the two marked numbers.

    Returns ``x (B, T, 2)`` and ``y (B,)``. Channel 0 holds numbers drawn uniformly from [0, 1];
    channel 1 is 0 except for one marker in the first half and one in the second half. The
    target is the sum of the two marked numbers, so the model must carry the first one across
    at least ``steps // 2`` steps. Always answering 1 (the mean) scores a mean squared error of
    1/6 ≈ 0.167: that is chance level.
    """
    values = torch.rand(batch, steps, generator=generator)
    half = steps // 2
    first = torch.randint(0, half, (batch,), generator=generator)
    second = torch.randint(half, steps, (batch,), generator=generator)
    markers = torch.zeros(batch, steps)
    rows = torch.arange(batch)
    markers[rows, first] = 1.0
    markers[rows, second] = 1.0
    x = torch.stack([values, markers], dim=-1)                 # (B, T, 2)
    y = values[rows, first] + values[rows, second]             # (B,)
    return x, y


ADDING_CHANCE_MSE = 1 / 6


QUOTE_ALPHABET = "abcdefghijklmnopqrstuvwxyz ,.\""


def encode_chars(text: str, alphabet: str = QUOTE_ALPHABET) -> torch.Tensor:
    """Indices of ``text``'s characters in ``alphabet`` (upper case folded), shape ``(T,)``."""
    index = {ch: i for i, ch in enumerate(alphabet)}
    return torch.tensor([index[ch] for ch in text.lower()])


def inside_quotes(ids: torch.Tensor, alphabet: str = QUOTE_ALPHABET) -> torch.Tensor:
    """1.0 where a character is inside double quotes (the opening quote counts, the closing one
    does not), else 0.0; same shape as ``ids``."""
    quotes = (ids == alphabet.index('"')).long()
    return (quotes.cumsum(dim=-1) % 2).float()


def quote_task(batch: int, steps: int, generator: torch.Generator | None = None,
               alphabet: str = QUOTE_ALPHABET):
    """Random character strings and, at every step, whether it is inside quotes.

    Returns ``ids (B, T)`` (character indices) and ``target (B, T)`` (0.0 or 1.0). To answer, a
    model must remember one bit (open or closed) for as long as a quotation lasts: the memory a
    char-RNN needs to close its quotes (Karpathy, Johnson and Fei-Fei, 2015).
    """
    # roughly English-looking proportions: letters, a space every few, rare punctuation and quotes
    weight = {" ": 0.2, ",": 0.03, ".": 0.03, '"': 0.03}
    letter = (1 - sum(weight.values())) / (len(alphabet) - len(weight))
    probs = torch.tensor([weight.get(ch, letter) for ch in alphabet])
    ids = torch.multinomial(probs, batch * steps, replacement=True, generator=generator)
    ids = ids.view(batch, steps)
    return ids, inside_quotes(ids, alphabet)
