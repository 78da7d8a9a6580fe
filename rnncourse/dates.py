"""The date-normalisation task of notebook 08: dates written many ways, English and Korean, to ISO.

``"23 Nov 2026"``, ``"2026년 11월 23일 월요일"``, ``"11/23/26"`` ... all map to ``"2026-11-23"``.
Everything is generated here with a fixed seed (no download). The split is by *date*: a date in
the test set never appears, in any format, in training, so test accuracy measures
generalisation, not memory.
"""
import datetime as dt
import random

import torch

PAD, SOS, EOS = 0, 1, 2
SPECIALS = ["<pad>", "<sos>", "<eos>"]

MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December"]
WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
KOREAN_WEEKDAYS = ["월요일", "화요일", "수요일", "목요일", "금요일", "토요일", "일요일"]
FIRST, LAST = dt.date(1950, 1, 1), dt.date(2049, 12, 31)   # two-digit years are unambiguous here

# each format writes one date; the two-digit year yy maps 50-99 to 19yy and 00-49 to 20yy
FORMATS = {
    "23 Nov 2026": lambda d: f"{d.day} {MONTHS[d.month - 1][:3]} {d.year}",
    "Nov. 23, 2026": lambda d: f"{MONTHS[d.month - 1][:3]}. {d.day}, {d.year}",
    "November 23, 2026": lambda d: f"{MONTHS[d.month - 1]} {d.day}, {d.year}",
    "Monday, 23 November 2026": lambda d: f"{WEEKDAYS[d.weekday()]}, {d.day} {MONTHS[d.month - 1]} {d.year}",
    "23/11/2026": lambda d: f"{d.day:02d}/{d.month:02d}/{d.year}",
    "11/23/26": lambda d: f"{d.month:02d}/{d.day:02d}/{d.year % 100:02d}",
    "2026년 11월 23일": lambda d: f"{d.year}년 {d.month}월 {d.day}일",
    "2026년 11월 23일 월요일": lambda d: f"{d.year}년 {d.month}월 {d.day}일 {KOREAN_WEEKDAYS[d.weekday()]}",
    "26. 11. 23.": lambda d: f"{d.year % 100:02d}. {d.month}. {d.day}.",
}


def iso(d: dt.date) -> str:
    return d.isoformat()


def source_alphabet() -> list[str]:
    """Every character any format can write, sorted."""
    chars = set("0123456789 ,./")
    chars |= set("".join(MONTHS + WEEKDAYS + KOREAN_WEEKDAYS)) | set("년월일")
    return sorted(chars)


SOURCE_VOCAB = SPECIALS + source_alphabet()
TARGET_VOCAB = SPECIALS + list("0123456789-")
_SOURCE_INDEX = {ch: i for i, ch in enumerate(SOURCE_VOCAB)}
_TARGET_INDEX = {ch: i for i, ch in enumerate(TARGET_VOCAB)}


def split_dates(seed: int = 0, valid: float = 0.1, test: float = 0.1):
    """All days from 1950 to 2049, shuffled with ``seed`` and cut into (train, valid, test)."""
    days = [FIRST + dt.timedelta(n) for n in range((LAST - FIRST).days + 1)]
    random.Random(seed).shuffle(days)
    n_valid, n_test = int(valid * len(days)), int(test * len(days))
    return days[n_valid + n_test:], days[:n_valid], days[n_valid:n_valid + n_test]


def examples(days, seed: int):
    """One (written date, ISO date) pair per day, each in a format drawn with ``seed``."""
    rng = random.Random(seed)
    writers = list(FORMATS.values())
    return [(rng.choice(writers)(d), iso(d)) for d in days]


def date_splits():
    """The course's fixed task: (train, valid, test) lists of (written, ISO) pairs, split by date."""
    train, valid, test = split_dates(seed=0)
    return examples(train, seed=1), examples(valid, seed=2), examples(test, seed=3)


def encode_source(texts: list[str]):
    """Character ids padded with ``PAD`` (B, S) and the true lengths (B,)."""
    lengths = torch.tensor([len(t) for t in texts])
    src = torch.full((len(texts), int(lengths.max())), PAD)
    for b, text in enumerate(texts):
        src[b, :len(text)] = torch.tensor([_SOURCE_INDEX[ch] for ch in text])
    return src, lengths


def encode_target(texts: list[str]) -> torch.Tensor:
    """Target ids with ``EOS`` appended, padded with ``PAD``: (B, T)."""
    width = max(len(t) for t in texts) + 1
    tgt = torch.full((len(texts), width), PAD)
    for b, text in enumerate(texts):
        ids = [_TARGET_INDEX[ch] for ch in text] + [EOS]
        tgt[b, :len(ids)] = torch.tensor(ids)
    return tgt


def decode_target(ids) -> str:
    """Token ids back to text, stopping at the first ``EOS`` and skipping ``PAD`` and ``SOS``."""
    out = []
    for i in ids:
        i = int(i)
        if i == EOS:
            break
        if i not in (PAD, SOS):
            out.append(TARGET_VOCAB[i])
    return "".join(out)


def batch(pairs):
    """Encode a list of (written, ISO) pairs: ``src (B, S)``, ``lengths (B,)``, ``tgt (B, T)``."""
    src, lengths = encode_source([p[0] for p in pairs])
    return src, lengths, encode_target([p[1] for p in pairs])


def sample_batch(pairs, size: int, generator: torch.Generator):
    """A random batch of ``size`` pairs drawn (with replacement) with ``generator``."""
    idx = torch.randint(len(pairs), (size,), generator=generator)
    return batch([pairs[i] for i in idx.tolist()])
