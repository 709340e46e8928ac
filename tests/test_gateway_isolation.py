"""Isolation, proven for environments: the gateway's infrastructure role (AWS's managed
policy AmazonECSInfrastructureRoleForGatewayHostSharedALB, the role's only policy) cannot
touch any service's data stores, secrets or roles, even on resources tagged the way ECS
tags the ones it manages. principalmapper's local policy simulation evaluates it, as
tests/test_isolation.py does for the task roles.

The policy's text is the one moto 5.2.5 ships in its copy of AWS's managed policies
(created 2026-09-25, v1); the real account's version is not read here.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from fluoride.infra.policy_report import parse_template
from fluoride.infra.template import load_environment_template
from fluoride.spec import EnvironmentSpec, ServiceSpec
from fluoride.spec._envspec import environment_parameters
from tests._cfn import ACCOUNT, REGION, Rendered, render
from tests.test_isolation import (
    NETWORK,
    administration,
    allowed,
    data_plane,
    stack,
    task_role,
)

POLICY = "arn:aws:iam::aws:policy/AmazonECSInfrastructureRoleForGatewayHostSharedALB"
#: The request context an attacker would most like: every resource tagged as ECS tags
#: the ones it manages (the policy's conditions key on this tag).
ECS_MANAGED = {"aws:ResourceTag/AmazonECSManaged": "true", "aws:RequestTag/AmazonECSManaged":
               "true"}


def managed_policy() -> dict[str, Any]:
    from moto.iam.aws_managed_policies import aws_managed_policies_data

    document: dict[str, Any] = json.loads(aws_managed_policies_data)[
        "AmazonECSInfrastructureRoleForGatewayHostSharedALB"]["Document"]
    return document


def environment() -> Rendered:
    params = environment_parameters("lab", EnvironmentSpec(), vpc_id=NETWORK["vpc_id"],
                                    subnet_ids=tuple(NETWORK["subnet_ids"]),
                                    vpc_cidr="172.31.0.0/16")
    return render(params, template=parse_template(load_environment_template()),
                  stack_name="fluoride-env-lab")


@pytest.fixture(scope="module")
def infrastructure_role() -> Any:
    rendered = environment()
    role = rendered.resources["InfrastructureRole"]["Properties"]
    assert role["ManagedPolicyArns"] == [POLICY]
    assert "Policies" not in role
    assert not rendered.of_type("AWS::IAM::Policy")  # nothing else is attached
    trust = role["AssumeRolePolicyDocument"]["Statement"]
    assert [s["Principal"] for s in trust] == [{"Service": "ecs.amazonaws.com"}]
    return task_role(rendered, {POLICY: managed_policy()}, logical="InfrastructureRole")


def gateway_service(name: str) -> Rendered:
    spec = ServiceSpec(gateway="lab")
    import attrs

    from fluoride.spec import to_parameters
    from tests.test_isolation import _names

    spec = attrs.evolve(spec, stores=attrs.evolve(spec.stores, **_names(name)))
    params = to_parameters(spec, service_name=name, vpc_id=NETWORK["vpc_id"],
                           subnet_ids=NETWORK["subnet_ids"], image=None,
                           assign_public_ip=True,
                           gateway_security_group="sg-0a23456789abcdef0")
    return render(params)


@pytest.mark.parametrize("service", ["notes", "notes-b"])
@pytest.mark.parametrize("context", [{}, ECS_MANAGED], ids=["untagged", "tagged-as-ecs"])
def test_the_infrastructure_role_cannot_touch_a_services_data(
    infrastructure_role: Any, service: str, context: dict[str, str]
) -> None:
    from principalmapper.querying.query_interface import local_check_authorization_full

    for rendered in (stack(service), gateway_service(service)):
        checks = data_plane(rendered) + administration(rendered)
        reached = [(a, r) for a, r in checks
                   if local_check_authorization_full(infrastructure_role, a, r, context)]
        assert reached == [], reached
        # Nor the service's own roles: it cannot pass or change them.
        for logical in ("TaskRole", "ExecutionRole"):
            role = rendered.arn(logical)
            for action in ("iam:PassRole", "iam:PutRolePolicy", "iam:AttachRolePolicy",
                           "sts:AssumeRole"):
                assert not local_check_authorization_full(infrastructure_role, action, role,
                                                          context), (action, role)


def test_the_check_can_fail_it_does_reach_what_ecs_manages(infrastructure_role: Any) -> None:
    # A positive control: the same simulation allows what the policy is for.
    lb = f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:loadbalancer/app/ecs-gw/0123abcd"
    assert allowed(infrastructure_role, "elasticloadbalancing:DescribeLoadBalancers", "*")
    from principalmapper.querying.query_interface import local_check_authorization_full

    assert local_check_authorization_full(infrastructure_role,
                                          "elasticloadbalancing:CreateRule", lb, ECS_MANAGED)
    assert not local_check_authorization_full(infrastructure_role,
                                              "elasticloadbalancing:CreateRule", lb, {})
