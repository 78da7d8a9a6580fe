"""Tokenization plumbing for notebook 06: Kiwi morphemes, syllables, BPE's start symbols, the table.

None of it is an exercise: the notebook's own ``build_word_vocab``, ``learn_bpe`` and
``bpe_encode`` produce the tokens, and these helpers only cut or measure them.
"""
import unicodedata
from functools import lru_cache


@lru_cache(maxsize=1)
def kiwi():
    """One Kiwi morphological analyser (kiwipiepy, its model from the kiwipiepy-model wheel)."""
    from kiwipiepy import Kiwi

    return Kiwi(num_workers=-1)      # -1: analyse in this thread only


def morphemes(text: str) -> list[str]:
    """The morphemes (형태소) of every line of ``text``, by Kiwi, as surface forms."""
    return [tok.form for line in text.splitlines() if line.strip() for tok in kiwi().tokenize(line)]


def syllables(text: str) -> list[str]:
    """Every character but whitespace: for Hangul text, one token per syllable block (음절)."""
    return [ch for ch in text if not ch.isspace()]


def end_marked(word: str) -> tuple[str, ...]:
    """A word as BPE's starting symbols: its characters, the last one carrying ``</w>``."""
    return (*word[:-1], word[-1] + "</w>")


def oov_rate(tokens: list[str], vocab) -> float:
    """Fraction of ``tokens`` not in ``vocab`` (each would become ``<unk>``)."""
    return sum(t not in vocab for t in tokens) / max(len(tokens), 1)


def table_row(scheme: str, vocab_size: int, params: int, oov: float, tokens_per_word: float) -> dict:
    return {"scheme": scheme, "vocabulary": vocab_size, "embedding parameters": params,
            "OOV rate (held-out)": oov, "tokens per word": tokens_per_word}


def print_table(rows: list[dict], title: str) -> None:
    """One aligned text table: integers with thousands separators, rates as percentages."""
    def fmt(key, v):
        if isinstance(v, int):
            return f"{v:,}"
        if isinstance(v, float):
            return f"{v:.2%}" if "rate" in key else f"{v:.2f}"
        return str(v)

    def width(s):            # Hangul takes two columns in a monospaced font
        return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in s)

    def pad(s, w, left):
        fill = " " * (w - width(s))
        return s + fill if left else fill + s

    keys = list(rows[0])
    cells = [keys] + [[fmt(k, r[k]) for k in keys] for r in rows]
    widths = [max(width(c[i]) for c in cells) for i in range(len(keys))]
    print(title)
    for c in cells:
        print("  ".join(pad(v, w, i == 0) for i, (v, w) in enumerate(zip(c, widths))))
