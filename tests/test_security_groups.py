"""Network paths, proven from the rendered template: only the load balancer reaches the
tasks, on the container port; the load balancer accepts TCP on its listener ports only,
from the configured CIDRs and the allowed callers' security groups, and nothing else.
"""

from __future__ import annotations

import json
from typing import Any

import attrs
import pytest

from fluoride.aws import Aws
from fluoride.errors import ConfigError
from fluoride.infra.callers import caller_security_groups
from fluoride.spec import Domain, Network, ServiceSpec, to_parameters
from tests._cfn import Rendered, render

from .conftest import plain_aws

VPC = "vpc-0123456789abcdef0"
SUBNETS = ["subnet-0123aaaa", "subnet-0123bbbb"]
CERT = "arn:aws:acm:eu-west-1:123456789012:certificate/00000000-0000-0000-0000-000000000000"


def stack(spec: ServiceSpec, callers: tuple[str, ...] = (), name: str = "notes") -> Rendered:
    params = to_parameters(
        spec,
        service_name=name,
        vpc_id=VPC,
        subnet_ids=SUBNETS,
        image=None,
        assign_public_ip=True,
        caller_security_groups=callers,
    )
    return render(params)


@attrs.frozen
class Rule:
    group: str
    direction: str
    protocol: str
    from_port: int
    to_port: int
    peer: str


def rules(rendered: Rendered) -> set[Rule]:
    """Every ingress and egress rule of every security group the stack creates."""
    found = set()

    def peer(rule: dict[str, Any]) -> str:
        keys = [
            k
            for k in (
                "CidrIp",
                "CidrIpv6",
                "SourceSecurityGroupId",
                "DestinationSecurityGroupId",
                "SourcePrefixListId",
                "DestinationPrefixListId",
                "SourceSecurityGroupName",
            )
            if k in rule
        ]
        assert len(keys) == 1, rule
        return str(rule[keys[0]])

    for logical, res in rendered.of_type("AWS::EC2::SecurityGroup").items():
        group = rendered.physical[logical]
        props = res["Properties"]
        for direction, key in (
            ("ingress", "SecurityGroupIngress"),
            ("egress", "SecurityGroupEgress"),
        ):
            for rule in props.get(key, []):
                found.add(
                    Rule(
                        group,
                        direction,
                        str(rule["IpProtocol"]),
                        int(rule["FromPort"]),
                        int(rule["ToPort"]),
                        peer(rule),
                    )
                )
        # Without inline egress rules a group allows all egress; every group here has some.
        assert props.get("SecurityGroupEgress"), f"{logical} would allow all egress"
    for kind, direction in (
        ("AWS::EC2::SecurityGroupIngress", "ingress"),
        ("AWS::EC2::SecurityGroupEgress", "egress"),
    ):
        for rule in (r["Properties"] for r in rendered.of_type(kind).values()):
            found.add(
                Rule(
                    str(rule["GroupId"]),
                    direction,
                    str(rule["IpProtocol"]),
                    int(rule["FromPort"]),
                    int(rule["ToPort"]),
                    peer(rule),
                )
            )
    return found


def listener_ports(rendered: Rendered) -> set[int]:
    return {
        int(r["Properties"]["Port"])
        for r in rendered.of_type("AWS::ElasticLoadBalancingV2::Listener").values()
    }


def groups(rendered: Rendered) -> tuple[str, str]:
    return rendered.physical["AlbSecurityGroup"], rendered.physical["TaskSecurityGroup"]


SPECS = {
    "defaults": (ServiceSpec(), ()),
    "port-9000": (ServiceSpec(port=9000), ()),
    "https": (ServiceSpec(domain=Domain(certificate_arn=CERT)), ()),
    "office-cidrs": (
        ServiceSpec(network=Network(ingress_cidrs=("10.1.0.0/16", "192.168.7.0/24"))),
        (),
    ),
    "internal-callers": (
        ServiceSpec(
            network=Network(
                public=False, ingress_cidrs=(), allowed_callers=("sg-0ca11e00000000001", "billing")
            )
        ),
        ("sg-0ca11e00000000001", "sg-0b111000000000001"),
    ),
    "internal-callers-https": (
        ServiceSpec(
            network=Network(
                public=False,
                ingress_cidrs=("10.0.0.0/8",),
                allowed_callers=("sg-0aaaaaaaa", "sg-0bbbbbbbb", "sg-0cccccccc", "sg-0dddddddd"),
            ),
            domain=Domain(certificate_arn=CERT),
        ),
        ("sg-0aaaaaaaa", "sg-0bbbbbbbb", "sg-0cccccccc", "sg-0dddddddd"),
    ),
}


@pytest.fixture(params=list(SPECS), scope="module")
def case(request: pytest.FixtureRequest) -> tuple[ServiceSpec, tuple[str, ...], Rendered]:
    spec, callers = SPECS[request.param]
    return spec, callers, stack(spec, callers)


def test_only_the_load_balancer_reaches_the_tasks(
    case: tuple[ServiceSpec, tuple[str, ...], Rendered],
) -> None:
    spec, _, rendered = case
    alb, tasks = groups(rendered)
    into_tasks = {r for r in rules(rendered) if r.group == tasks and r.direction == "ingress"}
    assert into_tasks == {Rule(tasks, "ingress", "tcp", spec.port, spec.port, alb)}
    # ...and the tasks run in that group alone.
    service = rendered.resources["Service"]["Properties"]
    network = service["NetworkConfiguration"]["AwsvpcConfiguration"]
    assert network["SecurityGroups"] == [tasks]


def test_the_load_balancer_accepts_tcp_on_its_listener_ports_from_the_allowed_only(
    case: tuple[ServiceSpec, tuple[str, ...], Rendered],
) -> None:
    spec, callers, rendered = case
    alb, _ = groups(rendered)
    ports = listener_ports(rendered)
    assert ports == ({80, 443} if spec.domain.certificate_arn else {80})
    sources = set(spec.network.ingress_cidrs) | set(callers)
    expected = {Rule(alb, "ingress", "tcp", p, p, s) for p in ports for s in sources}
    into_alb = {r for r in rules(rendered) if r.group == alb and r.direction == "ingress"}
    assert into_alb == expected
    lb = rendered.resources["LoadBalancer"]["Properties"]
    assert lb["SecurityGroups"] == [alb]
    assert lb["Scheme"] == ("internet-facing" if spec.network.public else "internal")


def test_egress(case: tuple[ServiceSpec, tuple[str, ...], Rendered]) -> None:
    spec, _, rendered = case
    alb, tasks = groups(rendered)
    out = {r for r in rules(rendered) if r.direction == "egress"}
    assert out == {
        # The load balancer talks only to the tasks, on the container port.
        Rule(alb, "egress", "tcp", spec.port, spec.port, tasks),
        # Tasks reach ECR, CloudWatch Logs and their stores over HTTPS...
        Rule(tasks, "egress", "tcp", 443, 443, "0.0.0.0/0"),
        # ...and the HTTP listeners of services that list them in allowed_callers.
        Rule(tasks, "egress", "tcp", 80, 80, "0.0.0.0/0"),
    }


def test_no_rule_outside_the_stacks_own_groups(
    case: tuple[ServiceSpec, tuple[str, ...], Rendered],
) -> None:
    _, _, rendered = case
    assert {r.group for r in rules(rendered)} <= set(groups(rendered))


def test_allowed_callers_reach_an_internal_service_and_nothing_else_does() -> None:
    spec = ServiceSpec(network=Network(public=False, ingress_cidrs=(), allowed_callers=("orders",)))
    rendered = stack(spec, ("sg-0deadbeef00000001",))
    alb, tasks = groups(rendered)
    into = {r for r in rules(rendered) if r.direction == "ingress"}
    assert into == {
        Rule(alb, "ingress", "tcp", 80, 80, "sg-0deadbeef00000001"),
        Rule(tasks, "ingress", "tcp", 8080, 8080, alb),
    }
    assert not any(r.peer.startswith(("0.", "10.")) for r in into)


def test_caller_groups_are_wired_only_when_given() -> None:
    plain = stack(ServiceSpec())
    assert not [k for k in plain.resources if k.startswith("Caller")]
    two = stack(
        ServiceSpec(network=Network(allowed_callers=("sg-0aaaaaaaa", "sg-0bbbbbbbb"))),
        ("sg-0aaaaaaaa", "sg-0bbbbbbbb"),
    )
    assert sorted(k for k in two.resources if k.startswith("Caller")) == [
        "Caller1Http",
        "Caller2Http",
    ]


def test_two_services_do_not_share_groups() -> None:
    a, b = stack(ServiceSpec(), name="notes"), stack(ServiceSpec(), name="orders")
    assert not set(groups(a)) & set(groups(b))
    b_alb, b_tasks = groups(b)
    # A's groups admit nothing from B's groups unless A lists B as a caller.
    assert not {r for r in rules(a) if r.peer in {b_alb, b_tasks}}


# --- allowed_callers by service name, against moto's server ---------------------------------

CALLER_TEMPLATE = """
Parameters:
  VpcId: {Type: String}
Resources:
  TaskSecurityGroup:
    Type: AWS::EC2::SecurityGroup
    Properties: {GroupDescription: tasks, VpcId: !Ref VpcId}
Outputs:
  TaskSecurityGroupId:
    Value: !GetAtt TaskSecurityGroup.GroupId
"""


@pytest.fixture(scope="module")
def aws(moto_endpoint: str) -> Aws:
    return plain_aws(moto_endpoint)


def test_callers_by_service_name_resolve_to_their_task_groups(aws: Aws) -> None:
    ec2, cfn = aws.client("ec2"), aws.client("cloudformation")
    vpc = ec2.create_vpc(CidrBlock="10.20.0.0/16")["Vpc"]["VpcId"]
    other_vpc = ec2.create_vpc(CidrBlock="10.30.0.0/16")["Vpc"]["VpcId"]
    for name, in_vpc in (("billing", vpc), ("faraway", other_vpc)):
        cfn.create_stack(
            StackName=f"fluoride-{name}",
            TemplateBody=CALLER_TEMPLATE,
            Parameters=[{"ParameterKey": "VpcId", "ParameterValue": in_vpc}],
        )
    cfn.create_stack(
        StackName="fluoride-legacy",
        TemplateBody=json.dumps({"Resources": {"T": {"Type": "AWS::SNS::Topic"}}}),
    )
    outputs = cfn.describe_stacks(StackName="fluoride-billing")["Stacks"][0]["Outputs"]
    billing_sg = outputs[0]["OutputValue"]
    assert billing_sg.startswith("sg-")

    assert caller_security_groups(aws, ["sg-0aaaaaaaa", "billing"], vpc_id=vpc) == [
        "sg-0aaaaaaaa",
        billing_sg,
    ]
    assert caller_security_groups(aws, [], vpc_id=vpc) == []
    with pytest.raises(ConfigError) as info:
        caller_security_groups(aws, ["nobody", "legacy", "faraway", "billing"], vpc_id=vpc)
    assert [e.field for e in info.value.errors] == [
        "network.allowed_callers[0]",
        "network.allowed_callers[1]",
        "network.allowed_callers[2]",
    ]
    problems = " ".join(e.problem for e in info.value.errors)
    assert "no Fluoride service 'nobody'" in problems
    assert "older Fluoride" in problems
    assert f"runs in {other_vpc}" in problems


def test_allowed_caller_service_on_the_emulator(fl: Any) -> None:
    """End to end: an internal service admits exactly its caller service's tasks.

    (moto keeps a group's default allow-all egress whatever the template says, so only
    ingress is compared here; egress is proven on the rendered template above.)
    """
    caller, callee = fl.service("calling"), fl.service("called")
    caller.create()
    callee.create(
        ServiceSpec(network=Network(public=False, ingress_cidrs=(), allowed_callers=("calling",)))
    )
    ec2 = callee.aws.client("ec2")
    caller_tasks = caller.outputs()["TaskSecurityGroupId"]
    callee_tasks = callee.outputs()["TaskSecurityGroupId"]
    lb_arn = callee.outputs()["LoadBalancerArn"]
    (lb,) = callee.aws.client("elbv2").describe_load_balancers(LoadBalancerArns=[lb_arn])[
        "LoadBalancers"
    ]
    (callee_alb,) = lb["SecurityGroups"]

    def ingress(group: str) -> set[tuple[str, int, int, str]]:
        (described,) = ec2.describe_security_groups(GroupIds=[group])["SecurityGroups"]
        found = set()
        for perm in described["IpPermissions"]:
            for pair in perm.get("UserIdGroupPairs", []):
                found.add((perm["IpProtocol"], perm["FromPort"], perm["ToPort"], pair["GroupId"]))
            for cidr in perm.get("IpRanges", []):
                found.add((perm["IpProtocol"], perm["FromPort"], perm["ToPort"], cidr["CidrIp"]))
        return found

    assert ingress(callee_alb) == {("tcp", 80, 80, caller_tasks)}
    assert ingress(callee_tasks) == {("tcp", 8080, 8080, callee_alb)}
    callee.delete(purge_data=True)
    caller.delete(purge_data=True)
