"""A small bidirectional LSTM language model for notebook 06 (ELMo's idea, in miniature).

Two LSTMs read the words, one left to right predicting the next word, one right to left
predicting the previous one. The vector of the word at position t is the pair of their hidden
states there, so it depends on the whole sentence, not only on the word.
"""
import torch
from torch import nn
from tqdm.auto import tqdm


class BiLM(nn.Module):
    def __init__(self, vocab_size: int, dim: int = 64, hidden: int = 128):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, dim)
        self.forward_lstm = nn.LSTM(dim, hidden, batch_first=True)
        self.backward_lstm = nn.LSTM(dim, hidden, batch_first=True)
        self.head = nn.Linear(hidden, vocab_size)          # shared by both directions

    def states(self, ids: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Forward and backward hidden states, both (B, T, H), aligned on the same positions."""
        x = self.embedding(ids)
        fwd, _ = self.forward_lstm(x)
        bwd, _ = self.backward_lstm(x.flip(1))
        return fwd, bwd.flip(1)

    def loss(self, ids: torch.Tensor) -> torch.Tensor:
        """Mean of the two directions' cross-entropies (next word, previous word)."""
        fwd, bwd = self.states(ids)
        V = self.head.out_features
        next_word = nn.functional.cross_entropy(self.head(fwd[:, :-1]).reshape(-1, V),
                                                ids[:, 1:].reshape(-1))
        prev_word = nn.functional.cross_entropy(self.head(bwd[:, 1:]).reshape(-1, V),
                                                ids[:, :-1].reshape(-1))
        return (next_word + prev_word) / 2

    @torch.no_grad()
    def word_vectors(self, ids: torch.Tensor) -> torch.Tensor:
        """Contextual vectors (B, T, 2H): [forward state; backward state] at every position."""
        return torch.cat(self.states(ids), dim=-1)


def train_bilm(model: BiLM, stream: torch.Tensor, steps: int, batch_size: int = 32,
               seq_len: int = 24, lr: float = 0.005, seed: int = 0) -> list[float]:
    """Adam on random windows of the id stream, for a fixed number of steps."""
    g = torch.Generator().manual_seed(seed)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    losses = []
    for _ in tqdm(range(steps), desc="bidirectional LM"):
        starts = torch.randint(len(stream) - seq_len, (batch_size,), generator=g)
        batch = torch.stack([stream[s:s + seq_len] for s in starts.tolist()])
        loss = model.loss(batch)
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        losses.append(loss.item())
    return losses
