"""The user guide's examples run and print what the guide shows.

docs/guide.md marks each example file with ``<!-- file: NAME -->`` before its
code block, and each command whose output it shows with ``<!-- run: COMMAND -->``
before the output block. This test writes the files into a scratch directory,
runs each command there (with this Python's `python` and `adcompiler` first on
the PATH) and compares the output, so the guide cannot drift from the code.
A ``$ command`` first line of a console block is the prompt, not output, and
the scratch directory is shown as /tmp/demo. ``<!-- run-varies: ... -->`` marks
output that differs between runs (timings): those commands must succeed, but
their output is not compared.

Run with ADCOMPILER_UPDATE_GUIDE=1 to write the current outputs into the guide
(review the diff before committing it).
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

GUIDE = Path(__file__).resolve().parents[1] / "docs" / "guide.md"
_BLOCK = re.compile(r"<!-- (file|run|run-varies): ([^\n]+?) -->\n"
                    r"```[a-z]*\n(?:\$ [^\n]*\n)?(.*?)```", re.S)
SCRATCH = "/tmp/demo"                  # where the guide says the examples ran


def _examples():
    """(command, expected output, varies, {file name: text} written so far, match span)."""
    files, runs = {}, []
    for match in _BLOCK.finditer(GUIDE.read_text()):
        kind, what, body = match.groups()
        if kind == "file":
            files[what] = body
        else:
            runs.append((what, body, kind == "run-varies", dict(files), match.span(3)))
    return runs


def _run(command, files, directory):
    for name, text in files.items():
        (directory / name).write_text(text)
    env = dict(os.environ, PATH=os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"],
               PYTHONPATH=str(GUIDE.parents[1]), COLUMNS="100")
    done = subprocess.run(["bash", "-c", command], cwd=directory, env=env, capture_output=True,
                          text=True, timeout=120)
    return (done.stdout + done.stderr).replace(str(directory), SCRATCH)


def _same(text):
    return "\n".join(line.rstrip() for line in text.strip().splitlines())


EXAMPLES = _examples()


@pytest.mark.parametrize("command, expected, varies, files, span", EXAMPLES,
                         ids=[e[0] for e in EXAMPLES])
def test_guide_example_prints_what_the_guide_shows(command, expected, varies, files, span,
                                                   tmp_path):
    output = _run(command, files, tmp_path)
    if varies:
        assert "Traceback" not in output, output
        return
    if os.environ.get("ADCOMPILER_UPDATE_GUIDE") and _same(output) != _same(expected):
        text = GUIDE.read_text()
        current = _examples()
        start, end = next(e[4] for e in current if e[0] == command and e[1] == expected)
        GUIDE.write_text(text[:start] + output.rstrip("\n") + "\n" + text[end:])
        return
    assert _same(output) == _same(expected)


def test_the_guide_has_examples():
    assert len(EXAMPLES) >= 25
