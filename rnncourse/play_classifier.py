"""A many-to-one classifier over variable-length word sequences (notebook 07): which play a
speech comes from. The encoder is passed in (the notebook's ``encode_packed``), so this module
holds the model's other parts, its training loop and its evaluation, but no exercise answer.

``pad`` is a function ``list of 1-D id tensors -> (ids (B, T), lengths (B,))`` (the notebook's
``pad_batch`` with the vocabulary's pad id); ``encode`` is ``(embed, rnn, ids, lengths) ->
(B, num_directions * H)``.
"""
import torch
import torch.nn.functional as F
from torch import nn
from tqdm.auto import trange


class PlayClassifier(nn.Module):
    """Embedding (``padding_idx``) -> dropout -> (bi)LSTM read by ``encode`` -> dropout -> Linear."""

    def __init__(self, encode, vocab_size: int, num_classes: int, pad_id: int = 0, embed_dim: int = 64,
                 hidden_size: int = 64, bidirectional: bool = True, num_layers: int = 1, dropout: float = 0.3):
        super().__init__()
        self.encode = encode
        self.embed = nn.Embedding(vocab_size, embed_dim, padding_idx=pad_id)   # the pad's row stays 0
        self.rnn = nn.LSTM(embed_dim, hidden_size, num_layers, batch_first=True, bidirectional=bidirectional)
        self.drop = nn.Dropout(dropout)
        self.head = nn.Linear(hidden_size * (2 if bidirectional else 1), num_classes)

    def embed_dropped(self, ids: torch.Tensor) -> torch.Tensor:
        return self.drop(self.embed(ids))                                      # (B, T, E)

    def forward(self, ids: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """ids (B, T), lengths (B,) -> logits (B, num_classes)."""
        return self.head(self.drop(self.encode(self.embed_dropped, self.rnn, ids, lengths)))


def train_classifier(model, examples: list[torch.Tensor], labels: torch.Tensor, pad, steps: int,
                     batch_size: int = 32, lr: float = 3e-3, generator=None) -> list[float]:
    """Adam on random batches for a fixed number of ``steps``; returns every step's loss."""
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    model.train()
    losses = []
    for _ in trange(steps, desc="training"):
        idx = torch.randint(0, len(examples), (batch_size,), generator=generator)
        ids, lengths = pad([examples[i] for i in idx])
        loss = F.cross_entropy(model(ids, lengths), labels[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses


@torch.no_grad()
def accuracy(model, examples: list[torch.Tensor], labels: torch.Tensor, pad, batch_size: int = 256) -> float:
    """Fraction of ``examples`` whose predicted class is their label (eval mode: no dropout)."""
    model.eval()
    correct = 0
    for start in range(0, len(examples), batch_size):
        ids, lengths = pad(examples[start:start + batch_size])
        correct += (model(ids, lengths).argmax(-1) == labels[start:start + batch_size]).sum().item()
    return correct / len(examples)
