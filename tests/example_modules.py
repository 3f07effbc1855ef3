"""The scripts in examples/, imported as modules by the tests (examples/ is not a package)."""

import importlib.util
import sys
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def load_example(name):
    """Import examples/<name>.py as a module, once."""
    module_name = f"_adcompiler_example_{name}"
    if module_name in sys.modules:
        return sys.modules[module_name]
    spec = importlib.util.spec_from_file_location(module_name, EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module     # so inspect finds the module of its functions
    spec.loader.exec_module(module)
    return module
