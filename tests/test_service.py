"""Create, inspect, list and delete a service on the embedded emulator."""

from __future__ import annotations

import boto3
import pytest

from fluoride import Fluoride, ServiceExists, ServiceNotFound, ServiceSpec
from fluoride.errors import ConfigError
from fluoride.events import Note, PlanReady
from fluoride.infra.stack import StackState
from fluoride.spec import Stores

from .conftest import Recorder


def test_create_status_list_delete(fl: Fluoride, unique_name: str) -> None:
    recorder = Recorder()
    fl.reporter = recorder
    svc = fl.service(unique_name)
    assert not svc.exists()

    status = svc.create(ServiceSpec(port=8080, health_path="/health"))

    assert svc.exists()
    assert status.state is StackState.COMPLETE
    assert status.stack_status == "CREATE_COMPLETE"
    assert status.image is None
    assert status.desired == 0  # no image yet: no tasks until the first deploy
    assert status.url is not None
    assert status.url.startswith("http://")
    out = status.outputs
    assert out["TableName"] == f"fluoride-{unique_name}"
    assert out["BucketName"].startswith(f"fluoride-{unique_name}-")
    assert out["SecretArn"].startswith("arn:aws:secretsmanager:")
    assert out["RepositoryName"] == f"fluoride/{unique_name}"
    plans = [e for e in recorder.events if isinstance(e, PlanReady)]
    assert plans
    assert any(c.resource_type == "AWS::ECS::Service" for c in plans[0].changes)

    assert unique_name in [s.name for s in fl.services()]
    assert unique_name in [s.name for s in fl.status()]

    result = svc.delete()
    assert not svc.exists()
    assert set(result.kept) == {"table", "bucket", "secret", "repository"}
    notes = [e.text for e in recorder.events if isinstance(e, Note)]
    assert any("Kept its data" in n for n in notes)
    assert unique_name not in [s.name for s in fl.services()]


def test_create_twice_is_refused(fl: Fluoride, unique_name: str) -> None:
    svc = fl.service(unique_name)
    svc.create(ServiceSpec(stores=_no_stores()))
    try:
        with pytest.raises(ServiceExists, match="already exists"):
            svc.create()
    finally:
        svc.delete()


def test_stores_turned_off_have_empty_outputs(fl: Fluoride, unique_name: str) -> None:
    svc = fl.service(unique_name)
    status = svc.create(ServiceSpec(stores=_no_stores()))
    try:
        assert status.outputs["TableName"] == ""
        assert status.outputs["BucketName"] == ""
        assert status.outputs["SecretArn"] == ""
    finally:
        svc.delete()


def test_unknown_service(fl: Fluoride) -> None:
    svc = fl.service("nobody")
    assert not svc.exists()
    with pytest.raises(ServiceNotFound, match=r"svc\.create\(\)"):  # the SDK call here
        svc.status()
    with pytest.raises(ServiceNotFound):
        svc.delete()


def test_bad_spec_fails_before_any_call(fl: Fluoride, unique_name: str) -> None:
    calls: list[str] = []
    session = boto3.Session(aws_access_key_id="testing", aws_secret_access_key="testing",
                            region_name=fl.region)
    session.events.register("before-call", lambda **kw: calls.append(kw["model"].name))
    fresh = Fluoride(session=session, endpoint_url=fl.endpoint_url)
    with pytest.raises(ConfigError) as info:
        fresh.service(unique_name).create(ServiceSpec(cpu=256, memory=4096, port=0))
    assert len(info.value.errors) >= 2
    assert calls == []


def _no_stores() -> Stores:
    return Stores(table=False, bucket=False, secret=False)


def test_failed_create_leaves_nothing_behind(fl: Fluoride, unique_name: str) -> None:
    from fluoride.errors import StackFailed
    from fluoride.spec import Domain

    recorder = Recorder()
    fl.reporter = recorder
    svc = fl.service(unique_name)
    # A hosted zone that does not exist: the DNS record fails after the stores were made.
    no_zone = Domain(hosted_zone_id="Z0000000000NOSUCHZONE", hosted_zone_name="example.com",
                     subdomain="api")
    with pytest.raises(StackFailed) as info:
        svc.create(ServiceSpec(domain=no_zone))
    assert info.value.logical_id is not None
    assert "nothing was left behind" in str(info.value)
    assert not svc.exists()
    # The retained stores this attempt made are gone too, so the next create starts clean.
    notes = [e.text for e in recorder.events if isinstance(e, Note)]
    assert any("Removed what the failed create kept" in n for n in notes), notes
    assert not svc.kept_stores(svc._with_store_names(ServiceSpec())).found
    status = svc.create()
    assert status.state is StackState.COMPLETE
    svc.delete(purge_data=True)
