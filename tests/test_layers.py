"""The layers of docs/architecture.md, as import-linter checks them (pyproject.toml, [tool.importlinter]).

The real tree must keep every contract, and each contract must be able to fail: a copy of the
packages with one forbidden import added is refused, and the refusal names that import. Each run
of `lint-imports` takes about half a second.
"""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

try:
    import tomllib  # type: ignore[import-not-found]
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
CONFIG = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
PACKAGES = CONFIG["tool"]["importlinter"]["root_packages"]
PROBE = "_layer_probe"


def lint_imports(cwd: Path) -> subprocess.CompletedProcess:
    """`lint-imports` on the packages found in cwd (it puts cwd first on sys.path)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["NO_COLOR"] = "1"
    env["COLUMNS"] = "200"  # a contract's name and KEPT on one line: the report wraps at 80 columns otherwise
    return subprocess.run(
        [str(LINT_IMPORTS), "--config", str(cwd / "pyproject.toml"), "--no-cache", "--no-logo"],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=60,
    )


def test_the_tree_keeps_every_layer_contract():
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    names = [contract["name"] for contract in CONFIG["tool"]["importlinter"]["contracts"]]
    for name in names:
        assert f"{name} KEPT" in result.stdout, result.stdout
    assert f"Contracts: {len(names)} kept, 0 broken." in result.stdout


def test_every_package_is_under_the_contracts():
    """A package added to the wheel or the tree but not to the contracts would escape them."""
    wheel = CONFIG["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"]
    on_disk = {
        path.parent.name for path in ROOT.glob("*/__init__.py") if path.parent.name not in {"tests", "bench"}
    }
    assert sorted(PACKAGES) == sorted(wheel) == sorted(on_disk)


def _all_but_python(folder: str, names: list) -> list:
    return [
        name for name in names
        if name == "__pycache__" or not (name.endswith(".py") or (Path(folder) / name).is_dir())
    ]


@pytest.fixture(scope="module")
def copy_of_the_tree(tmp_path_factory) -> Path:
    """The packages' Python files and pyproject.toml, nothing else (no models, no data)."""
    copy = tmp_path_factory.mktemp("layers")
    shutil.copy(ROOT / "pyproject.toml", copy / "pyproject.toml")
    for package in PACKAGES:
        shutil.copytree(ROOT / package, copy / package, ignore=_all_but_python)
    return copy


# (package that gets the import, the import, the contract that must refuse it): one import
# uphill, or between the packages of one layer, or of a library a layer must not use.
LAYERS = "Layers: microbuy > bot | dialogues | standin > workflow > policies | storage > settings"
FORBIDDEN = [
    ("workflow", "import bot.mrkdwn", LAYERS),                # the workflow above the Slack adapter
    ("storage", "import workflow.clock", LAYERS),             # the bottom above the workflow
    ("policies", "import storage.errors", LAYERS),            # the two layers on one line are independent
    ("settings", "import policies.loader", LAYERS),           # the settings import none of ours
    ("standin", "import bot.mrkdwn", LAYERS),                 # the stand-in imports nothing of bot
    ("bot", "import dialogues.wording", LAYERS),              # the adapters are independent
    ("bot", "from microbuy import cli", LAYERS),              # nothing imports the command line
    ("workflow", "import slack_sdk", "policies, storage and workflow know nothing of Slack or Rasa"),
    ("policies", "import sqlalchemy", "policies is pure: no database, no network"),
    ("bot", "import rasa_sdk", "bot and standin know nothing of Rasa"),
    ("dialogues", "import slack_sdk", "dialogues knows nothing of Slack"),
]


@pytest.mark.parametrize("package, statement, contract", FORBIDDEN, ids=[f"{p}: {s}" for p, s, _ in FORBIDDEN])
def test_a_forbidden_import_is_refused(copy_of_the_tree, package, statement, contract):
    probe = copy_of_the_tree / package / f"{PROBE}.py"
    probe.write_text(f"{statement}\n", encoding="utf-8")
    try:
        result = lint_imports(copy_of_the_tree)
    finally:
        probe.unlink()
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert f"{contract} BROKEN" in output, output
    assert f"{package}.{PROBE}" in output, output
    # Only the probe broke anything: every chain reported starts at it (importing microbuy from
    # bot also brings in Rasa, so that breaks two contracts, both through the probe).
    starts = re.findall(r"^-\s+(\S+) -> ", result.stdout, flags=re.MULTILINE)
    assert starts and set(starts) == {f"{package}.{PROBE}"}, output
