"""``python -m leancloud serve`` as users run it: a real process on a real port."""

import json
import os
import signal
import socket
import stat
import subprocess
import sys
import time

import pytest
import requests

from leancloud.__main__ import main
from leancloud.server.config import load_config

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
KEYS = ["--app-id", "A", "--app-key", "K", "--master-key", "M", "--hook-key", "H"]
AUTH = {"X-LC-Id": "A", "X-LC-Key": "K"}


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    def __init__(self, cwd, *args):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/1.1"
        self.log = open(os.path.join(str(cwd), f"serve-{self.port}.log"), "w+")
        env = {**os.environ, "PYTHONPATH": ROOT + os.pathsep + os.environ.get("PYTHONPATH", "")}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "leancloud", "serve", "--port", str(self.port), *args],
            cwd=str(cwd),
            stdout=self.log,
            stderr=subprocess.STDOUT,
            env=env,
        )
        self.wait_ready()

    def wait_ready(self):
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.output()
            try:
                requests.get(self.url + "/date", timeout=1)
                return
            except requests.ConnectionError:
                time.sleep(0.05)
        raise AssertionError("server did not start: " + self.output())

    def output(self):
        self.log.flush()
        self.log.seek(0)
        return self.log.read()

    def stop(self, sig=signal.SIGTERM):
        self.process.send_signal(sig)
        return self.process.wait(timeout=10)


@pytest.fixture
def servers():
    started = []

    def start(cwd, *args):
        server = Server(cwd, *args)
        started.append(server)
        return server

    yield start
    for server in started:
        if server.process.poll() is None:
            server.process.kill()
            server.process.wait()
        server.log.close()


def test_serve_answers_and_stops_on_sigterm(tmp_path, servers):
    server = servers(tmp_path, "--data", str(tmp_path / "data"), *KEYS)
    date = requests.get(server.url + "/date").json()
    assert date["__type"] == "Date"
    created = requests.post(server.url + "/classes/Post", json={"a": 1}, headers=AUTH)
    assert created.status_code == 201
    assert (
        requests.get(
            server.url + "/classes/Post", headers={"X-LC-Id": "A", "X-LC-Key": "wrong"}
        ).status_code
        == 401
    )
    assert (
        requests.get(
            server.url + "/schemas", headers={"X-LC-Id": "A", "X-LC-Key": "M,master"}
        ).status_code
        == 200
    )
    assert server.stop() == 0
    assert f"LEANCLOUD_API_SERVER=http://127.0.0.1:{server.port}" in server.output()
    assert 'leancloud.init("A", "K", master_key="M", hook_key="H")' in server.output()


def test_sigint_stops_too(tmp_path, servers):
    server = servers(tmp_path, "--data", str(tmp_path / "data"), *KEYS)
    assert server.stop(signal.SIGINT) == 0


def test_a_stalled_client_does_not_hold_up_the_others(tmp_path, servers):
    server = servers(tmp_path, "--data", str(tmp_path / "data"), *KEYS)
    with socket.create_connection(("127.0.0.1", server.port)) as stalled:
        stalled.sendall(b"GET /1.1/date HTTP/1.1\r\nHost: x\r\n")  # headers never end
        assert requests.get(server.url + "/date", timeout=5).status_code == 200


def test_first_start_generates_and_persists_keys(tmp_path, servers):
    server = servers(tmp_path)  # no flags: ./.leancloud in the working directory
    config_path = tmp_path / ".leancloud" / "config.json"
    keys = json.loads(config_path.read_text())
    assert set(keys) == {"app_id", "app_key", "master_key", "hook_key"} and all(keys.values())
    assert stat.S_IMODE(os.stat(config_path).st_mode) == 0o600
    headers = {"X-LC-Id": keys["app_id"], "X-LC-Key": keys["app_key"]}
    assert (
        requests.post(server.url + "/classes/Post", json={"a": 1}, headers=headers).status_code
        == 201
    )
    assert f'leancloud.init("{keys["app_id"]}", "{keys["app_key"]}"' in server.output()
    server.stop()
    again = servers(tmp_path)
    assert json.loads(config_path.read_text()) == keys
    assert requests.get(again.url + "/classes/Post", headers=headers).json()["results"][0]["a"] == 1


def test_acknowledged_writes_survive_kill_9(tmp_path, servers):
    data = str(tmp_path / "data")
    server = servers(tmp_path, "--data", data, *KEYS)
    object_id = requests.post(server.url + "/classes/Log", json={"n": 1}, headers=AUTH).json()[
        "objectId"
    ]
    update = requests.put(
        server.url + f"/classes/Log/{object_id}",
        json={"n": {"__op": "Increment", "amount": 41}},
        headers=AUTH,
    )
    assert update.status_code == 200
    server.process.kill()  # SIGKILL: no shutdown code runs
    server.process.wait()
    again = servers(tmp_path, "--data", data, *KEYS)
    assert requests.get(again.url + f"/classes/Log/{object_id}", headers=AUTH).json()["n"] == 42


def test_a_command_is_required(capsys):
    with pytest.raises(SystemExit) as exc:
        main([])
    assert exc.value.code == 2
    assert "serve" in capsys.readouterr().err


def test_port_in_use_is_a_clean_error(tmp_path, capsys):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(SystemExit) as exc:  # werkzeug explains and exits
            main(["serve", "--port", str(port), "--data", str(tmp_path), *KEYS])
    assert exc.value.code == 1
    assert f"Port {port} is in use" in capsys.readouterr().err


def test_keys_with_commas_are_refused(tmp_path, capsys):
    assert main(["serve", "--data", str(tmp_path), "--app-key", "a,b"]) == 1
    assert "app_key" in capsys.readouterr().err


def test_given_keys_win_over_persisted_ones_and_are_never_written(tmp_path):
    first = load_config(str(tmp_path))
    given = load_config(str(tmp_path), app_id="A", master_key="M")
    assert (given.app_id, given.master_key) == ("A", "M")
    assert (given.app_key, given.hook_key) == (first.app_key, first.hook_key)
    stored = json.loads((tmp_path / "config.json").read_text())
    assert (stored["app_id"], stored["master_key"]) == (first.app_id, first.master_key)
    fresh = tmp_path / "fresh"
    load_config(str(fresh), app_id="A", app_key="K", master_key="M", hook_key="H")
    assert not (fresh / "config.json").exists()
