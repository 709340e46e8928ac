"""The pure part of planning: a change set's JSON into a `Plan`, and a `Plan` into words;
the template-upgrade note; the first failure of one operation. Tables, no AWS."""

from __future__ import annotations

import datetime as dt
from typing import Any

import attrs
import pytest

from fluoride._settings import first_failure
from fluoride.events import StackEventSeen
from fluoride.infra.plan import (
    PARAMETER_FIELDS,
    ProfileSwitch,
    ResourceChange,
    StoreRisk,
    make_plan,
    profile_switch,
    resource_changes,
    setting_changes,
    store_risks,
)
from fluoride.infra.upgrade import TEMPLATE_TAG, template_digest, template_note
from fluoride.names import VERSION_TAG
from fluoride.spec import ServiceSpec, Stores, to_parameters
from fluoride.spec._parameters import to_parameters as forward


def change(logical: str, rtype: str, action: str = "Modify", replacement: str | None = "False",
           details: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    rc: dict[str, Any] = {"Action": action, "LogicalResourceId": logical, "ResourceType": rtype,
                          "Details": details or []}
    if replacement is not None:
        rc["Replacement"] = replacement
    return {"Type": "Resource", "ResourceChange": rc}


def param(name: str, recreation: str = "Always") -> dict[str, Any]:
    return {"Target": {"Attribute": "Properties", "RequiresRecreation": recreation},
            "Evaluation": "Static", "ChangeSource": "ParameterReference", "CausingEntity": name}


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (change("TaskDefinition", "AWS::ECS::TaskDefinition", replacement="True",
                details=[param("Memory"), param("Cpu"), param("Memory")]),
         ResourceChange("TaskDefinition", "AWS::ECS::TaskDefinition", "modify", "yes",
                        ("memory", "cpu"))),
        (change("Service", "AWS::ECS::Service", details=[
            {"ChangeSource": "ResourceReference", "CausingEntity": "TaskDefinition"},
            {"ChangeSource": "ResourceAttribute", "CausingEntity": "TaskRole.Arn"}]),
         ResourceChange("Service", "AWS::ECS::Service", "modify", "no",
                        ("TaskDefinition", "TaskRole"))),
        (change("LoadBalancer", "AWS::ElasticLoadBalancingV2::LoadBalancer",
                replacement="Conditional", details=[{"ChangeSource": "DirectModification"}]),
         ResourceChange("LoadBalancer", "AWS::ElasticLoadBalancingV2::LoadBalancer", "modify",
                        "conditional", ("the template",))),
        (change("Certificate", "AWS::CertificateManager::Certificate", "Add", None),
         ResourceChange("Certificate", "AWS::CertificateManager::Certificate", "add")),
        (change("Table", "AWS::DynamoDB::Table", "Remove", None),
         ResourceChange("Table", "AWS::DynamoDB::Table", "remove")),
    ],
)
def test_resource_changes_from_the_change_set(raw: dict[str, Any], expected: ResourceChange
                                              ) -> None:
    assert resource_changes([raw, {"Type": "Other"}]) == [expected]


def test_every_parameter_maps_to_a_field_or_is_internal() -> None:
    params = forward(ServiceSpec(), service_name="x", vpc_id="vpc-0aaa1111",
                     subnet_ids=["subnet-0aaa0001", "subnet-0aaa0002"], image=None,
                     assign_public_ip=True)
    assert set(params) == set(PARAMETER_FIELDS)
    fields = {f for f in PARAMETER_FIELDS.values() if f and f != "image"}
    top = {a.name for a in attrs.fields(ServiceSpec)}
    assert {f.split(".")[0] for f in fields} <= top


def _params(spec: ServiceSpec) -> dict[str, str]:
    st = spec.stores
    named = attrs.evolve(spec, stores=attrs.evolve(
        st, table_name=st.table_name or "tbl", bucket_name=st.bucket_name or "bucket-b",
        secret_name=st.secret_name or "sec"))
    return to_parameters(named, service_name="x", vpc_id="vpc-0aaa1111",
                         subnet_ids=["subnet-0aaa0001", "subnet-0aaa0002"], image=None,
                         assign_public_ip=True)


OUTPUTS = {"TableName": "tbl", "BucketName": "bucket-b", "SecretArn": "arn:secret:s-abcdef"}


@pytest.mark.parametrize(
    ("stores", "expected"),
    [
        (Stores(), []),
        (Stores(ttl_attribute="gone"), []),
        (Stores(secret_recovery_days=7), []),
        (Stores(partition_key="id"),
         [StoreRisk("table", "tbl", "stores.partition_key: 'pk' -> 'id'", "replaced")]),
        (Stores(table_name="tbl2"),
         [StoreRisk("table", "tbl", "stores.table_name: 'tbl' -> 'tbl2'", "replaced")]),
        (Stores(table=False), [StoreRisk("table", "tbl", "stores.table turned off", "removed")]),
        (Stores(bucket_name="bucket-c"),
         [StoreRisk("bucket", "bucket-b", "stores.bucket_name: 'bucket-b' -> 'bucket-c'",
                    "replaced")]),
        (Stores(secret=False, bucket=False),
         [StoreRisk("bucket", "bucket-b", "stores.bucket turned off", "removed"),
          StoreRisk("secret", "arn:secret:s-abcdef", "stores.secret turned off", "removed")]),
    ],
)
def test_store_risks_from_the_parameters(stores: Stores, expected: list[StoreRisk]) -> None:
    old, new = _params(ServiceSpec()), _params(ServiceSpec(stores=stores))
    assert store_risks(old, new, OUTPUTS) == expected


def test_a_store_that_is_off_is_never_at_stake() -> None:
    old = _params(ServiceSpec(stores=Stores(table=False)))
    new = _params(ServiceSpec(stores=Stores(table=False, partition_key="id")))
    assert store_risks(old, new, OUTPUTS) == []


def test_the_change_set_reveals_what_the_parameters_cannot() -> None:
    same = _params(ServiceSpec())
    replaced = ResourceChange("Bucket", "AWS::S3::Bucket", "modify", "conditional",
                              ("the template",))
    log_bucket = ResourceChange("AccessLogBucket", "AWS::S3::Bucket", "modify", "yes")
    assert store_risks(same, same, OUTPUTS, [replaced, log_bucket]) == [
        StoreRisk("bucket", "bucket-b", "the template", "replaced")]


@pytest.mark.parametrize(
    ("raw", "new", "words"),
    [
        ([change("TaskDefinition", "AWS::ECS::TaskDefinition", replacement="True")],
         ServiceSpec(memory=1024), ["The tasks restart (rolling, no downtime)"]),
        ([change("ScalableTarget", "AWS::ApplicationAutoScaling::ScalableTarget")],
         ServiceSpec(max_count=8), ["No restart"]),
        ([change("LoadBalancer", "AWS::ElasticLoadBalancingV2::LoadBalancer",
                 replacement="True")],
         ServiceSpec(network=attrs.evolve(ServiceSpec().network, public=False)),
         ["No restart", "The load balancer is replaced: the URL changes"]),
        ([change("Table", "AWS::DynamoDB::Table", replacement="True")],
         ServiceSpec(stores=Stores(partition_key="id")),
         ["No restart", "The table tbl would be replaced"]),
        ([], ServiceSpec(), []),
    ],
)
def test_the_plan_says_what_users_care_about(
    raw: list[dict[str, Any]], new: ServiceSpec, words: list[str]
) -> None:
    plan = make_plan("x", raw, old_spec=ServiceSpec(), new_spec=new,
                     old_params=_params(ServiceSpec()), new_params=_params(new), outputs=OUTPUTS)
    assert len(plan.consequences) == len(words)
    for said, expected in zip(plan.consequences, words, strict=True):
        assert said.startswith(expected)
    assert ("lost" in str(plan)) == bool(plan.risks)
    assert "\n" not in repr(plan)


def test_setting_changes_list_fields_and_variables_in_order() -> None:
    old = ServiceSpec(environment={"A": "1", "B": "2"})
    new = ServiceSpec(memory=1024, environment={"A": "1", "C": "3"}, team="x")
    assert [str(s) for s in setting_changes(old, new)] == [
        "memory: 512 -> 1024", "environment.B: '2' -> (unset)", "team: (unset) -> 'x'",
        "environment.C: (unset) -> '3'"]


@pytest.mark.parametrize(
    ("tags", "installed", "expected"),
    [
        ({TEMPLATE_TAG: template_digest("t")}, "0.2.0", None),
        ({TEMPLATE_TAG: "old", VERSION_TAG: "0.1.0"}, "0.2.0", "Fluoride 0.2.0 has a newer one"),
        ({}, "0.2.0", "an older Fluoride"),
        ({TEMPLATE_TAG: "new", VERSION_TAG: "0.3.1"}, "0.2.0", "upgrade Fluoride"),
        ({TEMPLATE_TAG: "new", VERSION_TAG: "0.10.0"}, "0.9.0", "upgrade Fluoride"),
    ],
)
def test_template_note(tags: dict[str, str], installed: str, expected: str | None) -> None:
    note = template_note(tags, template="t", version=installed)
    if expected is None:
        assert note is None
    else:
        assert note is not None
        assert expected in note


def _event(logical: str, status: str, reason: str | None = None,
           rtype: str = "AWS::ECS::Service") -> StackEventSeen:
    return StackEventSeen("s", logical, rtype, status, reason, dt.datetime(2025, 1, 1))


@pytest.mark.parametrize(
    ("events", "expected"),
    [
        ([], (None, None)),
        ([_event("s", "UPDATE_IN_PROGRESS", "User Initiated", "AWS::CloudFormation::Stack"),
          _event("Svc", "UPDATE_FAILED", "bad memory"),
          _event("Role", "UPDATE_FAILED", "Resource update cancelled"),
          _event("s", "UPDATE_ROLLBACK_IN_PROGRESS", "x", "AWS::CloudFormation::Stack")],
         ("Svc", "bad memory")),
        ([_event("Role", "UPDATE_FAILED", "Resource update cancelled"),
          _event("Tg", "UPDATE_FAILED", "no such port")], ("Tg", "no such port")),
        ([_event("s", "UPDATE_FAILED", "stack", "AWS::CloudFormation::Stack")], (None, None)),
    ],
)
def test_first_failure_of_one_operation(
    events: list[StackEventSeen], expected: tuple[str | None, str | None]
) -> None:
    assert first_failure(events) == expected


# -- a live switch of compliance profile -------------------------------------------------

_OWN = {"AdoptRepository": "false"}
_ADOPTED = {"AdoptRepository": "true"}
_REPO = {"RepositoryName": "fluoride/web"}


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ({**_OWN, "Compliance": "standard"}, {**_OWN, "Compliance": "strict"},
         ProfileSwitch("standard", "strict", "fluoride/web")),
        ({**_OWN, "Compliance": "strict"}, {**_OWN, "Compliance": "standard"},
         ProfileSwitch("strict", "standard", "fluoride/web")),
        # a stack from before the parameter existed is standard
        (dict(_OWN), {**_OWN, "Compliance": "strict"},
         ProfileSwitch("standard", "strict", "fluoride/web")),
        ({**_OWN, "Compliance": "strict"}, {**_OWN, "Compliance": "strict"}, None),
        ({**_OWN, "Compliance": "standard"}, {**_OWN, "Compliance": "standard"}, None),
        (dict(_OWN), {**_OWN, "Compliance": "standard"}, None),
        # an adopted repository is not the stack's: it keeps its settings, nothing replaced
        ({**_ADOPTED, "Compliance": "standard"}, {**_ADOPTED, "Compliance": "strict"}, None),
        ({**_ADOPTED, "Compliance": "strict"}, {**_ADOPTED, "Compliance": "standard"}, None),
    ],
)
def test_a_live_profile_switch_is_named(old: dict[str, str], new: dict[str, str],
                                        expected: ProfileSwitch | None) -> None:
    assert profile_switch(old, new, _REPO) == expected


def test_the_profile_switch_says_what_would_happen_and_what_to_do() -> None:
    sentence = ProfileSwitch("standard", "strict", "fluoride/web").sentence()
    for words in ("replace the image repository fluoride/web", "AES256 now",
                  "the service's KMS key under 'strict'", "cannot change",
                  "create a new service with compliance='strict'",
                  "keep compliance='standard'"):
        assert words in sentence, words
    back = ProfileSwitch("strict", "standard", "fluoride/web").sentence()
    assert "the service's KMS key now, AES256 under 'standard'" in back


def test_the_plan_of_a_profile_switch_says_update_refuses_it() -> None:
    old_spec, new_spec = ServiceSpec(), attrs.evolve(ServiceSpec(), compliance="strict")
    plan = make_plan("web", [], old_spec=old_spec, new_spec=new_spec,
                     old_params={**_OWN, "Compliance": "standard"},
                     new_params={**_OWN, "Compliance": "strict"}, outputs=_REPO)
    assert plan.consequences[0].startswith("update() refuses this: compliance 'standard' -> "
                                           "'strict' would replace the image repository")
    same = make_plan("web", [], old_spec=old_spec, new_spec=old_spec,
                     old_params={**_OWN, "Compliance": "standard"},
                     new_params={**_OWN, "Compliance": "standard"}, outputs=_REPO)
    assert same.consequences == ()
