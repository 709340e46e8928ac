"""svc.exec() and `fluoride exec`: the plugin's command line (pure), its absence, exec
turned off, and a session on the emulator through a fake session-manager-plugin that
records its arguments."""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from fluoride import Fluoride, ServiceSpec
from fluoride._exec import PLUGIN, find_plugin, plugin_arguments
from fluoride.cli import main
from fluoride.errors import FluorideError
from fluoride.local import Timing

from .conftest import Recorder

RESPONSE = {
    "clusterArn": "arn:aws:ecs:eu-west-1:123456789012:cluster/fluoride-hello",
    "taskArn": "arn:aws:ecs:eu-west-1:123456789012:task/fluoride-hello/0123abcd",
    "containerName": "app",
    "session": {"sessionId": "ecs-execute-command-1", "streamUrl": "wss://x", "tokenValue": "t"},
}


@pytest.mark.parametrize(
    ("profile", "endpoint"),
    [("", "https://ecs.eu-west-1.amazonaws.com"), ("dev", "http://127.0.0.1:5000")],
)
def test_plugin_arguments_are_the_aws_clis(profile: str, endpoint: str) -> None:
    args = plugin_arguments("/bin/plugin", RESPONSE, runtime_id="0123abcd-42",
                            region="eu-west-1", profile=profile, endpoint_url=endpoint)
    assert args == [
        "/bin/plugin", json.dumps(RESPONSE["session"]), "eu-west-1", "StartSession", profile,
        json.dumps({"Target": "ecs:fluoride-hello_0123abcd_0123abcd-42"}), endpoint,
    ]


def test_a_missing_plugin_says_how_to_install_it() -> None:
    with pytest.raises(FluorideError) as info:
        find_plugin(lambda _: None)
    assert PLUGIN in info.value.message
    assert "Install" in (info.value.hint or "")
    assert find_plugin(lambda name: f"/opt/{name}") == f"/opt/{PLUGIN}"


# --------------------------------------------------------------------------- the emulator


@pytest.fixture(scope="module")
def local() -> Iterator[Fluoride]:
    fast = Timing(task_start=0.05, health_check=0.05, drain=0.05)
    with Fluoride.local(reporter=Recorder(), timing=fast) as fl:
        yield fl


@pytest.fixture
def fake_plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A session-manager-plugin, alone on PATH, that writes its arguments to a file."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    record = tmp_path / "args.json"
    script = bin_dir / PLUGIN
    script.write_text(
        "#!/bin/sh\n"
        f'exec python3 -c \'import json, sys; json.dump(sys.argv[1:], open("{record}", "w"))\''
        ' "$@"\n'
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", str(bin_dir) + os.pathsep + "/usr/bin" + os.pathsep + "/bin")
    return record


def test_without_the_plugin_nothing_is_asked_of_aws(
    local: Fluoride, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    # The service does not exist: any AWS call first would fail on that instead.
    with pytest.raises(FluorideError) as info:
        local.service("nosuch").exec("sh")
    assert PLUGIN in info.value.message


def test_exec_off_names_the_setting_and_update(local: Fluoride, fake_plugin: Path) -> None:
    svc = local.service("exec-off")
    svc.create(ServiceSpec())
    with pytest.raises(FluorideError) as info:
        svc.exec("sh")
    text = f"{info.value.message} {info.value.hint}"
    assert "exec_enabled" in text
    assert "update" in text
    assert not fake_plugin.exists()
    svc.delete(purge_data=True)


def test_a_session_runs_the_plugin_with_the_execute_command_answer(
    local: Fluoride, fake_plugin: Path
) -> None:
    svc = local.service("exec-on")
    svc.create(ServiceSpec(exec_enabled=True))
    assert local.emulator is not None
    local.emulator.push_image(svc.outputs()["RepositoryName"], "v1")
    svc.deploy("v1")
    assert svc.exec(["ls", "-l", "/app dir"]) == 0
    plugin_args = json.loads(fake_plugin.read_text())
    session, region, action, profile, target, endpoint = plugin_args
    assert json.loads(session)["sessionId"].startswith("ecs-execute-command-")
    assert json.loads(session)["tokenValue"]
    assert (region, action, profile) == (local.region, "StartSession", "")
    out = svc.outputs()
    cluster, prefix = out["ClusterName"], "ecs:" + out["ClusterName"] + "_"
    task_arn = svc.aws.client("ecs").list_tasks(
        cluster=cluster, serviceName=out["EcsServiceName"])["taskArns"][0]
    assert json.loads(target)["Target"].startswith(prefix + task_arn.split("/")[-1] + "_")
    assert len(json.loads(target)["Target"]) > len(prefix + task_arn.split("/")[-1] + "_")
    assert endpoint == svc.aws.client("ecs").meta.endpoint_url
    with pytest.raises(FluorideError, match="not found"):
        svc.exec("sh", container="sidecar")

    # The CLI: the same session, and the plugin's exit status.
    fake_plugin.unlink()
    result = CliRunner().invoke(
        main, ["--endpoint-url", str(local.endpoint_url), "--region", local.region,
               "exec", svc.name, "--", "sh", "-c", "echo hi"],
        env={"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"})
    assert result.exit_code == 0, result.output
    assert json.loads(fake_plugin.read_text())[2] == "StartSession"
    svc.delete(purge_data=True)
