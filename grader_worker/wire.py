"""Frames and values that cross the sandbox boundary: JSON for structure, raw bytes for tensors.

Nothing here unpickles: ``json.loads`` and a tensor's bytes (checked against the dtype and
shape the header gives) carry data only, so bytes written by a submission can never run code
in the trusted process.

A frame is ``[u32 header length][u64 blobs length][JSON header][blobs]``; the header lists
the length of each blob. Both lengths are capped so a hostile writer cannot make a reader
allocate without bound.
"""
import json
import math
import os
import select
import struct
import time
import types
from collections.abc import Iterator
from itertools import islice

import numpy as np
import torch

MAX_HEADER = 8 << 20
MAX_BLOBS = 512 << 20
MAX_DEPTH = 32
MAX_ITEMS = 200_000
# A reader bounds what it accepts: the trusted side computes on what arrives, so one tensor
# from the sandbox may not hold more than this many elements, nor a dimension past MAX_DIM.
MAX_ELEMENTS = 1 << 24
MAX_GENERATOR_ITEMS = 10_000
_PREFIX = struct.Struct(">IQ")


class WireError(Exception):
    """The peer sent something that is not a well-formed frame or value."""


# ---- frames ----

def write_frame(fd: int, header: dict, blobs: list[bytes] = ()) -> None:
    header = dict(header, blobs=[len(b) for b in blobs])
    head = json.dumps(header, allow_nan=False).encode()
    payload = b"".join(blobs)
    _write_all(fd, _PREFIX.pack(len(head), len(payload)) + head + payload)


def _write_all(fd, data: bytes) -> None:
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]


def read_exact(fd: int, n: int, deadline: float | None = None) -> bytes:
    """``n`` bytes from ``fd``; with a ``deadline`` (time.monotonic()), TimeoutError after it."""
    chunks, left = [], n
    while left:
        if deadline is not None:
            wait = deadline - time.monotonic()
            if wait <= 0 or not select.select([fd], [], [], wait)[0]:
                raise TimeoutError
        chunk = os.read(fd, min(left, 1 << 20))
        if not chunk:
            raise EOFError("peer closed the channel")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def read_raw_frame(fd: int, deadline: float | None = None) -> bytes:
    """One whole frame as bytes, checked for size only (what a relay forwards)."""
    prefix = read_exact(fd, _PREFIX.size, deadline)
    head_len, blob_len = _PREFIX.unpack(prefix)
    if head_len > MAX_HEADER or blob_len > MAX_BLOBS:
        raise WireError(f"frame too large ({head_len} + {blob_len} bytes)")
    return prefix + read_exact(fd, head_len + blob_len, deadline)


def parse_frame(raw: bytes) -> tuple[dict, list[bytes]]:
    head_len, blob_len = _PREFIX.unpack_from(raw)
    try:
        header = json.loads(raw[_PREFIX.size:_PREFIX.size + head_len])
    except (ValueError, UnicodeDecodeError) as e:
        raise WireError(f"malformed header: {e}") from None
    if not isinstance(header, dict) or not isinstance(header.get("blobs"), list):
        raise WireError("malformed header")
    sizes = header["blobs"]
    if not all(type(s) is int and s >= 0 for s in sizes) or sum(sizes) != blob_len:
        raise WireError("blob sizes do not add up")
    blobs, pos = [], _PREFIX.size + head_len
    for size in sizes:
        blobs.append(raw[pos:pos + size])
        pos += size
    return header, blobs


def read_frame(fd: int, deadline: float | None = None) -> tuple[dict, list[bytes]]:
    return parse_frame(read_raw_frame(fd, deadline))


def seed_all(seed: int) -> None:
    """Seed every generator a check or a notebook draws from; the same on both sides."""
    import random
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


# ---- values ----

# A tensor crosses as its raw bytes (native order: little-endian wherever PyTorch runs), its
# dtype and shape in the JSON header: nothing to parse but a length check.
WIRE_DTYPES = {name: getattr(torch, name) for name in (
    "float32", "float64", "int64", "int32", "int16", "int8", "uint8", "uint16", "uint32", "uint64",
    "bool")}


def tensor_to_wire(t: torch.Tensor) -> tuple[dict, bytes]:
    """(dtype and shape, raw bytes) of a tensor; a subclass or Parameter as a plain tensor."""
    t = torch.Tensor.detach(t).cpu()
    if type(t) is not torch.Tensor:  # a subclass: its data, as a plain tensor
        t = t.as_subclass(torch.Tensor)
    if t.dtype in (torch.bfloat16, torch.float16):
        t = t.float()
    dtype = str(t.dtype).removeprefix("torch.")
    if dtype not in WIRE_DTYPES or t.layout != torch.strided:
        raise WireError(f"cannot send a {t.dtype} {t.layout} tensor")
    return {"dtype": dtype, "shape": list(t.shape)}, t.contiguous().numpy().tobytes()


def tensor_from_wire(meta: dict, data: bytes) -> torch.Tensor:
    """The inverse of ``tensor_to_wire``; anything that does not add up is the sender's fault."""
    dtype, shape = WIRE_DTYPES.get(meta.get("dtype")), meta.get("shape")
    if dtype is None:
        raise WireError("arrays must be numeric")
    if (type(shape) is not list or len(shape) > MAX_DEPTH
            or not all(type(n) is int and 0 <= n <= MAX_ELEMENTS for n in shape)):
        raise WireError("malformed shape")
    numel = math.prod(shape)
    if numel > MAX_ELEMENTS:
        raise WireError(f"a tensor of shape {tuple(shape)} is too large to check")
    if len(data) != numel * dtype.itemsize:
        raise WireError("tensor size does not match its shape")
    if dtype is torch.bool and data.translate(None, b"\x00\x01"):
        raise WireError("a bool tensor holds bytes other than 0 and 1")
    if numel == 0:
        return torch.empty(shape, dtype=dtype)
    return torch.frombuffer(bytearray(data), dtype=dtype).reshape(shape)


class Encoder:
    """Turns a value into JSON-able structure plus blobs; ``handle_of`` covers anything else.

    The conversion contract, the same in and out of the sandbox: any tensor (a Parameter, a
    subclass) crosses as a plain tensor keeping ``requires_grad``; tuples and their subclasses
    (namedtuples, ``torch.Size``) as tuples, lists as lists, mappings as dicts; a generator or
    iterator as the list of what it yields; numpy scalars and arrays as numbers and tensors.
    """

    def __init__(self, handle_of=None):
        self.blobs: list[bytes] = []
        self.handle_of = handle_of

    def encode(self, value, depth: int = 0):
        if depth > MAX_DEPTH:
            raise WireError("value nested too deeply")
        if value is None or type(value) in (bool, str):
            return value
        if type(value) is int:
            return value if abs(value) < 2**63 else {"__bigint__": str(value)}
        if type(value) is float:
            return value if math.isfinite(value) else {"__float__": repr(value)}
        if isinstance(value, torch.Tensor):
            meta, data = tensor_to_wire(value)
            self.blobs.append(data)
            return {"__tensor__": len(self.blobs) - 1, **meta, "grad": value.requires_grad is True}
        if type(value) is torch.Generator:
            self.blobs.append(value.get_state().numpy().tobytes())
            return {"__generator__": len(self.blobs) - 1}
        if isinstance(value, (list, tuple)):
            if len(value) > MAX_ITEMS:
                raise WireError("sequence too long")
            items = [self.encode(v, depth + 1) for v in value]
            return {"__list__": items} if isinstance(value, list) else {"__tuple__": items}
        if isinstance(value, dict):
            if len(value) > MAX_ITEMS:
                raise WireError("mapping too long")
            return {"__dict__": [[self.encode(k, depth + 1), self.encode(v, depth + 1)]
                                 for k, v in value.items()]}
        if isinstance(value, (np.integer, np.floating, np.bool_)):
            return self.encode(value.item(), depth)
        if isinstance(value, np.ndarray) and value.dtype.kind in "biuf":
            return self.encode(torch.from_numpy(np.ascontiguousarray(value)), depth)
        if isinstance(value, (types.GeneratorType, Iterator)):
            return self.encode(list(islice(value, MAX_GENERATOR_ITEMS + 1))[:MAX_GENERATOR_ITEMS], depth)
        if self.handle_of is not None:
            return self.handle_of(value)
        raise WireError(f"cannot send a {type(value).__name__}")


class Decoder:
    """The inverse of ``Encoder``; ``make_handle`` builds whatever a ``__handle__`` stands for."""

    def __init__(self, blobs: list[bytes], make_handle=None):
        self.blobs = blobs
        self.make_handle = make_handle
        self.items = 0

    def decode(self, value, depth: int = 0):
        self.items += 1
        if depth > MAX_DEPTH or self.items > MAX_ITEMS * 4:
            raise WireError("value too large or nested too deeply")
        if value is None or type(value) in (bool, int, float, str):
            return value
        if type(value) is not dict:
            raise WireError("malformed value")
        if "__tensor__" in value and len(value) == 4:
            t = tensor_from_wire(value, self._blob(value["__tensor__"]))
            return t.requires_grad_(True) if value.get("grad") and t.is_floating_point() else t
        if len(value) not in (1, 2):
            raise WireError("malformed value")
        if "__generator__" in value:
            g = torch.Generator()
            try:
                g.set_state(torch.frombuffer(bytearray(self._blob(value["__generator__"])), dtype=torch.uint8))
            except (RuntimeError, ValueError):  # empty, or not a generator's state
                raise WireError("malformed generator state") from None
            return g
        if "__list__" in value:
            return [self.decode(v, depth + 1) for v in _seq(value["__list__"])]
        if "__tuple__" in value:
            return tuple(self.decode(v, depth + 1) for v in _seq(value["__tuple__"]))
        if "__dict__" in value:
            out = {}
            for pair in _seq(value["__dict__"]):
                if type(pair) is not list or len(pair) != 2:
                    raise WireError("malformed mapping")
                key = self.decode(pair[0], depth + 1)
                if type(key) not in (str, int, float, bool, tuple) and key is not None:
                    raise WireError("unhashable mapping key")
                out[key] = self.decode(pair[1], depth + 1)
            return out
        if "__float__" in value:
            if value["__float__"] not in ("nan", "inf", "-inf"):
                raise WireError("malformed float")
            return float(value["__float__"])
        if "__bigint__" in value:
            return int(str(value["__bigint__"])[:400])
        if "__handle__" in value and self.make_handle is not None:
            return self.make_handle(value)
        raise WireError("malformed value")

    def _blob(self, index) -> bytes:
        if type(index) is not int or not 0 <= index < len(self.blobs):
            raise WireError("bad blob index")
        return self.blobs[index]


def _seq(x) -> list:
    if type(x) is not list:
        raise WireError("malformed sequence")
    return x


def roundtrip(value, handle_of=None, make_handle=None):
    """``value`` as the other side of the wire would see it: the one conversion both students use."""
    enc = Encoder(handle_of=handle_of)
    encoded = enc.encode(value)
    return Decoder(enc.blobs, make_handle=make_handle).decode(encoded)


def tensors_in(value):
    """Every tensor inside nested lists, tuples and dicts, in order."""
    if isinstance(value, torch.Tensor):
        yield value
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from tensors_in(v)
    elif isinstance(value, dict):
        for v in value.values():
            yield from tensors_in(v)
