"""The CLI parses, calls the SDK and renders: exercised on the embedded emulator."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from fluoride.cli import main

from .conftest import CliRun


def test_create_status_list_delete(cli: CliRun, unique_name: str, tmp_path: Path) -> None:
    config = tmp_path / "fluoride.toml"
    config.write_text('port = 9000\nhealth_path = "/ping"\n')
    result = cli("create", unique_name, "--config", str(config))
    assert result.exit_code == 0, result.output
    result = cli("--output", "json", "status", unique_name)
    assert result.exit_code == 0, result.output
    [status] = json.loads(result.stdout)
    assert status["name"] == unique_name
    assert status["state"] == "complete"
    result = cli("--output", "json", "list")
    assert unique_name in json.loads(result.stdout)
    result = cli("delete", unique_name, input="n\n")
    assert result.exit_code != 0  # refused at the prompt
    result = cli("delete", unique_name, "--yes")
    assert result.exit_code == 0, result.output
    result = cli("status", unique_name)
    assert result.exit_code == 1
    assert "fluoride create" in result.output


def test_bad_config_is_reported_with_every_field(
    cli: CliRun, unique_name: str, tmp_path: Path
) -> None:
    config = tmp_path / "fluoride.toml"
    config.write_text("port = 0\ncpu = 256\nmemory = 9999\n")
    result = cli("create", unique_name, "--config", str(config))
    assert result.exit_code == 1
    assert "port" in result.output
    assert "memory" in result.output


def test_template_prints_the_template(cli: CliRun) -> None:
    result = cli("template")
    assert result.exit_code == 0
    assert "AWS::ECS::Service" in result.stdout
    assert "\n  # " in result.stdout  # the comments that explain the resources are kept
    assert "# fluoride:user-environment" not in result.stdout


def test_importing_the_cli_leaves_the_sdk_and_its_dependencies_unloaded() -> None:
    # What keeps `fluoride --help` fast: the commands import them when they run.
    heavy = ["boto3", "botocore", "rich", "attrs", "cattrs", "fluoride.client",
             "fluoride.service", "fluoride.aws"]
    code = ("import sys, fluoride.cli; "
            f"print([m for m in {heavy!r} if m in sys.modules])")
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True).stdout
    assert loaded.strip() == "[]"


def test_fluoride_entry_point_loads_boto3_but_not_the_service_layers() -> None:
    code = ("import json, sys, fluoride; fluoride.Fluoride; "
            "print(json.dumps(sorted(m for m in sys.modules if m.startswith('fluoride'))))")
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True).stdout
    assert json.loads(loaded) == [
        "fluoride", "fluoride.client", "fluoride.errors", "fluoride.names"]


def test_help_lists_every_command() -> None:
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0
    for name in ("create", "status", "list", "delete", "template", "local", "demo", "deploy",
                 "rollback", "history", "push", "logs"):
        assert f"  {name} " in result.output


def test_local_serves_the_emulator_to_other_tools() -> None:
    import os
    import signal
    import socket
    import threading

    import boto3

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [sys.executable, "-m", "fluoride.cli", "local", "--port", str(port)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    # A hung emulator would block readline() forever: kill it, and the read ends.
    watchdog = threading.Timer(120, proc.kill)
    watchdog.start()
    try:
        assert proc.stdout is not None
        lines = [proc.stdout.readline() for _ in range(4)]
        endpoint = f"http://127.0.0.1:{port}"
        assert lines[0].strip() == f"Fluoride emulator on {endpoint}"
        assert f"export AWS_ENDPOINT_URL={endpoint}" in "".join(lines)
        ecs = boto3.client("ecs", endpoint_url=endpoint, region_name="us-east-1",
                           aws_access_key_id="testing", aws_secret_access_key="testing")
        ecs.create_cluster(clusterName="from-plain-boto3")
        assert ecs.list_clusters()["clusterArns"]
        env = {**os.environ, "AWS_ACCESS_KEY_ID": "testing",
               "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"}
        listed = subprocess.run(
            [sys.executable, "-m", "fluoride.cli", "--endpoint-url", endpoint,
             "--output", "json", "list"],
            capture_output=True, text=True, env=env, timeout=60, check=True,
        )
        assert json.loads(listed.stdout) == []
    finally:
        watchdog.cancel()
        proc.send_signal(signal.SIGINT)  # the way a user stops it
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()  # never leave an emulator behind
            proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()
