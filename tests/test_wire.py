"""Does the sandbox boundary carry data only, and refuse what is malformed?"""
import os

import numpy as np
import pytest
import torch

from grader_worker.wire import Decoder, Encoder, WireError, read_frame, write_frame


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


def test_tensors_that_do_not_add_up_are_refused():
    """A dtype that is not numeric, a shape that is not one, bytes that do not match it."""
    good = {"__tensor__": 0, "dtype": "float32", "shape": [2], "grad": False}
    assert torch.equal(Decoder([bytes(8)]).decode(good), torch.zeros(2))
    for bad, blob in (({**good, "dtype": "object"}, bytes(8)), ({**good, "dtype": "complex64"}, bytes(16)),
                      ({**good, "shape": [-2]}, bytes(8)), ({**good, "shape": "2"}, bytes(8)),
                      ({**good, "shape": [True]}, bytes(4)), ({**good, "shape": [1] * 40}, bytes(4)),
                      ({**good, "dtype": "bool", "shape": [3]}, b"\x00\x01\xff"), (good, bytes(7)), (good, bytes(12))):
        with pytest.raises(WireError):
            Decoder([blob]).decode(bad)
    with pytest.raises(WireError):
        Decoder([b"not a generator state"]).decode({"__generator__": 0})


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


def test_what_a_notebook_check_accepts_crosses_as_plain_data():
    """Generators of tensors, namedtuples, Parameters, tensor subclasses, other dtypes."""
    from collections import namedtuple

    from grader_worker.wire import roundtrip
    Pair = namedtuple("Pair", "x y")

    class Marked(torch.Tensor):
        pass
    value = {"gen": (torch.full((2,), float(i)) for i in range(3)), "pair": Pair(torch.ones(1), 2),
             "param": torch.nn.Parameter(torch.ones(2)), "sub": torch.ones(3).as_subclass(Marked),
             "half": torch.ones(2, dtype=torch.float16), "size": torch.Size([2, 3]),
             "np": np.int64(5)}
    out = roundtrip(value)
    assert [t.tolist() for t in out["gen"]] == [[0.0, 0.0], [1.0, 1.0], [2.0, 2.0]]
    assert type(out["pair"]) is tuple and torch.equal(out["pair"][0], torch.ones(1)) and out["pair"][1] == 2
    assert type(out["param"]) is torch.Tensor and out["param"].requires_grad
    assert type(out["sub"]) is torch.Tensor and out["half"].dtype == torch.float32
    assert out["size"] == (2, 3) and type(out["np"]) is int


def test_local_and_sandboxed_students_convert_alike():
    from collections import namedtuple

    from grader.student import LocalStudent
    from grader_worker.wire import roundtrip
    Pair = namedtuple("Pair", "out h")
    ns = {"f": lambda: Pair(torch.nn.Parameter(torch.ones(2)), (torch.zeros(1) for _ in range(2)))}
    local = LocalStudent(ns).f()
    wire = roundtrip(ns["f"]())
    assert type(local) is type(wire) is tuple
    assert type(local[0]) is type(wire[0]) is torch.Tensor and type(local[1]) is type(wire[1]) is list


def test_tensors_from_the_sandbox_are_bounded():
    from grader_worker.wire import MAX_ELEMENTS
    enc = Encoder()
    encoded = enc.encode(torch.zeros(MAX_ELEMENTS + 1, dtype=torch.uint8))
    with pytest.raises(WireError):
        Decoder(enc.blobs).decode(encoded)


def test_references_answering_the_student_are_bounded_in_size_and_time(monkeypatch):
    import time

    import grader.student
    from grader.student import LocalStudent, StudentError
    monkeypatch.setattr(grader.student, "CALLBACK_SECONDS", 0.5)
    seen = []

    def slow_reference(x):
        seen.append(x.shape)
        while True:
            time.sleep(0.01)
    student = LocalStudent({"cell": lambda x: x, "caller": lambda: ns_cell(torch.zeros(30_000, 1))})
    ns_cell = None

    def call_cell(x):
        return student._ns["cell"](x)
    ns_cell = call_cell
    with student.stub("cell", slow_reference):
        with pytest.raises(StudentError, match="does not take a tensor"):
            student.caller()
        student._ns["caller"] = lambda: ns_cell(torch.zeros(2, 2))
        start = time.monotonic()
        with pytest.raises(StudentError, match="ran past"):
            student.caller()
        assert time.monotonic() - start < 10 and seen == [(2, 2)]
