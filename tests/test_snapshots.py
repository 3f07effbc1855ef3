"""Golden tests of the generated source: a change in the output shows as a diff.

To accept an intended change, run with ADCOMPILER_UPDATE_SNAPSHOTS=1 and review the diff.
"""

import importlib.util
import os
import pathlib

import pytest

from adcompiler import check_grads, grad

from . import snapshot_functions as sf

HERE = pathlib.Path(__file__).parent
ROOT = HERE.parent


def _example(name):
    spec = importlib.util.spec_from_file_location(f"example_{name}", ROOT / "examples" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _cases():
    staged = _example("staged")
    return {
        "staged_example": (staged.f, (0, 1), (3.0, -4.0)),
        "logistic_loss": (sf.logistic_loss, ("w", "b"), (0.5, -0.3, 1.5, 1.0)),
        "spring_energy": (sf.spring_energy, ("x", "y", "k"), (0.3, 0.8, 2.0)),
    }


@pytest.mark.parametrize("name", ["staged_example", "logistic_loss", "spring_energy"])
def test_generated_source_matches_snapshot(name):
    fn, wrt, args = _cases()[name]
    source = grad(fn, wrt=wrt).source
    path = HERE / "snapshots" / f"{name}.py.txt"
    if os.environ.get("ADCOMPILER_UPDATE_SNAPSHOTS"):
        path.write_text(source)
    assert path.exists(), f"no snapshot yet: run with ADCOMPILER_UPDATE_SNAPSHOTS=1 to create {path}"
    assert source == path.read_text()
    check_grads(fn, args, wrt=wrt)          # the pinned source is also right
