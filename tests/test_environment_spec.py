"""EnvironmentSpec and ServiceSpec(gateway=...): every rule by a table, the parameters
both ways, the toml field, and the environment template itself (lint, shape)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from fluoride.errors import ConfigError
from fluoride.spec import (
    Domain,
    EnvironmentSpec,
    Network,
    ServiceSpec,
    environment_name_problems,
    environment_spec_problems,
    loads_config,
)
from fluoride.spec._envspec import environment_from_parameters, environment_parameters

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "templates" / "environment.yaml"
WAF = ("arn:aws:wafv2:eu-west-1:123456789012:regional/webacl/lab-acl/"
       "0123abcd-0123-4567-89ab-0123456789ab")

# (changes, the field reported or None when valid)
CASES: list[tuple[dict[str, Any], str | None]] = [
    ({}, None),
    ({"scheme": "internal"}, None),
    ({"scheme": "internet-facing"}, None),
    ({"scheme": "public"}, "scheme"),
    ({"scheme": "INTERNAL"}, "scheme"),
    ({"scheme": None}, "scheme"),
    ({"max_albs": 1}, None),
    ({"max_albs": 10}, None),
    ({"max_albs": 0}, "max_albs"),
    ({"max_albs": 11}, "max_albs"),
    ({"max_albs": True}, "max_albs"),
    ({"max_albs": "3"}, "max_albs"),
    ({"ingress_cidrs": ("10.0.0.0/8", "192.168.0.0/16")}, None),
    ({"ingress_cidrs": "10.0.0.0/8"}, None),
    ({"ingress_cidrs": ()}, "ingress_cidrs"),  # internet-facing: nothing could reach it
    ({"ingress_cidrs": (), "scheme": "internet-facing"}, "ingress_cidrs"),
    ({"ingress_cidrs": (), "scheme": "internal"}, None),  # only allowed_callers admit
    ({"ingress_cidrs": ("10.0.0.1/8",)}, "ingress_cidrs[0]"),
    ({"ingress_cidrs": ("nope",)}, "ingress_cidrs[0]"),
    ({"ingress_cidrs": ("10.0.0.0/8",) * 2}, "ingress_cidrs[1]"),
    ({"ingress_cidrs": tuple(f"10.{i}.0.0/16" for i in range(5))}, "ingress_cidrs"),
    ({"waf_acl_arn": WAF}, None),
    ({"waf_acl_arn": WAF.replace("regional", "global")}, "waf_acl_arn"),
    ({"waf_acl_arn": "arn:aws:wafv2:eu-west-1:123:regional/webacl/x/y"}, "waf_acl_arn"),
    ({"waf_acl_arn": 3}, "waf_acl_arn"),
    ({"access_log_retention_days": 1}, None),
    ({"access_log_retention_days": 0}, "access_log_retention_days"),
    ({"access_log_retention_days": 1.5}, "access_log_retention_days"),
    ({"vpc_id": "vpc-0123456789abcdef0",
      "subnet_ids": ("subnet-0123456789abcdef0", "subnet-0123456789abcdef1")}, None),
    ({"vpc_id": "vpc-0123456789abcdef0"}, "subnet_ids"),
    ({"subnet_ids": ("subnet-0123456789abcdef0", "subnet-0123456789abcdef1")}, "vpc_id"),
    ({"vpc_id": "vpc-1", "subnet_ids": ("subnet-0123456789abcdef0",
                                         "subnet-0123456789abcdef1")}, "vpc_id"),
    ({"vpc_id": "vpc-0123456789abcdef0", "subnet_ids": ("subnet-0123456789abcdef0",)},
     "subnet_ids"),
    ({"vpc_id": "vpc-0123456789abcdef0", "subnet_ids": ("subnet-x", "subnet-y")},
     "subnet_ids[0]"),
    ({"team": "lab 3"}, None),
    ({"team": "lab;3"}, "team"),
]


@pytest.mark.parametrize(("changes", "bad"), CASES, ids=[
    "-".join(f"{k}={v!r}"[:40] for k, v in c.items()) + ("-ok" if b is None else "-bad")
    for c, b in CASES
])
def test_rule(changes: dict[str, Any], bad: str | None) -> None:
    found = EnvironmentSpec(**changes).problems()
    fields = [e.field for e in found]
    if bad is None:
        assert fields == []
        EnvironmentSpec(**changes).validate()
    else:
        assert bad in fields
        assert len(fields) <= 2, fields
        for error in found:
            # every problem says what is accepted (a duplicate says itself)
            assert error.allowed or "listed twice" in error.problem, error
        with pytest.raises(ConfigError, match="environment spec is invalid"):
            EnvironmentSpec(**changes).validate()


def test_every_bad_field_at_once() -> None:
    spec = EnvironmentSpec(scheme="public", max_albs=0, ingress_cidrs=(), waf_acl_arn="x",
                           access_log_retention_days=-1)
    assert [e.field for e in spec.problems()] == [
        "scheme", "max_albs", "ingress_cidrs", "waf_acl_arn", "access_log_retention_days"]


@pytest.mark.parametrize(("name", "ok"), [
    ("lab", True), ("a", True), ("lab-2", True), ("a" * 24, True),
    ("", False), ("Lab", False), ("1lab", False), ("lab-", False), ("a--b", False),
    ("a_b", False), ("a" * 25, False), (None, False), (3, False),
])
def test_environment_name(name: object, ok: bool) -> None:
    found = environment_name_problems(name)
    assert (found == []) is ok
    if not ok:
        assert found[0].field == "name"
        assert found[0].allowed
        assert "lowercase" in found[0].allowed


@pytest.mark.parametrize(("spec", "bad"), [
    (None, False), (EnvironmentSpec(), False), ({"scheme": "internal"}, True),
    (ServiceSpec(), True), (EnvironmentSpec(max_albs=0), True),
])
def test_environment_spec_argument(spec: object, bad: bool) -> None:
    assert bool(environment_spec_problems(spec)) is bad


# ServiceSpec(gateway=...): (changes, field reported or None)
GATEWAY_CASES: list[tuple[dict[str, Any], str | None]] = [
    ({"gateway": "lab"}, None),
    ({"gateway": None}, None),
    ({"gateway": "lab", "network": ServiceSpec().network}, None),
    ({"gateway": "Lab"}, "gateway"),
    ({"gateway": ""}, "gateway"),
    ({"gateway": 3}, "gateway"),
    ({"gateway": "lab", "requests_per_target": 100}, "requests_per_target"),
    ({"gateway": "lab", "domain": Domain(hosted_zone_id="Z0123456789ABCDEFGHIJ",
                                         hosted_zone_name="example.com",
                                         subdomain="api")}, "gateway"),
    ({"gateway": "lab", "domain": Domain(
        certificate_arn="arn:aws:acm:eu-west-1:123456789012:certificate/0123-abcd")},
     "gateway"),
    ({"requests_per_target": 100}, None),
    # Whether the gateway is internal is the environment's to say: checked before the
    # change set (tests/test_environments.py), not here.
    ({"gateway": "lab", "network": Network(allowed_callers=("orders",))}, None),
    ({"gateway": "lab", "network": Network(public=False)}, "network.public"),
    ({"gateway": "lab", "network": Network(ingress_cidrs=("10.0.0.0/8",))},
     "network.ingress_cidrs"),
    ({"gateway": "lab", "network": Network(vpc_id="vpc-0123456789abcdef0", subnet_ids=(
        "subnet-0123456789abcdef0", "subnet-0123456789abcdef1"))}, None),
]


@pytest.mark.parametrize(("changes", "bad"), GATEWAY_CASES)
def test_service_gateway_rule(changes: dict[str, Any], bad: str | None) -> None:
    fields = [e.field for e in ServiceSpec(**changes).problems()]
    assert fields == ([] if bad is None else [bad])


def test_gateway_in_fluoride_toml() -> None:
    name, spec = loads_config('name = "api"\ngateway = "lab"\n')
    assert (name, spec.gateway) == ("api", "lab")
    with pytest.raises(ConfigError) as info:
        loads_config('gateway = "Lab!"\n')
    assert [e.field for e in info.value.errors] == ["gateway"]
    with pytest.raises(ConfigError) as info:
        loads_config("gateway = 3\n")
    assert [e.field for e in info.value.errors] == ["gateway"]


@pytest.mark.parametrize("spec", [
    EnvironmentSpec(),
    EnvironmentSpec(scheme="internal", max_albs=2, ingress_cidrs=("10.0.0.0/8", "10.1.0.0/16"),
                    waf_acl_arn=WAF, access_log_retention_days=7),
    EnvironmentSpec(scheme="internal", ingress_cidrs=()),
])
def test_parameters_round_trip(spec: EnvironmentSpec) -> None:
    params = environment_parameters("lab", spec, vpc_id="vpc-0123456789abcdef0",
                                    subnet_ids=("subnet-a", "subnet-b"),
                                    vpc_cidr="172.31.0.0/16")
    template = yaml.load(TEMPLATE.read_text(), Loader=_Loader)
    assert set(params) <= set(template["Parameters"])
    back = environment_from_parameters(params)
    assert back == EnvironmentSpec(
        scheme=spec.scheme, max_albs=spec.max_albs, ingress_cidrs=spec.ingress_cidrs,
        waf_acl_arn=spec.waf_acl_arn, access_log_retention_days=spec.access_log_retention_days,
        vpc_id="vpc-0123456789abcdef0", subnet_ids=("subnet-a", "subnet-b"))


class _Loader(yaml.SafeLoader):
    """Reads CloudFormation's short tags (!Ref, !Sub...) as plain values."""


def _any_tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> object:
    if isinstance(node, yaml.ScalarNode):
        return {suffix: loader.construct_scalar(node)}
    if isinstance(node, yaml.SequenceNode):
        return {suffix: loader.construct_sequence(node)}
    assert isinstance(node, yaml.MappingNode)
    return {suffix: loader.construct_mapping(node)}


_Loader.add_multi_constructor("!", _any_tag)


def test_environment_template_shape() -> None:
    template = yaml.load(TEMPLATE.read_text(), Loader=_Loader)
    resources = template["Resources"]
    types = {r["Type"] for r in resources.values()}
    assert "AWS::ECS::Gateway" in types
    # The gateway owns its load balancers; the stack makes none.
    assert not [t for t in types if t.startswith("AWS::ElasticLoadBalancingV2::")]
    gateway = resources["Gateway"]["Properties"]
    alb = gateway["Configuration"]["HostSharedAlb"]
    assert (alb["Protocol"], alb["Port"]) == ("HTTPS", 443)
    assert gateway["DeletionProtection"] is False
    role = resources["InfrastructureRole"]["Properties"]
    assert role["ManagedPolicyArns"] == [{"Sub": "arn:${AWS::Partition}:iam::aws:policy/"
                                          "AmazonECSInfrastructureRoleForGatewayHostSharedALB"}]
    assert "Policies" not in role  # nothing beyond AWS's scoped policy
    rules = resources["AccessLogBucket"]["Properties"]["LifecycleConfiguration"]["Rules"]
    assert {"Ref": "AccessLogRetentionDays"} in [r.get("ExpirationInDays") for r in rules]
    statements = resources["AccessLogBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    assert any(s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport":
                                                                      "false"}}
               for s in statements)


def test_environment_template_is_lint_clean() -> None:
    cfn_lint = Path(sys.executable).with_name("cfn-lint")
    result = subprocess.run([str(cfn_lint), "--include-checks", "I", "--", str(TEMPLATE)],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


CERT = "arn:aws:acm:eu-west-1:123456789012:certificate/0123-abcd"

# allowed_callers' rules: (Gateway, callers, certificate) -> (Caller1Http, Caller1Https,
# Caller2Https); behind a gateway only the HTTPS rule, on the environment's group.
CALLER_RULES = [
    ("", "", "", (False, False, False)),
    ("", "sg-0123abcd", "", (True, False, False)),
    ("", "sg-0123abcd", CERT, (True, True, False)),
    ("", "sg-0123abcd,sg-4567abcd", CERT, (True, True, True)),
    ("lab", "", "", (False, False, False)),
    ("lab", "sg-0123abcd", "", (False, True, False)),
    ("lab", "sg-0123abcd,sg-4567abcd", "", (False, True, True)),
]


@pytest.mark.parametrize(("gateway", "callers", "cert", "made"), CALLER_RULES)
def test_caller_rules_follow_the_ingress(gateway: str, callers: str, cert: str,
                                         made: tuple[bool, bool, bool]) -> None:
    from fluoride.infra.policy_report import parse_template
    from fluoride.infra.resolve import evaluate_conditions, resolve_value
    from fluoride.infra.template import load_template

    template = parse_template(load_template())
    params = {"ServiceName": "api", "VpcId": "vpc-0123abcd", "SubnetIds": "subnet-a,subnet-b",
              "Gateway": gateway, "AllowedCallerSecurityGroups": callers,
              "CertificateArn": cert, "GatewaySecurityGroup": "sg-0000aaaa" if gateway else ""}
    conditions = evaluate_conditions(template, params, region="us-east-1")
    assert (conditions["Caller1"], conditions["Caller1Https"], conditions["Caller2Https"]) == made
    if made[1]:
        props = template["Resources"]["Caller1Https"]["Properties"]
        group = resolve_value(props["GroupId"], template, params, region="us-east-1")
        assert (group == "sg-0000aaaa") is bool(gateway)  # the environment's group
        assert resolve_value(props["Description"], template, params,
                             region="us-east-1") == "api allowed caller 1 HTTPS"
        assert resolve_value(props["SourceSecurityGroupId"], template, params,
                             region="us-east-1") == "sg-0123abcd"


@pytest.mark.parametrize(("parameters", "unarmed"), [
    ({"Gateway": "lab", "AlarmRollback": "true", "GatewayTargetGroup": ""}, "lab"),
    ({"Gateway": "lab", "AlarmRollback": "true"}, "lab"),
    ({"Gateway": "lab", "AlarmRollback": "true", "GatewayTargetGroup": "targetgroup/t/1"},
     None),
    ({"Gateway": "lab", "AlarmRollback": "false", "GatewayTargetGroup": ""}, None),
    ({"Gateway": "", "AlarmRollback": "true", "GatewayTargetGroup": ""}, None),  # own ALB
    ({}, None),
])
def test_alarm_unarmed(parameters: dict[str, str], unarmed: str | None) -> None:
    from fluoride.infra.gateway import alarm_unarmed

    assert alarm_unarmed(parameters) == unarmed
