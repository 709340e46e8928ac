"""Helpers shared by the emulator's rollout tests (``test_emulator_rollouts.py``, behind a
service's own load balancer, and ``test_emulator_gateway.py``, behind an ECS gateway):
plain boto3 clients on the emulator, images pushed by digest, and waiting for a condition,
a stack or a rollout to settle."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import boto3

from fluoride.local import Emulator, Timing

#: Fast simulated rollouts: a task starts, passes a health check and drains in 0.05 s each.
TIMING = Timing(task_start=0.05, health_check=0.05, drain=0.05)


class Aws:
    """Plain boto3 clients on the emulator's endpoint, by attribute: ``aws.ecs``,
    ``aws.elbv2``, ``aws.cfn`` (CloudFormation), ``aws.aas`` (Application Auto Scaling);
    ``_`` in a name stands for ``-``."""

    _ALIASES = {"cfn": "cloudformation", "aas": "application-autoscaling"}

    def __init__(self, emulator: Emulator) -> None:
        self.emulator = emulator
        self.session = boto3.Session(aws_access_key_id="testing", aws_secret_access_key="testing",
                                     region_name=emulator.region)
        self._clients: dict[str, Any] = {}

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        if name not in self._clients:
            service = self._ALIASES.get(name, name.replace("_", "-"))
            self._clients[name] = self.session.client(  # type: ignore[call-overload]  # a str, not a literal
                service, endpoint_url=self.emulator.endpoint_url)
        return self._clients[name]


def pushed(emulator: Emulator, repository: str, tag: str, *, healthy: bool = True) -> str:
    """Push an image to ``repository``; its full reference by digest."""
    digest = emulator.push_image(repository, tag, healthy=healthy)
    return f"{emulator.account_id}.dkr.ecr.{emulator.region}.amazonaws.com/{repository}@{digest}"


def wait_for(condition: Callable[[], bool], timeout: float = 20) -> None:
    """Until ``condition()`` holds (polled every 20 ms); an AssertionError after ``timeout``."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("the condition did not hold in time")
        time.sleep(0.02)


def wait_stack(aws: Aws, name: str, timeout: float = 30) -> dict[str, Any]:
    """The stack ``name`` (a name or id) once no operation runs on it."""
    deadline = time.monotonic() + timeout
    while True:
        stack: dict[str, Any] = aws.cfn.describe_stacks(StackName=name)["Stacks"][0]
        if not stack["StackStatus"].endswith("_IN_PROGRESS"):
            return stack
        if time.monotonic() > deadline:
            raise AssertionError(f"{name} still {stack['StackStatus']} after {timeout} s")
        time.sleep(0.02)


def rollout(aws: Aws, cluster: str, service: str) -> list[tuple[str, str]]:
    """(status, rolloutState) of each of the ECS service's deployments."""
    found = aws.ecs.describe_services(cluster=cluster, services=[service])["services"][0]
    return [(d["status"], d["rolloutState"]) for d in found["deployments"]]
