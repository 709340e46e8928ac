"""Transient faults: throttling and dropped connections during create, deploy, rollback and
delete, injected through botocore's event hooks with a seeded random.

Three kinds, each at 30 %:

* ``http``: at the HTTP send level (``before-send`` answers 503 or drops the connection), so
  botocore's own retries apply;
* ``call``: at the call level (``before-call`` answers ``Throttling`` or raises a connection
  error), so botocore's retries do not save the call and Fluoride's waits must;
* ``lost``: the answer of a call that changes something (create or execute a change set,
  delete the stack, write the history) is lost after the call took effect (``after-call``
  raises), so a repeat must first check whether it happened.

``http`` and ``call`` faults hit the polls: the reads made once the operation has started
(after its ExecuteChangeSet, DeleteStack or CancelUpdateStack). Every operation must end with
its true outcome, read back afterwards by a client without faults, and nothing half-made.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterator
from typing import Any

import attrs
import boto3
import botocore.awsrequest
import botocore.exceptions
import botocore.retries.standard
import pytest

from fluoride import Fluoride, ServiceSpec
from fluoride.errors import RolledBack, ServiceExists
from fluoride.infra.stack import StackState
from fluoride.local import SimulatedClock, Timing
from fluoride.releases.history import Outcome
from fluoride.service import Service

RATE = 0.3
CLIENTS = ("cloudformation", "ecs", "elbv2", "s3", "ecr", "sts", "logs")
#: The calls that start an operation: the polls after them are faulted.
STARTS = frozenset({"ExecuteChangeSet", "DeleteStack", "CancelUpdateStack"})
#: Calls that change something: their answers are lost in ``lost`` mode.
CHANGES = frozenset({"CreateChangeSet", "ExecuteChangeSet", "DeleteStack", "PutObject"})
SPEC = ServiceSpec(port=8080, health_path="/health")
REPORT: list[str] = []


class _Body:
    def stream(self, **kwargs: Any) -> Iterator[bytes]:
        yield b""


@attrs.define
class Faults:
    """Injects faults into every client of one Fluoride client, and counts them."""

    mode: str
    rng: random.Random
    armed: bool = False
    injected: Counter[str] = attrs.field(factory=Counter)

    def install(self, fl: Fluoride) -> None:
        for name in CLIENTS:
            events = fl.aws.client(name).meta.events  # type: ignore[call-overload]
            events.register("before-call", self.before_call)
            events.register("before-send", self.before_send)
            events.register("after-call", self.after_call)

    def _poll(self, name: str) -> bool:
        return self.armed and name.startswith(("Describe", "List", "Get", "Head"))

    def before_call(self, model: Any, **kwargs: Any) -> Any:
        if model.name in STARTS:
            self.armed = True
        if self.mode != "call" or not self._poll(model.name) or self.rng.random() >= RATE:
            return None
        if self.rng.random() < 0.5:
            self.injected["call: connection dropped"] += 1
            raise botocore.exceptions.EndpointConnectionError(endpoint_url="http://emulator")
        self.injected["call: throttled"] += 1
        http = botocore.awsrequest.AWSResponse("http://emulator", 400, {}, _Body())  # type: ignore[arg-type]  # headers
        return http, {"Error": {"Code": "Throttling", "Message": "Rate exceeded"},
                      "ResponseMetadata": {"HTTPStatusCode": 400}}

    def before_send(self, request: Any, **kwargs: Any) -> Any:
        name = request.context.get("operation_name") or ""
        if not name:  # botocore names the operation in the context since 1.x; else guess
            name = "Describe"
        if self.mode != "http" or not self._poll(name) or self.rng.random() >= RATE:
            return None
        if self.rng.random() < 0.5:
            self.injected["http: connection dropped"] += 1
            raise botocore.exceptions.ConnectionClosedError(endpoint_url=request.url)
        self.injected["http: 503"] += 1
        return botocore.awsrequest.AWSResponse(request.url, 503, {}, _Body())  # type: ignore[arg-type]  # headers

    def after_call(self, model: Any, **kwargs: Any) -> None:
        if self.mode == "lost" and model.name in CHANGES and self.rng.random() < RATE:
            self.injected[f"lost answer: {model.name}"] += 1
            raise botocore.exceptions.ConnectionClosedError(endpoint_url="http://emulator")

    def start(self) -> None:
        """A new operation: its polls are faulted once it has started."""
        self.armed = False


@pytest.fixture(scope="module")
def truth() -> Iterator[Fluoride]:
    """The emulator, and a client without faults that reads the true outcomes."""
    fast = Timing(task_start=0.05, health_check=0.05, drain=0.05)
    with Fluoride.local(timing=fast, reporter=lambda e: None, clock=SimulatedClock()) as fl:
        yield fl


@pytest.fixture(autouse=True)
def _instant_botocore_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    # botocore sleeps (real time) between its own retries; the faults are what is tested.
    monkeypatch.setattr(botocore.retries.standard.ExponentialBackoff, "delay_amount",
                        lambda self, context: 0.0)


def faulty_client(truth: Fluoride, faults: Faults) -> Fluoride:
    session = boto3.Session(aws_access_key_id="testing", aws_secret_access_key="testing",
                            region_name=truth.region)
    fl = Fluoride(session=session, endpoint_url=truth.endpoint_url, reporter=lambda e: None,
                  clock=SimulatedClock())
    faults.install(fl)
    return fl


def serving_image(truth: Fluoride, name: str) -> str:
    out = truth.service(name).outputs()
    ecs = truth.aws.client("ecs")
    service = ecs.describe_services(cluster=out["ClusterName"],
                                    services=[out["EcsServiceName"]])["services"][0]
    primary = next(d for d in service["deployments"] if d["status"] == "PRIMARY")
    assert primary["rolloutState"] == "COMPLETED"
    task = ecs.describe_task_definition(taskDefinition=primary["taskDefinition"])
    return str(task["taskDefinition"]["containerDefinitions"][0]["image"])


def buckets(truth: Fluoride) -> set[str]:
    return {b["Name"] for b in truth.aws.client("s3").list_buckets()["Buckets"]}


@pytest.mark.parametrize(("mode", "seed"), [("http", 1), ("call", 2), ("lost", 3)])
def test_every_operation_ends_with_its_true_outcome(truth: Fluoride, mode: str,
                                                    seed: int) -> None:
    faults = Faults(mode, random.Random(seed))
    fl = faulty_client(truth, faults)
    name = f"faults-{mode}"
    svc: Service = fl.service(name)
    real = truth.service(name)
    outcomes: list[str] = []
    assert truth.emulator is not None

    # create: complete, and nothing else made
    faults.start()
    status = svc.create(SPEC)
    assert status.state is StackState.COMPLETE
    assert real.status().stack_status == "CREATE_COMPLETE"
    outcomes.append("create: complete")
    # again, with the same spec: its status; with another spec: ServiceExists
    faults.start()
    assert svc.create(SPEC).stack_status == "CREATE_COMPLETE"
    with pytest.raises(ServiceExists, match="another spec"):
        svc.create(attrs.evolve(SPEC, cpu=512, memory=1024))
    outcomes.append("create again: status / ServiceExists")

    repo = real.outputs()["RepositoryName"]
    v1 = truth.emulator.push_image(repo, "v1")
    faults.start()
    release = svc.deploy("v1")
    assert release.outcome is Outcome.STABLE
    assert serving_image(truth, name).endswith(v1)
    assert real.history()[0].digest == v1
    assert real.history()[0].outcome is Outcome.STABLE
    outcomes.append("deploy v1: stable")

    truth.emulator.push_image(repo, "v2", healthy=False)
    faults.start()
    with pytest.raises(RolledBack):
        svc.deploy("v2")
    assert serving_image(truth, name).endswith(v1)
    assert real.history()[0].outcome is Outcome.ROLLED_BACK
    outcomes.append("deploy broken v2: rolled back, v1 serves")

    v3 = truth.emulator.push_image(repo, "v3")
    faults.start()
    assert svc.deploy("v3").outcome is Outcome.STABLE
    faults.start()
    back = svc.rollback()
    assert back.digest == v1
    assert back.outcome is Outcome.STABLE
    assert serving_image(truth, name).endswith(v1)
    history = real.history()
    assert [(r.digest, r.outcome) for r in history[:2]] == [(v1, Outcome.STABLE),
                                                            (v3, Outcome.STABLE)]
    assert not any(r.outcome is Outcome.IN_PROGRESS for r in history)
    outcomes.append("rollback: v1 serves")

    log_bucket = real.outputs()["AccessLogBucketName"]
    faults.start()
    result = svc.delete()
    assert set(result.kept) == {"table", "bucket", "secret", "repository"}
    assert not real.exists()
    assert log_bucket not in buckets(truth)
    assert result.kept["bucket"] in buckets(truth)
    outcomes.append("delete: gone, data kept")
    real.delete(purge_data=True)

    injected = sum(faults.injected.values())
    REPORT.append(f"{mode}: {injected} faults injected {dict(faults.injected)}; "
                  f"outcomes: {'; '.join(outcomes)}")
    print("\n" + REPORT[-1])
    assert injected > 0
