"""ECS Exec into a running task: ``ExecuteCommand``, then ``session-manager-plugin`` with the
session, as the AWS CLI's ``aws ecs execute-command`` does.

The plugin is looked up on ``PATH`` before any AWS call. The service must run with
``exec_enabled`` (the stack's ``EnableExec``) and the task must have been started since.

.. versionadded:: 0.2.0
"""

from __future__ import annotations

import contextlib
import json
import shlex
import shutil
import signal
import subprocess
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final

from fluoride.aws import translate
from fluoride.errors import AwsError, FluorideError, how

if TYPE_CHECKING:
    from fluoride.service import Service

__all__ = ["PLUGIN", "exec_command", "find_plugin", "plugin_arguments"]

PLUGIN: Final = "session-manager-plugin"
"""The program that carries an ECS Exec session (AWS's Session Manager plugin)."""

INSTALL_URL: Final = (
    "https://docs.aws.amazon.com/systems-manager/latest/userguide/"
    "session-manager-working-with-install-plugin.html"
)


def find_plugin(which: Callable[[str], str | None] = shutil.which) -> str:
    """The path of ``session-manager-plugin`` on ``PATH``.

    Raises:
        FluorideError: it is not installed, saying how to install it.
    """
    path = which(PLUGIN)
    if path is None:
        raise FluorideError(
            f"`{PLUGIN}` is not installed (not found on PATH); ECS Exec sessions run through "
            "it, as with `aws ecs execute-command`.",
            hint=f"Install AWS's Session Manager plugin ({INSTALL_URL}): for example "
            "`brew install --cask session-manager-plugin` on macOS, or the .deb/.rpm package "
            "on Linux; then check that `session-manager-plugin` runs.",
        )
    return path


def plugin_arguments(
    plugin: str,
    response: Mapping[str, Any],
    *,
    runtime_id: str,
    region: str,
    profile: str,
    endpoint_url: str,
) -> list[str]:
    """The plugin's command line for an ``ExecuteCommand`` ``response``, as the AWS CLI
    builds it: the session JSON, the region, ``StartSession``, the profile, the target
    ``ecs:<cluster>_<task id>_<container runtime id>`` and the ECS endpoint."""
    cluster = str(response["clusterArn"]).split("/")[-1]
    task_id = str(response["taskArn"]).split("/")[-1]
    target = {"Target": f"ecs:{cluster}_{task_id}_{runtime_id}"}
    return [plugin, json.dumps(response["session"]), region, "StartSession", profile,
            json.dumps(target), endpoint_url]


@contextlib.contextmanager
def _signals_to_the_plugin() -> Iterator[None]:
    """Ctrl-C and friends go to the session (the plugin), not to this process."""
    names = ("SIGINT", "SIGQUIT", "SIGTSTP")
    saved: dict[int, Any] = {}
    for name in names:
        number = getattr(signal, name, None)
        if number is not None:
            with contextlib.suppress(ValueError):  # not the main thread: leave them be
                saved[number] = signal.signal(number, signal.SIG_IGN)
    try:
        yield
    finally:
        for number, handler in saved.items():
            signal.signal(number, handler)


def _running_task(svc: Service, cluster: str, ecs_service: str) -> str:
    ecs = svc.aws.client("ecs")
    with translate("ListTasks", ecs_service):
        arns = ecs.list_tasks(cluster=cluster, serviceName=ecs_service,
                              desiredStatus="RUNNING")["taskArns"]
    if not arns:
        raise FluorideError(
            f"{svc.name} has no running task to exec into.",
            hint=f"Deploy an image first ({how('deploy', svc.name)}), or see "
            f"{how('status', svc.name)}.",
        )
    return sorted(arns)[0]


def exec_command(
    svc: Service,
    command: str | Sequence[str],
    *,
    container: str = "app",
    task: str | None = None,
    run: Callable[[list[str]], int] = subprocess.call,
) -> int:
    """Run ``command`` in ``container`` of a running task of ``svc`` (``task``: a task id or
    ARN; ``None``: one of the service's running tasks) through ECS Exec; return the
    plugin's exit status. See `fluoride.service.Service.exec`."""
    plugin = find_plugin()
    text = command if isinstance(command, str) else shlex.join(command)
    if not text.strip():
        raise FluorideError("The command to run is empty.",
                            hint="Give one, e.g. `sh` or `ls /app`.")
    info = svc.stack.require()
    if info.parameters.get("EnableExec") != "true":
        raise FluorideError(
            f"ECS Exec is off for {svc.name}: its spec has exec_enabled = false.",
            hint="Turn it on and apply it: `svc.update(attrs.evolve(svc.spec(), "
            "exec_enabled=True))` (CLI: set `exec_enabled = true` in fluoride.toml and run "
            f"`fluoride update {svc.name} --config fluoride.toml`); it applies to tasks "
            "started afterwards.",
        )
    out = svc.outputs()
    cluster, ecs_service = out["ClusterName"], out["EcsServiceName"]
    task = task or _running_task(svc, cluster, ecs_service)
    ecs = svc.aws.client("ecs")
    try:
        with translate("ExecuteCommand", task):
            response: Mapping[str, Any] = ecs.execute_command(
                cluster=cluster, task=task, container=container, command=text,
                interactive=True)
    except AwsError as exc:
        if "execute command was not enabled" in exc.message:
            raise FluorideError(
                f"Task {task.split('/')[-1]} of {svc.name} was started before exec_enabled "
                "was on, so ECS cannot exec into it.",
                hint=f"Start new tasks: deploy again ({how('deploy', svc.name)}).",
            ) from exc
        raise
    task_id = str(response["taskArn"]).split("/")[-1]
    with translate("DescribeTasks", task_id):
        tasks = ecs.describe_tasks(cluster=cluster, tasks=[task_id])["tasks"]
    runtime_id = next((str(c.get("runtimeId") or "") for t in tasks
                       for c in t.get("containers", []) if c.get("name") == container), "")
    session = svc.aws.session
    profile = session.profile_name if session.profile_name != "default" else ""
    args = plugin_arguments(plugin, response, runtime_id=runtime_id, region=svc.aws.region,
                            profile=profile, endpoint_url=ecs.meta.endpoint_url)
    with _signals_to_the_plugin():
        return run(args)

