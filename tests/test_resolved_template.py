"""Service.template(resolved=True) and `fluoride template --resolved`: the template as
CloudFormation evaluates it for one service and spec, which cfn-lint accepts."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from fluoride import Fluoride, ServiceSpec
from fluoride.cli import main
from fluoride.spec import Stores


@pytest.fixture(scope="module")
def fl() -> Iterator[Fluoride]:
    with Fluoride.local() as client:
        yield client


def _resources(text: str) -> dict[str, dict[str, object]]:
    resources: dict[str, dict[str, object]] = json.loads(text)["Resources"]
    return resources


def test_the_resolved_template_drops_what_the_spec_turns_off(fl: Fluoride) -> None:
    svc = fl.service("resolved")
    full = _resources(svc.template(resolved=True, region="eu-west-1", account="111122223333"))
    bare = _resources(svc.template(ServiceSpec(stores=Stores(table=False, bucket=False,
                                                             secret=False)), resolved=True))
    assert "Table" in full
    assert "Table" not in bare
    assert set(bare) < set(full)
    text = svc.template(resolved=True, region="eu-west-1", account="111122223333")
    assert "Fn::If" not in text
    assert "AWS::NoValue" not in text
    assert not [name for name, res in _resources(text).items() if "Condition" in res]
    assert "eu-west-1" in text
    assert "111122223333" in text


def test_the_raw_template_keeps_its_comments_and_makes_no_call(fl: Fluoride) -> None:
    text = fl.service("resolved").template()
    assert "\n  # " in text
    assert "Fn::If" in text or "!If" in text


def test_the_resolved_template_passes_cfn_lint(fl: Fluoride, tmp_path: Path) -> None:
    path = tmp_path / "resolved.json"
    path.write_text(fl.service("resolved").template(resolved=True, region="us-east-1",
                                                    account="123456789012"))
    lint = subprocess.run([str(Path(sys.executable).parent / "cfn-lint"), "--", str(path)],
                          capture_output=True, text=True, check=False)
    assert lint.returncode == 0, lint.stdout + lint.stderr


def test_the_cli_prints_it(fl: Fluoride) -> None:
    result = CliRunner().invoke(
        main, ["--endpoint-url", str(fl.endpoint_url), "--region", fl.region,
               "template", "--resolved", "--name", "clisvc", "--account", "123456789012"],
        env={"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"},
    )
    assert result.exit_code == 0, result.output
    assert "Table" in _resources(result.output)


def _strict(fl: Fluoride) -> ServiceSpec:
    from tests.test_strict import _strict_spec

    return _strict_spec(fl)


def test_the_strict_resolved_template_passes_cfn_lint_and_drops_standard_skips(
    fl: Fluoride, tmp_path: Path
) -> None:
    svc = fl.service("resolved-strict")
    text = svc.template(_strict(fl), resolved=True, region="us-east-1", account="123456789012")
    path = tmp_path / "strict.json"
    path.write_text(text)
    lint = subprocess.run([str(Path(sys.executable).parent / "cfn-lint"), "--include-checks",
                           "I", "--", str(path)], capture_output=True, text=True, check=False)
    assert lint.returncode == 0, lint.stdout + lint.stderr
    resources = _resources(text)
    assert resources["Key"]["Properties"]["EnableKeyRotation"] is True  # type: ignore[index]

    def skips(res: dict[str, Any]) -> set[str]:
        return {s["id"] for r in res.values()
                for s in r.get("Metadata", {}).get("checkov", {}).get("skip", [])}

    standard = skips(_resources(svc.template(resolved=True, region="us-east-1",
                                             account="123456789012")))
    strict = skips(resources)
    # what strict fixes is no longer excused: the KMS keys, immutable tags, the log bucket's
    # versions (CKV_AWS_18 stays: the access-log bucket does not log itself)
    assert standard - strict == {"CKV_AWS_158", "CKV_AWS_119", "CKV_AWS_149", "CKV_AWS_136",
                                 "CKV_AWS_51", "CKV_AWS_21"}
    assert strict < standard


def test_the_resolved_template_with_endpoints_passes_cfn_lint_in_both_profiles(
    fl: Fluoride, tmp_path: Path
) -> None:
    from fluoride.spec import Domain, Network

    ec2 = fl.session.client("ec2", endpoint_url=fl.endpoint_url)
    vpc = ec2.create_vpc(CidrBlock="10.61.0.0/16")["Vpc"]["VpcId"]
    ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})
    zones = [z["ZoneName"] for z in ec2.describe_availability_zones()["AvailabilityZones"]][:2]
    subnets = tuple(ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.61.{i}.0/24",
                                      AvailabilityZone=zone)["Subnet"]["SubnetId"]
                    for i, zone in enumerate(zones))
    network = Network(vpc_id=vpc, subnet_ids=subnets, endpoints=True)
    certificate = fl.session.client("acm", endpoint_url=fl.endpoint_url).request_certificate(
        DomainName="ep.example.org")["CertificateArn"]
    svc = fl.service("resolved-endpoints")
    for name, spec, expected in (
        ("standard", ServiceSpec(network=network), 7),
        ("strict", ServiceSpec(network=network, compliance="strict",
                               domain=Domain(certificate_arn=certificate)), 8),
    ):
        text = svc.template(spec, resolved=True, region="us-east-1", account="123456789012")
        found = [n for n, r in _resources(text).items()
                 if r["Type"] in ("AWS::EC2::VPCEndpoint", "AWS::EC2::SecurityGroup")
                 and n.startswith("Endpoint")]
        assert len(found) == expected, (name, found)  # the group, and each endpoint
        path = tmp_path / f"{name}.json"
        path.write_text(text)
        lint = subprocess.run([str(Path(sys.executable).parent / "cfn-lint"), "--include-checks",
                               "I", "--", str(path)], capture_output=True, text=True, check=False)
        assert lint.returncode == 0, lint.stdout + lint.stderr


# -- the operations page's Control Tower claims, against the resolved templates -----------


def _containers(res: dict[str, Any]) -> list[dict[str, Any]]:
    containers: list[dict[str, Any]] = res["TaskDefinition"]["Properties"][
        "ContainerDefinitions"]
    return containers


def _lb_attributes(res: dict[str, Any]) -> dict[str, str]:
    return {a["Key"]: a["Value"]
            for a in res["LoadBalancer"]["Properties"]["LoadBalancerAttributes"]}


#: control -> (what the resolved template shows of it, its value under standard, strict),
#: for the controls the page says one profile meets and the other does not (or both).
_CLAIMS: dict[str, tuple[Any, Any, Any]] = {
    "CT.ECS.PR.3": (lambda r: all(c.get("User") for c in _containers(r)), False, True),
    "CT.ECS.PR.5": (lambda r: all(c["LogConfiguration"]["LogDriver"] == "awslogs"
                                  for c in _containers(r)), True, True),
    "CT.ECS.PR.6": (lambda r: all(c.get("ReadonlyRootFilesystem") is True
                                  for c in _containers(r)), False, True),
    "CT.ECS.PR.7": (lambda r: all(c.get("Memory") for c in _containers(r)), False, True),
    "CT.ECS.PR.9": (lambda r: r["Service"]["Properties"]["NetworkConfiguration"][
        "AwsvpcConfiguration"]["AssignPublicIp"], "ENABLED", "DISABLED"),
    "CT.ELASTICLOADBALANCING.PR.4": (lambda r: _lb_attributes(r)[
        "routing.http.drop_invalid_header_fields.enabled"], "true", "true"),
    "CT.ELASTICLOADBALANCING.PR.5": (
        lambda r: _lb_attributes(r)["deletion_protection.enabled"], "false", "true"),
    "CT.ELASTICLOADBALANCING.PR.6": (
        lambda r: _lb_attributes(r)["access_logs.s3.enabled"], "true", "true"),
    "CT.DYNAMODB.PR.1": (lambda r: r["Table"]["Properties"][
        "PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"], True, True),
    "CT.KMS.PR.1": (lambda r: r.get("Key", {}).get("Properties", {}).get(
        "EnableKeyRotation", False), False, True),
    "CT.CLOUDWATCH.PR.2": (lambda r: int(r["LogGroup"]["Properties"]["RetentionInDays"])
                           >= 365, False, True),
    "CT.CLOUDWATCH.PR.3": (lambda r: "KmsKeyId" in r["LogGroup"]["Properties"], False, True),
    "CT.ECR.PR.1": (lambda r: "LifecyclePolicy" in r["Repository"]["Properties"], True, True),
    "CT.ECR.PR.2": (lambda r: r["Repository"]["Properties"]["ImageScanningConfiguration"][
        "ScanOnPush"], True, True),
    "CT.ECR.PR.3": (lambda r: r["Repository"]["Properties"]["ImageTagMutability"],
                    "MUTABLE", "IMMUTABLE"),
}


@pytest.fixture(scope="module")
def profiles(fl: Fluoride) -> dict[str, dict[str, Any]]:
    import attrs

    from fluoride import Sidecar

    car = Sidecar(name="proxy", image="public.ecr.aws/envoyproxy/envoy:v1.31", memory=128)
    svc = fl.service("controls")
    standard = ServiceSpec(sidecars=(car,))
    strict = attrs.evolve(_strict(fl), sidecars=(car,))
    return {name: _resources(svc.template(spec, resolved=True, region="us-east-1",
                                          account="123456789012"))
            for name, spec in (("standard", standard), ("strict", strict))}


@pytest.mark.parametrize("control", sorted(_CLAIMS))
def test_the_control_tower_claims_hold_in_the_resolved_templates(
    profiles: dict[str, dict[str, Any]], control: str
) -> None:
    from fluoride.infra.policy_report import CONTROLS

    assert control in {c[0] for c in CONTROLS}
    shows, standard, strict = _CLAIMS[control]
    assert shows(profiles["standard"]) == standard
    assert shows(profiles["strict"]) == strict


def test_the_control_table_names_only_ids_from_the_pages_it_cites() -> None:
    import re

    from fluoride.infra.policy_report import CONTROL_SOURCES, CONTROLS

    ids = [c[0] for c in CONTROLS]
    assert len(ids) == len(set(ids))
    for control in ids:
        match = re.fullmatch(r"CT\.([A-Z0-9]+)\.PR\.(\d+)", control)
        assert match, control
        assert match.group(1) in CONTROL_SOURCES, control
    # CloudWatch Logs' controls are CT.CLOUDWATCH.PR.2 and .3 in the reference, not CT.LOGS
    assert not [c for c in ids if c.startswith("CT.LOGS.")]
