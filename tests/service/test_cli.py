"""The service's commands: clients add, consumers credential and list, audit verify, serve."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from openbureau.cli.main import app
from openbureau.config import Settings
from openbureau.context import Context
from openbureau.ingest import add_furnisher
from tests.features import factory

runner = CliRunner()


def _run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def _serve(cli_env: dict[str, str], *args: str) -> tuple[subprocess.Popen[bytes], int]:
    """``openbureau serve`` on a free port, as its own process."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    command = [sys.executable, "-c", "from openbureau.cli.main import main; main()", "serve"]
    proc = subprocess.Popen(
        [*command, "--port", str(port), *args],
        env={**os.environ, **cli_env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    return proc, port


def _wait_listening(proc: subprocess.Popen[bytes], port: int, workers: int) -> None:
    """Until ``workers`` sockets listen on ``port`` (each worker binds its own)."""
    import time

    import psutil

    deadline = time.monotonic() + 60
    while True:
        listening = [
            c
            for c in psutil.net_connections(kind="tcp")
            if c.status == psutil.CONN_LISTEN and c.laddr and c.laddr.port == port
        ]
        if len(listening) == workers:
            return
        assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
        assert time.monotonic() < deadline, "the workers did not start"
        time.sleep(0.2)


def _held_by_workers(proc: subprocess.Popen[bytes], port: int) -> list[int]:
    """Sockets on ``port`` each worker holds (spawn's resource tracker holds none)."""
    import psutil

    return sorted(
        n
        for w in psutil.Process(proc.pid).children()
        if (n := sum(1 for c in w.net_connections("tcp") if c.laddr.port == port))
    )


@pytest.fixture
def home(cli_env: dict[str, str]) -> Context:
    code, _out, err = _run("init")
    assert code == 0, err
    ctx = Context(Settings())
    factory.build(ctx, consumers=3, months=4)
    add_furnisher(ctx, "bank", "A Bank")
    return ctx


@pytest.mark.parametrize(
    "command",
    [
        ["serve"],
        ["clients", "add"],
        ["consumers", "credential"],
        ["consumers", "list"],
        ["audit", "verify"],
    ],
)
def test_help(command: list[str]) -> None:
    code, out, _ = _run(*command, "--help")
    assert code == 0 and "Usage" in out


def test_clients_consumers_and_audit(home: Context) -> None:
    code, out, err = _run(
        "clients", "add", "--role", "lender", "--name", "Acme", "--lender", "acme", "--json"
    )
    assert code == 0, err
    issued = json.loads(out)
    assert set(issued) == {"client_id", "key"} and issued["key"].startswith("ob_")
    code, out, err = _run(
        "clients", "add", "--role", "furnisher", "--name", "Bank", "--furnisher", "bank"
    )
    assert code == 0 and "key" in out

    code, out, err = _run("consumers", "list", "--limit", "2", "--json")
    assert code == 0, err
    rows = [json.loads(line) for line in out.splitlines()]
    assert len(rows) == 2 and rows[0]["accounts"] >= 1
    consumer = rows[0]["consumer_id"]
    code, out, err = _run("consumers", "credential", consumer, "--json")
    assert code == 0, err
    assert json.loads(out)["key"].startswith("ob_")

    code, out, err = _run("audit", "verify", "--json")
    assert code == 0, err
    result = json.loads(out)
    assert result["ok"] is True and result["entries"] == 3  # two clients, one credential

    with home.engine.begin() as conn:
        from sqlalchemy import text

        conn.execute(text("UPDATE audit_log SET role = 'regulator' WHERE id = 2"))
    code, out, err = _run("audit", "verify")
    assert code == 1 and "was altered" in err
    home.close()


ADD_ERRORS = [
    (["--role", "wizard", "--name", "x"], "not an API client role"),
    (["--role", "furnisher", "--name", "x"], "must name its furnisher"),
    (["--role", "furnisher", "--name", "x", "--furnisher", "nobody"], "unknown furnisher"),
    (["--role", "lender", "--name", "x"], "must name its lender"),
    (["--role", "regulator", "--name", "x", "--lender", "y"], "only for lender clients"),
]


def test_clients_add_and_credential_errors(home: Context) -> None:
    for args, message in ADD_ERRORS:
        code, _, err = _run("clients", "add", *args)
        assert code == 1 and "Error:" in err and message in err, (args, err)
    code, _, err = _run("consumers", "credential", "NOBODY")
    assert code == 1 and "no consumer 'NOBODY'" in err
    # Nothing was created by the refused commands.
    with home.engine.connect() as conn:
        from sqlalchemy import text

        assert conn.execute(text("SELECT count(*) FROM api_clients")).scalar_one() == 0
    home.close()


def test_commands_refuse_an_uninitialised_home(cli_env: dict[str, str]) -> None:
    code, _, err = _run("audit", "verify")
    assert code == 1 and "Error:" in err and "openbureau init" in err


def test_serve_answers_over_real_http(home: Context, cli_env: dict[str, str]) -> None:
    import time

    import httpx

    _code, out, _ = _run("clients", "add", "--role", "regulator", "--name", "Reg", "--json")
    key = json.loads(out)["key"]
    proc, port = _serve(cli_env)
    try:
        url = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                if httpx.get(url + "/v1/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        else:
            pytest.fail("the server did not start")
        assert httpx.get(url + "/openapi.json").json()["info"]["title"] == "OpenBureau"
        r = httpx.get(url + "/v1/audit/verify", headers={"Authorization": f"Bearer {key}"})
        assert r.status_code == 200 and r.json()["ok"] is True
        assert httpx.get(url + "/v1/audit/verify").status_code == 401
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    home.close()


def test_serve_spreads_connections_over_its_workers(home: Context, cli_env: dict[str, str]) -> None:
    # Each worker listens on a socket of its own (SO_REUSEPORT): a burst of keep-alive
    # connections is spread over the workers, not taken by whichever woke first.
    import psutil

    proc, port = _serve(cli_env, "--workers", "2")
    conns: list[socket.socket] = []
    try:
        _wait_listening(proc, port, 2)
        for _ in range(40):
            c = socket.create_connection(("127.0.0.1", port), timeout=30)
            c.sendall(b"GET /v1/health HTTP/1.1\r\nHost: x\r\n\r\n")
            assert c.recv(64).startswith(b"HTTP/1.1 200")
            conns.append(c)
        held = _held_by_workers(proc, port)
        # Both listen and both hold a share (two listeners + 40 connections; a hash split of
        # 40 leaves fewer than 5 on one side about once in ten million).
        assert len(held) == 2 and held[0] >= 5 and sum(held) == 42, held
    finally:
        for c in conns:
            c.close()
        proc.terminate()
        assert proc.wait(timeout=60) == 0
        assert not [w for w in psutil.process_iter(["ppid"]) if w.info["ppid"] == proc.pid]
    home.close()


def test_serve_workers_share_each_clients_rate_limit(
    home: Context, cli_env: dict[str, str]
) -> None:
    # One client on 16 keep-alive connections, which reach both workers: it gets its burst
    # and rate once in all (a bucket per worker would give it about twice as much).
    import threading
    import time

    import httpx

    _code, out, _ = _run("clients", "add", "--role", "regulator", "--name", "Reg", "--json")
    key = json.loads(out)["key"]
    rate, burst = 2, 4
    env = {
        **cli_env,
        "OPENBUREAU_SERVICE_RATE_PER_S": str(rate),
        "OPENBUREAU_SERVICE_RATE_BURST": str(burst),
        "OPENBUREAU_SERVICE_REFUSAL_DELAY_S": "0",
    }
    proc, port = _serve(env, "--workers", "2")
    clients = [
        httpx.Client(
            base_url=f"http://127.0.0.1:{port}",
            headers={"Authorization": f"Bearer {key}"},
            limits=httpx.Limits(max_connections=1),
            timeout=30,
        )
        for _ in range(16)
    ]
    codes: list[int] = []
    try:
        _wait_listening(proc, port, 2)
        for c in clients:  # open the connections (the kernel spreads them over the workers)
            assert c.get("/v1/health").status_code == 200
        start = time.monotonic()
        deadline = start + 2.0

        def hammer(client: httpx.Client) -> None:
            while time.monotonic() < deadline:
                codes.append(client.get("/v1/audit/verify").status_code)

        threads = [threading.Thread(target=hammer, args=(c,)) for c in clients]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.monotonic() - start
        held = _held_by_workers(proc, port)
        # Both workers served the client: each holds its listener and at least one of the
        # 16 connections (all 16 on one side: about once in 30,000 runs).
        assert len(held) == 2 and min(held) >= 2, held
    finally:
        for c in clients:
            c.close()
        proc.terminate()
        assert proc.wait(timeout=60) == 0
    assert set(codes) == {200, 429}, codes
    served = codes.count(200)
    assert burst <= served <= burst + rate * elapsed + 1, (served, elapsed)
    home.close()


def test_demo_access_prints_working_curl_commands(
    home: Context, capsys: pytest.CaptureFixture[str]
) -> None:
    import re
    import shlex

    from fastapi.testclient import TestClient

    from openbureau.cli.service import print_demo_access
    from openbureau.service.app import create_app

    print_demo_access(home, "127.0.0.1", 8000)
    out = capsys.readouterr().out
    commands = [line for line in out.splitlines() if line.startswith("curl ")]
    assert len(commands) == 3
    key_lines = [
        line
        for line in out.splitlines()
        if line.startswith(("lender ", "consumer ", "regulator ", "operator "))
    ]
    assert len(key_lines) == 4 and all(" key ob_" in line for line in key_lines)
    client = TestClient(create_app(home))
    answers = []
    for command in commands:
        words = shlex.split(command)
        url = next(w for w in words if w.startswith("http://"))
        headers = dict(words[i + 1].split(": ", 1) for i, w in enumerate(words) if w == "-H")
        body = words[words.index("-d") + 1] if "-d" in words else None
        method = "POST" if "-X" in words else "GET"
        path = re.sub(r"^http://[^/]+", "", url)
        answers.append(client.request(method, path, headers=headers, content=body))
    inquiry, report, verify = answers
    assert inquiry.status_code == 201, inquiry.text
    assert report.status_code == 200 and len(report.json()["inquiries"]) == 1
    assert verify.status_code == 200 and verify.json()["ok"] is True
    home.close()
