"""The product's import graph stops short of the test kit: a process that imports the
engine's entry points loads no emulator, no benchmark and no GraphQL library.

Each check runs in a fresh interpreter, since this test process has imported the kit."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from omnistock.kit.bench.scenarios import SCENARIOS

_PROBE = """
import json, sys
import {module}
kit = sorted(m for m in sys.modules if m.startswith(("omnistock.kit", "omnistock.sandbox")))
print(json.dumps({{"kit": kit, "graphql": sorted(m for m in sys.modules if m == "graphql"
    or m.startswith("graphql."))}}))
"""


def _loaded_by(module: str) -> dict[str, list[str]]:
    out = subprocess.run(  # noqa: S603 - our own interpreter, a fixed probe
        [sys.executable, "-c", _PROBE.format(module=module)],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    loaded: dict[str, list[str]] = json.loads(out.stdout)
    return loaded


@pytest.mark.parametrize(
    "module",
    ["omnistock.runner", "omnistock.engine", "omnistock.api.app", "omnistock.cli"],
)
def test_the_product_loads_no_kit_module_and_no_graphql(module: str) -> None:
    assert _loaded_by(module) == {"kit": [], "graphql": []}


def test_the_probe_sees_the_kit_when_it_is_loaded() -> None:
    # Guards the test above against a probe that could never see anything.
    loaded = _loaded_by("omnistock.kit.sandbox.registry")
    assert "omnistock.kit.sandbox.shopify.app" in loaded["kit"]
    assert "graphql" in loaded["graphql"]


def test_bench_help_names_every_scenario() -> None:
    # The CLI lists the scenarios without importing the kit; the list must not go stale.
    from typer.testing import CliRunner

    from omnistock.cli import app

    result = CliRunner().invoke(app, ["bench", "--help"], terminal_width=400)
    assert result.exit_code == 0, result.output
    for name in SCENARIOS:
        assert name in result.output


# The kit's extra uninstalled, as far as the CLI can tell.
_WITHOUT_GRAPHQL = """
import importlib.util, sys
found = importlib.util.find_spec
importlib.util.find_spec = lambda name, *rest: None if name == "graphql" else found(name, *rest)
from omnistock.cli import app
app(sys.argv[1:])
"""


@pytest.mark.parametrize(
    "args", [["demo"], ["sandbox", "woocommerce"], ["bench", "ledger", "--quick"]]
)
def test_kit_commands_without_the_kit_extra_say_what_to_install(args: list[str]) -> None:
    done = subprocess.run(  # noqa: S603 - our own interpreter, a fixed probe
        [sys.executable, "-c", _WITHOUT_GRAPHQL, *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2, done.stdout + done.stderr
    assert "pip install 'omnistock[kit]'" in done.stdout
    assert "Traceback" not in done.stderr
