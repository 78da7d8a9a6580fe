"""A synthetic subject-verb agreement corpus: "cat , which ... , was" / "cats , which ... , were".

Each sentence is a subject (singular or plural), a clause of random filler tokens, a comma and
the verb that agrees with the subject. Predicting the verb after the comma needs the subject,
seen a whole clause earlier: a long-range dependency of a chosen length, as in Linzen, Dupoux
& Goldberg, "Assessing the ability of LSTMs to learn syntax-sensitive dependencies" (2016).
"""
import matplotlib.pyplot as plt
import torch

VOCAB = ["cat", "cats", "was", "were", ",", "which", "already", "ate", "the", "fish", "and",
         "slept", "all", "day"]
SUBJECTS = (0, 1)   # cat, cats
VERBS = (2, 3)      # was, were (same order: plural flips both)
COMMA = 4
FILLERS = range(5, len(VOCAB))


def agreement_stream(sentences: int, min_clause: int, max_clause: int,
                     generator: torch.Generator | None = None) -> torch.Tensor:
    """One long 1-D LongTensor of token ids: ``sentences`` sentences back to back.

    Clause lengths are drawn uniformly from ``[min_clause, max_clause]``; fillers are drawn
    uniformly, so nothing in the clause tells singular from plural.
    """
    plural = torch.randint(0, 2, (sentences,), generator=generator)
    lengths = torch.randint(min_clause, max_clause + 1, (sentences,), generator=generator)
    tokens = []
    for p, n in zip(plural.tolist(), lengths.tolist()):
        clause = torch.randint(FILLERS.start, FILLERS.stop, (n,), generator=generator).tolist()
        tokens += [SUBJECTS[p], *clause, COMMA, VERBS[p]]
    return torch.tensor(tokens)


def verb_accuracy(logits: torch.Tensor, x: torch.Tensor, y: torch.Tensor) -> float:
    """Share of verbs predicted with the right number, choosing between "was" and "were".

    ``logits (B, T, V)`` are next-token predictions for inputs ``x (B, T)`` with targets
    ``y (B, T)``; only the positions right after a comma (where the verb comes) count.
    """
    at_verb = x == COMMA
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
    ax.set_ylabel("verb accuracy (%)")
    ax.legend()
    ax.grid(alpha=0.3)
    return ax
