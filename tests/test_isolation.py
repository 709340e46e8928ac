"""Isolation, proven: each service's task role reaches its own stores and nothing else,
and its execution role reads its own secret only when ``secret_env`` needs it.

The task role's policies are rendered from the template for two services (the SDK's own
``to_parameters`` makes the parameters) and evaluated with principalmapper's local IAM
policy simulation, which honours resource ARNs, permissions boundaries and denies.
Service B's name starts with service A's, so a wildcard too wide would show.
"""

from __future__ import annotations

import collections
import collections.abc
from collections.abc import Mapping
from typing import Any

import attrs
import pytest

from fluoride.infra.policy_report import parse_template, template_text
from fluoride.spec import Access, ServiceSpec, Stores, render_environment, to_parameters
from tests._cfn import ACCOUNT, REGION, Rendered, render

# principalmapper 1.1.5 imports Mapping from collections, which Python 3.10 removed.
for _name in ("Mapping", "MutableMapping"):
    if not hasattr(collections, _name):
        setattr(collections, _name, getattr(collections.abc, _name))

from principalmapper.common import Node, Policy  # noqa: E402  # needs the shim above
from principalmapper.querying.query_interface import (  # noqa: E402  # needs the shim above
    local_check_authorization_full,
)

NETWORK: dict[str, Any] = {
    "vpc_id": "vpc-0123456789abcdef0", "subnet_ids": ["subnet-0123aaaa", "subnet-0123bbbb"]}
A, B = "notes", "notes-b"


def named_stores(service: str) -> Stores:
    """The deterministic names create() gives the stores."""
    return Stores(
        table_name=f"fluoride-{service}",
        bucket_name=f"fluoride-{service}-{ACCOUNT}-{REGION}",
        secret_name=f"fluoride/{service}",
    )


def stack(
    service: str, spec: ServiceSpec | None = None, *, named: bool = True, adopt: bool = False
) -> Rendered:
    """``service``'s stack; with ``adopt``, one that adopts the stores a delete kept."""
    spec = spec or ServiceSpec()
    if named or adopt:
        spec = attrs.evolve(spec, stores=attrs.evolve(spec.stores, **_names(service)))
    params = to_parameters(
        spec,
        service_name=service,
        vpc_id=NETWORK["vpc_id"],
        subnet_ids=NETWORK["subnet_ids"],
        image=None,
        assign_public_ip=True,
        adopt_table=adopt,
        adopt_bucket=adopt,
        adopt_secret=adopt,
        adopted_secret_arn=kept_secret_arn(service) if adopt else None,
    )
    if not spec.secret_env:
        return render(params)
    body = render_environment(template_text(), spec.environment, secret_env=spec.secret_env)
    return render(params, template=parse_template(body))


def kept_secret_arn(service: str) -> str:
    """The ARN of the secret a delete of ``service`` kept (the renderer's suffix)."""
    return f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:fluoride/{service}-AbCdEf"


def _names(service: str) -> dict[str, Any]:
    st = named_stores(service)
    return {
        "table_name": st.table_name or "",
        "bucket_name": st.bucket_name or "",
        "secret_name": st.secret_name or "",
    }


def task_role(
    rendered: Rendered,
    managed: Mapping[str, dict[str, Any]] | None = None,
    boundaries: Mapping[str, dict[str, Any]] | None = None,
    *,
    logical: str = "TaskRole",
) -> Node:
    """The task role (or another role of the stack) as principalmapper sees it: inline +
    managed policies and boundary."""
    role = rendered.resources[logical]["Properties"]
    name = rendered.physical[logical]
    arn = rendered.arn(logical)
    policies = [
        Policy(
            f"{arn}/{res['Properties']['PolicyName']}",
            res["Properties"]["PolicyName"],
            res["Properties"]["PolicyDocument"],
        )
        for res in rendered.of_type("AWS::IAM::Policy").values()
        if name in res["Properties"]["Roles"]
    ]
    for policy_arn in role.get("ManagedPolicyArns", []):
        policies.append(
            Policy(policy_arn, policy_arn.rsplit("/", 1)[-1], (managed or {})[policy_arn])
        )
    boundary = None
    if "PermissionsBoundary" in role:
        boundary_arn = role["PermissionsBoundary"]
        boundary = Policy(
            boundary_arn, boundary_arn.rsplit("/", 1)[-1], (boundaries or {})[boundary_arn]
        )
    return Node(
        arn,
        "AROA" + name.upper()[:17],
        policies,
        [],
        role["AssumeRolePolicyDocument"],
        None,
        0,
        False,
        False,
        boundary,
        False,
        {},
    )


def allowed(node: Node, action: str, resource: str) -> bool:
    return bool(local_check_authorization_full(node, action, resource, {}))


# What an app does with its stores: (action, resource kind). Every one must be allowed on
# its own stores and denied on the other service's.
TABLE_ACTIONS = [
    "GetItem",
    "PutItem",
    "UpdateItem",
    "DeleteItem",
    "Query",
    "Scan",
    "BatchGetItem",
    "BatchWriteItem",
    "ConditionCheckItem",
    "DescribeTable",
]
OBJECT_ACTIONS = [
    "GetObject",
    "PutObject",
    "DeleteObject",
    "AbortMultipartUpload",
    "ListMultipartUploadParts",
]
SECRET_ACTIONS = ["GetSecretValue", "DescribeSecret", "PutSecretValue"]


def store_arns(rendered: Rendered) -> dict[str, str]:
    if "Table" not in rendered.physical:  # adopted: the kept stores, by their names
        p = rendered.parameters
        table = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{p['TableName']}"
        bucket = f"arn:aws:s3:::{p['BucketName']}"
        secret = p["AdoptedSecretArn"]
    else:
        table, bucket = rendered.arn("Table"), rendered.arn("Bucket")
        secret = rendered.physical["Secret"]
    return {
        "table": table,
        "index": table + "/index/by-owner",
        "bucket": bucket,
        "object": bucket + "/reports/2026/today.csv",
        "secret": secret,
    }


def data_plane(rendered: Rendered) -> list[tuple[str, str]]:
    arns = store_arns(rendered)
    checks = [(f"dynamodb:{a}", arns["table"]) for a in TABLE_ACTIONS]
    checks += [("dynamodb:Query", arns["index"]), ("dynamodb:Scan", arns["index"])]
    checks += [("s3:ListBucket", arns["bucket"]), ("s3:GetBucketLocation", arns["bucket"])]
    checks += [(f"s3:{a}", arns["object"]) for a in OBJECT_ACTIONS]
    checks += [(f"secretsmanager:{a}", arns["secret"]) for a in SECRET_ACTIONS]
    return checks


def administration(rendered: Rendered) -> list[tuple[str, str]]:
    """Control-plane actions no task role may take, on its own stores or anywhere."""
    arns = store_arns(rendered)
    role_arn = rendered.arn("TaskRole")
    return [
        ("dynamodb:DeleteTable", arns["table"]),
        ("dynamodb:UpdateTable", arns["table"]),
        ("dynamodb:CreateTable", arns["table"]),
        ("dynamodb:UpdateTimeToLive", arns["table"]),
        ("dynamodb:UpdateContinuousBackups", arns["table"]),
        ("dynamodb:ListTables", "*"),
        ("s3:PutBucketPolicy", arns["bucket"]),
        ("s3:DeleteBucket", arns["bucket"]),
        ("s3:DeleteBucketPolicy", arns["bucket"]),
        ("s3:PutBucketVersioning", arns["bucket"]),
        ("s3:PutBucketPublicAccessBlock", arns["bucket"]),
        ("s3:PutLifecycleConfiguration", arns["bucket"]),
        ("s3:DeleteObjectVersion", arns["object"]),
        ("s3:ListAllMyBuckets", "*"),
        ("s3:CreateBucket", "arn:aws:s3:::anything"),
        ("secretsmanager:DeleteSecret", arns["secret"]),
        ("secretsmanager:PutResourcePolicy", arns["secret"]),
        ("secretsmanager:UpdateSecret", arns["secret"]),
        ("secretsmanager:ListSecrets", "*"),
        ("secretsmanager:CreateSecret", "*"),
        ("iam:PassRole", role_arn),
        ("iam:PassRole", "*"),
        ("iam:CreateRole", "*"),
        ("iam:PutRolePolicy", role_arn),
        ("iam:AttachRolePolicy", role_arn),
        ("iam:CreateAccessKey", "*"),
        ("sts:AssumeRole", "*"),
        ("ecs:UpdateService", "*"),
        ("ec2:AuthorizeSecurityGroupIngress", "*"),
        ("cloudformation:DeleteStack", "*"),
    ]


@pytest.fixture(
    scope="module",
    params=["named-stores", "generated-names", "a-adopts", "both-adopt"],
)
def two(request: pytest.FixtureRequest) -> tuple[Rendered, Rendered]:
    named = request.param != "generated-names"
    return (
        stack(A, named=named, adopt=request.param in ("a-adopts", "both-adopt")),
        stack(B, named=named, adopt=request.param == "both-adopt"),
    )


def _statements(rendered: Rendered) -> list[tuple[Any, Any]]:
    return [
        (st["Action"], st["Resource"])
        for res in rendered.of_type("AWS::IAM::Policy").values()
        for st in res["Properties"]["PolicyDocument"]["Statement"]
    ]


# --- the exact grants: every statement and every role, as a table ---------------------------

#: One statement: the exact actions it allows on the exact resources.
Grant = tuple[frozenset[str], frozenset[str]]

EXEC_ACTIONS = frozenset({
    "ssmmessages:CreateControlChannel",
    "ssmmessages:CreateDataChannel",
    "ssmmessages:OpenControlChannel",
    "ssmmessages:OpenDataChannel",
})
EXECUTION_ROLE_MANAGED = ["arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"]


def expected_task_policies(
    arns: Mapping[str, str], *, stores: tuple[str, ...] = ("table", "bucket", "secret"),
    exec_enabled: bool = False,
) -> dict[str, list[Grant]]:
    """The task role's policies (by PolicyName), statement by statement, exactly: what the
    template must grant and nothing more."""
    table, bucket = arns["table"], arns["bucket"]
    secret = arns["secret"].rsplit("-", 1)[0] + "-??????"  # any of the secret's versions
    every: dict[str, list[Grant]] = {
        "table": [(frozenset(f"dynamodb:{a}" for a in TABLE_ACTIONS),
                   frozenset({table, table + "/index/*"}))],
        "bucket": [(frozenset({"s3:ListBucket", "s3:GetBucketLocation"}), frozenset({bucket})),
                   (frozenset(f"s3:{a}" for a in OBJECT_ACTIONS), frozenset({bucket + "/*"}))],
        "secret": [(frozenset(f"secretsmanager:{a}" for a in SECRET_ACTIONS),
                    frozenset({secret}))],
    }
    expected = {name: grants for name, grants in every.items() if name in stores}
    if exec_enabled:  # the session channel only: "*" is the only resource it takes
        expected["ecs-exec"] = [(EXEC_ACTIONS, frozenset({"*"}))]
    return expected


def _as_set(value: str | list[str]) -> frozenset[str]:
    return frozenset([value] if isinstance(value, str) else value)


def grants(document: Mapping[str, Any]) -> list[Grant]:
    """A policy document's statements as grants; each must be a plain Allow of listed
    actions on listed resources (no NotAction, NotResource, Deny or Condition to reason
    about)."""
    out = []
    for st in document["Statement"]:
        assert set(st) - {"Sid"} == {"Effect", "Action", "Resource"}, st
        assert st["Effect"] == "Allow", st
        out.append((_as_set(st["Action"]), _as_set(st["Resource"])))
    return out


def policies_of(rendered: Rendered, role: str) -> dict[str, list[Grant]]:
    """The AWS::IAM::Policy resources attached to ``role`` (a logical id), by PolicyName."""
    name = rendered.physical[role]
    return {
        res["Properties"]["PolicyName"]: grants(res["Properties"]["PolicyDocument"])
        for res in rendered.of_type("AWS::IAM::Policy").values()
        if name in res["Properties"]["Roles"]
    }


def role_actions(policies: Mapping[str, list[Grant]]) -> frozenset[str]:
    return frozenset().union(*(actions for gs in policies.values() for actions, _ in gs))


def test_each_task_role_statement_grants_exactly_its_actions_on_its_resources(
    two: tuple[Rendered, Rendered],
) -> None:
    for rendered in two:
        assert policies_of(rendered, "TaskRole") == expected_task_policies(store_arns(rendered))


@pytest.mark.parametrize(
    ("spec", "stores", "exec_enabled"),
    [
        (ServiceSpec(exec_enabled=True), ("table", "bucket", "secret"), True),
        (ServiceSpec(stores=Stores(table=False)), ("bucket", "secret"), False),
        (ServiceSpec(stores=Stores(bucket=False, secret=False)), ("table",), False),
        (ServiceSpec(stores=Stores(table=False, bucket=False, secret=False)), (), False),
    ],
    ids=["exec", "no-table", "table-only", "no-stores"],
)
def test_the_statements_follow_the_spec_exactly(
    spec: ServiceSpec, stores: tuple[str, ...], exec_enabled: bool
) -> None:
    rendered = stack(A, spec)
    arns = store_arns(stack(A))  # the names the stores would have
    assert policies_of(rendered, "TaskRole") == expected_task_policies(
        arns, stores=stores, exec_enabled=exec_enabled)


def test_each_role_holds_exactly_its_policies() -> None:
    for spec in (ServiceSpec(), ServiceSpec(exec_enabled=True)):
        rendered = stack(A, spec)
        assert set(rendered.of_type("AWS::IAM::Role")) == {"ExecutionRole", "TaskRole"}
        execution = rendered.resources["ExecutionRole"]["Properties"]
        task = rendered.resources["TaskRole"]["Properties"]
        # The execution role: AWS's managed policy for pulling images and writing logs only.
        assert execution["ManagedPolicyArns"] == EXECUTION_ROLE_MANAGED
        assert "Policies" not in execution
        assert policies_of(rendered, "ExecutionRole") == {}
        # The task role: the stores' policies only, no inline or managed extras by default.
        assert "Policies" not in task
        assert "ManagedPolicyArns" not in task
        assert "PermissionsBoundary" not in task
        expected = expected_task_policies(store_arns(rendered),
                                          exec_enabled=spec.exec_enabled)
        assert role_actions(policies_of(rendered, "TaskRole")) == role_actions(expected)
        # Every IAM policy in the stack is attached to the task role.
        attached = {res["Properties"]["PolicyName"]
                    for res in rendered.of_type("AWS::IAM::Policy").values()}
        assert attached == set(expected)


def test_the_exact_set_catches_one_extra_action() -> None:
    # Guard against a vacuous table: one more action in one statement is a difference.
    rendered = stack(A)
    policies = policies_of(rendered, "TaskRole")
    actions, resources = policies["bucket"][1]
    policies["bucket"][1] = (actions | {"s3:PutObjectAcl"}, resources)
    assert policies != expected_task_policies(store_arns(rendered))


def test_an_adopted_store_is_reached_by_the_same_arns_as_a_created_one() -> None:
    created, adopted = stack(A), stack(A, adopt=True)
    assert {"Table", "Bucket", "Secret"} & set(adopted.resources) == set()
    assert store_arns(adopted) == store_arns(created)
    assert _statements(adopted) == _statements(created)
    policy = adopted.resources["BucketTlsPolicy"]["Properties"]
    assert policy["Bucket"] == named_stores(A).bucket_name
    assert policy["PolicyDocument"] == created.resources["BucketTlsPolicy"]["Properties"][
        "PolicyDocument"]


def test_each_service_reaches_every_store_it_needs(two: tuple[Rendered, Rendered]) -> None:
    for rendered in two:
        node = task_role(rendered)
        denied = [c for c in data_plane(rendered) if not allowed(node, *c)]
        assert denied == []


def test_nothing_of_the_other_service(two: tuple[Rendered, Rendered]) -> None:
    a, b = two
    for mine, theirs in ((a, b), (b, a)):
        node = task_role(mine)
        leaked = [c for c in data_plane(theirs) if allowed(node, *c)]
        assert leaked == []


def test_no_administration_anywhere(two: tuple[Rendered, Rendered]) -> None:
    for rendered in two:
        node = task_role(rendered)
        leaked = [c for c in administration(rendered) if allowed(node, *c)]
        assert leaked == []


def test_the_evaluator_can_fail() -> None:
    # Guard against a vacuous proof: a policy that grants too much is caught.
    a = stack(A)
    wide = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "dynamodb:*", "Resource": "*"}],
    }
    spec = ServiceSpec(access=Access(extra_policy_arns=("arn:aws:iam::aws:policy/Wide",)))
    node = task_role(stack(A, spec), managed={"arn:aws:iam::aws:policy/Wide": wide})
    assert allowed(node, "dynamodb:DeleteTable", store_arns(a)["table"])
    assert allowed(node, "dynamodb:GetItem", store_arns(stack(B))["table"])


def test_every_resource_in_the_task_policies_is_the_services_own(
    two: tuple[Rendered, Rendered],
) -> None:
    """Statically too: each Resource is one of the stack's own ARNs (or /index/*, /*)."""
    for rendered in two:
        arns = store_arns(rendered)
        own = {
            arns["table"],
            arns["table"] + "/index/*",
            arns["bucket"],
            arns["bucket"] + "/*",
            arns["secret"].rsplit("-", 1)[0] + "-??????",
        }
        name = rendered.physical["TaskRole"]
        for res in rendered.of_type("AWS::IAM::Policy").values():
            assert name in res["Properties"]["Roles"]
            for st in res["Properties"]["PolicyDocument"]["Statement"]:
                assert st["Effect"] == "Allow"
                resources = st["Resource"] if isinstance(st["Resource"], list) else [st["Resource"]]
                assert set(resources) <= own, resources


def test_exec_adds_only_the_session_channel() -> None:
    plain = task_role(stack(A))
    with_exec = task_role(stack(A, ServiceSpec(exec_enabled=True)))
    assert allowed(with_exec, "ssmmessages:CreateControlChannel", "*")
    assert not allowed(plain, "ssmmessages:CreateControlChannel", "*")
    b = stack(B)
    assert [c for c in data_plane(b) + administration(stack(A)) if allowed(with_exec, *c)] == []


def test_stores_turned_off_are_not_reachable() -> None:
    spec = ServiceSpec(stores=Stores(table=False, bucket=False, secret=False))
    rendered = stack(A, spec)
    assert rendered.of_type("AWS::IAM::Policy") == {}
    node = task_role(rendered)
    assert [c for c in data_plane(stack(A)) if allowed(node, *c)] == []


BOUNDARY_ARN = f"arn:aws:iam::{ACCOUNT}:policy/fluoride-boundary"
#: An operations team's boundary: tables and objects yes, secrets no, and never IAM.
BOUNDARY = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Action": ["dynamodb:*", "s3:*"], "Resource": "*"},
        {"Effect": "Deny", "Action": "s3:DeleteObject", "Resource": "*"},
    ],
}


def test_the_permissions_boundary_wins() -> None:
    spec = ServiceSpec(access=Access(permissions_boundary_arn=BOUNDARY_ARN))
    rendered = stack(A, spec)
    assert rendered.resources["TaskRole"]["Properties"]["PermissionsBoundary"] == BOUNDARY_ARN
    assert rendered.resources["ExecutionRole"]["Properties"]["PermissionsBoundary"] == BOUNDARY_ARN
    node = task_role(rendered, boundaries={BOUNDARY_ARN: BOUNDARY})
    arns = store_arns(rendered)
    # Allowed by the role and inside the boundary: allowed.
    assert allowed(node, "dynamodb:GetItem", arns["table"])
    assert allowed(node, "s3:GetObject", arns["object"])
    # Allowed by the role, outside the boundary (or denied by it): denied.
    assert not allowed(node, "secretsmanager:GetSecretValue", arns["secret"])
    assert not allowed(node, "s3:DeleteObject", arns["object"])
    # Inside the boundary but not granted by the role: still denied (a boundary grants nothing).
    assert not allowed(node, "dynamodb:DeleteTable", arns["table"])
    assert not allowed(node, "dynamodb:GetItem", store_arns(stack(B))["table"])
    # Without the boundary the role's own grants stand.
    assert allowed(task_role(stack(A)), "secretsmanager:GetSecretValue", arns["secret"])


EXTRA_ARN = f"arn:aws:iam::{ACCOUNT}:policy/read-shared-reference-data"
EXTRA = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::shared-ref/*"},
        {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::shared-ref"},
    ],
}


def test_an_extra_policy_adds_exactly_what_it_grants() -> None:
    spec = ServiceSpec(access=Access(extra_policy_arns=(EXTRA_ARN,)))
    rendered = stack(A, spec)
    assert rendered.resources["TaskRole"]["Properties"]["ManagedPolicyArns"] == [EXTRA_ARN]
    with_extra = task_role(rendered, managed={EXTRA_ARN: EXTRA})
    without = task_role(stack(A))
    a, b = stack(A), stack(B)
    probes = (
        data_plane(a)
        + data_plane(b)
        + administration(a)
        + [
            ("s3:GetObject", "arn:aws:s3:::shared-ref/data.csv"),
            ("s3:ListBucket", "arn:aws:s3:::shared-ref"),
            ("s3:PutObject", "arn:aws:s3:::shared-ref/data.csv"),
            ("s3:DeleteBucket", "arn:aws:s3:::shared-ref"),
            ("s3:GetObject", "arn:aws:s3:::shared-ref-private/x"),
        ]
    )
    gained = {p for p in probes if allowed(with_extra, *p) and not allowed(without, *p)}
    lost = {p for p in probes if allowed(without, *p) and not allowed(with_extra, *p)}
    assert gained == {
        ("s3:GetObject", "arn:aws:s3:::shared-ref/data.csv"),
        ("s3:ListBucket", "arn:aws:s3:::shared-ref"),
    }
    assert lost == set()


def test_only_ecs_tasks_of_this_account_assume_the_task_role() -> None:
    trust = stack(A).resources["TaskRole"]["Properties"]["AssumeRolePolicyDocument"]
    (statement,) = trust["Statement"]
    assert statement["Principal"] == {"Service": "ecs-tasks.amazonaws.com"}
    assert statement["Action"] == "sts:AssumeRole"
    assert statement["Condition"]["StringEquals"] == {"aws:SourceAccount": ACCOUNT}


def test_the_container_is_told_its_own_stores() -> None:
    rendered = stack(A)
    (container,) = rendered.resources["TaskDefinition"]["Properties"]["ContainerDefinitions"]
    env = {e["Name"]: e["Value"] for e in container["Environment"]}
    assert env["FLUORIDE_TABLE"] == rendered.physical["Table"]
    assert env["FLUORIDE_BUCKET"] == rendered.physical["Bucket"]
    assert env["FLUORIDE_SECRET_ARN"] == rendered.physical["Secret"]
    adopted = stack(A, adopt=True)
    (container,) = adopted.resources["TaskDefinition"]["Properties"]["ContainerDefinitions"]
    assert {e["Name"]: e["Value"] for e in container["Environment"]} == env
    assert rendered.resources["TaskDefinition"]["Properties"]["TaskRoleArn"] == rendered.arn(
        "TaskRole"
    )


# --- the execution role: ECS reads the secret's keys named in secret_env --------------------

EXECUTION_POLICY_ARN = "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"
#: The AWS managed policy's document (as published): image pulls and log writes, no secrets.
EXECUTION_POLICY = {
    "Version": "2012-10-17",
    "Statement": [{
        "Effect": "Allow",
        "Action": ["ecr:GetAuthorizationToken", "ecr:BatchCheckLayerAvailability",
                   "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage", "logs:CreateLogStream",
                   "logs:PutLogEvents"],
        "Resource": "*",
    }],
}
SECRET_ENV = ServiceSpec(secret_env={"DB_PASSWORD": "password"})


def execution_role(rendered: Rendered) -> Node:
    return task_role(rendered, managed={EXECUTION_POLICY_ARN: EXECUTION_POLICY},
                     logical="ExecutionRole")


@pytest.mark.parametrize("adopt", [False, True], ids=["created", "adopted"])
def test_the_execution_role_reads_its_own_secret_only(adopt: bool) -> None:
    a, b = stack(A, SECRET_ENV, adopt=adopt), stack(B, SECRET_ENV)
    node = execution_role(a)
    mine, theirs = store_arns(a)["secret"], store_arns(b)["secret"]
    assert allowed(node, "secretsmanager:GetSecretValue", mine)
    assert not allowed(node, "secretsmanager:GetSecretValue", theirs)
    # Reading is all: the rest of the secret's API, and every other store, stays out of reach.
    assert [c for c in data_plane(a) if allowed(node, *c)] == [
        ("secretsmanager:GetSecretValue", mine)]
    assert [c for c in data_plane(b) + administration(a) if allowed(node, *c)] == []
    # And the other service's execution role cannot read this one's secret.
    assert not allowed(execution_role(b), "secretsmanager:GetSecretValue", mine)


def test_without_secret_env_the_execution_role_reads_no_secret() -> None:
    for spec in (ServiceSpec(), ServiceSpec(exec_enabled=True)):
        plain = stack(A, spec)
        assert "ExecutionSecretAccess" not in plain.resources
        node = execution_role(plain)
        assert [c for c in data_plane(plain) if allowed(node, *c)] == []


def test_secret_env_gives_the_task_role_nothing_more() -> None:
    a = stack(A, SECRET_ENV)
    with_env, without = task_role(a), task_role(stack(A))
    probes = data_plane(a) + data_plane(stack(B)) + administration(a)
    assert [p for p in probes if allowed(with_env, *p) != allowed(without, *p)] == []


def test_the_service_waits_for_the_execution_roles_policy() -> None:
    service = stack(A, SECRET_ENV).resources["Service"]
    # Metadata is not resolved: the conditional dependency as written.
    assert {"Fn::If": ["SecretEnvOn", {"Ref": "ExecutionSecretAccess"}, ""]} in service[
        "Metadata"]["fluoride:depends-on"]


# --- the same proof on stacks the emulator created ------------------------------------------


def _live_task_role(svc: Any) -> tuple[Node, dict[str, str]]:
    """The task role as CloudFormation made it (read back through IAM), and the store ARNs."""
    out = svc.outputs()
    iam = svc.aws.client("iam")
    role_name = out["TaskRoleArn"].rsplit("/", 1)[-1]
    role = iam.get_role(RoleName=role_name)["Role"]
    policies = [
        Policy(
            f"{out['TaskRoleArn']}/{name}",
            name,
            iam.get_role_policy(RoleName=role_name, PolicyName=name)["PolicyDocument"],
        )
        for name in iam.list_role_policies(RoleName=role_name)["PolicyNames"]
    ]
    node = Node(
        out["TaskRoleArn"],
        role["RoleId"],
        policies,
        [],
        role["AssumeRolePolicyDocument"],
        None,
        0,
        False,
        False,
        None,
        False,
        {},
    )
    arns = {
        "table": out["TableArn"],
        "index": out["TableArn"] + "/index/by-owner",
        "bucket": out["BucketArn"],
        "object": out["BucketArn"] + "/reports/today.csv",
        "secret": out["SecretArn"],
    }
    return node, arns


def _checks(arns: dict[str, str]) -> list[tuple[str, str]]:
    checks = [(f"dynamodb:{a}", arns["table"]) for a in TABLE_ACTIONS]
    checks += [("dynamodb:Query", arns["index"]), ("s3:ListBucket", arns["bucket"])]
    checks += [(f"s3:{a}", arns["object"]) for a in OBJECT_ACTIONS]
    checks += [(f"secretsmanager:{a}", arns["secret"]) for a in SECRET_ACTIONS]
    return checks


def _live_policies(svc: Any) -> dict[str, list[Grant]]:
    """The task role's inline policies as IAM returns them, by name."""
    iam = svc.aws.client("iam")
    role_name = svc.outputs()["TaskRoleArn"].rsplit("/", 1)[-1]
    return {
        name: grants(iam.get_role_policy(RoleName=role_name, PolicyName=name)["PolicyDocument"])
        for name in iam.list_role_policies(RoleName=role_name)["PolicyNames"]
    }


def test_isolation_of_two_services_created_on_the_emulator(fl: Any) -> None:
    a, b = fl.service("iso"), fl.service("iso-b")  # B's name starts with A's
    a.create()
    b.create()
    (node_a, arns_a), (node_b, arns_b) = _live_task_role(a), _live_task_role(b)
    assert _live_policies(a) == expected_task_policies(arns_a)
    assert _live_policies(b) == expected_task_policies(arns_b)
    assert [c for c in _checks(arns_a) if not allowed(node_a, *c)] == []
    assert [c for c in _checks(arns_b) if not allowed(node_b, *c)] == []
    assert [c for c in _checks(arns_b) if allowed(node_a, *c)] == []
    assert [c for c in _checks(arns_a) if allowed(node_b, *c)] == []
    for node, arns in ((node_a, arns_a), (node_b, arns_b)):
        admin = [
            ("dynamodb:DeleteTable", arns["table"]),
            ("dynamodb:ListTables", "*"),
            ("s3:PutBucketPolicy", arns["bucket"]),
            ("s3:DeleteBucket", arns["bucket"]),
            ("secretsmanager:DeleteSecret", arns["secret"]),
            ("iam:PassRole", "*"),
        ]
        assert [c for c in admin if allowed(node, *c)] == []
    a.delete(purge_data=True)
    b.delete(purge_data=True)


def test_isolation_of_a_service_that_adopted_its_stores(fl: Any) -> None:
    a, b = fl.service("iso-kept"), fl.service("iso-kept-b")
    a.create()
    before = _live_task_role(a)[1]
    a.delete()
    a.create()  # adopts the kept table, bucket and secret
    b.create()
    assert a.stack.require().parameters["AdoptTable"] == "true"
    (node_a, arns_a), (node_b, arns_b) = _live_task_role(a), _live_task_role(b)
    assert arns_a == before
    assert [c for c in _checks(arns_a) if not allowed(node_a, *c)] == []
    assert [c for c in _checks(arns_b) if allowed(node_a, *c)] == []
    assert [c for c in _checks(arns_a) if allowed(node_b, *c)] == []
    admin = [
        ("dynamodb:DeleteTable", arns_a["table"]),
        ("s3:PutBucketPolicy", arns_a["bucket"]),
        ("s3:DeleteBucket", arns_a["bucket"]),
        ("secretsmanager:DeleteSecret", arns_a["secret"]),
    ]
    assert [c for c in admin if allowed(node_a, *c)] == []
    a.delete(purge_data=True)
    b.delete(purge_data=True)
