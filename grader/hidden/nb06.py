"""Hidden checks for notebook 06, word embeddings and tokenization.

References: PyTorch's own ``F.embedding`` and ``F.cosine_similarity``, autograd, a one-hot matrix
product, brute force over every pair or every word, the negative-sampling loss's exact
expectation under the noise distribution (for the random part), and for BPE a second
implementation written differently (symbols joined by spaces, merges applied with a regular
expression, as in Sennrich et al.'s paper). Sizes, seeds and vocabularies vary between draws so
a changed constant, a swapped operand or an off-by-one shows up; known mistakes are recomputed
so a failure can name them.
"""
import math
import re
from collections import Counter

import torch
import torch.nn.functional as F

from grader.checks import check, expect_close, expect_equal, expect_shape, expect_tensor

FORBIDDEN = {
    "embedding_lookup": ["torch.nn.Embedding", "torch.nn.functional.embedding", "torch.embedding",
                         "torch.nn.EmbeddingBag"],
    "cosine_similarity_matrix": ["torch.nn.functional.cosine_similarity",
                                 "torch.cosine_similarity", "torch.nn.CosineSimilarity"],
    "learn_bpe": ["tokenizers.Tokenizer", "tokenizers.trainers.BpeTrainer", "tokenizers.models.BPE"],
    "bpe_encode": ["tokenizers.Tokenizer", "tokenizers.models.BPE"],
}


def id_list(result, what):
    """A 1-D integer answer (tensor, list or tuple) as a list of ints."""
    if isinstance(result, (list, tuple)) and all(isinstance(i, int) for i in result):
        return list(result)
    t = expect_tensor(result, what)
    if t.dim() != 1 or t.is_floating_point():
        raise AssertionError(f"{what} should be a 1-D integer tensor, got {t.dtype} {tuple(t.shape)}")
    return t.tolist()


# ---- embedding_lookup ----

SHAPES = [((5,), 7, 3), ((3, 4), 9, 5), ((2, 3, 4), 11, 2), ((1, 1), 4, 6)]


def random_ids(shape, V):
    ids = torch.randint(V, shape)
    ids.view(-1)[0] = V - 1                 # the last row is always used
    ids.view(-1)[-1] = 0                    # and the first
    return ids


@check("embedding_lookup", points=1)
def test_lookup_shapes(student):
    """embedding_lookup returns ids.shape + (D,) for ids of 1, 2 and 3 dimensions"""
    for shape, V, D in SHAPES:
        expect_shape(student.embedding_lookup(random_ids(shape, V), torch.randn(V, D)),
                     (*shape, D), f"the lookup of ids {shape} in a ({V}, {D}) table",
                     hint="one vector of size D per id")


@check("embedding_lookup", points=1)
def test_lookup_matches_embedding(student):
    """embedding_lookup equals F.embedding on several tables and id shapes"""
    for shape, V, D in SHAPES:
        ids, weight = random_ids(shape, V), torch.randn(V, D)
        expect_close(student.embedding_lookup(ids, weight), F.embedding(ids, weight),
                     f"the lookup of ids {shape} in a ({V}, {D}) table", likely={
                         "every id is shifted by one row (weight[ids - 1])": weight[ids - 1],
                         "the ids are shifted up by one row (weight[ids + 1])": weight[(ids + 1) % V],
                     })


@check("embedding_lookup", points=1)
def test_lookup_is_one_hot_product(student):
    """embedding_lookup equals one-hot vectors times the table (in float64)"""
    ids, weight = random_ids((4, 6), 8), torch.randn(8, 5, dtype=torch.float64)
    expect_close(student.embedding_lookup(ids, weight), F.one_hot(ids, 8).double() @ weight,
                 "the lookup of a float64 table")


@check("embedding_lookup", points=1)
def test_lookup_gradient(student):
    """the gradient reaches the table, row by row, as autograd through F.embedding says"""
    ids, weight = random_ids((3, 5), 6), torch.randn(6, 4)
    upstream = torch.randn(3, 5, 4)
    got = student.grad(student.embedding_lookup, ids, weight, upstream=[upstream])
    w = weight.clone().requires_grad_(True)
    F.embedding(ids, w).backward(upstream)
    if got.arg_grads[1] is None:
        raise AssertionError("no gradient reached weight: keep the lookup in PyTorch (no .detach(), "
                             "no numpy)")
    expect_close(got.arg_grads[1], w.grad, "the gradient with respect to weight")


# ---- build_word_vocab ----

def ref_vocab(tokens, min_count):
    """By brute force: rank = number of kept tokens that must come before."""
    counts = Counter(tokens)
    kept = [t for t in counts if counts[t] >= min_count]
    vocab = {"<pad>": 0, "<unk>": 1}
    for t in kept:
        vocab[t] = 2 + sum((counts[u], t) > (counts[t], u) for u in kept)   # higher count, or tie and smaller
    return vocab


def vocab_mistakes(tokens, min_count):
    counts = Counter(tokens)
    by = sorted(counts, key=lambda t: (-counts[t], t))
    def numbered(words, start=2, specials=True):
        base = {"<pad>": 0, "<unk>": 1} if specials else {}
        return {**base, **{w: start + i for i, w in enumerate(words)}}
    return {
        "'<pad>' and '<unk>' are left out": numbered([w for w in by if counts[w] >= min_count], 0, False),
        "tokens seen exactly min_count times are dropped (> instead of >=)":
            numbered([w for w in by if counts[w] > min_count]),
        "min_count is ignored": numbered(by),
        "ties are left in the order of the text, not alphabetical":
            numbered(sorted([w for w in dict.fromkeys(tokens) if counts[w] >= min_count],
                            key=lambda w: -counts[w])),
        "the least frequent tokens come first":
            numbered(sorted([w for w in by if counts[w] >= min_count], key=lambda w: (counts[w], w))),
    }


def random_tokens(n, types, seed):
    g = torch.Generator().manual_seed(seed)
    words = ["w" + "".join(chr(97 + int(c)) for c in torch.randint(26, (3,), generator=g))
             for _ in range(types)]
    zipf = 1 / torch.arange(1, types + 1).double()
    return [words[i] for i in torch.multinomial(zipf, n, replacement=True, generator=g).tolist()]


@check("build_word_vocab", points=1)
def test_vocab_order_and_specials(student):
    """<pad> = 0, <unk> = 1, then by decreasing count, ties alphabetical (three random texts)"""
    for seed, n, types in ((1, 300, 40), (2, 50, 30), (3, 1000, 8)):
        tokens = random_tokens(n, types, seed)
        expect_equal(student.build_word_vocab(tokens), ref_vocab(tokens, 1),
                     f"the vocabulary of a {n}-token text", likely=vocab_mistakes(tokens, 1))


@check("build_word_vocab", points=1)
def test_vocab_min_count(student):
    """min_count keeps exactly the tokens seen at least min_count times"""
    tokens = random_tokens(400, 60, 4)
    for m in (2, 3, 7):
        expect_equal(student.build_word_vocab(tokens, min_count=m), ref_vocab(tokens, m),
                     f"the vocabulary with min_count={m}", likely=vocab_mistakes(tokens, m))


@check("build_word_vocab", points=1)
def test_vocab_independent_of_order(student):
    """the vocabulary depends on the counts only, not on the order of the tokens"""
    tokens = "b a c a b c d d e".split()          # a, b, c, d seen twice, e once
    want = {"<pad>": 0, "<unk>": 1, "a": 2, "b": 3, "c": 4, "d": 5, "e": 6}
    for order in (tokens, tokens[::-1]):
        expect_equal(student.build_word_vocab(order), want, f"the vocabulary of {' '.join(order)!r}",
                     likely=vocab_mistakes(order, 1))


# ---- skipgram_pairs ----

def ref_pairs(ids, window):
    ids = ids.tolist()
    return sorted((ids[t], ids[s]) for t in range(len(ids)) for s in range(len(ids))
                  if 1 <= abs(s - t) <= window)


def pairs_of(result, what):
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        raise AssertionError(f"{what} should return (centers, contexts)")
    centers, contexts = (expect_tensor(r, f"{what}: {n}") for r, n in zip(result, ("centers", "contexts")))
    if centers.dim() != 1 or centers.shape != contexts.shape:
        raise AssertionError(f"{what}: centers and contexts should be 1-D and of the same length, "
                             f"got {tuple(centers.shape)} and {tuple(contexts.shape)}")
    return sorted(zip(centers.tolist(), contexts.tolist()))


def pairs_mistakes(ids, window):
    n = len(ids)
    il = ids.tolist()
    return {
        "the word is paired with itself (offset 0 included)":
            sorted(ref_pairs(ids, window) + [(i, i) for i in il]),
        "the window is one too small (range(1, window))": ref_pairs(ids, window - 1),
        "the window is one too large": ref_pairs(ids, window + 1),
        "only contexts to the right are paired":
            sorted((il[t], il[t + j]) for j in range(1, window + 1) for t in range(n - j)),
        "the text wraps around at its ends (torch.roll)":
            sorted((il[t], il[(t + j) % n]) for j in [*range(-window, 0), *range(1, window + 1)]
                   for t in range(n)),
    }


@check("skipgram_pairs", points=1)
def test_pairs_small(student):
    """all pairs within the window, both directions, on distinct ids (windows 1, 2, 3)"""
    ids = torch.arange(20, 27)
    for window in (1, 2, 3):
        expect_equal(pairs_of(student.skipgram_pairs(ids, window), "skipgram_pairs"),
                     ref_pairs(ids, window), f"the pairs of 7 ids with window {window}",
                     likely=pairs_mistakes(ids, window))


@check("skipgram_pairs", points=1)
def test_pairs_random(student):
    """repeated ids and longer texts: the pairs counted with multiplicity"""
    for n, window in ((30, 2), (57, 4), (12, 5)):
        ids = torch.randint(6, (n,))
        expect_equal(pairs_of(student.skipgram_pairs(ids, window), "skipgram_pairs"),
                     ref_pairs(ids, window), f"the pairs of {n} random ids with window {window}",
                     likely=pairs_mistakes(ids, window))


@check("skipgram_pairs", points=1)
def test_pairs_window_longer_than_text(student):
    """a window as long as the text or longer pairs every two positions, nothing more"""
    for n, window in ((4, 4), (3, 6)):
        ids = torch.arange(n) + 5
        expect_equal(pairs_of(student.skipgram_pairs(ids, window), "skipgram_pairs"),
                     ref_pairs(ids, window), f"the pairs of {n} ids with window {window}",
                     likely=pairs_mistakes(ids, window))


# ---- negative_sampling_loss ----

def sgns_terms(vin, vout, centers, contexts):
    """-log sigma(u_o . v_c) per pair and -log sigma(-u_w . v_c) for every pair and word w (float64)."""
    v = vin.double()[centers]
    pos = -F.logsigmoid((v * vout.double()[contexts]).sum(1))                  # (N,)
    neg = -F.logsigmoid(-(v @ vout.double().T))                                # (N, V)
    return pos, neg


def expected_loss(vin, vout, centers, contexts, noise, k):
    """The loss's expectation over the negatives: mean(pos + k * sum_w P(w) neg_w)."""
    pos, neg = sgns_terms(vin, vout, centers, contexts)
    return (pos + k * (neg @ noise.double())).mean()


def one_word_noise(V, w):
    noise = torch.zeros(V)
    noise[w] = 1.0
    return noise


def sgns_mistakes(vin, vout, centers, contexts, noise, k):
    pos, neg = sgns_terms(vin, vout, centers, contexts)
    nd = noise.double()
    uniform = torch.full_like(nd, 1 / len(nd))
    wrong_sign = -F.logsigmoid(vin.double()[centers] @ vout.double().T)
    return {
        "the negatives' term has the wrong sign (log sigma(u_w . v_c) instead of log sigma(-u_w . v_c))":
            (pos + k * (wrong_sign @ nd)).mean(),
        "the negatives' term is left out": pos.mean(),
        "the positive term is left out": (k * (neg @ nd)).mean(),
        "the loss is summed over pairs instead of averaged": (pos + k * (neg @ nd)).sum(),
        "the negatives are drawn uniformly instead of from noise": (pos + k * (neg @ uniform)).mean(),
        "only one negative is drawn per pair instead of k": (pos + neg @ nd).mean(),
        "the contexts' vectors come from in_vectors (one table instead of two)":
            (sgns_terms(vin, vin, centers, contexts)[0] + k * (sgns_terms(vin, vout, centers, contexts)[1] @ nd)).mean(),
        "centers and contexts are swapped":
            (sgns_terms(vin, vout, contexts, centers)[0] + k * (sgns_terms(vin, vout, contexts, centers)[1] @ nd)).mean(),
    }


def sgns_case(V, D, N, scale=0.7):
    return (scale * torch.randn(V, D), scale * torch.randn(V, D), torch.randint(V, (N,)),
            torch.randint(V, (N,)))


@check("negative_sampling_loss", points=1)
def test_sgns_fixed_negative(student):
    """with all the noise on one word (negatives known), the loss is exact (three sizes)"""
    for V, D, N, k in ((6, 3, 5, 2), (9, 4, 8, 5), (4, 2, 1, 1)):
        vin, vout, centers, contexts = sgns_case(V, D, N)
        noise = one_word_noise(V, V - 2)
        loss = student.negative_sampling_loss(vin, vout, centers, contexts, noise, k,
                                              torch.Generator().manual_seed(V))
        expect_shape(loss, (), "the loss", hint="a scalar: the mean over pairs")
        expect_close(loss, expected_loss(vin, vout, centers, contexts, noise, k),
                     f"the loss with V={V}, N={N}, k={k}",
                     likely=sgns_mistakes(vin, vout, centers, contexts, noise, k))


@check("negative_sampling_loss", points=1)
def test_sgns_gradients(student):
    """gradients reach both tables, as autograd says (noise on one word)"""
    vin, vout, centers, contexts = sgns_case(7, 3, 6)
    noise = one_word_noise(7, 3)
    got = student.grad(student.negative_sampling_loss, vin, vout, centers, contexts, noise, 3,
                       torch.Generator().manual_seed(0))
    a, b = vin.clone().requires_grad_(True), vout.clone().requires_grad_(True)
    expected_loss(a, b, centers, contexts, noise, 3).backward()
    for name, g, want in (("in_vectors", got.arg_grads[0], a.grad), ("out_vectors", got.arg_grads[1], b.grad)):
        if g is None:
            raise AssertionError(f"no gradient reached {name}: keep the loss in PyTorch")
        expect_close(g, want.float(), f"the gradient with respect to {name}")


@check("negative_sampling_loss", points=1)
def test_sgns_distribution(student):
    """the negatives follow the noise distribution, drawn independently for every pair"""
    # k = 20,000 draws per pair: the sampled sum is within 1.5% of its expectation (over 5
    # standard errors); drawing uniformly, once, or with the wrong sign moves it by far more.
    V, k = 6, 20_000
    vin, vout, centers, contexts = sgns_case(V, 3, 4, scale=1.2)
    noise = torch.tensor([0.4, 0.05, 0.3, 0.05, 0.15, 0.05])
    loss = student.negative_sampling_loss(vin, vout, centers, contexts, noise, k,
                                          torch.Generator().manual_seed(21))
    expect_close(loss, expected_loss(vin, vout, centers, contexts, noise, k).float(),
                 "the loss with 20,000 negatives per pair", atol=0, rtol=0.015,
                 likely=sgns_mistakes(vin, vout, centers, contexts, noise, k))
    # Independence: two noise words, one scoring high against every center, one low. Drawn
    # per pair, the mean over N = 400 pairs varies little between generators (its standard
    # deviation is exact below); one draw shared by the batch makes it jump between two values
    # about sqrt(N) = 20 times farther apart.
    N, D = 400, 3
    vin = torch.zeros(2, D)
    vin[0, 0] = 1.0
    vout = torch.zeros(2, D)
    vout[0, 0], vout[1, 0] = 4.0, -4.0
    centers, contexts = torch.zeros(N, dtype=torch.long), torch.ones(N, dtype=torch.long)
    noise = torch.tensor([0.5, 0.5])
    losses = torch.stack([student.negative_sampling_loss(vin, vout, centers, contexts, noise, 1,
                                                         torch.Generator().manual_seed(100 + s))
                          for s in range(30)])
    neg = -F.logsigmoid(-torch.tensor([4.0, -4.0]).double())          # the two negatives' terms
    independent_sd = ((neg[0] - neg[1]).abs() / 2 / math.sqrt(N)).item()
    if losses.double().std().item() > 3 * independent_sd:
        raise AssertionError("the loss varies between generators as if one set of negatives were "
                             "shared by the whole batch: draw k negatives for every pair (N * k draws)")


@check("negative_sampling_loss", points=1)
def test_sgns_uses_generator(student):
    """the negatives come from the generator argument: the same state gives the same loss"""
    vin, vout, centers, contexts = sgns_case(50, 4, 30)
    noise = torch.softmax(torch.randn(50), 0)
    student.seed(1)
    a = student.negative_sampling_loss(vin, vout, centers, contexts, noise, 5, torch.Generator().manual_seed(3))
    student.seed(2)              # a different global seed must not matter
    b = student.negative_sampling_loss(vin, vout, centers, contexts, noise, 5, torch.Generator().manual_seed(3))
    expect_tensor(a, "the loss")
    if not torch.equal(a, b):
        raise AssertionError("two calls with generators in the same state gave different losses: "
                             "draw the negatives with generator=generator, not the global random state")
    c = student.negative_sampling_loss(vin, vout, centers, contexts, noise, 5, torch.Generator().manual_seed(4))
    if torch.equal(a, c):
        raise AssertionError("generators with different seeds gave the same loss: are the negatives drawn?")


# ---- cosine_similarity_matrix ----

def ref_cosine(A, B):
    return F.cosine_similarity(A.double().unsqueeze(1), B.double().unsqueeze(0), dim=-1, eps=1e-8)


def cosine_mistakes(A, B):
    a, b = A.double(), B.double()
    an, bn = a / a.norm(dim=1, keepdim=True), b / b.norm(dim=1, keepdim=True)
    return {"only the dot product is taken (no division by the norms)": a @ b.T,
            "only A's rows are normalised": an @ b.T,
            "only B's rows are normalised": a @ bn.T,
            "it is the cosine distance 1 - cos": 1 - an @ bn.T,
            "the norms are taken over the wrong axis (columns)":
                (a / a.norm(dim=0, keepdim=True)) @ (b / b.norm(dim=0, keepdim=True)).T}


@check("cosine_similarity_matrix", points=1)
def test_cosine_matches_torch(student):
    """cosine_similarity_matrix equals F.cosine_similarity of every pair of rows (three sizes)"""
    for n, m, D in ((3, 5, 4), (6, 2, 7), (1, 1, 3)):
        A, B = torch.randn(n, D) * 3, torch.randn(m, D)
        expect_close(student.cosine_similarity_matrix(A, B), ref_cosine(A, B),
                     f"the ({n}, {m}) similarity matrix", likely=cosine_mistakes(A, B))


@check("cosine_similarity_matrix", points=1)
def test_cosine_scale_invariant_and_bounded(student):
    """scaling a row changes nothing; a row with itself gives 1, with its negative -1"""
    A = torch.randn(4, 5)
    scaled = A * torch.tensor([[0.01], [100.0], [3.0], [1.0]])
    expect_close(student.cosine_similarity_matrix(scaled, torch.cat([A, -A])),
                 ref_cosine(scaled, torch.cat([A, -A])),
                 "the similarities of scaled rows with the rows and their negatives",
                 likely=cosine_mistakes(scaled, torch.cat([A, -A])))


@check("cosine_similarity_matrix", points=1)
def test_cosine_zero_rows(student):
    """a zero row gives similarity 0 (the norm is clamped at 1e-8), never NaN"""
    A = torch.cat([torch.zeros(1, 3), torch.randn(2, 3)])
    B = torch.cat([torch.randn(2, 3), torch.zeros(1, 3)])
    expect_close(student.cosine_similarity_matrix(A, B), ref_cosine(A, B),
                 "the similarities with zero rows")


# ---- nearest_neighbors ----

def ref_neighbours(vectors, index, k):
    """Brute force: every other row's cosine with row ``index``, sorted."""
    sims = ref_cosine(vectors[index:index + 1], vectors)[0]
    order = sorted((i for i in range(len(vectors)) if i != index), key=lambda i: -sims[i].item())
    return order[:k]


def neighbour_mistakes(vectors, index, k):
    sims = ref_cosine(vectors[index:index + 1], vectors)[0]
    dots = (vectors.double() @ vectors[index].double())
    by_sim = sorted(range(len(vectors)), key=lambda i: -sims[i].item())
    others = [i for i in by_sim if i != index]
    return {"the word itself is included": by_sim[:k],
            "the word itself is kept and k + 1 indices are returned": by_sim[:k + 1],
            "the least similar words are returned": others[::-1][:k],
            "the rows are ranked by dot product, not cosine":
                [i for i in sorted(range(len(vectors)), key=lambda i: -dots[i].item()) if i != index][:k],
            "k + 1 neighbours are returned": others[:k + 1],
            "k - 1 neighbours are returned": others[:k - 1]}


def spread_vectors(V, D):
    """Random directions with very different lengths, so dot product and cosine disagree."""
    return torch.randn(V, D) * torch.logspace(-1, 1, V)[torch.randperm(V)].unsqueeze(1)


def cosine_stub(A, B):
    return ref_cosine(A, B).to(A.dtype)


@check("nearest_neighbors", points=2)
def test_neighbours_brute_force(student):
    """the k most cosine-similar rows, best first, the query excluded (several sizes)"""
    for V, D, index, k in ((12, 4, 3, 4), (30, 6, 0, 5), (8, 3, 7, 1), (20, 5, 11, 19)):
        vectors = spread_vectors(V, D)
        with student.stub("cosine_similarity_matrix", cosine_stub):
            got = id_list(student.nearest_neighbors(vectors, index, k), "nearest_neighbors")
        expect_equal(got, ref_neighbours(vectors, index, k),
                     f"the {k} nearest neighbours of row {index} of {V}",
                     likely=neighbour_mistakes(vectors, index, k))


@check("nearest_neighbors", points=1)
def test_neighbours_with_own_cosine(student):
    """nearest_neighbors with your own cosine_similarity_matrix"""
    vectors = spread_vectors(15, 4)
    got = id_list(student.nearest_neighbors(vectors, 6, 3), "nearest_neighbors")
    expect_equal(got, ref_neighbours(vectors, 6, 3), "the 3 nearest neighbours of row 6",
                 likely=neighbour_mistakes(vectors, 6, 3))


# ---- analogy ----

def ref_analogy(vectors, a, b, c, k):
    """3CosAdd by brute force in float64."""
    v = vectors.double()
    unit = [v[i] / v[i].norm() for i in (a, b, c)]
    target = unit[1] - unit[0] + unit[2]
    scores = {i: (target @ v[i] / (target.norm() * v[i].norm())).item()
              for i in range(len(v)) if i not in (a, b, c)}
    return sorted(scores, key=lambda i: -scores[i])[:k]


def analogy_mistakes(vectors, a, b, c, k):
    v = vectors.double()
    unit = v / v.norm(dim=1, keepdim=True)

    def ranked(target, exclude=(a, b, c), cosine=True):
        scores = (unit if cosine else v) @ target
        return [i for i in scores.argsort(descending=True).tolist() if i not in exclude][:k]

    return {"the question words a, b, c are not excluded": ranked(unit[b] - unit[a] + unit[c], ()),
            "the direction is a - b + c instead of b - a + c": ranked(unit[a] - unit[b] + unit[c]),
            "the vectors are not scaled to unit length before the arithmetic":
                ranked(v[b] - v[a] + v[c]),
            "the candidates are ranked by dot product, not cosine":
                ranked(unit[b] - unit[a] + unit[c], cosine=False),
            "the least similar words are returned":
                [i for i in (unit @ (unit[b] - unit[a] + unit[c])).argsort().tolist()
                 if i not in (a, b, c)][:k]}


@check("analogy", points=2)
def test_analogy_brute_force(student):
    """the k words closest to unit(b) - unit(a) + unit(c), a, b, c excluded (several draws)"""
    for V, D, (a, b, c), k in ((20, 3, (0, 1, 2), 3), (40, 5, (7, 3, 19), 5), (10, 2, (9, 0, 4), 1)):
        vectors = spread_vectors(V, D)
        with student.stub("cosine_similarity_matrix", cosine_stub):
            got = id_list(student.analogy(vectors, a, b, c, k=k), "analogy")
        expect_equal(got, ref_analogy(vectors, a, b, c, k),
                     f"analogy({a}, {b}, {c}) among {V} words, k={k}",
                     likely=analogy_mistakes(vectors, a, b, c, k))


@check("analogy", points=1)
def test_analogy_planted(student):
    """a planted parallelogram: d = b - a + c is found among random words"""
    vectors = torch.randn(30, 8)
    vectors[[1, 2, 3]] = F.normalize(vectors[[1, 2, 3]], dim=1)
    vectors[4] = vectors[2] - vectors[1] + vectors[3]           # 1 : 2 :: 3 : 4
    got = id_list(student.analogy(vectors, 1, 2, 3, k=1), "analogy")
    expect_equal(got, ref_analogy(vectors, 1, 2, 3, 1), "the answer to a planted analogy",
                 likely=analogy_mistakes(vectors, 1, 2, 3, 1))


# ---- learn_bpe ----

def spaced(word, marker="</w>"):
    """'low' -> 'l o w</w>': the symbols a word starts as, separated by spaces."""
    return " ".join(word[:-1]) + (" " if len(word) > 1 else "") + word[-1] + marker


def ref_learn_bpe(word_counts, num_merges, pick=min, marker="</w>", count=0):
    """A second implementation: each word a string of space-separated symbols, merges by regex.

    ``pick``, ``marker`` and ``count`` (regex replacements per word, 0 = all) exist only to
    reproduce known mistakes.
    """
    vocab = {}
    for w, n in word_counts.items():
        vocab[spaced(w, marker)] = vocab.get(spaced(w, marker), 0) + n
    merges = []
    for _ in range(num_merges):
        pairs = Counter()
        for word, n in vocab.items():
            symbols = word.split(" ")
            for i in range(len(symbols) - 1):
                pairs[symbols[i], symbols[i + 1]] += n
        if not pairs:
            break
        top = max(pairs.values())
        best = pick(p for p, n in pairs.items() if n == top)
        merges.append(best)
        pattern = re.compile(r"(?<!\S)" + re.escape(" ".join(best)) + r"(?!\S)")
        merged = {}
        for w, n in vocab.items():
            w = pattern.sub("".join(best), w, count=count)
            merged[w] = merged.get(w, 0) + n
        vocab = merged
    return merges


def bpe_corpus(seed, types, max_len=7, alphabet="abcde"):
    g = torch.Generator().manual_seed(seed)
    words = {}
    for _ in range(types):
        n = int(torch.randint(1, max_len + 1, (1,), generator=g))
        w = "".join(alphabet[int(i)] for i in torch.randint(len(alphabet), (n,), generator=g))
        words[w] = words.get(w, 0) + int(torch.randint(1, 20, (1,), generator=g))
    return words


def as_pairs(result, what):
    if not isinstance(result, (list, tuple)) or not all(
            isinstance(m, (list, tuple)) and len(m) == 2 and all(isinstance(s, str) for s in m)
            for m in result):
        raise AssertionError(f"{what} should be a list of (left, right) pairs of strings")
    return [tuple(m) for m in result]


def bpe_mistakes(word_counts, num_merges):
    return {"each word is counted once instead of with its count":
                ref_learn_bpe(dict.fromkeys(word_counts, 1), num_merges),
            "ties go to the largest pair instead of the smallest":
                ref_learn_bpe(word_counts, num_merges, pick=max),
            "the last character does not carry </w>":
                ref_learn_bpe(word_counts, num_merges, marker=""),
            "only the first occurrence of the pair in a word is merged":
                ref_learn_bpe(word_counts, num_merges, count=1),
            "one merge too few is returned": ref_learn_bpe(word_counts, num_merges - 1),
            "one merge too many is returned": ref_learn_bpe(word_counts, num_merges + 1)}


@check("learn_bpe", points=2)
def test_learn_bpe_random_corpora(student):
    """the same merges as an independent implementation, on three random word lists"""
    for seed, types, num_merges in ((1, 40, 25), (2, 15, 40), (3, 80, 12)):
        counts = bpe_corpus(seed, types)
        got = as_pairs(student.learn_bpe(counts, num_merges), "learn_bpe's result")
        expect_equal(got, ref_learn_bpe(counts, num_merges),
                     f"the {num_merges} merges of random word list {seed}",
                     likely=bpe_mistakes(counts, num_merges))


@check("learn_bpe", points=1)
def test_learn_bpe_ties_and_repeats(student):
    """ties go to the smallest pair; 'aaaa' merges non-overlapping pairs left to right"""
    for counts, n in (({"aaaa": 3, "ab": 3}, 4), ({"dcba": 2, "abcd": 2}, 3), ({"aaaaa": 1}, 6)):
        got = as_pairs(student.learn_bpe(counts, n), "learn_bpe's result")
        expect_equal(got, ref_learn_bpe(counts, n), f"the merges of {counts}",
                     likely=bpe_mistakes(counts, n))


@check("learn_bpe", points=1)
def test_learn_bpe_end_of_word(student):
    """the last character carries </w>, so a suffix and the same letters inside a word differ"""
    counts = {"ses": 5, "sets": 4, "es": 3}
    got = as_pairs(student.learn_bpe(counts, 6), "learn_bpe's result")
    expect_equal(got, ref_learn_bpe(counts, 6), "the merges of {'ses': 5, 'sets': 4, 'es': 3}",
                 likely=bpe_mistakes(counts, 6))


# ---- bpe_encode ----

def ref_bpe_encode(word, merges, marker="</w>"):
    """Merges applied one after the other, in learned order, each to every occurrence."""
    symbols = spaced(word, marker)
    for left, right in merges:
        symbols = re.sub(r"(?<!\S)" + re.escape(left + " " + right) + r"(?!\S)", left + right, symbols)
    return symbols.split(" ")


def encode_mistakes(word, merges):
    return {"the merges are applied in reverse order": ref_bpe_encode(word, merges[::-1]),
            "no </w> marks the end of the word": ref_bpe_encode(word, merges, marker=""),
            "the word is left as characters": ref_bpe_encode(word, [])}


def as_tokens(result, what):
    if not isinstance(result, (list, tuple)) or not all(isinstance(s, str) for s in result):
        raise AssertionError(f"{what} should be a list of strings")
    return list(result)


@check("bpe_encode", points=2)
def test_bpe_encode_learned_merges(student):
    """words segmented as an independent implementation does, with merges learned on random words"""
    for seed in (4, 5, 6):
        counts = bpe_corpus(seed, 50)
        merges = ref_learn_bpe(counts, 30)
        for word in [*list(counts)[:8], "abcabc", "eeee", "dab"]:
            got = as_tokens(student.bpe_encode(word, merges), f"bpe_encode({word!r})")
            expect_equal(got, ref_bpe_encode(word, merges), f"bpe_encode({word!r})",
                         likely=encode_mistakes(word, merges))


@check("bpe_encode", points=1)
def test_bpe_encode_order_and_unknown(student):
    """merges in learned order; unknown characters stay single symbols; one-letter words"""
    cases = [("lest", [("s", "t</w>"), ("e", "s")]), ("aaaa", [("a", "a"), ("aa", "a"), ("a", "a</w>")]),
             ("q", [("a", "b")]), ("xaby", [("a", "b"), ("x", "ab")])]
    for word, merges in cases:
        got = as_tokens(student.bpe_encode(word, merges), f"bpe_encode({word!r})")
        expect_equal(got, ref_bpe_encode(word, merges), f"bpe_encode({word!r}, {merges})",
                     likely=encode_mistakes(word, merges))


# ---- embedding_param_count ----

def ref_param_count(V, D, with_output, tied):
    """Count the distinct parameters of real modules (a tied weight counted once)."""
    emb, out = torch.nn.Embedding(V, D), torch.nn.Linear(D, V)
    if tied:
        out.weight = emb.weight
    params = {id(p): p for p in emb.parameters()}
    if with_output:
        params.update({id(p): p for p in out.parameters()})
    return sum(p.numel() for p in params.values())


@check("embedding_param_count", points=2)
def test_param_count_modules(student):
    """the parameter count equals that of nn.Embedding (+ nn.Linear, tied or not) for several sizes"""
    for V, D in ((50, 8), (1234, 17), (7, 300), (33_278, 200)):
        for with_output, tied in ((False, False), (True, False), (True, True)):
            got = student.embedding_param_count(V, D, with_output=with_output, tied=tied)
            want = ref_param_count(V, D, with_output, tied)
            if isinstance(got, float) and got.is_integer():
                got = int(got)
            expect_equal(got, want, f"embedding_param_count({V}, {D}, with_output={with_output}, "
                         f"tied={tied})", likely={
                             "the output layer's bias is left out":
                                 want - (V if with_output else 0),
                             "the tied weight is counted twice": want + (V * D if tied else 0),
                             "the output layer is left out": V * D,
                             "a row for padding is added ((V + 1) x D)": want + D,
                         })
