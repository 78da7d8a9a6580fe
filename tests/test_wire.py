"""Does the sandbox boundary carry data only, and refuse what is malformed?"""
import io
import os

import numpy as np
import pytest
import torch

from grader_worker.wire import Decoder, Encoder, WireError, npy_to_tensor, read_frame, write_frame


def test_values_survive_the_trip():
    value = {"t": torch.arange(6.).reshape(2, 3), "nested": [1, 2.5, "s", None, True, (torch.ones(2),)],
             3: float("nan")}
    enc = Encoder()
    encoded = enc.encode(value)
    out = Decoder(enc.blobs).decode(encoded)
    assert torch.equal(out["t"], value["t"]) and out["nested"][:5] == [1, 2.5, "s", None, True]
    assert isinstance(out["nested"][5], tuple) and torch.equal(out["nested"][5][0], torch.ones(2))
    assert out[3] != out[3]


def test_generator_state_survives():
    g = torch.Generator().manual_seed(7)
    enc = Encoder()
    encoded = enc.encode(g)
    copy = Decoder(enc.blobs).decode(encoded)
    assert torch.equal(torch.rand(3, generator=copy), torch.rand(3, generator=torch.Generator().manual_seed(7)))


def test_object_arrays_are_refused():
    buf = io.BytesIO()
    np.save(buf, np.array([object()], dtype=object), allow_pickle=True)
    with pytest.raises(WireError):
        npy_to_tensor(buf.getvalue())


def test_unknown_objects_are_refused_without_a_handle_maker():
    with pytest.raises(WireError):
        Encoder().encode(object())
    with pytest.raises(WireError):
        Decoder([]).decode({"__handle__": 1, "type": "x"})


def test_malformed_frames_are_refused():
    r, w = os.pipe()
    os.write(w, (10).to_bytes(4, "big") + (0).to_bytes(8, "big") + b"not json!!")
    with pytest.raises(WireError):
        read_frame(r)
    write_frame(w, {"op": "ok"}, [b"abc"])
    assert read_frame(r) == ({"op": "ok", "blobs": [3]}, [b"abc"])
    os.write(w, (1 << 31).to_bytes(4, "big") + (0).to_bytes(8, "big"))
    with pytest.raises(WireError):
        read_frame(r)
