"""The opt-in suite against a real AWS account.

Skipped unless ``FLUORIDE_AWS_TESTS=1`` is set and boto3 finds credentials and a region.
It creates a real stack (an ALB and Fargate tasks cost money for the minutes it runs),
deploys a small public image, checks the outcome and deletes everything it made::

    FLUORIDE_AWS_TESTS=1 AWS_PROFILE=sandbox pytest -m aws -p no:xdist
"""

from __future__ import annotations

import os
import time
import urllib.request
import uuid
from collections.abc import Iterator

import boto3
import pytest

from fluoride import Fluoride, Outcome, RolledBack, Service, ServiceSpec

pytestmark = pytest.mark.aws

#: A small public image that answers 200 on / at port 80 (used as the health path).
GOOD_IMAGE = os.environ.get("FLUORIDE_AWS_TEST_IMAGE", "public.ecr.aws/nginx/nginx:stable-alpine")
#: Exits at once: the circuit breaker must roll it back.
BAD_IMAGE = os.environ.get(
    "FLUORIDE_AWS_TEST_BAD_IMAGE", "public.ecr.aws/docker/library/busybox:stable"
)


def _enabled() -> str | None:
    if os.environ.get("FLUORIDE_AWS_TESTS") != "1":
        return "set FLUORIDE_AWS_TESTS=1 to run against a real AWS account"
    session = boto3.Session()
    if session.get_credentials() is None:
        return "no AWS credentials"
    if not session.region_name:
        return "no AWS region"
    return None


@pytest.fixture(scope="module")
def service() -> Iterator[Service]:
    reason = _enabled()
    if reason:
        pytest.skip(reason)
    fl = Fluoride()
    svc = fl.service(f"fltest-{uuid.uuid4().hex[:8]}")
    started = time.monotonic()
    svc.create(ServiceSpec(port=80, health_path="/"), image=GOOD_IMAGE)
    print(f"create took {time.monotonic() - started:.0f} s")
    try:
        yield svc
    finally:
        svc.delete(purge_data=True)


def test_created_service_answers(service: Service) -> None:
    status = service.status()
    assert status.running >= 1
    assert status.url is not None
    with urllib.request.urlopen(status.url, timeout=10) as response:
        assert response.status == 200


def test_broken_image_rolls_back_and_is_never_a_success(service: Service) -> None:
    before = service.status().image
    started = time.monotonic()
    with pytest.raises(RolledBack) as info:
        service.deploy(BAD_IMAGE, timeout=900)
    print(f"rollback detected after {time.monotonic() - started:.0f} s")
    assert info.value.serving is not None
    assert service.status().image == before
    assert service.history()[0].outcome is Outcome.ROLLED_BACK


def test_data_stores_work_with_user_credentials(service: Service) -> None:
    service.table.put_item({"pk": "aws-suite", "n": 1})
    assert service.table.get_item({"pk": "aws-suite"}) == {"pk": "aws-suite", "n": 1}
    service.bucket.put_bytes("aws-suite.txt", b"hello")
    assert service.bucket.get_bytes("aws-suite.txt") == b"hello"
    assert service.secret.get_json()


# -- behind an environment's ECS gateway (issue 14) ----------------------------------------
# Verified so far only against the published API model and CloudFormation schemas; this is
# the case that checks them on a real gateway: HTTPS at a generated hostname, a broken
# image rolled back on the route's health, and the environment's delete refused while used.


@pytest.fixture(scope="module")
def gateway_service() -> Iterator[tuple[Service, str]]:
    from fluoride import EnvironmentSpec

    reason = _enabled()
    if reason:
        pytest.skip(reason)
    fl = Fluoride()
    suffix = uuid.uuid4().hex[:6]
    env = fl.environment(f"flenv-{suffix}")
    started = time.monotonic()
    env.create(EnvironmentSpec())
    print(f"environment create took {time.monotonic() - started:.0f} s")
    svc = fl.service(f"flgw-{suffix}")
    try:
        svc.create(ServiceSpec(port=80, health_path="/", gateway=env.name), image=GOOD_IMAGE)
        yield svc, env.name
    finally:
        svc.delete(purge_data=True)
        env.delete()


def test_gateway_service_answers_over_https(gateway_service: tuple[Service, str]) -> None:
    svc, environment = gateway_service
    assert svc.status().environment == environment
    url = svc.url
    assert url is not None
    assert url.startswith("https://")
    deadline = time.monotonic() + 300  # the route's certificate and DNS may take a while
    while True:
        try:
            with urllib.request.urlopen(url, timeout=10) as response:
                assert response.status == 200
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(10)


def test_gateway_broken_image_rolls_back(gateway_service: tuple[Service, str]) -> None:
    from fluoride import EnvironmentInUse

    svc, environment = gateway_service
    before = svc.status().image
    with pytest.raises(RolledBack):
        svc.deploy(BAD_IMAGE, timeout=900)
    assert svc.status().image == before
    with pytest.raises(EnvironmentInUse):
        Fluoride().environment(environment).delete()


def test_allowed_callers_behind_an_internal_gateway() -> None:
    """Callers' rules on a real environment's inbound group (emulator-checked so far):
    ECS keeps them, and the service's update takes them away."""
    from fluoride import EnvironmentSpec
    from fluoride.spec import Network

    reason = _enabled()
    if reason:
        pytest.skip(reason)
    fl = Fluoride()
    suffix = uuid.uuid4().hex[:6]
    env = fl.environment(f"flin-{suffix}")
    env.create(EnvironmentSpec(scheme="internal", ingress_cidrs=[]))
    caller, callee = fl.service(f"flcb-{suffix}"), fl.service(f"flca-{suffix}")
    try:
        caller.create(ServiceSpec(gateway=env.name))
        callee.create(ServiceSpec(gateway=env.name,
                                  network=Network(allowed_callers=[caller.name])))
        ec2 = boto3.client("ec2", region_name=fl.region)

        def sources() -> set[str]:
            (sg,) = ec2.describe_security_groups(
                GroupIds=[env.outputs()["GatewaySecurityGroupId"]])["SecurityGroups"]
            return {pair["GroupId"] for p in sg["IpPermissions"]
                    for pair in p.get("UserIdGroupPairs", [])}

        group = caller.outputs()["TaskSecurityGroupId"]
        assert group in sources()
        callee.update(ServiceSpec(gateway=env.name))
        assert group not in sources()
    finally:
        for svc in (callee, caller):
            if svc.exists():
                svc.delete(purge_data=True)
        env.delete()
