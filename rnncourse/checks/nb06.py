"""Visible checks for notebook 06: quick comparisons with PyTorch and with small worked examples.

Each function takes the student's function and raises ``AssertionError`` with a hint when
something is off. The grader runs more (hidden) checks; passing these is a good sign, not a
guarantee.
"""
import math

import torch
import torch.nn.functional as F

from rnncourse.checks import visible_check


def _passed(name, n):
    print(f"✔ {name}: {n} visible checks passed")


def _ids(result, what):
    """A 1-D integer result as a list (a tensor, list or tuple are all fine)."""
    if isinstance(result, torch.Tensor):
        assert result.dim() == 1 and not result.is_floating_point(), \
            f"{what} should be a 1-D integer tensor of indices, got {result.dtype} {tuple(result.shape)}"
        return result.tolist()
    assert isinstance(result, (list, tuple)), f"{what} should be a 1-D tensor of indices"
    return [int(i) for i in result]


@visible_check
def embedding_lookup(fn):
    g = torch.Generator().manual_seed(0)
    weight = torch.randn(7, 3, generator=g)
    ids = torch.tensor([[1, 6, 0], [6, 6, 2]])
    out = fn(ids, weight)
    assert isinstance(out, torch.Tensor) and tuple(out.shape) == (2, 3, 3), \
        f"the output should be ids.shape + (D,) = (2, 3, 3), got {getattr(out, 'shape', type(out))}"
    if torch.allclose(out, weight[ids - 1]):
        raise AssertionError("every row is off by one: ids index rows directly (row 0 is id 0)")
    assert torch.allclose(out, F.embedding(ids, weight)), "the rows differ from weight[ids]: index the rows (dim 0)"
    flat = fn(torch.tensor([4]), weight)
    assert tuple(flat.shape) == (1, 3) and torch.allclose(flat, weight[4:5]), \
        "ids of shape (1,) should give one row, shape (1, D)"
    _passed("embedding_lookup", 3)


@visible_check
def build_word_vocab(fn):
    tokens = "the cat and the dog and the bird".split()
    vocab = fn(tokens)
    assert isinstance(vocab, dict), f"return a dict token -> id, got {type(vocab).__name__}"
    assert vocab.get("<pad>") == 0 and vocab.get("<unk>") == 1, \
        "'<pad>' should have id 0 and '<unk>' id 1"
    want = {"<pad>": 0, "<unk>": 1, "the": 2, "and": 3, "bird": 4, "cat": 5, "dog": 6}
    assert vocab == want, (f"expected {want} (most frequent first, ties alphabetical), got {vocab}")
    assert fn(tokens, min_count=2) == {"<pad>": 0, "<unk>": 1, "the": 2, "and": 3}, \
        "min_count=2 keeps the tokens seen at least twice"
    _passed("build_word_vocab", 3)


@visible_check
def skipgram_pairs(fn):
    centers, contexts = fn(torch.tensor([10, 11, 12, 13]), 1)
    got = sorted(zip(torch.as_tensor(centers).tolist(), torch.as_tensor(contexts).tolist()))
    want = sorted([(10, 11), (11, 10), (11, 12), (12, 11), (12, 13), (13, 12)])
    assert got == want, f"window 1 on [10, 11, 12, 13]: expected the pairs {want}, got {got}"
    centers, contexts = fn(torch.tensor([10, 11, 12, 13]), 2)
    got = sorted(zip(torch.as_tensor(centers).tolist(), torch.as_tensor(contexts).tolist()))
    assert len(got) == 10, \
        f"window 2 on 4 words gives 10 pairs (6 at distance 1, 4 at distance 2), got {len(got)}"
    assert all(c != o for c, o in got), "a word is paired with itself: offsets start at 1"
    _passed("skipgram_pairs", 2)


@visible_check
def negative_sampling_loss(fn):
    g = torch.Generator().manual_seed(0)
    V, D = 5, 3
    vin, vout = torch.randn(V, D, generator=g), torch.randn(V, D, generator=g)
    centers, contexts = torch.tensor([0, 1, 2]), torch.tensor([1, 2, 3])
    noise = torch.zeros(V)
    noise[4] = 1.0                                   # every negative is word 4
    loss = fn(vin, vout, centers, contexts, noise, 2, torch.Generator().manual_seed(1))
    assert isinstance(loss, torch.Tensor) and loss.dim() == 0, "return the mean loss, a scalar tensor"
    v = vin[centers]
    pos = F.logsigmoid((v * vout[contexts]).sum(1))
    neg = F.logsigmoid(-(v @ vout[4]))
    want = -(pos + 2 * neg).mean()
    if torch.allclose(loss, -(pos + 2 * F.logsigmoid(v @ vout[4])).mean(), atol=1e-5):
        raise AssertionError("the negatives' score has the wrong sign: use log sigma(-u_w . v_c)")
    if torch.allclose(loss, -(pos + 2 * neg).sum(), atol=1e-5):
        raise AssertionError("the loss is summed over pairs: take the mean")
    assert torch.allclose(loss, want, atol=1e-5), \
        ("with all noise on one word the loss should be "
         "mean(-log sigma(u_o . v_c) - k log sigma(-u_w . v_c)); check each term")
    a = fn(vin, vout, centers, contexts, torch.full((V,), 0.2), 3, torch.Generator().manual_seed(5))
    b = fn(vin, vout, centers, contexts, torch.full((V,), 0.2), 3, torch.Generator().manual_seed(5))
    assert torch.allclose(a, b), "two generators seeded alike gave different losses: draw with generator="
    _passed("negative_sampling_loss", 3)


@visible_check
def cosine_similarity_matrix(fn):
    g = torch.Generator().manual_seed(0)
    A, B = torch.randn(3, 4, generator=g), torch.randn(5, 4, generator=g)
    out = fn(A, B)
    assert isinstance(out, torch.Tensor) and tuple(out.shape) == (3, 5), \
        f"A (3, D) and B (5, D) give a (3, 5) matrix, got {getattr(out, 'shape', type(out))}"
    want = F.cosine_similarity(A.unsqueeze(1), B.unsqueeze(0), dim=-1)
    if torch.allclose(out, A @ B.T, atol=1e-5):
        raise AssertionError("this is the dot product: divide by both rows' norms")
    assert torch.allclose(out, want, atol=1e-5), "differs from the cosine similarity of every pair of rows"
    zero = fn(torch.zeros(1, 4), B)
    assert not torch.isnan(zero).any() and torch.allclose(zero, torch.zeros(1, 5)), \
        "a zero row should give 0, not NaN: clamp the norm at 1e-8"
    _passed("cosine_similarity_matrix", 3)


def _unit_circle():
    angles = torch.tensor([0.0, 0.3, 1.0, 2.0, 3.0, -0.5])
    lengths = torch.tensor([1.0, 1.0, 10.0, 2.0, 1.0, 3.0])
    return torch.stack([angles.cos(), angles.sin()], dim=1) * lengths.unsqueeze(1)


@visible_check(uses=('cosine_similarity_matrix',))
def nearest_neighbors(fn):
    vectors = _unit_circle()      # angles 0, 0.3, 1, 2, 3, -0.5; lengths differ on purpose
    got = _ids(fn(vectors, 0, 3), "nearest_neighbors")
    if got == [0, 1, 5]:
        raise AssertionError("the word itself is in the list: exclude index")
    if got == [2, 5, 1]:
        raise AssertionError("ranked by dot product: long vectors win; use cosine similarity")
    assert got == [1, 5, 2], f"the 3 nearest to row 0 by angle are [1, 5, 2], best first; got {got}"
    _passed("nearest_neighbors", 1)


@visible_check(uses=('cosine_similarity_matrix',))
def analogy(fn):
    # a, b, c at angles 0, 1, 0.5 on the unit circle: b - a + c points at angle ~1.5
    angles = torch.tensor([0.0, 1.0, 0.5, 1.5, -1.0, 3.0])
    vectors = torch.stack([angles.cos(), angles.sin()], dim=1) * torch.tensor([[1.], [4.], [1.], [1.], [1.], [1.]])
    got = _ids(fn(vectors, 0, 1, 2, k=2), "analogy")
    assert 0 not in got and 1 not in got and 2 not in got, "exclude the question words a, b and c"
    assert got[0] == 3, f"unit(b) - unit(a) + unit(c) points at row 3, got {got}"
    _passed("analogy", 2)


@visible_check
def learn_bpe(fn):
    merges = fn({"low": 5, "lower": 2, "newest": 6, "widest": 3}, 4)
    merges = [tuple(m) for m in merges]
    want = [("e", "s"), ("es", "t</w>"), ("l", "o"), ("e", "w")]
    assert len(merges) == 4, f"asked for 4 merges, got {len(merges)}"
    if merges[3:] == [("d", "est</w>")]:
        raise AssertionError("each word counted once: weight every pair by its word's count")
    assert merges == want, (f"expected {want} (the 4th merge is a tie at 6 between ('e', 'w'), "
                            f"('n', 'e') and ('w', 'est</w>'): the smallest wins), got {merges}")
    assert [tuple(m) for m in fn({"aaa": 1}, 5)] == [("a", "a"), ("aa", "a</w>")], \
        "('a', 'a', 'a</w>') merges to ('aa', 'a</w>'), then stops when one symbol is left"
    _passed("learn_bpe", 2)


@visible_check
def bpe_encode(fn):
    merges = [("e", "s"), ("es", "t</w>"), ("l", "o"), ("lo", "w")]
    assert list(fn("lowest", merges)) == ["low", "est</w>"], \
        f"'lowest' -> ['low', 'est</w>'], got {fn('lowest', merges)}"
    assert list(fn("xyz", merges)) == ["x", "y", "z</w>"], "with no merge applicable: the marked characters"
    got = list(fn("lest", [("s", "t</w>"), ("e", "s")]))
    assert got == ["l", "e", "st</w>"], \
        f"apply merges in learned order: ('s', 't</w>') first, so 'lest' -> ['l', 'e', 'st</w>'], got {got}"
    _passed("bpe_encode", 3)


@visible_check
def embedding_param_count(fn):
    assert fn(33_278, 200) == 6_655_600, "an embedding table has vocab_size x embedding_dim parameters"
    linear = 200 * 33_278 + 33_278
    assert fn(33_278, 200, with_output=True) == 6_655_600 + linear, \
        "with_output adds nn.Linear(embedding_dim, vocab_size): weight and bias"
    assert fn(33_278, 200, with_output=True, tied=True) == 6_655_600 + 33_278, \
        "tied: the output layer shares the embedding as its weight and adds only its bias"
    assert math.isclose(fn(10, 3), 30), "vocab_size x embedding_dim"
    _passed("embedding_param_count", 3)
