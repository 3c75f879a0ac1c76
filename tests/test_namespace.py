"""paxchain installs under one namespace: a project with its own ``checker``, ``models``,
``impl`` and ``specs`` packages keeps them, and its pytest runs (the pytest11 plugin is
``paxchain.checker.pytest_plugin``)."""

import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LAYERS = ("impl", "models", "specs", "checker")


def test_every_installed_package_is_under_paxchain():
    conf = tomllib.loads((ROOT / "pyproject.toml").read_text())
    tool = conf["tool"]["setuptools"]
    assert all(p.startswith("paxchain.") for p in tool["packages"])
    assert {tool["package-dir"][f"paxchain.{x}"] for x in LAYERS} == set(LAYERS)
    scripts = conf["project"]["scripts"]
    plugins = conf["project"]["entry-points"]["pytest11"]
    assert all(v.startswith("paxchain.") for v in [*scripts.values(), *plugins.values()])
    # every package folder is listed (a subpackage left out would be missing from a wheel)
    found = {".".join(("paxchain",) + p.parent.relative_to(ROOT).parts)
             for x in LAYERS for p in (ROOT / x).rglob("__init__.py")}
    assert found == set(tool["packages"])


def _scratch(tmp_path: Path) -> Path:
    for name in LAYERS:
        pkg = tmp_path / name
        pkg.mkdir()
        (pkg / "__init__.py").write_text(f"OWNER = 'scratch project {name}'\n")
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_own.py").write_text(
        "import checker, impl, models, specs\n\n"
        "def test_own_packages():\n"
        "    assert {checker.OWNER, impl.OWNER, models.OWNER, specs.OWNER} == "
        "{f'scratch project {x}' for x in ('checker', 'impl', 'models', 'specs')}\n")
    return tmp_path


def test_a_project_with_its_own_layer_packages_runs_paxchain_and_its_pytest(tmp_path):
    project = _scratch(tmp_path)
    check = subprocess.run([sys.executable, "-m", "paxchain.checker", "check", "lamport-paxos",
                            "-p", "max_ballot=0"], capture_output=True, text=True, cwd=project)
    assert check.returncode == 0, check.stderr
    assert "HOLDS" in check.stdout
    tests = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                            "tests"], capture_output=True, text=True, cwd=project)
    assert tests.returncode == 0, tests.stdout + tests.stderr
    assert "1 passed" in tests.stdout
