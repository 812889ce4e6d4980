"""The lockfiles pin what pyproject.toml asks for: `make venv`, CI and the image install from them, so a
dependency added or changed in pyproject.toml without `make lock` must fail here, not on a user's machine."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
LOCKS = {
    "requirements.lock": list(PROJECT["dependencies"]),
    "requirements-dev.lock": [
        *PROJECT["dependencies"],
        *PROJECT["optional-dependencies"]["dev"],
        *PROJECT["optional-dependencies"]["otel"],
    ],
}
PIN = re.compile(r"^([A-Za-z0-9._-]+)==([^\s\\]+)", re.MULTILINE)


def pins(text: str) -> dict[str, str]:
    return {canonicalize_name(name): version for name, version in PIN.findall(text)}


def direct(text: str) -> set[str]:
    """The pins whose `# via` block names the project itself: what pyproject.toml asked for."""
    names: set[str] = set()
    for block in re.split(r"\n(?=[A-Za-z0-9])", text):
        match = PIN.match(block)
        if match and "o2c-engine (pyproject.toml)" in block:
            names.add(canonicalize_name(match.group(1)))
    return names


@pytest.mark.parametrize("lockfile", sorted(LOCKS))
def test_every_dependency_of_pyproject_is_pinned_in_the_lock_within_its_range(lockfile: str) -> None:
    text = (ROOT / lockfile).read_text()
    pinned = pins(text)
    wanted = [Requirement(r) for r in LOCKS[lockfile]]
    problems = []
    for requirement in wanted:
        version = pinned.get(canonicalize_name(requirement.name))
        if version is None:
            problems.append(f"{requirement} is not pinned")
        elif not requirement.specifier.contains(version, prereleases=True):
            problems.append(f"{requirement} but the lock pins {version}")
    stale = direct(text) - {canonicalize_name(r.name) for r in wanted}
    problems += [f"{name} is pinned for the project but pyproject.toml no longer asks for it" for name in sorted(stale)]
    assert not problems, f"{lockfile} disagrees with pyproject.toml (run make lock):\n" + "\n".join(problems)


def test_the_dev_lock_pins_every_runtime_package_at_the_runtime_locks_version() -> None:
    runtime = pins((ROOT / "requirements.lock").read_text())
    dev = pins((ROOT / "requirements-dev.lock").read_text())
    differ = {name: (version, dev.get(name)) for name, version in runtime.items() if dev.get(name) != version}
    assert not differ, f"the two lockfiles disagree (run make lock): {differ}"


@pytest.mark.parametrize("lockfile", sorted(LOCKS))
def test_the_lock_names_no_package_index_and_hashes_every_pin(lockfile: str) -> None:
    text = (ROOT / lockfile).read_text()
    assert "://" not in text and "--index-url" not in text and "--find-links" not in text
    blocks = [b for b in re.split(r"\n(?=[A-Za-z0-9])", text) if PIN.match(b)]
    assert blocks and all("--hash=sha256:" in b for b in blocks)
