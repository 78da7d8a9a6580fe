"""Synthetic sequence tasks with a known answer, for testing what a recurrent model can remember.

Each generator takes a ``torch.Generator`` so a notebook draws the same batches on every run.
"""
import torch
from torch import nn

from rnncourse.train import steps


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
ADDING_STEPS, ADDING_BATCH = 60, 64
ADDING_UPDATES = 1000   # notebook 04's full budget, the same for every model


class LastStepRegressor(nn.Module):
    """A recurrent layer (nn.RNN, nn.LSTM or nn.GRU) and a linear head on its last hidden state."""

    def __init__(self, recurrent: type[nn.Module], hidden_size: int = 32):
        super().__init__()
        self.rnn = recurrent(input_size=2, hidden_size=hidden_size, batch_first=True)
        self.head = nn.Linear(hidden_size, 1)

    def forward(self, x):                         # x: (B, T, 2) -> (B,)
        output, _ = self.rnn(x)                   # (B, T, H)
        return self.head(output[:, -1]).squeeze(-1)


def train_adding(model: nn.Module, updates: int, x_val: torch.Tensor, y_val: torch.Tensor,
                 desc: str = "adding problem") -> list[tuple[int, float]]:
    """Adam (lr 0.01, gradient norm clipped to 1) on fresh adding-problem batches of
    ``ADDING_STEPS`` steps, the same batches for every model; returns
    ``[(updates done, validation MSE on x_val, y_val)]`` every 25 updates and at the end."""
    def validation_mse():
        with torch.no_grad():
            return nn.functional.mse_loss(model(x_val), y_val).item()

    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    batches = torch.Generator().manual_seed(0)
    history = [(0, validation_mse())]
    for step in steps(updates, desc=desc):
        x, y = adding_problem(ADDING_BATCH, ADDING_STEPS, batches)
        loss = nn.functional.mse_loss(model(x), y)
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        if (step + 1) % 25 == 0 or step + 1 == updates:
            history.append((step + 1, validation_mse()))
    return history


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


QUOTE_UPDATES = 1500   # notebook 04's full budget for the quote tracker


class QuoteTracker(nn.Module):
    """An LSTM reading one-hot characters of ``QUOTE_ALPHABET`` and a linear head: at every
    character, the logit of "inside a quotation"."""

    def __init__(self, hidden_size: int = 8):
        super().__init__()
        self.lstm = nn.LSTM(len(QUOTE_ALPHABET), hidden_size, batch_first=True)
        self.head = nn.Linear(hidden_size, 1)

    def forward(self, ids):                       # ids (B, T) -> logits (B, T)
        output, _ = self.lstm(nn.functional.one_hot(ids, len(QUOTE_ALPHABET)).float())
        return self.head(output).squeeze(-1)


def train_quote_tracker(updates: int, seed: int = 0) -> QuoteTracker:
    """A :class:`QuoteTracker` trained with Adam on ``updates`` batches of 32 random strings of 80."""
    torch.manual_seed(seed)
    model = QuoteTracker()
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    batches = torch.Generator().manual_seed(seed)
    for _ in steps(updates, desc="quote tracker"):
        ids, target = quote_task(32, 80, batches)
        loss = nn.functional.binary_cross_entropy_with_logits(model(ids), target)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return model


@torch.no_grad()
def quote_accuracy(model: QuoteTracker) -> tuple[float, float]:
    """(per-character accuracy, share of characters outside quotes) on 256 fresh random strings
    of 200 characters, longer than in training."""
    ids, target = quote_task(256, 200, torch.Generator().manual_seed(99))
    accuracy = ((model(ids) > 0).float() == target).float().mean().item()
    return accuracy, 1 - target.mean().item()
