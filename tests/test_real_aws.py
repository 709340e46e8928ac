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
