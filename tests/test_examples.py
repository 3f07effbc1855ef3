"""The examples in examples/: they run, and the staged one matches the notes.

examples/staged.py is the backprop notes' staged computation (section 1.3.2);
its compiled gradient must agree with the hand-written backward pass and read
like it.
"""

import re
import subprocess
import sys
from pathlib import Path

import pytest

from .example_modules import load_example

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "examples"
SCRIPT_TIMEOUT = 120          # seconds per example script


def run_script(path):
    return subprocess.run([sys.executable, str(path)], cwd=REPO, capture_output=True,
                          text=True, timeout=SCRIPT_TIMEOUT)


@pytest.fixture(scope="module")
def staged():
    return load_example("staged")


def backward_lines(source):
    """The code lines of the generated backward sweep: after `# backward`, before `return`."""
    lines = source.splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip() == "# backward")
    end = next(i for i, line in enumerate(lines) if i > start
               and line.strip().startswith("return"))
    body = [line.strip() for line in lines[start + 1:end]]
    return [line for line in body if line and not line.startswith("#")]


# --------------------------------------------------------------------------
# examples/staged.py

def test_staged_compiled_matches_hand_written(staged):
    dx, dy = staged.df(3, -4)
    hx, hy = staged.f_backward_by_hand(3, -4)
    assert type(dx) is float and type(dy) is float
    assert dx == pytest.approx(hx, rel=0, abs=1e-12)
    assert dy == pytest.approx(hy, rel=0, abs=1e-12)


def test_staged_source_reads_like_the_hand_written_pass(staged):
    source = staged.df.source
    for name in ("dnum", "dinvden", "dden", "dxpy"):
        assert re.search(rf"\b{name}\b", source), f"{name} missing from:\n{source}"
    assert re.search(r"\bdx [+-]=", source), source
    assert re.search(r"\bdy [+-]=", source), source


def test_staged_backward_is_short(staged):
    backward = backward_lines(staged.df.source)
    assert 0 < len(backward) <= 20, "\n".join(backward)


def test_staged_backward_runs_in_reverse_line_order(staged):
    backward = backward_lines(staged.df.source)
    origins = [int(m.group(1)) for line in backward
               for m in [re.search(r"# line (\d+)", line)] if m]
    assert len(origins) == len(backward), "every backward statement names its line"
    assert origins == sorted(origins, reverse=True), origins


def test_staged_script_output(staged):
    result = run_script(EXAMPLES / "staged.py")
    assert result.returncode == 0, result.stderr
    assert staged.df.source in result.stdout       # generation is deterministic
    assert "passed" in result.stdout


# --------------------------------------------------------------------------
# every example runs as a script

SCRIPTS = sorted(p for p in EXAMPLES.glob("*.py") if not p.name.startswith("_"))


@pytest.mark.parametrize("script", SCRIPTS, ids=[p.name for p in SCRIPTS])
def test_example_script_runs(script):
    result = run_script(script)
    assert result.returncode == 0, (
        f"{script.name} exited with {result.returncode}\n"
        f"--- stdout ---\n{result.stdout}\n--- stderr ---\n{result.stderr}")
