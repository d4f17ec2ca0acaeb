"""The official SDKs, installed once into a cache outside the repo, and a server for them.

``official_python`` is the interpreter of a venv holding the official Python SDK;
``official_js_modules`` a ``node_modules`` holding the official JavaScript SDK. Both
live under ``$LEANCLOUD_COMPAT_CACHE`` (default ``~/.cache/leancloud-compat``), are
built in a temporary directory and renamed into place, so an interrupted build is never
reused, and are checked before each session. When pip or npm cannot install them the
tests fail: a skipped compatibility test would hide a broken set-up.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, Callable, List

import pytest

from leancloud.server import passwords
from leancloud.server.errors import ApiError
from leancloud.testing import LiveServer, start_server

from .expected import OPTIONAL, comparable

PYTHON_SDK_VERSION = "3.0.2"
JS_SDK_VERSION = "4.15.2"
SCRIPTS = Path(__file__).parent / "scripts"
INSTALL_TIMEOUT = 150  # seconds; a cold install takes well under a minute
RUN_TIMEOUT = 120
# Fail within seconds when the registry is unreachable, yet tolerate a slow one.
NPM_PATIENCE = ["--fetch-retries=1", "--fetch-retry-mintimeout=2000", "--fetch-timeout=60000"]
PIP_PATIENCE = ["--timeout", "30", "--retries", "1"]
REGISTRY_HINT = (
    "The compatibility tests install the official SDKs from the package registries and "
    "fail rather than skip without them, so that a broken set-up is never hidden."
)


def cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(os.environ.get("LEANCLOUD_COMPAT_CACHE") or os.path.join(base, "leancloud-compat"))


def run(command: list[str], what: str, timeout: float, **kwargs: Any) -> None:
    """Run an installer step; any failure fails the test with the tool's own output."""
    try:
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=timeout, check=False, **kwargs
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        pytest.fail(f"{what} failed: {exc}\n{REGISTRY_HINT}", pytrace=False)
    if done.returncode != 0:
        output = (done.stdout + done.stderr)[-3000:]
        pytest.fail(
            f"{what} failed (exit {done.returncode}):\n{output}\n{REGISTRY_HINT}", pytrace=False
        )


def problem(command: list[str], **kwargs: Any) -> str:
    """Why ``command`` fails, or ``""`` when it succeeds (run outside the repo, no PYTHONPATH)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    kwargs.setdefault("cwd", tempfile.gettempdir())
    try:
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=60, env=env, check=False, **kwargs
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return str(exc)
    return "" if done.returncode == 0 else (done.stdout + done.stderr)[-2000:] or "exit status"


def prepared(name: str, build: Callable[[Path], None], check: Callable[[Path], str]) -> Path:
    """``cache_root()/name``, built by ``build`` in a temporary sibling unless ``check``
    (which says what is wrong, or ``""``) accepts the copy already there."""
    target = cache_root() / name
    if not check(target):
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    for abandoned in target.parent.glob(f".{name}.building-*"):
        if time.time() - abandoned.stat().st_mtime > 2 * INSTALL_TIMEOUT:  # a killed build
            shutil.rmtree(abandoned, ignore_errors=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{name}.building-", dir=target.parent))
    try:
        build(staging)
        broken = check(staging)
        if broken:
            pytest.fail(f"{name} was installed but does not work:\n{broken}", pytrace=False)
        if target.exists():
            shutil.rmtree(target)  # a stale or broken copy
        try:
            os.rename(staging, target)
        except OSError:
            if check(target):  # else another session finished first: use its copy
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


# -- the official Python SDK --------------------------------------------------------------


def venv_python(venv: Path) -> Path:
    return venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def _python_sdk_problem(venv: Path) -> str:
    if not venv_python(venv).exists():
        return "no venv"
    check = (
        "from importlib.metadata import version; import leancloud; "
        f"assert version('leancloud') == {PYTHON_SDK_VERSION!r}"
    )
    return problem([str(venv_python(venv)), "-c", check])


def _build_python_sdk(venv: Path) -> None:
    run([sys.executable, "-m", "venv", str(venv)], "Creating a venv", INSTALL_TIMEOUT)
    pip = [str(venv_python(venv)), "-m", "pip", "install", *PIP_PATIENCE]
    run(
        pip + [f"leancloud=={PYTHON_SDK_VERSION}"],
        f"pip install leancloud=={PYTHON_SDK_VERSION}",
        INSTALL_TIMEOUT,
    )


@pytest.fixture(scope="session")
def official_python() -> Path:
    """The interpreter of a venv with the official Python SDK (and only its own deps)."""
    venv = prepared(f"py-{PYTHON_SDK_VERSION}", _build_python_sdk, _python_sdk_problem)
    return venv_python(venv)


# -- the official JavaScript SDK ----------------------------------------------------------


def _js_sdk_problem(folder: Path) -> str:
    if not (folder / "node_modules").is_dir():
        return "no node_modules"
    check = (
        "const v = require('leancloud-storage/package.json').version;"
        f"if (v !== {JS_SDK_VERSION!r}) throw new Error(v); require('leancloud-storage');"
    )
    return problem(["node", "-e", check], cwd=folder)


def _build_js_sdk(folder: Path) -> None:
    for tool in ("node", "npm"):
        if shutil.which(tool) is None:
            pytest.fail(f"`{tool}` is not installed; the JS SDK tests need Node.js 18+.")
    manifest = {"private": True, "dependencies": {"leancloud-storage": JS_SDK_VERSION}}
    (folder / "package.json").write_text(json.dumps(manifest))
    run(
        ["npm", "install", "--no-audit", "--no-fund", "--no-package-lock", *NPM_PATIENCE],
        f"npm install leancloud-storage@{JS_SDK_VERSION}",
        INSTALL_TIMEOUT,
        cwd=folder,
    )


@pytest.fixture(scope="session")
def official_js_modules() -> Path:
    """A ``node_modules`` folder with the official JavaScript SDK, for ``NODE_PATH``."""
    return prepared(f"js-{JS_SDK_VERSION}", _build_js_sdk, _js_sdk_problem) / "node_modules"


# -- a server and the scripts' results ----------------------------------------------------


@pytest.fixture(scope="module")
def compat_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A server of the module's own, so each script starts from an empty database.

    Password hashing is made cheap for it: the scripts sign up and log in many times.
    """
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(passwords, "DEFAULT_COST", passwords.ScryptCost(n=16, r=1, p=1))
        server = start_server(str(tmp_path_factory.mktemp("compat")))
        try:
            yield server
        finally:
            server.stop()


def server_env(server: LiveServer, **extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k != "PYTHONPATH" and not k.startswith(("LEANCLOUD_", "LC_"))
    }
    env.update(
        LEANCLOUD_API_SERVER=server.url,
        COMPAT_APP_ID=server.app_id,
        COMPAT_APP_KEY=server.app_key,
        COMPAT_MASTER_KEY=server.master_key,
        **extra,
    )
    return env


def run_script(command: list[str], env: Mapping[str, str]) -> dict[str, Any]:
    """The steps' outcomes: the JSON object on the script's last line of output."""
    done = subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT,
        env=dict(env),
        cwd=tempfile.gettempdir(),
        check=False,
    )
    lines = done.stdout.strip().splitlines()
    try:
        return json.loads(lines[-1])
    except (IndexError, ValueError):
        pytest.fail(
            f"{' '.join(command)} exited {done.returncode} without results:\n"
            f"{done.stdout[-2000:]}\n{done.stderr[-4000:]}",
            pytrace=False,
        )


def step_value(results: Mapping[str, Any], name: str) -> Any:
    """What step ``name`` reported; fails with the SDK's error if it raised."""
    if name not in results:
        pytest.fail(f"the script did not run step {name!r}", pytrace=False)
    outcome = results[name]
    if "error" in outcome:
        detail = outcome.get("traceback") or ""
        pytest.fail(f"step {name!r} raised {outcome['error']}\n{detail}", pytrace=False)
    return outcome["value"]


def serves(server: LiveServer, method: str, path: str) -> bool:
    """Whether the server has a route for ``method path`` (optional areas land over time)."""
    try:
        server.app.match(method, path)
    except ApiError:
        return False
    return True


def step_params(expected: Mapping[str, Any], known_failures: Mapping[str, str]) -> List[Any]:
    """One test per step; a known failure is a strict xfail, so a fix is noticed."""
    params = []
    for name in expected:
        reason = known_failures.get(name)
        marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
        params.append(pytest.param(name, marks=marks, id=name))
    return params


def check_step(
    results: Mapping[str, Any], server: LiveServer, name: str, expected: Mapping[str, Any]
) -> None:
    """Assert one step's outcome; skip a step whose server area does not exist yet."""
    route = OPTIONAL.get(name)
    if route and not serves(server, *route):
        pytest.skip(f"the server has no {' '.join(route)} route yet")
    assert comparable(name, step_value(results, name)) == expected[name]
