"""Do pyproject.toml and environment.yml pin the same versions, and is everything pinned?"""
import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_environment_yml_matches_pyproject():
    pins = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    assert all(re.fullmatch(r"[A-Za-z0-9_.\-]+==[0-9][\w.]*", p) for p in pins), "pin every dependency with =="
    yml = (ROOT / "environment.yml").read_text()
    conda = re.findall(r"^\s+- ([A-Za-z0-9_.\-]+==[\w.]+)\s*$", yml, re.M)
    assert sorted(conda) == sorted(pins)
    assert "python=3.11" in yml


def test_torch_is_the_cpu_pin():
    pins = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    assert "torch==2.13.0" in pins
