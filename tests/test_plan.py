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
from fluoride.spec import Domain, ServiceSpec, Sidecar, Stores, to_parameters
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
        # CloudFormation may say Replacement on an Add; only a modify replaces anything
        (change("Topic", "AWS::SNS::Topic", "Add", "True"),
         ResourceChange("Topic", "AWS::SNS::Topic", "add")),
        # every kind of cause: tags, an unknown source, a parameter with no field (its own
        # name), an attribute path (the resource), a parameter of the internal kind
        (change("Bucket", "AWS::S3::Bucket", details=[
            {"ChangeSource": "Tags"},
            {"ChangeSource": "Automatic"},
            {"ChangeSource": "ParameterReference", "CausingEntity": "NotAField"},
            {"ChangeSource": "ResourceAttribute", "CausingEntity": "Role.Arn.Extra"},
            {"ChangeSource": "ParameterReference", "CausingEntity": "AdoptTable"},
            {"ChangeSource": "Automatic", "CausingEntity": "Something"},
            {}]),
         ResourceChange("Bucket", "AWS::S3::Bucket", "modify", "no",
                        ("tags", "Automatic", "NotAField", "Role", "AdoptTable", "Something"))),
        # a change with nothing in it: said as unknown, never dropped
        ({"Type": "Resource", "ResourceChange": {}},
         ResourceChange("?", "?", "modify", None)),
        ({"Type": "Resource"}, ResourceChange("?", "?", "modify", None)),
    ],
)
def test_resource_changes_from_the_change_set(raw: dict[str, Any], expected: ResourceChange
                                              ) -> None:
    # a change of another type, first or last, is skipped (not the end of the list)
    assert resource_changes([{"Type": "Other"}, raw, {"Type": "Other"}]) == [expected]


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


RESTART = ("The tasks restart (rolling, no downtime): a new task definition is deployed and "
           "followed like a release; the image stays.")
IN_PLACE = "No restart: the changes apply in place; the tasks keep running."
LISTENER = [change("Listener", "AWS::ElasticLoadBalancingV2::Listener")]
CERT = "arn:aws:acm:eu-west-1:123456789012:certificate/00000000-0000-0000-0000-000000000000"


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        # the change set's own words on a store: removed, or replaced by what caused it
        ([ResourceChange("Secret", "AWS::SecretsManager::Secret", "remove")],
         [StoreRisk("secret", "arn:secret:s-abcdef", "the template", "removed")]),
        ([ResourceChange("Table", "AWS::DynamoDB::Table", "modify", "yes",
                         ("stores.table_name", "the template"))],
         [StoreRisk("table", "tbl", "stores.table_name, the template", "replaced")]),
        # a store's logical id on a type that holds no data, an added store, and one
        # changed in place: nothing at stake
        ([ResourceChange("Table", "AWS::CloudFormation::WaitConditionHandle", "modify", "yes"),
          ResourceChange("Bucket", "AWS::S3::Bucket", "add"),
          ResourceChange("Secret", "AWS::SecretsManager::Secret", "modify", "no")], []),
        # said in the order table, bucket, secret, whatever the change set's order
        ([ResourceChange("Secret", "AWS::SecretsManager::Secret", "remove"),
          ResourceChange("Table", "AWS::DynamoDB::Table", "remove")],
         [StoreRisk("table", "tbl", "the template", "removed"),
          StoreRisk("secret", "arn:secret:s-abcdef", "the template", "removed")]),
    ],
)
def test_store_risks_from_the_change_set(changes: list[ResourceChange],
                                         expected: list[StoreRisk]) -> None:
    same = _params(ServiceSpec())
    assert store_risks(same, same, OUTPUTS, changes) == expected


def test_a_store_that_is_off_does_not_hide_the_next_one() -> None:
    old = _params(ServiceSpec(stores=Stores(table=False)))
    new = _params(ServiceSpec(stores=Stores(table=False, bucket_name="bucket-c")))
    assert store_risks(old, new, OUTPUTS) == [
        StoreRisk("bucket", "bucket-b", "stores.bucket_name: 'bucket-b' -> 'bucket-c'",
                  "replaced")]
    unrelated = ResourceChange("Service", "AWS::ECS::Service", "modify", "yes")
    removed = ResourceChange("Secret", "AWS::SecretsManager::Secret", "remove")
    same = _params(ServiceSpec())
    assert store_risks(same, same, OUTPUTS, [unrelated, removed]) == [
        StoreRisk("secret", "arn:secret:s-abcdef", "the template", "removed")]


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        # a stack from before the switches existed had every store on
        ({"TableName": "tbl"}, {"EnableTable": "false", "TableName": "tbl"},
         [StoreRisk("table", "tbl", "stores.table turned off", "removed")]),
        ({"TableName": "tbl"}, {"TableName": "tbl"}, []),
        # a name parameter left out reads as empty, and a change from it is still a change
        ({"EnableBucket": "true"}, {"EnableBucket": "true", "BucketName": "b2"},
         [StoreRisk("bucket", "", "stores.bucket_name: '' -> 'b2'", "replaced")]),
        ({"EnableBucket": "true", "BucketName": "b1"}, {"EnableBucket": "true"},
         [StoreRisk("bucket", "b1", "stores.bucket_name: 'b1' -> ''", "replaced")]),
    ],
)
def test_store_risks_when_parameters_are_left_out(old: dict[str, str], new: dict[str, str],
                                                  expected: list[StoreRisk]) -> None:
    no_table_or_secret = {"EnableSecret": "false"}
    old_all = ({"EnableTable": "false"} if "TableName" not in old else {}) | \
        no_table_or_secret | old
    new_all = ({"EnableTable": "false"} if "TableName" not in new else {}) | \
        no_table_or_secret | new
    assert store_risks(old_all, new_all, {}) == expected


def test_the_parameters_say_it_first_and_name_the_store_without_outputs() -> None:
    old, new = _params(ServiceSpec()), _params(ServiceSpec(stores=Stores(partition_key="id")))
    from_change_set = ResourceChange("Table", "AWS::DynamoDB::Table", "remove")
    assert store_risks(old, new, {}, [from_change_set]) == [
        StoreRisk("table", "tbl", "stores.partition_key: 'pk' -> 'id'", "replaced")]


@pytest.mark.parametrize(
    ("raw", "old", "new", "params", "words"),
    [
        pytest.param([change("TaskDefinition", "AWS::ECS::TaskDefinition", replacement="True")],
                     ServiceSpec(), ServiceSpec(memory=1024), ({}, {}), [RESTART],
                     id="restart"),
        pytest.param([change("TaskDefinition", "AWS::ECS::TaskDefinition", "Remove", None)],
                     ServiceSpec(), ServiceSpec(memory=1024), ({}, {}), [IN_PLACE],
                     id="a-removed-task-definition-starts-nothing"),
        pytest.param([change("ScalableTarget", "AWS::ApplicationAutoScaling::ScalableTarget")],
                     ServiceSpec(), ServiceSpec(max_count=8), ({}, {}), [IN_PLACE],
                     id="in-place"),
        pytest.param([change("LoadBalancer", "AWS::ElasticLoadBalancingV2::LoadBalancer",
                             replacement="True")],
                     ServiceSpec(), ServiceSpec(max_count=8), ({}, {}),
                     [IN_PLACE, "The load balancer is replaced: the URL changes (status().url "
                      "has the new one), and it answers only once the new one is ready."],
                     id="load-balancer-replaced"),
        pytest.param(LISTENER, ServiceSpec(),
                     ServiceSpec(network=attrs.evolve(ServiceSpec().network, public=False)),
                     ({}, {}),
                     [IN_PLACE, "The load balancer is replaced: the URL changes (status().url "
                      "has the new one), and it answers only once the new one is ready."],
                     id="public-to-internal"),
        pytest.param(LISTENER, ServiceSpec(), ServiceSpec(domain=Domain(certificate_arn=CERT)),
                     ({}, {}),
                     [IN_PLACE, "The URL changes: the domain or HTTPS settings differ."],
                     id="https"),
        *(pytest.param(LISTENER, ServiceSpec(), ServiceSpec(), ({}, {key: "changed"}),
                       [IN_PLACE, "The URL changes: the domain or HTTPS settings differ."],
                       id=f"domain-{key}")
          for key in ("HostedZoneId", "HostedZoneName", "Subdomain", "CertificateArn",
                      "RequestCertificate")),
        pytest.param(LISTENER, ServiceSpec(), ServiceSpec(), ({}, {"Gateway": "lab"}),
                     [IN_PLACE, "The URL changes: the service moves from its own load "
                      "balancer to the gateway of environment lab, which gives it a generated "
                      "https:// hostname (status().url has it); its load balancer, listeners, "
                      "target group and load balancer security group are removed."],
                     id="onto-a-gateway"),
        pytest.param(LISTENER, ServiceSpec(), ServiceSpec(), ({"Gateway": "lab"}, {}),
                     [IN_PLACE, "The URL changes: the service leaves the gateway of "
                      "environment lab for a load balancer of its own (status().url has the "
                      "new URL)."],
                     id="off-a-gateway"),
        pytest.param(LISTENER, ServiceSpec(), ServiceSpec(),
                     ({"Gateway": "lab"}, {"Gateway": "lab2"}),
                     [IN_PLACE, "The URL changes: the service moves from the gateway of "
                      "environment lab to that of environment lab2 (status().url has the new "
                      "https:// hostname)."],
                     id="gateway-to-gateway"),
        pytest.param([change("Table", "AWS::DynamoDB::Table", replacement="True")],
                     ServiceSpec(), ServiceSpec(stores=Stores(partition_key="id")), ({}, {}),
                     [IN_PLACE, "The table tbl would be replaced (stores.partition_key: 'pk' "
                      "-> 'id'): the service would start on a new, empty table, and its items "
                      "would be lost to it."],
                     id="table-replaced"),
        pytest.param([change("Table", "AWS::DynamoDB::Table", "Add", None)],
                     ServiceSpec(stores=Stores(table=False)), ServiceSpec(), ({}, {}),
                     [IN_PLACE, "A new store is created (empty)."], id="a-new-store"),
        pytest.param([], ServiceSpec(), ServiceSpec(), ({}, {}), [], id="nothing"),
    ],
)
def test_the_plan_says_what_users_care_about(
    raw: list[dict[str, Any]], old: ServiceSpec, new: ServiceSpec,
    params: tuple[dict[str, str], dict[str, str]], words: list[str]
) -> None:
    plan = make_plan("x", raw, old_spec=old, new_spec=new,
                     old_params=_params(old) | params[0], new_params=_params(new) | params[1],
                     outputs=OUTPUTS)
    assert list(plan.consequences) == words
    assert ("lost" in str(plan)) == bool(plan.risks)
    assert "\n" not in repr(plan)


@pytest.mark.parametrize(
    ("risk", "sentence"),
    [
        (StoreRisk("table", "tbl", "stores.partition_key: 'pk' -> 'id'", "replaced"),
         "The table tbl would be replaced (stores.partition_key: 'pk' -> 'id'): the service "
         "would start on a new, empty table, and its items would be lost to it."),
        (StoreRisk("bucket", "bucket-b", "stores.bucket turned off", "removed"),
         "The bucket bucket-b would be removed from the service (stores.bucket turned off): "
         "its objects would be lost to it."),
        (StoreRisk("secret", "s", "the template", "removed"),
         "The secret s would be removed from the service (the template): its values would "
         "be lost to it."),
        (StoreRisk("table", "", "the template", "replaced"),
         "The table would be replaced (the template): the service would start on a new, "
         "empty table, and its items would be lost to it."),
    ],
)
def test_a_store_risk_says_what_would_be_lost(risk: StoreRisk, sentence: str) -> None:
    assert risk.sentence() == sentence


def test_setting_changes_of_sidecars_lists_and_switches() -> None:
    old = ServiceSpec(sidecars=(Sidecar(name="proxy", image="nginx:1"),))
    new = ServiceSpec(
        sidecars=(Sidecar(name="proxy", image="nginx:2", essential=True),
                  Sidecar(name="otel", image="otel:1")),
        exec_enabled=True,
        network=attrs.evolve(ServiceSpec().network,
                             ingress_cidrs=("10.0.0.0/16", "10.1.0.0/16")))
    assert [str(s) for s in setting_changes(old, new)] == [
        "network.ingress_cidrs: [0.0.0.0/0] -> [10.0.0.0/16, 10.1.0.0/16]",
        "sidecars.proxy.image: 'nginx:1' -> 'nginx:2'",
        "sidecars.proxy.essential: false -> true",
        "exec_enabled: false -> true",
        # an added sidecar: what it sets, not the fields it leaves unset
        "sidecars.otel.name: (unset) -> 'otel'",
        "sidecars.otel.image: (unset) -> 'otel:1'",
        "sidecars.otel.cpu: (unset) -> 0",
        "sidecars.otel.essential: (unset) -> false",
        "sidecars.otel.command: (unset) -> []",
    ]
    removed = [str(s) for s in setting_changes(new, old) if ".otel." in s.field]
    assert removed == ["sidecars.otel.name: 'otel' -> (unset)",
                       "sidecars.otel.image: 'otel:1' -> (unset)",
                       "sidecars.otel.cpu: 0 -> (unset)",
                       "sidecars.otel.essential: false -> (unset)",
                       "sidecars.otel.command: [] -> (unset)"]


def test_setting_changes_name_a_sidecar_s_health_command() -> None:
    old = ServiceSpec(sidecars=(Sidecar(name="otel", image="otel:1"),))
    checked = ServiceSpec(sidecars=(Sidecar(name="otel", image="otel:1",
                                            health_command="curl -f localhost:13133"),))
    assert [str(s) for s in setting_changes(old, checked)] == [
        "sidecars.otel.health_command: (unset) -> 'curl -f localhost:13133'"]
    assert [str(s) for s in setting_changes(checked, old)] == [
        "sidecars.otel.health_command: 'curl -f localhost:13133' -> (unset)"]


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
        # adopted on either side of the update: the stack's own repository is not replaced
        ({**_OWN, "Compliance": "standard"}, {**_ADOPTED, "Compliance": "strict"}, None),
        ({**_ADOPTED, "Compliance": "standard"}, {**_OWN, "Compliance": "strict"}, None),
        # a parameter left out reads as its default: standard, and the stack's repository
        ({**_OWN, "Compliance": "strict"}, dict(_OWN),
         ProfileSwitch("strict", "standard", "fluoride/web")),
        ({"Compliance": "standard"}, {"Compliance": "strict"},
         ProfileSwitch("standard", "strict", "fluoride/web")),
    ],
)
def test_a_live_profile_switch_is_named(old: dict[str, str], new: dict[str, str],
                                        expected: ProfileSwitch | None) -> None:
    assert profile_switch(old, new, _REPO) == expected


def test_a_profile_switch_without_the_repository_output_still_says_it() -> None:
    switch = profile_switch({"Compliance": "standard"}, {"Compliance": "strict"}, {})
    assert switch == ProfileSwitch("standard", "strict", "")
    assert "would replace the image repository: its encryption" in switch.sentence()


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
