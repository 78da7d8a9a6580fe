"""Answers to notebook 06's exercises: mistakes students make, shortcuts the grader forbids, and
correct rewrites."""
from grader.variants import Variant

VARIANTS = [
    # ---- embedding_lookup ----
    Variant("embedding_lookup", "wrong", "ids shifted by one row", '''
def embedding_lookup(ids, weight):
    return weight[ids - 1]
'''),
    Variant("embedding_lookup", "wrong", "flattens the ids and loses their shape", '''
def embedding_lookup(ids, weight):
    return weight[ids.flatten()]
'''),
    Variant("embedding_lookup", "wrong", "detached from the table: no gradient", '''
def embedding_lookup(ids, weight):
    return weight.detach()[ids]
'''),
    Variant("embedding_lookup", "wrong", "indexes columns: weight[:, ids]", '''
def embedding_lookup(ids, weight):
    return weight[:, ids]
'''),
    Variant("embedding_lookup", "wrong", "shortcut: calls F.embedding", '''
def embedding_lookup(ids, weight):
    return F.embedding(ids, weight)
'''),
    Variant("embedding_lookup", "correct", "one-hot vectors times the table", '''
def embedding_lookup(ids, weight):
    one_hot = F.one_hot(ids, weight.shape[0]).to(weight.dtype)
    return one_hot @ weight
'''),
    Variant("embedding_lookup", "correct", "index_select on the flattened ids, reshaped back", '''
def embedding_lookup(ids, weight):
    rows = torch.index_select(weight, 0, ids.reshape(-1))
    return rows.reshape(*ids.shape, weight.shape[1])
'''),

    # ---- build_word_vocab ----
    Variant("build_word_vocab", "wrong", "special tokens left out", '''
def build_word_vocab(tokens, min_count=1):
    counts = Counter(tokens)
    kept = sorted((t for t, n in counts.items() if n >= min_count), key=lambda t: (-counts[t], t))
    return {t: i for i, t in enumerate(kept)}
'''),
    Variant("build_word_vocab", "wrong", "count > min_count instead of >=", '''
def build_word_vocab(tokens, min_count=1):
    counts = Counter(tokens)
    kept = sorted((t for t, n in counts.items() if n > min_count), key=lambda t: (-counts[t], t))
    return {"<pad>": 0, "<unk>": 1, **{t: i + 2 for i, t in enumerate(kept)}}
'''),
    Variant("build_word_vocab", "wrong", "ties in order of first appearance (most_common)", '''
def build_word_vocab(tokens, min_count=1):
    vocab = {"<pad>": 0, "<unk>": 1}
    for t, n in Counter(tokens).most_common():
        if n >= min_count:
            vocab[t] = len(vocab)
    return vocab
'''),
    Variant("build_word_vocab", "wrong", "alphabetical order, counts ignored", '''
def build_word_vocab(tokens, min_count=1):
    counts = Counter(tokens)
    kept = sorted(t for t, n in counts.items() if n >= min_count)
    return {"<pad>": 0, "<unk>": 1, **{t: i + 2 for i, t in enumerate(kept)}}
'''),
    Variant("build_word_vocab", "correct", "sort by count, then stable sort keeps alphabetical ties", '''
def build_word_vocab(tokens, min_count=1):
    counts = {}
    for t in tokens:
        counts[t] = counts.get(t, 0) + 1
    words = sorted(w for w in counts if counts[w] >= min_count)
    words.sort(key=lambda w: counts[w], reverse=True)          # stable: ties stay alphabetical
    vocab = dict(zip(["<pad>", "<unk>", *words], range(len(words) + 2)))
    return vocab
'''),

    # ---- skipgram_pairs ----
    Variant("skipgram_pairs", "wrong", "the word is its own context (offset 0)", '''
def skipgram_pairs(ids, window):
    centers, contexts = [], []
    for t in range(len(ids)):
        for s in range(max(0, t - window), min(len(ids), t + window + 1)):
            centers.append(ids[t])
            contexts.append(ids[s])
    return torch.stack(centers), torch.stack(contexts)
'''),
    Variant("skipgram_pairs", "wrong", "window one too small (range(1, window))", '''
def skipgram_pairs(ids, window):
    centers, contexts = [], []
    for j in range(1, window):
        centers += [ids[:-j], ids[j:]]
        contexts += [ids[j:], ids[:-j]]
    if not centers:
        return ids[:0], ids[:0]
    return torch.cat(centers), torch.cat(contexts)
'''),
    Variant("skipgram_pairs", "wrong", "only contexts to the right", '''
def skipgram_pairs(ids, window):
    centers, contexts = [], []
    for j in range(1, window + 1):
        centers.append(ids[:-j])
        contexts.append(ids[j:])
    return torch.cat(centers), torch.cat(contexts)
'''),
    Variant("skipgram_pairs", "wrong", "wraps around the ends with torch.roll", '''
def skipgram_pairs(ids, window):
    centers, contexts = [], []
    for j in [*range(-window, 0), *range(1, window + 1)]:
        centers.append(ids)
        contexts.append(torch.roll(ids, -j))
    return torch.cat(centers), torch.cat(contexts)
'''),
    Variant("skipgram_pairs", "correct", "a double loop over positions, returned as lists", '''
def skipgram_pairs(ids, window):
    n = len(ids)
    pairs = [(ids[t].item(), ids[s].item()) for t in range(n)
             for s in range(max(0, t - window), min(n, t + window + 1)) if s != t]
    centers = torch.tensor([c for c, _ in pairs], dtype=torch.long)
    contexts = torch.tensor([o for _, o in pairs], dtype=torch.long)
    return centers, contexts
'''),

    # ---- negative_sampling_loss ----
    Variant("negative_sampling_loss", "wrong", "wrong sign on the negatives' score", '''
def negative_sampling_loss(in_vectors, out_vectors, centers, contexts, noise, k, generator):
    N = centers.shape[0]
    neg = torch.multinomial(noise, N * k, replacement=True, generator=generator).view(N, k)
    v = in_vectors[centers]
    pos = F.logsigmoid((v * out_vectors[contexts]).sum(-1))
    negative = F.logsigmoid(torch.einsum("nkd,nd->nk", out_vectors[neg], v)).sum(-1)
    return -(pos + negative).mean()
'''),
    Variant("negative_sampling_loss", "wrong", "summed over pairs instead of averaged", '''
def negative_sampling_loss(in_vectors, out_vectors, centers, contexts, noise, k, generator):
    N = centers.shape[0]
    neg = torch.multinomial(noise, N * k, replacement=True, generator=generator).view(N, k)
    v = in_vectors[centers]
    pos = F.logsigmoid((v * out_vectors[contexts]).sum(-1))
    negative = F.logsigmoid(-torch.einsum("nkd,nd->nk", out_vectors[neg], v)).sum(-1)
    return -(pos + negative).sum()
'''),
    Variant("negative_sampling_loss", "wrong", "negatives drawn uniformly, noise ignored", '''
def negative_sampling_loss(in_vectors, out_vectors, centers, contexts, noise, k, generator):
    N = centers.shape[0]
    neg = torch.randint(len(noise), (N, k), generator=generator)
    v = in_vectors[centers]
    pos = F.logsigmoid((v * out_vectors[contexts]).sum(-1))
    negative = F.logsigmoid(-torch.einsum("nkd,nd->nk", out_vectors[neg], v)).sum(-1)
    return -(pos + negative).mean()
'''),
    Variant("negative_sampling_loss", "wrong", "global random state instead of the generator", '''
def negative_sampling_loss(in_vectors, out_vectors, centers, contexts, noise, k, generator):
    N = centers.shape[0]
    neg = torch.multinomial(noise, N * k, replacement=True).view(N, k)
    v = in_vectors[centers]
    pos = F.logsigmoid((v * out_vectors[contexts]).sum(-1))
    negative = F.logsigmoid(-torch.einsum("nkd,nd->nk", out_vectors[neg], v)).sum(-1)
    return -(pos + negative).mean()
'''),
    Variant("negative_sampling_loss", "wrong", "one table for centers and contexts", '''
def negative_sampling_loss(in_vectors, out_vectors, centers, contexts, noise, k, generator):
    N = centers.shape[0]
    neg = torch.multinomial(noise, N * k, replacement=True, generator=generator).view(N, k)
    v = in_vectors[centers]
    pos = F.logsigmoid((v * in_vectors[contexts]).sum(-1))
    negative = F.logsigmoid(-torch.einsum("nkd,nd->nk", out_vectors[neg], v)).sum(-1)
    return -(pos + negative).mean()
'''),
    Variant("negative_sampling_loss", "wrong", "one set of k negatives shared by the whole batch", '''
def negative_sampling_loss(in_vectors, out_vectors, centers, contexts, noise, k, generator):
    neg = torch.multinomial(noise, k, replacement=True, generator=generator)        # (k,)
    v = in_vectors[centers]
    pos = F.logsigmoid((v * out_vectors[contexts]).sum(-1))
    negative = F.logsigmoid(-(v @ out_vectors[neg].T)).sum(-1)
    return -(pos + negative).mean()
'''),
    Variant("negative_sampling_loss", "correct", "sigmoid and log written out, a loop over k", '''
def negative_sampling_loss(in_vectors, out_vectors, centers, contexts, noise, k, generator):
    v = in_vectors[centers]
    loss = -torch.log(torch.sigmoid((v * out_vectors[contexts]).sum(dim=1)))
    draws = torch.multinomial(noise.double(), len(centers) * k, replacement=True,
                              generator=generator).reshape(len(centers), k)
    for i in range(k):
        u = out_vectors[draws[:, i]]
        loss = loss - torch.log(torch.sigmoid(-(u * v).sum(dim=1)))
    return loss.mean()
'''),

    # ---- cosine_similarity_matrix ----
    Variant("cosine_similarity_matrix", "wrong", "dot product, no normalisation", '''
def cosine_similarity_matrix(A, B):
    return A @ B.T
'''),
    Variant("cosine_similarity_matrix", "wrong", "only A normalised", '''
def cosine_similarity_matrix(A, B):
    return (A / A.norm(dim=1, keepdim=True).clamp(min=1e-8)) @ B.T
'''),
    Variant("cosine_similarity_matrix", "wrong", "norms over the wrong axis", '''
def cosine_similarity_matrix(A, B):
    A = A / A.norm(dim=0, keepdim=True).clamp(min=1e-8)
    B = B / B.norm(dim=0, keepdim=True).clamp(min=1e-8)
    return A @ B.T
'''),
    Variant("cosine_similarity_matrix", "wrong", "no clamp: NaN for a zero row", '''
def cosine_similarity_matrix(A, B):
    return (A @ B.T) / (A.norm(dim=1, keepdim=True) * B.norm(dim=1))
'''),
    Variant("cosine_similarity_matrix", "wrong", "shortcut: F.cosine_similarity with broadcasting", '''
def cosine_similarity_matrix(A, B):
    return F.cosine_similarity(A.unsqueeze(1), B.unsqueeze(0), dim=-1)
'''),
    Variant("cosine_similarity_matrix", "correct", "einsum over normalised rows", '''
def cosine_similarity_matrix(A, B):
    a = F.normalize(A, dim=1, eps=1e-8)
    b = F.normalize(B, dim=1, eps=1e-8)
    return torch.einsum("nd,md->nm", a, b)
'''),

    # ---- nearest_neighbors ----
    Variant("nearest_neighbors", "wrong", "the word itself is kept", '''
def nearest_neighbors(vectors, index, k):
    sims = cosine_similarity_matrix(vectors[index:index + 1], vectors)[0]
    return sims.topk(k).indices
'''),
    Variant("nearest_neighbors", "wrong", "ranked by dot product", '''
def nearest_neighbors(vectors, index, k):
    sims = vectors @ vectors[index]
    sims[index] = -float("inf")
    return sims.topk(k).indices
'''),
    Variant("nearest_neighbors", "wrong", "least similar first (ascending sort)", '''
def nearest_neighbors(vectors, index, k):
    sims = cosine_similarity_matrix(vectors[index:index + 1], vectors)[0]
    order = [i for i in sims.argsort().tolist() if i != index]
    return torch.tensor(order[:k])
'''),
    Variant("nearest_neighbors", "wrong", "k + 1 results: the query is not dropped", '''
def nearest_neighbors(vectors, index, k):
    sims = cosine_similarity_matrix(vectors[index:index + 1], vectors)[0]
    return sims.topk(k + 1).indices
'''),
    Variant("nearest_neighbors", "correct", "argsort descending, self filtered, a list", '''
def nearest_neighbors(vectors, index, k):
    unit = vectors / vectors.norm(dim=1, keepdim=True)
    sims = unit @ unit[index]
    order = torch.argsort(sims, descending=True).tolist()
    return [i for i in order if i != index][:k]
'''),

    # ---- analogy ----
    Variant("analogy", "wrong", "question words not excluded", '''
def analogy(vectors, a, b, c, k=1):
    unit = vectors / vectors.norm(dim=1, keepdim=True)
    target = unit[b] - unit[a] + unit[c]
    return cosine_similarity_matrix(target.unsqueeze(0), vectors)[0].topk(k).indices
'''),
    Variant("analogy", "wrong", "a - b + c", '''
def analogy(vectors, a, b, c, k=1):
    unit = vectors / vectors.norm(dim=1, keepdim=True)
    sims = cosine_similarity_matrix((unit[a] - unit[b] + unit[c]).unsqueeze(0), vectors)[0]
    sims[[a, b, c]] = -float("inf")
    return sims.topk(k).indices
'''),
    Variant("analogy", "wrong", "raw vectors, not scaled to unit length", '''
def analogy(vectors, a, b, c, k=1):
    sims = cosine_similarity_matrix((vectors[b] - vectors[a] + vectors[c]).unsqueeze(0), vectors)[0]
    sims[[a, b, c]] = -float("inf")
    return sims.topk(k).indices
'''),
    Variant("analogy", "wrong", "candidates ranked by dot product", '''
def analogy(vectors, a, b, c, k=1):
    unit = vectors / vectors.norm(dim=1, keepdim=True)
    sims = vectors @ (unit[b] - unit[a] + unit[c])
    sims[[a, b, c]] = -float("inf")
    return sims.topk(k).indices
'''),
    Variant("analogy", "correct", "3CosAdd with F.normalize, exclusion by masking", '''
def analogy(vectors, a, b, c, k=1):
    unit = F.normalize(vectors, dim=1)
    scores = unit @ F.normalize(unit[b] - unit[a] + unit[c], dim=0)
    mask = torch.zeros_like(scores, dtype=torch.bool)
    mask[[a, b, c]] = True
    return torch.argsort(scores.masked_fill(mask, -2.0), descending=True)[:k]
'''),

    # ---- learn_bpe ----
    Variant("learn_bpe", "wrong", "each word counted once", '''
def learn_bpe(word_counts, num_merges):
    corpus = [list(end_marked(w)) for w in word_counts]
    merges = []
    for _ in range(num_merges):
        pairs = Counter(p for s in corpus for p in zip(s, s[1:]))
        if not pairs:
            break
        best = min(pairs, key=lambda p: (-pairs[p], p))
        merges.append(best)
        for s in corpus:
            i = 0
            while i < len(s) - 1:
                if (s[i], s[i + 1]) == best:
                    s[i:i + 2] = [s[i] + s[i + 1]]
                i += 1
    return merges
'''),
    Variant("learn_bpe", "wrong", "ties go to the largest pair (max)", '''
def learn_bpe(word_counts, num_merges):
    corpus = {end_marked(w): n for w, n in word_counts.items()}
    merges = []
    for _ in range(num_merges):
        pairs = Counter()
        for s, n in corpus.items():
            for p in zip(s, s[1:]):
                pairs[p] += n
        if not pairs:
            break
        best = max(pairs, key=lambda p: (pairs[p], p))
        merges.append(best)
        new = {}
        for s, n in corpus.items():
            out, i = [], 0
            while i < len(s):
                if i + 1 < len(s) and (s[i], s[i + 1]) == best:
                    out.append(s[i] + s[i + 1])
                    i += 2
                else:
                    out.append(s[i])
                    i += 1
            new[tuple(out)] = n
        corpus = new
    return merges
'''),
    Variant("learn_bpe", "wrong", "no end-of-word marker", '''
def learn_bpe(word_counts, num_merges):
    corpus = {tuple(w): n for w, n in word_counts.items()}
    merges = []
    for _ in range(num_merges):
        pairs = Counter()
        for s, n in corpus.items():
            for p in zip(s, s[1:]):
                pairs[p] += n
        if not pairs:
            break
        best = min(pairs, key=lambda p: (-pairs[p], p))
        merges.append(best)
        new = {}
        for s, n in corpus.items():
            out, i = [], 0
            while i < len(s):
                if i + 1 < len(s) and (s[i], s[i + 1]) == best:
                    out.append(s[i] + s[i + 1])
                    i += 2
                else:
                    out.append(s[i])
                    i += 1
            new[tuple(out)] = new.get(tuple(out), 0) + n
        corpus = new
    return merges
'''),
    Variant("learn_bpe", "wrong", "merges only the first occurrence in a word", '''
def learn_bpe(word_counts, num_merges):
    corpus = {end_marked(w): n for w, n in word_counts.items()}
    merges = []
    for _ in range(num_merges):
        pairs = Counter()
        for s, n in corpus.items():
            for p in zip(s, s[1:]):
                pairs[p] += n
        if not pairs:
            break
        best = min(pairs, key=lambda p: (-pairs[p], p))
        merges.append(best)
        new = {}
        for s, n in corpus.items():
            s = list(s)
            for i in range(len(s) - 1):
                if (s[i], s[i + 1]) == best:
                    s[i:i + 2] = [s[i] + s[i + 1]]
                    break
            new[tuple(s)] = new.get(tuple(s), 0) + n
        corpus = new
    return merges
'''),
    Variant("learn_bpe", "wrong", "shortcut: the tokenizers library's BPE trainer", '''
def learn_bpe(word_counts, num_merges):
    import json
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers
    alphabet = {s for w in word_counts for s in end_marked(w)}
    tok = Tokenizer(models.BPE(end_of_word_suffix="</w>"))
    tok.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    trainer = trainers.BpeTrainer(vocab_size=len(alphabet) + num_merges, show_progress=False,
                                  end_of_word_suffix="</w>")
    tok.train_from_iterator((" ".join([w] * n) for w, n in word_counts.items()), trainer)
    merges = json.loads(tok.to_str())["model"]["merges"]
    return [tuple(m.split(" ")) if isinstance(m, str) else tuple(m) for m in merges]
'''),
    Variant("learn_bpe", "correct", "space-joined strings and str.replace on padded symbols", '''
def learn_bpe(word_counts, num_merges):
    corpus = {" " + " ".join(end_marked(w)) + " ": n for w, n in word_counts.items()}
    merges = []
    for _ in range(num_merges):
        pairs = {}
        for word, n in corpus.items():
            symbols = word.split()
            for pair in zip(symbols, symbols[1:]):
                pairs[pair] = pairs.get(pair, 0) + n
        if not pairs:
            break
        best = sorted(pairs.items(), key=lambda item: (-item[1], item[0]))[0][0]
        merges.append(best)
        old, new = " " + " ".join(best) + " ", " " + "".join(best) + " "
        updated = {}
        for word, n in corpus.items():
            while old in word:                       # twice: 'a a a' overlaps itself
                word = word.replace(old, new, 1)
            updated[word] = n
        corpus = updated
    return merges
'''),

    # ---- bpe_encode ----
    Variant("bpe_encode", "wrong", "merges applied in reverse order", '''
def bpe_encode(word, merges):
    symbols = list(end_marked(word))
    for left, right in reversed(merges):
        i, out = 0, []
        while i < len(symbols):
            if i + 1 < len(symbols) and symbols[i] == left and symbols[i + 1] == right:
                out.append(left + right)
                i += 2
            else:
                out.append(symbols[i])
                i += 1
        symbols = out
    return symbols
'''),
    Variant("bpe_encode", "wrong", "no end-of-word marker", '''
def bpe_encode(word, merges):
    symbols = list(word)
    for left, right in merges:
        i, out = 0, []
        while i < len(symbols):
            if i + 1 < len(symbols) and symbols[i] == left and symbols[i + 1] == right:
                out.append(left + right)
                i += 2
            else:
                out.append(symbols[i])
                i += 1
        symbols = out
    return symbols
'''),
    Variant("bpe_encode", "wrong", "greedy longest match against the merged symbols", '''
def bpe_encode(word, merges):
    known = {l + r for l, r in merges}
    symbols, i, marked = [], 0, list(end_marked(word))
    text = "".join(marked)
    while i < len(text):
        for j in range(len(text), i, -1):
            if text[i:j] in known or j == i + 1 or text[i:j] == marked[-1]:
                symbols.append(text[i:j])
                i = j
                break
    return symbols
'''),
    Variant("bpe_encode", "correct", "merges applied in order with a regex on a spaced string", '''
def bpe_encode(word, merges):
    import re
    text = " ".join(end_marked(word))
    for left, right in merges:
        text = re.sub(r"(?<!\\S)" + re.escape(left) + " " + re.escape(right) + r"(?!\\S)", left + right, text)
    return text.split(" ")
'''),

    # ---- embedding_param_count ----
    Variant("embedding_param_count", "wrong", "output bias left out", '''
def embedding_param_count(vocab_size, embedding_dim, with_output=False, tied=False):
    count = vocab_size * embedding_dim
    if with_output and not tied:
        count += vocab_size * embedding_dim
    return count
'''),
    Variant("embedding_param_count", "wrong", "tied weight counted twice", '''
def embedding_param_count(vocab_size, embedding_dim, with_output=False, tied=False):
    count = vocab_size * embedding_dim
    if with_output:
        count += vocab_size * embedding_dim + vocab_size
    return count
'''),
    Variant("embedding_param_count", "wrong", "an extra row for padding", '''
def embedding_param_count(vocab_size, embedding_dim, with_output=False, tied=False):
    count = (vocab_size + 1) * embedding_dim
    if with_output:
        count += vocab_size + (0 if tied else vocab_size * embedding_dim)
    return count
'''),
    Variant("embedding_param_count", "correct", "count the parameters of real modules", '''
def embedding_param_count(vocab_size, embedding_dim, with_output=False, tied=False):
    modules = [nn.Embedding(vocab_size, embedding_dim)]
    if with_output:
        out = nn.Linear(embedding_dim, vocab_size)
        if tied:
            out.weight = modules[0].weight
        modules.append(out)
    unique = {id(p): p for m in modules for p in m.parameters()}
    return sum(p.numel() for p in unique.values())
'''),
]
