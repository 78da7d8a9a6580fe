"""Measuring what padding costs (notebook 07): how much of a batch is padding, the CPU time of a
forward and backward pass through an encoder, and how far one encoder's outputs are from
another's (a naive padded encoder against a packed one).

Encoders are passed in as ``encode(embed, rnn, ids (B, T), lengths (B,)) -> (B, F)``; ``pad`` is
``list of 1-D id tensors -> (ids, lengths)``. Times are CPU time of this process
(``time.process_time``), which a busy machine inflates less than wall time.
"""
import statistics
import time

import torch


def random_batches(examples: list[torch.Tensor], pad, batch_size: int, count: int, generator=None):
    """``count`` batches of examples drawn at random: the real mix of lengths."""
    picks = [torch.randint(0, len(examples), (batch_size,), generator=generator) for _ in range(count)]
    return [pad([examples[i] for i in idx]) for idx in picks]


def bucketed_batches(examples: list[torch.Tensor], pad, batch_size: int, count: int, generator=None):
    """``count`` batches of examples of similar length (bucketing): sort all examples by length,
    cut the sorted list into consecutive batches, and pick ``count`` of those at random."""
    order = sorted(range(len(examples)), key=lambda i: len(examples[i]))
    chunks = [order[a:a + batch_size] for a in range(0, len(order) - batch_size + 1, batch_size)]
    picks = torch.randint(0, len(chunks), (count,), generator=generator)
    return [pad([examples[i] for i in chunks[k]]) for k in picks]


def uniform_batches(vocab_size: int, length: int, batch_size: int, count: int, generator=None,
                    first_id: int = 2):
    """``count`` batches in which every sequence has the same ``length`` (random ids from
    ``first_id`` on, so no pad or unknown id): nothing to pad."""
    return [(torch.randint(first_id, vocab_size, (batch_size, length), generator=generator),
             torch.full((batch_size,), length)) for _ in range(count)]


def pad_fraction(batches) -> float:
    """The share of all (sequence, step) slots in ``batches`` that hold padding."""
    real = sum(int(lengths.sum()) for _, lengths in batches)
    return 1 - real / sum(ids.numel() for ids, _ in batches)


def forward_backward_ms(encode, embed, rnn, batches) -> float:
    """Median CPU milliseconds of ``encode(...).sum().backward()`` over ``batches``."""
    times = []
    for ids, lengths in batches:
        start = time.process_time()
        encode(embed, rnn, ids, lengths).sum().backward()
        times.append(time.process_time() - start)
    embed.zero_grad()
    rnn.zero_grad()
    return 1000 * statistics.median(times)


@torch.no_grad()
def largest_difference(encode_a, encode_b, embed, rnn, batches) -> float:
    """The largest absolute difference between two encoders' outputs over ``batches``."""
    return max((encode_a(embed, rnn, ids, lengths) - encode_b(embed, rnn, ids, lengths)).abs().max().item()
               for ids, lengths in batches)
