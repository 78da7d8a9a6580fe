"""A synthetic subject-verb agreement corpus: "cat , which ... , was" / "cats , which ... , were".

Each sentence is a subject (singular or plural), ", which", a clause of random filler tokens, a
comma and the verb that agrees with the subject. Predicting the verb after the comma needs the subject,
seen a whole clause earlier: a long-range dependency of a chosen length, as in Linzen, Dupoux
& Goldberg, "Assessing the ability of LSTMs to learn syntax-sensitive dependencies" (2016).
"""
import matplotlib.pyplot as plt
import torch
import torch.nn.functional as F
from torch import nn

from rnncourse.train import steps

VOCAB = ["cat", "cats", "was", "were", ",", "which", "already", "ate", "the", "fish", "and",
         "slept", "all", "day"]
SUBJECTS = (0, 1)   # cat, cats
VERBS = (2, 3)      # was, were (same order: plural flips both)
COMMA, WHICH = 4, 5
FILLERS = range(6, len(VOCAB))


def _words(n: int, attractors: float, generator) -> list[int]:
    """``n`` filler words, each replaced with probability ``attractors`` by cat or cats."""
    words = torch.randint(FILLERS.start, FILLERS.stop, (n,), generator=generator)
    nouns = torch.rand(n, generator=generator) < attractors
    words[nouns] = torch.randint(SUBJECTS[0], SUBJECTS[1] + 1, (int(nouns.sum()),), generator=generator)
    return words.tolist()


def agreement_stream(sentences: int, min_clause: int, max_clause: int,
                     generator: torch.Generator | None = None, attractors: float = 0.0,
                     max_lead: int = 0) -> torch.Tensor:
    """One long 1-D LongTensor of token ids: ``sentences`` sentences back to back, each
    ``[lead] subject , which [clause] , verb``.

    Clause lengths are drawn uniformly from ``[min_clause, max_clause]`` and the lead (words
    before the subject) from ``[0, max_lead]``; words are drawn uniformly, so nothing in them
    tells singular from plural. With ``attractors`` > 0 each of those words is, with that
    probability, a noun of random number (*cat* or *cats*): an *agreement attractor* (Linzen et
    al.), so the last noun seen is no guide to the verb; the noun before ", which" is.
    """
    plural = torch.randint(0, 2, (sentences,), generator=generator)
    lengths = torch.randint(min_clause, max_clause + 1, (sentences,), generator=generator)
    leads = torch.randint(0, max_lead + 1, (sentences,), generator=generator)
    tokens = []
    for p, n, lead in zip(plural.tolist(), lengths.tolist(), leads.tolist()):
        tokens += [*_words(lead, attractors, generator), SUBJECTS[p], COMMA, WHICH,
                   *_words(n, attractors, generator), COMMA, VERBS[p]]
    return torch.tensor(tokens)


WINDOWS = (5, 50)              # notebook 02: a window shorter than any sentence, and one longer
LONG_WINDOW_UPDATES = 3000     # updates of the long window at full settings (the short one gets 10x)


def experiment_streams(seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Notebook 02's training and test streams (4,000 and 500 sentences) for a given seed.

    Clauses of 10 to 20 words, up to 3 words before the subject, one word in ten an attractor:
    subject and verb 14 to 24 tokens apart, never inside one 5-step window.
    """
    gen = torch.Generator().manual_seed(seed)
    settings = {"min_clause": 10, "max_clause": 20, "attractors": 0.1, "max_lead": 3, "generator": gen}
    return agreement_stream(4000, **settings), agreement_stream(500, **settings)


def verb_accuracy(logits: torch.Tensor, x: torch.Tensor, y: torch.Tensor) -> float:
    """Share of verbs predicted with the right number, choosing between "was" and "were".

    ``logits (B, T, V)`` are next-token predictions for inputs ``x (B, T)`` with targets
    ``y (B, T)``; only the positions where the verb comes next count.
    """
    at_verb = (x == COMMA) & ((y == VERBS[0]) | (y == VERBS[1]))
    choice = logits[..., list(VERBS)].argmax(dim=-1) + VERBS[0]
    return (choice[at_verb] == y[at_verb]).float().mean().item()


def show(tokens: torch.Tensor) -> str:
    """Token ids as words."""
    return " ".join(VOCAB[i] for i in tokens.tolist())


def plot_verb_accuracy(runs: dict, ax=None):
    """Verb accuracy (%) against training tokens, one line per run: ``{label: [(tokens, accuracy)]}``."""
    if ax is None:
        _, ax = plt.subplots(figsize=(6.5, 3.5))
    for label, curve in runs.items():
        ax.plot([t for t, _ in curve], [100 * a for _, a in curve], label=label)
    ax.axhline(50, color="gray", ls="--", label="chance")
    ax.set_xlabel("training tokens")
    ax.xaxis.set_major_formatter(lambda v, _: f"{v / 1e6:g}M" if v >= 1e5 else f"{v:,.0f}")
    ax.set_ylabel("verb accuracy (%)")
    ax.legend()
    ax.grid(alpha=0.3)
    return ax


class AgreementLM(nn.Module):
    """Embedding, one LSTM layer, and a next-token head at every step."""

    def __init__(self, vocab: int = len(VOCAB), emb: int = 16, hidden: int = 64):
        super().__init__()
        self.emb = nn.Embedding(vocab, emb)
        self.lstm = nn.LSTM(emb, hidden, batch_first=True)
        self.out = nn.Linear(hidden, vocab)

    def forward(self, x, state=None):
        h, state = self.lstm(self.emb(x), state)      # (B, T, hidden)
        return self.out(h), state


def train_truncated(windows: list, test_data: torch.Tensor, updates: int, detach, seed: int = 0,
                    checkpoints: int = 20, desc: str = "training") -> list[tuple[int, float]]:
    """Truncated BPTT over ``windows`` (a list of ``(x, y)``, cycled); the state is carried and
    cut with ``detach`` between windows and restarted at each pass over the stream.

    Returns ``[(training tokens seen, verb accuracy on test_data (B, L))]`` at ``checkpoints``
    evenly spaced points. The arguments that are the notebook's exercises (the windows from
    ``tbptt_batches``, ``detach_state``) come from the caller.
    """
    torch.manual_seed(seed)
    model = AgreementLM()
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)

    def accuracy():
        with torch.no_grad():
            logits, _ = model(test_data[:, :-1])
        return verb_accuracy(logits, test_data[:, :-1], test_data[:, 1:])

    state, tokens, curve = None, 0, [(0, accuracy())]
    every = max(1, updates // checkpoints)
    for step in steps(updates, desc=desc):
        k = step % len(windows)
        state = None if k == 0 else detach(state)          # a new pass restarts the stream
        x, y = windows[k]
        logits, state = model(x, state)
        loss = F.cross_entropy(logits.reshape(-1, len(VOCAB)), y.reshape(-1))
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
        opt.step()
        tokens += x.numel()
        if (step + 1) % every == 0:
            curve.append((tokens, accuracy()))
    return curve
