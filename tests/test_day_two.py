"""Day two on the embedded emulator: read a live spec back, plan a change, update in place,
upgrade the template."""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import attrs
import pytest

from fluoride import Fluoride, ServiceSpec
from fluoride._settings import StoreReplacementRefused
from fluoride.errors import DeploymentInProgress, RolledBack
from fluoride.events import Note
from fluoride.infra.upgrade import TEMPLATE_TAG, template_digest
from fluoride.local import Timing
from fluoride.names import VERSION_TAG
from fluoride.releases.history import Outcome
from fluoride.service import Service
from fluoride.spec import Access, Domain, Network, Stores

from .conftest import Recorder
from .test_readback import random_spec

FIXTURES = Path(__file__).parent / "fixtures"
_n = iter(range(1000))


@pytest.fixture(scope="module")
def rec() -> Recorder:
    return Recorder()


@pytest.fixture(scope="module")
def local(rec: Recorder) -> Iterator[Fluoride]:
    fast = Timing(task_start=0.05, health_check=0.05, drain=0.05)
    with Fluoride.local(reporter=rec, timing=fast) as fl:
        yield fl


def _name() -> str:
    return f"day{next(_n)}"


def serving(local: Fluoride, spec: ServiceSpec | None = None, **push: int) -> Service:
    """A service created with ``spec`` and serving v1."""
    svc = local.service(_name())
    svc.create(spec or ServiceSpec())
    assert local.emulator is not None
    local.emulator.push_image(svc.outputs()["RepositoryName"], "v1", **push)  # type: ignore[arg-type]
    svc.deploy("v1")
    return svc


def emulator_spec(seed: int) -> ServiceSpec:
    """A generated spec the emulator can run: the default network (its VPC is the only
    one), no domain (no hosted zone), no extra policies, unique store names."""
    spec = random_spec(random.Random(seed))
    net = spec.network
    st = spec.stores
    return attrs.evolve(
        spec,
        network=Network(public=net.public, ingress_cidrs=net.ingress_cidrs or ("10.0.0.0/8",),
                        assign_public_ip=net.assign_public_ip),
        domain=Domain(),
        access=Access(),
        stores=attrs.evolve(
            st,
            table_name=f"rt-{seed}-table" if st.table_name else None,
            bucket_name=f"rt-{seed}-bucket" if st.bucket_name else None,
            secret_name=f"rt/{seed}" if st.secret_name else None,
        ),
    )


@pytest.mark.parametrize("seed", range(6))
def test_spec_reads_back_what_create_was_given(local: Fluoride, seed: int) -> None:
    spec = emulator_spec(seed)
    svc = local.service(_name())
    svc.create(spec)
    try:
        assert svc.spec() == spec
    finally:
        svc.delete(purge_data=True)


def test_plan_changes_nothing(local: Fluoride) -> None:
    svc = serving(local)
    before, params = svc.spec(), svc.stack.require().parameters
    plan = svc.plan(attrs.evolve(before, memory=1024, min_count=2,
                                 environment={"MODE": "fast"}))
    assert plan.restarts_tasks
    assert {"memory", "min_count", "environment.MODE"} <= {s.field for s in plan.settings}
    assert "tasks restart" in repr(plan)
    assert "<table>" in plan._repr_html_()
    info = svc.stack.require()
    assert info.parameters == params
    assert svc.spec() == before
    cfn = local.aws.client("cloudformation")
    left = [c["ChangeSetName"] for c in cfn.list_change_sets(StackName=info.name)["Summaries"]]
    assert not [n for n in left if n.startswith("fluoride-settings-")]  # plan() deleted its own


def test_plan_of_the_live_spec_is_empty(local: Fluoride) -> None:
    svc = serving(local)
    plan = svc.plan(svc.spec())
    assert plan.empty
    assert "nothing to change" in repr(plan)


@pytest.mark.parametrize(
    "change",
    [
        {"cpu": 512, "memory": 2048},
        {"environment": {"MODE": "fast", "Q": 'a "b"'}},
        {"health_path": "/ready", "stop_timeout": 20},
    ],
)
def test_update_restarts_the_tasks_keeps_the_image_and_records_it(
    local: Fluoride, rec: Recorder, change: dict[str, object]
) -> None:
    svc = serving(local)
    image = svc.status().image
    new = attrs.evolve(svc.spec(), **change)  # type: ignore[arg-type]
    status = svc.update(new)
    assert status.image == image
    assert status.running == status.desired == 1
    assert svc.spec() == new
    newest = svc.history()[0]
    assert (newest.kind, newest.outcome, newest.image) == ("settings", Outcome.STABLE, image)
    assert newest.change is not None
    assert newest.deployed_by
    assert all(f.split(".")[0] in newest.change for f in change)


def test_update_in_place_keeps_the_tasks(local: Fluoride, rec: Recorder) -> None:
    svc = serving(local)
    ecs = local.aws.client("ecs")
    out = svc.outputs()
    before = ecs.describe_services(cluster=out["ClusterName"],
                                   services=[out["EcsServiceName"]])["services"][0]
    new = attrs.evolve(svc.spec(), max_count=8, cpu_target=40, alarm_5xx_threshold=50)
    svc.update(new)
    after = ecs.describe_services(cluster=out["ClusterName"],
                                  services=[out["EcsServiceName"]])["services"][0]
    assert after["taskDefinition"] == before["taskDefinition"]
    assert svc.spec() == new
    assert svc.history()[0].change == ("max_count: 4 -> 8, cpu_target: 60 -> 40, "
                                       "alarm_5xx_threshold: 10 -> 50")


def test_a_setting_that_fails_its_tasks_rolls_back_with_reasons(local: Fluoride) -> None:
    svc = serving(local, ServiceSpec(cpu=512, memory=2048), needs_memory=2048)
    old = svc.spec()
    with pytest.raises(RolledBack) as caught:
        svc.update(attrs.evolve(old, memory=1024))
    assert "OutOfMemoryError" in str(caught.value)
    assert "memory: 2048 -> 1024" in caught.value.message
    assert any("OutOfMemoryError" in r for r in caught.value.reasons)
    assert svc.spec() == old
    newest = svc.history()[0]
    assert (newest.kind, newest.outcome) == ("settings", Outcome.ROLLED_BACK)


@pytest.mark.parametrize(
    ("stores", "store", "setting"),
    [
        ({"partition_key": "id"}, "table", "stores.partition_key"),
        ({"table_name": "another-table"}, "table", "stores.table_name"),
        ({"table": False}, "table", "stores.table turned off"),
        ({"bucket_name": "another-bucket-x1"}, "bucket", "stores.bucket_name"),
        ({"bucket": False}, "bucket", "stores.bucket turned off"),
        ({"secret_name": "another/secret"}, "secret", "stores.secret_name"),
        ({"secret": False}, "secret", "stores.secret turned off"),
    ],
)
def test_every_store_replacing_change_is_refused_before_any_change(
    local: Fluoride, stores: dict[str, object], store: str, setting: str
) -> None:
    svc = local.service(_name())
    svc.create()
    info = svc.stack.require()
    spec = svc.spec()
    with pytest.raises(StoreReplacementRefused) as caught:
        svc.update(attrs.evolve(spec, memory=1024,
                                stores=attrs.evolve(spec.stores, **stores)))  # type: ignore[arg-type]
    risk = caught.value.risks[0]
    assert (risk.store, risk.setting.split(":")[0]) == (store, setting)
    assert risk.name
    assert risk.name in caught.value.message
    assert "lost" in caught.value.message
    after = svc.stack.require()
    assert (after.parameters, after.status, after.updated) == (info.parameters, info.status,
                                                               info.updated)


def test_allow_replacement_keeps_the_old_store_and_says_where(
    local: Fluoride, rec: Recorder
) -> None:
    svc = local.service(_name())
    svc.create()
    old_table = svc.outputs()["TableName"]
    svc.table.put_item({"pk": "a"})
    rec.events.clear()
    new = attrs.evolve(svc.spec(), stores=Stores(table_name=f"{svc.name}-v2"))
    svc.update(new, allow_replacement=True)
    assert svc.spec() == new
    # (moto updates a renamed table in place instead of replacing it, so the emulator
    # cannot show the new table; the old one's data is what matters here.)
    notes = [e.text for e in rec.events if isinstance(e, Note)]
    assert any(old_table in n and "kept" in n for n in notes)
    kept = local.aws.client("dynamodb").scan(TableName=old_table)["Items"]
    assert kept == [{"pk": {"S": "a"}}]


def test_update_on_a_busy_service_is_refused(local: Fluoride) -> None:
    svc = serving(local)
    assert local.emulator is not None
    local.emulator.push_image(svc.outputs()["RepositoryName"], "v2")
    with local.emulator.hold_rollouts():
        svc.deploy("v2", wait=False)
        with pytest.raises(DeploymentInProgress):
            svc.update(attrs.evolve(svc.spec(), memory=1024))
    svc.wait_stable()


def test_public_change_says_the_url_changes(local: Fluoride) -> None:
    svc = local.service(_name())
    svc.create()
    plan = svc.plan(attrs.evolve(svc.spec(), network=Network(public=False)))
    assert any("the URL changes" in c for c in plan.consequences)


def test_a_stack_from_an_older_template_is_upgraded_by_update(
    local: Fluoride, monkeypatch: pytest.MonkeyPatch
) -> None:
    old = (FIXTURES / "template-0.0.1.yaml").read_text("utf-8")
    svc = local.service(_name())
    with monkeypatch.context() as m:
        m.setattr("fluoride.service.load_template", lambda: old)
        m.setattr("fluoride.service.version", lambda: "0.0.1")
        svc.create(ServiceSpec(memory=1024))
    info = svc.stack.require()
    assert info.tags[TEMPLATE_TAG] == template_digest(old)
    assert "TaskRoleArn" not in info.outputs
    status = svc.status()
    assert status.template is not None
    assert "Fluoride 0.0.1" in status.template
    spec = svc.spec()
    assert spec == ServiceSpec(memory=1024)
    plan = svc.plan(spec)
    assert not plan.settings
    assert plan.restarts_tasks
    assert any("Template upgrade" in c for c in plan.consequences)
    svc.update(spec)
    info = svc.stack.require()
    assert info.tags[TEMPLATE_TAG] != template_digest(old)
    assert info.tags[VERSION_TAG] != "0.0.1"
    assert "TaskRoleArn" in info.outputs
    assert svc.status().template is None
    assert svc.plan(spec).empty
