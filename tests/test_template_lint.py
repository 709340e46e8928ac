"""The one CloudFormation template: size, contract, cfn-lint over its toggles, moto smoke.

cfn-lint already reasons about ``Conditions`` on the raw template, but it checks
each resource against every satisfiable scenario only loosely. Here every row of a
pairwise matrix over the template's toggles is turned into the template
CloudFormation itself would see for those parameter values (conditions evaluated,
resources and outputs pruned, ``Fn::If`` and ``AWS::NoValue`` resolved) and linted
with the parameter values, so that a broken branch, a reference to a pruned
resource or a bad resolved value fails the row that produces it. The conditions in
the template combine at most two matrix factors, so pairwise coverage exercises
every reachable combination of each condition's inputs; ``test_matrix_covers``
checks that every condition is both true and false somewhere in the matrix.
"""

from __future__ import annotations

import itertools
import json
import random
import re
import socket
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from cfnlint.api import lint
from cfnlint.config import ConfigMixIn, ManualArgs
from cfnlint.decode.decode import decode_str
from cfnlint.rules import Rules
from cfnlint.runner.cli import Runner

from fluoride.infra.resolve import evaluate_conditions, resolve_template
from fluoride.spec import render_environment

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "templates" / "fluoride.yaml"
CONTRACT = ROOT / "docs" / "template-parameters.md"
MAX_BYTES = 51_200  # CloudFormation's limit for a TemplateBody
MARKER = "# fluoride:user-environment"
REGION = "us-east-1"
LINT_ARGS: dict[str, Any] = {"include_checks": ["I"], "regions": [REGION]}

DIGEST = "123456789012.dkr.ecr.us-east-1.amazonaws.com/fluoride/hello@sha256:" + "a" * 64
ACCOUNT = "123456789012"

Template = dict[str, Any]
Params = dict[str, Any]


def _plain(node: Any) -> Any:
    """cfn-lint's decoded nodes as plain dicts, lists and scalars."""
    if isinstance(node, dict):
        return {str(k): _plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_plain(v) for v in node]
    if isinstance(node, str):
        return str(node)
    return node


def _load(text: str | None = None) -> Template:
    template, matches = decode_str(TEMPLATE.read_text() if text is None else text)
    assert not matches, matches
    assert template is not None
    result: Template = _plain(template)
    return result


# --------------------------------------------------------------------------- matrix

FACTORS: dict[str, tuple[str, ...]] = {
    "table": ("on", "off", "named"),
    "bucket": ("on", "off", "named"),
    "secret": ("on", "off", "named"),
    "https": ("none", "certificate-arn", "request"),
    "ingress": ("default", "all-slots", "callers-only"),
    "dns": ("off", "on"),
    "redirect": ("true", "false"),
    "public": ("true", "false"),
    "exec": ("false", "true"),
    # secret_env: the container's Secrets and the execution role's read of the secret.
    "secret_env": ("false", "true"),
    "alarm": ("true", "false"),
    "image": ("empty", "digest"),
    "requests": ("0", "500"),
    "extra_policies": ("none", "two"),
    "boundary": ("none", "set"),
    "repository": ("create", "adopt"),
    # Stores kept by an earlier delete: used by name instead of created (with a name only).
    "adopt_table": ("false", "true"),
    "adopt_bucket": ("false", "true"),
    "adopt_secret": ("false", "true"),
    # ELB log delivery: a region with an ELB account vs one with only the service principal.
    "region": ("us-east-1", "ap-southeast-3", "eu-west-1", "sa-east-1"),
    # Alarm notifications: none, the given topics only, one address, four addresses.
    "notify": ("none", "topics", "one-email", "four-emails"),
    # Ingress: the service's own load balancer, or an environment's ECS gateway (issue 14).
    "ingress_by": ("own-alb", "gateway"),
    # compliance = "strict": the KMS key and everything it encrypts, protections, logging.
    "compliance": ("standard", "strict"),
    "user": ("none", "1000"),
    # network.endpoints: interface and gateway endpoints for tasks in private subnets.
    "endpoints": ("off", "on"),
}


def _pairs(row: dict[str, str]) -> set[tuple[str, str, str, str]]:
    return {(a, row[a], b, row[b]) for a, b in itertools.combinations(FACTORS, 2)}


def pairwise_rows() -> list[dict[str, str]]:
    """A deterministic pairwise covering array over FACTORS (greedy, seeded)."""
    rng = random.Random(20240501)
    wanted = {
        (a, va, b, vb)
        for a, b in itertools.combinations(FACTORS, 2)
        for va in FACTORS[a]
        for vb in FACTORS[b]
    }
    # The all-defaults row first: it is what most users create.
    rows = [{name: levels[0] for name, levels in FACTORS.items()}]
    wanted -= _pairs(rows[0])
    while wanted:
        # Seed each candidate with one uncovered pair so every row makes progress.
        best: dict[str, str] = {}
        best_gain = -1
        for _ in range(60):
            a, va, b, vb = sorted(wanted)[rng.randrange(len(wanted))]
            row = {name: rng.choice(levels) for name, levels in FACTORS.items()}
            row[a], row[b] = va, vb
            gain = len(_pairs(row) & wanted)
            if gain > best_gain:
                best, best_gain = row, gain
        rows.append(best)
        wanted -= _pairs(best)
    return rows


def parameters_for(row: dict[str, str]) -> Params:
    """Stack parameter values for one matrix row (lists for list-typed parameters)."""
    p: Params = {
        "ServiceName": "hello",
        "VpcId": "vpc-0123456789abcdef0",
        "SubnetIds": ["subnet-0123456789abcdef0", "subnet-0fedcba9876543210"],
        "Public": row["public"],
        "EnableExec": row["exec"],
        "SecretEnv": row["secret_env"],
        "AlarmRollback": row["alarm"],
        "HttpsRedirect": row["redirect"],
        "RequestsPerTarget": row["requests"],
        "Image": DIGEST if row["image"] == "digest" else "",
        "AWS::Region": row["region"],
        "AdoptRepository": "true" if row["repository"] == "adopt" else "false",
        "Compliance": row["compliance"],
        "ContainerUser": "" if row["user"] == "none" else row["user"],
    }
    for store, name in (("table", "TableName"), ("bucket", "BucketName"), ("secret", "SecretName")):
        p["Enable" + store.capitalize()] = "false" if row[store] == "off" else "true"
        p[name] = f"hello-{store}-data" if row[store] == "named" else ""
        p["Adopt" + store.capitalize()] = row["adopt_" + store]
    if row["adopt_secret"] == "true":
        secret = p["SecretName"] or "fluoride/hello"
        p["AdoptedSecretArn"] = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:{secret}-AbCdEf"
    if row["https"] == "certificate-arn":
        p["CertificateArn"] = (
            f"arn:aws:acm:{REGION}:{ACCOUNT}:certificate/1234abcd-12ab-34cd-56ef-1234567890ab"
        )
    p["RequestCertificate"] = "true" if row["https"] == "request" else "false"
    if row["dns"] == "on":
        p.update(
            HostedZoneId="Z0123456789ABCDEFGHIJ", HostedZoneName="example.com", Subdomain="hello"
        )
    if row["ingress"] == "all-slots":
        p.update(
            IngressCidr2="10.0.0.0/8", IngressCidr3="192.168.0.0/16", IngressCidr4="172.16.0.0/12"
        )
        p["AllowedCallerSecurityGroups"] = [f"sg-0{i}23456789abcdef0" for i in range(1, 5)]
    elif row["ingress"] == "callers-only":
        p["IngressCidr1"] = ""
        p["AllowedCallerSecurityGroups"] = ["sg-0123456789abcdef0", "sg-0223456789abcdef0"]
    if row["extra_policies"] == "two":
        p["ExtraPolicyArns"] = [
            "arn:aws:iam::aws:policy/AmazonSQSFullAccess",
            f"arn:aws:iam::{ACCOUNT}:policy/team-extra",
        ]
    topic = f"arn:aws:sns:{REGION}:{ACCOUNT}:"
    emails = {"one-email": 1, "four-emails": 4}.get(row["notify"], 0)
    if emails:
        p["NotifyEmails"] = [f"ops{i}@example.org" for i in range(emails)]
        p["NotifyEmailCount"] = str(emails)
        p["AlarmActionArns"] = [topic + "fluoride-hello-alarms"]
    elif row["notify"] == "topics":
        p["AlarmActionArns"] = [topic + "team-alarms", topic + "pager"]
    if row["endpoints"] == "on":
        p.update(VpcEndpoints="true", AssignPublicIp="DISABLED",
                 EndpointRouteTableIds=["rtb-0123456789abcdef0", "rtb-0fedcba9876543210"])
    if row["boundary"] == "set":
        p["PermissionsBoundaryArn"] = f"arn:aws:iam::{ACCOUNT}:policy/fluoride-boundary"
    if row["ingress_by"] == "gateway":
        p.update(Gateway="lab", GatewaySecurityGroup="sg-0a23456789abcdef0")
        if row["alarm"] == "true":
            # The route's metrics once known (the SDK arms the alarms after create); rows
            # without the rollback alarm show a gateway service before that (MetricsKnown off).
            p.update(GatewayAlb="app/ecs-gw-lab/0123456789abcdef",
                     GatewayTargetGroup="targetgroup/ecs-gw-0123/0123456789abcdef")
    return p


ROWS = pairwise_rows()


def _row_id(row: dict[str, str]) -> str:
    return "-".join(f"{k}={v}" for k, v in row.items() if v != FACTORS[k][0]) or "defaults"


# --------------------------------------------------------------------------- resolver


def _strings(given: Params) -> tuple[dict[str, str], str]:
    """Parameter values as the API takes them (lists comma-separated), and the region."""
    region = str(given.get("AWS::Region", REGION))
    values = {k: ",".join(v) if isinstance(v, list) else str(v)
              for k, v in given.items() if k != "AWS::Region"}
    return values, region


def resolve_variant(template: Template, given: Params) -> tuple[Template, Params]:
    """The template CloudFormation acts on for these parameter values (the package's one
    evaluator, ``fluoride.infra.resolve``), and the parameter values it still uses."""
    values, region = _strings(given)
    variant = resolve_template(template, values, region=region, account=ACCOUNT)
    used = variant.get("Parameters", {})
    return variant, {k: v for k, v in given.items() if k in used}


def conditions_for(template: Template, given: Params) -> dict[str, bool | None]:
    values, region = _strings(given)
    return evaluate_conditions(template, values, region=region, account=ACCOUNT)


# --------------------------------------------------------------------------- lint tests


@pytest.fixture(scope="module")
def template() -> Template:
    return _load()


@pytest.fixture(scope="module")
def rules() -> Rules:
    return Runner(ConfigMixIn(**LINT_ARGS)).rules


def _findings(body: str, rules: Rules, parameters: Params | None = None) -> list[str]:
    args = dict(LINT_ARGS)
    if parameters is not None:
        args["parameters"] = [parameters]
    return [
        f"{m.rule.id} {m.message} (line {m.linenumber})"
        for m in lint(body, rules=rules, config=ManualArgs(**args))
    ]


def test_template_fits_in_a_template_body() -> None:
    # What is sent: the template without its comment lines (the file itself may be larger).
    size = len(render_environment(TEMPLATE.read_text(), {}).encode())
    assert size < MAX_BYTES, f"{size} bytes: CloudFormation rejects TemplateBody over 51,200"


def test_the_body_sent_is_the_template_without_its_comment_lines() -> None:
    text = TEMPLATE.read_text()
    sent = render_environment(text, {}, endpoints=True)
    assert [line for line in sent.splitlines() if line.lstrip().startswith("#")] == []
    assert len(sent) < len(text)
    decoded, matches = decode_str(sent)
    assert not matches
    assert _plain(decoded) == _load()


ENDPOINT_RESOURCES = {"EndpointSecurityGroup", "EndpointEcrApi", "EndpointEcrDkr", "EndpointLogs",
                      "EndpointSecretsManager", "EndpointKms", "EndpointS3", "EndpointDynamoDb"}


def test_without_endpoints_the_body_lacks_only_the_endpoint_resources() -> None:
    full = _load(render_environment(TEMPLATE.read_text(), {}, endpoints=True))
    default = _load(render_environment(TEMPLATE.read_text(), {}))
    assert set(full["Resources"]) - set(default["Resources"]) == ENDPOINT_RESOURCES
    assert {k: v for k, v in full["Resources"].items() if k not in ENDPOINT_RESOURCES} \
        == default["Resources"]
    assert set(full["Conditions"]) - set(default["Conditions"]) == {"EndpointsStrict",
                                                                     "EndpointsTable"}
    assert {k: v for k, v in full.items() if k not in ("Resources", "Conditions")} \
        == {k: v for k, v in default.items() if k not in ("Resources", "Conditions")}
    with_endpoints = len(render_environment(TEMPLATE.read_text(), {}, endpoints=True).encode())
    assert with_endpoints > MAX_BYTES  # such a body goes through the staging bucket


def test_the_body_with_endpoints_lints_clean_in_both_profiles(rules: Rules) -> None:
    body = render_environment(TEMPLATE.read_text(), {}, endpoints=True)
    endpoints = {"ServiceName": "hello", "VpcId": "vpc-0123456789abcdef0",
                 "SubnetIds": ["subnet-0123456789abcdef0", "subnet-0fedcba9876543210"],
                 "VpcEndpoints": "true", "EndpointRouteTableIds": ["rtb-0123456789abcdef0"]}
    assert _findings(body, rules, endpoints) == []
    assert _findings(body, rules, {**endpoints, "Compliance": "strict",
                                   "ContainerUser": "1000"}) == []


def test_template_lints_clean(rules: Rules) -> None:
    assert _findings(TEMPLATE.read_text(), rules) == []


#: The template as sent for a spec with secret_env (which needs the secret on).
SECRET_ENV_BODY = render_environment(
    TEMPLATE.read_text(), {"A": "1"}, secret_env={"DB_PASSWORD": "password", "B": "k.2"})


def test_the_body_with_secret_variables_lints_clean(rules: Rules) -> None:
    assert _findings(SECRET_ENV_BODY, rules) == []


def test_the_body_with_sidecars_lints_clean_in_both_profiles(rules: Rules) -> None:
    from fluoride.spec import Sidecar

    sidecars = [Sidecar(name="proxy", image="envoyproxy/envoy:v1.31", port=9901, memory=128,
                        environment={"MODE": "edge"}, command=("envoy", "-c", "/e.yaml")),
                Sidecar(name="otel", image="otel/opentelemetry-collector:0.110.0",
                        essential=True, memory=64,
                        health_command="wget -qO- http://localhost:13133/ || exit 1")]
    body = render_environment(TEMPLATE.read_text(), {}, sidecars=sidecars, grace_period=600)
    assert "StartPeriod: 300}" in body  # the grace period, capped to ECS's most
    assert _findings(body, rules) == []
    strict = {"ServiceName": "hello", "VpcId": "vpc-0123456789abcdef0",
              "SubnetIds": ["subnet-0123456789abcdef0", "subnet-0fedcba9876543210"],
              "Compliance": "strict", "ContainerUser": "1000", "AppMemory": "320"}
    assert _findings(body, rules, strict) == []


@pytest.mark.parametrize("row", ROWS, ids=[_row_id(r) for r in ROWS])
def test_resolved_variant_lints_clean(
    row: dict[str, str], template: Template, rules: Rules
) -> None:
    if row["secret_env"] == "true" and row["secret"] != "off":
        template = _load(SECRET_ENV_BODY)
    variant, values = resolve_variant(template, parameters_for(row))
    assert _findings(json.dumps(variant, indent=1), rules, values) == []


def test_matrix_is_pairwise_and_covers_every_condition(template: Template) -> None:
    uncovered = {
        (a, va, b, vb)
        for a, b in itertools.combinations(FACTORS, 2)
        for va in FACTORS[a]
        for vb in FACTORS[b]
    }
    outcomes: dict[str, set[bool | None]] = {name: set() for name in template["Conditions"]}
    for row in ROWS:
        uncovered -= _pairs(row)
        evaluated = conditions_for(template, parameters_for(row))
        for name, value in evaluated.items():
            outcomes[name].add(value)
    assert not uncovered
    assert {name: seen for name, seen in outcomes.items() if seen != {True, False}} == {}


def test_resolver_drops_what_a_condition_turns_off(template: Template) -> None:
    off = parameters_for({**ROWS[0], "table": "off", "secret": "off", "https": "none"})
    variant, _ = resolve_variant(template, off)
    assert "Table" not in variant["Resources"]
    assert "HttpsListener" not in variant["Resources"]
    assert variant["Outputs"]["TableName"]["Value"] == ""
    env = variant["Resources"]["TaskDefinition"]["Properties"]["ContainerDefinitions"][0]
    assert {"Name": "FLUORIDE_SECRET_ARN", "Value": ""} in env["Environment"]
    assert "Parameters" not in variant  # every parameter is substituted

    on = parameters_for({**ROWS[0], "https": "request", "dns": "on", "extra_policies": "two"})
    resources = resolve_variant(template, on)[0]["Resources"]
    assert resources["HttpsListener"]["Properties"]["Certificates"] == [
        {"CertificateArn": {"Ref": "Certificate"}}
    ]
    assert resources["TaskRole"]["Properties"]["ManagedPolicyArns"] == on["ExtraPolicyArns"]
    assert "PermissionsBoundary" not in resources["TaskRole"]["Properties"]


def test_lint_catches_a_reference_to_a_pruned_resource(template: Template, rules: Rules) -> None:
    # The matrix is only worth something if a broken branch fails it.
    broken = json.loads(json.dumps(template))
    broken["Outputs"]["TableArn"]["Value"] = {"Fn::GetAtt": ["Table", "Arn"]}
    variant, values = resolve_variant(broken, parameters_for({**ROWS[0], "table": "off"}))
    assert any(f.startswith("E") for f in _findings(json.dumps(variant), rules, values))


def test_ecr_lifecycle_policy_is_json(template: Template) -> None:
    text = template["Resources"]["Repository"]["Properties"]["LifecyclePolicy"]
    policy = json.loads(text["LifecyclePolicyText"]["Fn::Sub"].replace("${KeepImages}", "20"))
    (rule,) = policy["rules"]
    assert rule["selection"]["countNumber"] == 20
    assert rule["action"] == {"type": "expire"}


# --------------------------------------------------------------------------- contract


def _contract() -> tuple[dict[str, tuple[str, str]], list[str]]:
    """Parameter name -> (type, default) and the output names, from the contract doc."""
    text = CONTRACT.read_text()
    params: dict[str, tuple[str, str]] = {}
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 4 or not cells[0].startswith("`"):
            continue
        names = re.findall(r"`([A-Za-z0-9]+)`", cells[0])
        if ".." in cells[0]:
            first, last = names
            stem = first.rstrip("0123456789")
            names = [
                f"{stem}{i}" for i in range(int(first[len(stem) :]), int(last[len(stem) :]) + 1)
            ]
        if "(required)" in cells[2]:
            defaults = ["(required)"] * len(names)
        elif "`" in cells[2]:
            defaults = [d.replace('""', "") for d in re.findall(r"`([^`]*)`", cells[2])]
        else:
            defaults = [d.strip() for d in cells[2].split("/")]
        assert len(defaults) == len(names), line
        for name, default in zip(names, defaults, strict=True):
            params[name] = (cells[1].strip("`"), default)
    outputs_text = text.split("## Outputs", 1)[1].split("##", 1)[0]
    outputs = re.findall(r"`([A-Za-z]+)`", outputs_text.split(".")[0])
    return params, outputs


def test_parameters_and_outputs_match_the_contract(template: Template) -> None:
    params, outputs = _contract()
    actual = {
        name: (spec["Type"], "(required)" if "Default" not in spec else str(spec["Default"]))
        for name, spec in template["Parameters"].items()
    }
    assert actual == params
    assert list(template["Outputs"]) == outputs


def test_user_environment_marker_sits_at_the_end_of_the_environment_list() -> None:
    lines = TEMPLATE.read_text().splitlines()
    (index,) = [i for i, line in enumerate(lines) if line.strip() == MARKER]
    indent = lines[index][: len(lines[index]) - len(lines[index].lstrip())]
    assert lines[index - 1].startswith(indent + "- {Name: PORT")
    # What the SDK does: replace the marker with list items at the same indentation.
    rendered = "\n".join(
        [*lines[:index], f'{indent}- {{Name: "GREETING", Value: "hi: there"}}', *lines[index + 1 :]]
    )
    decoded, matches = decode_str(rendered)
    assert not matches
    assert decoded is not None
    container = decoded["Resources"]["TaskDefinition"]["Properties"]["ContainerDefinitions"][0]
    assert container["Environment"][-1] == {"Name": "GREETING", "Value": "hi: there"}
    assert [e["Name"] for e in container["Environment"][:-1]] == [
        "FLUORIDE_SERVICE",
        "FLUORIDE_REGION",
        "AWS_REGION",
        "FLUORIDE_TABLE",
        "FLUORIDE_BUCKET",
        "FLUORIDE_SECRET_ARN",
        "PORT",
    ]


# --------------------------------------------------------------------------- moto smoke


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def moto_client() -> Iterator[Callable[[str], Any]]:
    from moto.server import ThreadedMotoServer

    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    session = boto3.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION
    )

    def client(service: str) -> Any:
        # boto3-stubs types client() per literal service name; this helper takes any.
        return session.client(service, endpoint_url=f"http://127.0.0.1:{port}")  # type: ignore[call-overload]

    try:
        yield client
    finally:
        server.stop()


@pytest.mark.filterwarnings("ignore:Tried to parse AWS::")
def test_stack_creates_on_plain_moto(moto_client: Callable[[str], Any]) -> None:
    ec2, cfn, ecs = moto_client("ec2"), moto_client("cloudformation"), moto_client("ecs")
    vpc = ec2.describe_vpcs(Filters=[{"Name": "isDefault", "Values": ["true"]}])["Vpcs"][0]
    subnets = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc["VpcId"]]}])
    zones = {s["AvailabilityZone"] for s in subnets["Subnets"]}
    assert len(zones) >= 2
    service = "smoke-" + uuid.uuid4().hex[:8]
    stack = f"fluoride-{service}"
    cfn.create_stack(
        StackName=stack,
        TemplateBody=TEMPLATE.read_text(),
        Capabilities=["CAPABILITY_IAM"],
        Parameters=[
            {"ParameterKey": k, "ParameterValue": v}
            for k, v in {
                "ServiceName": service,
                "VpcId": vpc["VpcId"],
                "SubnetIds": ",".join(s["SubnetId"] for s in subnets["Subnets"]),
                "Image": "",
            }.items()
        ],
    )
    deadline = time.monotonic() + 30
    while True:
        described = cfn.describe_stacks(StackName=stack)["Stacks"][0]
        if not described["StackStatus"].endswith("_IN_PROGRESS") or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert described["StackStatus"] == "CREATE_COMPLETE", described.get("StackStatusReason")

    outputs = {o["OutputKey"]: o["OutputValue"] for o in described["Outputs"]}
    # Plain moto skips AWS::SecretsManager::Secret, so its output has no value there;
    # EndpointRouteTables exists only with VpcEndpoints.
    assert set(_contract()[1]) - set(outputs) <= {"SecretArn", "EndpointRouteTables"}
    assert outputs["RepositoryName"] == f"fluoride/{service}"
    assert outputs["Url"].startswith("http://")

    ecs_service = ecs.describe_services(
        cluster=outputs["ClusterName"], services=[outputs["EcsServiceName"]]
    )["services"][0]
    assert ecs_service["desiredCount"] == 0  # no image yet
    task = ecs.describe_task_definition(taskDefinition=ecs_service["taskDefinition"])
    (container,) = task["taskDefinition"]["containerDefinitions"]
    assert container["name"] == "app"
    assert container["image"] == "public.ecr.aws/docker/library/busybox:stable"
    env = {e["name"]: e.get("value") for e in container["environment"]}
    assert env["FLUORIDE_SERVICE"] == service
    assert env["FLUORIDE_TABLE"] == outputs["TableName"]
    assert env["FLUORIDE_BUCKET"] == outputs["BucketName"]

    groups = {
        g["Description"]: g
        for g in ec2.describe_security_groups(
            Filters=[{"Name": "vpc-id", "Values": [vpc["VpcId"]]}]
        )["SecurityGroups"]
    }
    alb = groups[f"Fluoride {service} load balancer"]
    tasks = groups[f"Fluoride {service} tasks"]
    assert [
        (p["FromPort"], [r["CidrIp"] for r in p["IpRanges"]]) for p in alb["IpPermissions"]
    ] == [(80, ["0.0.0.0/0"])]
    assert [
        (p["FromPort"], [g["GroupId"] for g in p["UserIdGroupPairs"]], p["IpRanges"])
        for p in tasks["IpPermissions"]
    ] == [(8080, [alb["GroupId"]], [])]
