"""Training and evaluation loops for notebook 08's encoder-decoder models.

The loops take the pieces the learner writes (``decode_train``, ``greedy_decode``,
``sequence_accuracy``) as arguments, so this module holds the plumbing only, never an answer.
A model is a pair ``(encoder, decoder)``; the encoder returns ``(outputs, h)`` and the decoder's
``memory`` is ``(outputs, mask)``, which a decoder without attention ignores.
"""
from dataclasses import dataclass, field

import torch
from torch import nn
from tqdm.auto import tqdm

from rnncourse.dates import PAD, TARGET_VOCAB, batch, decode_target, sample_batch

# the notebook's experiment, in one place so its claims test trains exactly the same models
EMB, HIDDEN = 16, 64
STEPS, ATTENTION_STEPS, EVAL_EVERY = 1200, 400, 200
VALID_SIZE = 500                                 # validation dates scored at each checkpoint
MAX_LEN = 12                                     # an ISO date is 10 characters, then <eos>


@dataclass
class History:
    """What one training run recorded: loss at every step, accuracy at a few checkpoints."""
    loss: list[float] = field(default_factory=list)
    eval_steps: list[int] = field(default_factory=list)
    accuracy: list[float] = field(default_factory=list)


def encode(encoder, src, lengths):
    """Run the encoder; return its final state and the decoder's memory ``(outputs, mask)``."""
    outputs, h = encoder(src, lengths)
    return h, (outputs, src != PAD)


def evaluate(model, pairs, greedy_decode, sequence_accuracy, max_len: int = MAX_LEN):
    """Free-running (greedy) sequence accuracy on ``pairs``."""
    encoder, decoder = model
    src, lengths, tgt = batch(pairs)
    with torch.no_grad():
        h, memory = encode(encoder, src, lengths)
        return sequence_accuracy(greedy_decode(decoder, h, memory, max_len), tgt)


def train(model, pairs, decode_train, steps: int, ratio: float, seed: int = 0,
          batch_size: int = 64, lr: float = 1e-2, eval_every: int = 0, eval_fn=None,
          desc: str = "training") -> History:
    """Adam on ``steps`` batches drawn with ``seed``; teacher forcing at ``ratio``.

    The teacher-forcing coin has its own generator (seeded from ``seed`` too), so two runs with
    different ratios see the same batches. Every ``eval_every`` steps (and at the end)
    ``eval_fn(model)`` is recorded.
    """
    encoder, decoder = model
    params = [*encoder.parameters(), *decoder.parameters()]
    opt = torch.optim.Adam(params, lr=lr)
    batches = torch.Generator().manual_seed(seed)
    coins = torch.Generator().manual_seed(seed + 1)
    history = History()
    for step in tqdm(range(steps), desc=desc):
        src, lengths, tgt = sample_batch(pairs, batch_size, batches)
        h, memory = encode(encoder, src, lengths)
        logits = decode_train(decoder, h, memory, tgt, ratio, coins)       # (B, T, V)
        loss = nn.functional.cross_entropy(logits.transpose(1, 2), tgt, ignore_index=PAD)
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        history.loss.append(loss.item())
        last = step == steps - 1
        if eval_fn is not None and (last or (eval_every and (step + 1) % eval_every == 0)):
            history.eval_steps.append(step + 1)
            history.accuracy.append(eval_fn(model))
    return history


def after_first_mistake(pairs, free, forced: torch.Tensor) -> tuple[float, float, int]:
    """Exposure bias, measured: of the characters after each wrong output's first mistake, the
    share right when the model read its own output (``free``: greedy ids per pair) and when it
    read the true prefix (``forced``: (B, T) argmax ids under teacher forcing); and how many
    outputs were wrong. Same inputs, same model: only the prefix differs."""
    later = free_right = forced_right = wrong = 0
    for b, ((_, iso), ids) in enumerate(zip(pairs, free)):
        got = decode_target(ids)
        first = next((t for t in range(len(iso)) if t >= len(got) or got[t] != iso[t]), None)
        if first is None:
            continue
        wrong += 1
        for t in range(first + 1, len(iso)):
            later += 1
            free_right += t < len(got) and got[t] == iso[t]
            forced_right += TARGET_VOCAB[int(forced[b, t])] == iso[t]
    return free_right / max(1, later), forced_right / max(1, later), wrong
