"""Environments and services behind a shared ECS gateway, on the embedded emulator, through
the public API (issue 14's "Done when")."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest

from fluoride import Environment, EnvironmentSpec, Fluoride, ServiceSpec
from fluoride.errors import (
    ConfigError,
    EnvironmentInUse,
    EnvironmentNotFound,
    InvalidInput,
    RolledBack,
)
from fluoride.events import Note
from fluoride.local import Timing
from fluoride.releases.history import Outcome
from fluoride.service import Service
from fluoride.spec import SERVICE_NAME_MAX, Network

from .conftest import Recorder

_LB_TYPES = ("AWS::ElasticLoadBalancingV2::LoadBalancer",
             "AWS::ElasticLoadBalancingV2::Listener",
             "AWS::ElasticLoadBalancingV2::TargetGroup")


@pytest.fixture(scope="module")
def recorded() -> Recorder:
    return Recorder()


@pytest.fixture(scope="module")
def local(recorded: Recorder) -> Iterator[Fluoride]:
    fast = Timing(task_start=0.05, health_check=0.05, drain=0.05)
    with Fluoride.local(reporter=recorded, timing=fast) as fl:
        yield fl


@pytest.fixture(scope="module")
def lab(local: Fluoride) -> Environment:
    env = local.environment("lab")
    status = env.create(EnvironmentSpec())
    assert status.state.value == "complete"
    return env


def push(fl: Fluoride, svc: Service, tag: str, *, healthy: bool = True) -> str:
    assert fl.emulator is not None
    return fl.emulator.push_image(svc.outputs()["RepositoryName"], tag, healthy=healthy)


@pytest.fixture(scope="module")
def three(local: Fluoride, lab: Environment) -> list[Service]:
    services = []
    for name in ("gw-a", "gw-b", "gw-c"):
        svc = local.service(name)
        svc.create(ServiceSpec(gateway="lab"))
        push(local, svc, "v1")
        svc.deploy("v1")
        services.append(svc)
    return services


def test_three_services_behind_one_gateway_have_distinct_https_urls(
    three: list[Service], lab: Environment
) -> None:
    urls = [svc.url for svc in three]
    assert all(u is not None and u.startswith("https://") for u in urls), urls
    assert len(set(urls)) == 3
    status = lab.status()
    assert status.services == ("gw-a", "gw-b", "gw-c")
    assert [s.name for s in lab.services()] == ["gw-a", "gw-b", "gw-c"]
    assert status.gateway_status is not None
    assert "gw-a" in repr(status)
    assert "gw-b" in status._repr_html_()
    for svc in three:
        assert svc.status().environment == "lab"
        assert svc.environment == "lab"


def test_the_fleet_status_shows_each_services_environment(
    local: Fluoride, three: list[Service]
) -> None:
    own = local.service("own-alb")
    own.create(ServiceSpec())
    rows = {row[0]: row[-1] for row in local.status().rows()}
    assert rows["gw-a"] == "lab"
    assert rows["own-alb"] == "(own ALB)"
    own.delete(purge_data=True)


def test_a_gateway_services_stack_holds_no_load_balancer(
    local: Fluoride, three: list[Service]
) -> None:
    types = {r["type"] for r in three[0].stack.resources()}
    assert not types & set(_LB_TYPES)
    assert "AWS::ECS::GatewayClusterAssociations" in types
    outputs = three[0].outputs()
    assert "LoadBalancerArn" not in outputs
    assert "Url" not in outputs
    ecs = local.session.client("ecs", endpoint_url=local.endpoint_url)
    svc = ecs.describe_services(cluster=outputs["ClusterName"],
                                services=[outputs["EcsServiceName"]])["services"][0]
    assert svc.get("loadBalancers", []) == []


def test_the_5xx_alarm_watches_the_gateway_routes_target_group(
    local: Fluoride, three: list[Service]
) -> None:
    from fluoride.infra.gateway import metric_names, rule_target_group, service_route

    outputs = three[0].outputs()
    route = service_route(local.aws, outputs["ClusterName"], outputs["EcsServiceName"])
    assert route is not None
    assert route.listener_rule is not None
    assert route.load_balancer is not None
    group = rule_target_group(local.aws, route.listener_rule)
    assert group is not None
    cw = local.session.client("cloudwatch", endpoint_url=local.endpoint_url)
    alarms = [a for a in cw.describe_alarms()["MetricAlarms"]
              if a["MetricName"] == "HTTPCode_Target_5XX_Count"
              and a["AlarmDescription"].startswith("Fluoride gw-a ")]
    assert len(alarms) == 1
    dims = {d["Name"]: d["Value"] for d in alarms[0]["Dimensions"]}
    assert (dims["LoadBalancer"], dims["TargetGroup"]) == metric_names(route.load_balancer, group)
    ecs = local.session.client("ecs", endpoint_url=local.endpoint_url)
    svc = ecs.describe_services(cluster=outputs["ClusterName"],
                                services=[outputs["EcsServiceName"]])["services"][0]
    config = svc["deploymentConfiguration"]["alarms"]
    assert config["alarmNames"] == [alarms[0]["AlarmName"]]
    assert config["rollback"] is True


def test_the_tasks_admit_only_the_gateways_security_group(
    local: Fluoride, lab: Environment, three: list[Service]
) -> None:
    ec2 = local.session.client("ec2", endpoint_url=local.endpoint_url)
    group = three[0].outputs()["TaskSecurityGroupId"]
    (sg,) = ec2.describe_security_groups(GroupIds=[group])["SecurityGroups"]
    sources = {(p["FromPort"], pair["GroupId"]) for p in sg["IpPermissions"]
               for pair in p.get("UserIdGroupPairs", [])}
    gateway_group = lab.outputs()["GatewaySecurityGroupId"]
    assert (8080, gateway_group) in sources
    assert not [p for p in sg["IpPermissions"] if p.get("IpRanges")]  # no CIDR may reach it


def test_healthy_deploy_broken_deploy_rolls_back_and_rollback(
    local: Fluoride, three: list[Service]
) -> None:
    svc = three[1]
    first = svc.status().release
    assert first is not None
    push(local, svc, "v2")
    good = svc.deploy("v2")
    assert good.outcome is Outcome.STABLE
    push(local, svc, "bad", healthy=False)
    with pytest.raises(RolledBack) as info:
        svc.deploy("bad")
    # Judged on the gateway route's targets: the new tasks failed its health checks.
    assert any("health checks" in r for r in info.value.reasons), info.value.reasons
    assert info.value.serving is not None
    assert info.value.serving.digest == good.digest
    back = svc.rollback()
    assert back.outcome is Outcome.STABLE
    assert back.digest == first.digest
    assert svc.url == three[1].url  # the route stays


def test_delete_is_refused_while_services_use_the_environment(
    lab: Environment, three: list[Service]
) -> None:
    with pytest.raises(EnvironmentInUse) as info:
        lab.delete()
    assert info.value.services == ["gw-a", "gw-b", "gw-c"]
    assert "gw-a, gw-b, gw-c" in info.value.message
    assert lab.exists()


def test_move_from_own_alb_to_the_gateway_and_back(
    local: Fluoride, lab: Environment, three: list[Service]
) -> None:
    # The longest valid name: the route's host and certificate must fit it.
    name = "mv-" + "x" * (SERVICE_NAME_MAX - 3)
    svc = local.service(name)
    svc.create(ServiceSpec())
    push(local, svc, "v1")
    svc.deploy("v1")
    own_url = svc.url
    assert own_url is not None
    assert own_url.startswith("http://")

    behind = ServiceSpec(gateway="lab")
    plan = svc.plan(behind)
    assert any("URL changes" in c and "gateway of environment lab" in c
               for c in plan.consequences), plan.consequences
    assert "gateway: (unset) -> 'lab'" in plan.summary
    removed = {c.resource_type for c in plan.changes if c.action == "remove"}
    assert "AWS::ElasticLoadBalancingV2::LoadBalancer" in removed
    svc.update(behind)
    assert svc.spec().gateway == "lab"
    gw_url = svc.url
    assert gw_url is not None
    assert gw_url.startswith("https://")
    assert name in [s.name for s in lab.services()]
    host = gw_url.removeprefix("https://").split(".")[0]
    assert name in host
    assert len(host) <= 63
    assert svc.status().running >= 1

    plan = svc.plan(ServiceSpec())
    assert any("URL changes" in c and "own" in c for c in plan.consequences)
    svc.update(ServiceSpec())
    assert svc.spec().gateway is None
    assert svc.url is not None
    assert svc.url.startswith("http://")
    assert name not in [s.name for s in lab.services()]
    svc.delete(purge_data=True)


def test_a_service_cannot_join_an_environment_that_does_not_exist(local: Fluoride) -> None:
    with pytest.raises(EnvironmentNotFound, match="nowhere"):
        local.service("lost").create(ServiceSpec(gateway="nowhere"))
    assert not local.service("lost").exists()


def test_bad_environment_inputs_are_refused_before_any_call(local: Fluoride) -> None:
    with pytest.raises(ConfigError, match="cannot name an environment"):
        local.environment("Lab!")
    with pytest.raises(InvalidInput) as info:
        local.environment("x").create(EnvironmentSpec(scheme="public"))  # invalid spec
    assert [e.field for e in info.value.errors] == ["scheme"]
    with pytest.raises(InvalidInput):
        local.environment("x").create({"scheme": "internal"})  # type: ignore[arg-type]
    assert not local.environment("x").exists()
    with pytest.raises(EnvironmentNotFound):
        local.environment("x").status()


def test_create_again_with_the_same_spec_is_a_no_op(lab: Environment) -> None:
    assert lab.create(EnvironmentSpec()).state.value == "complete"


def test_an_unused_environment_is_deleted_with_its_gateway(local: Fluoride) -> None:
    env = local.environment("spare")
    env.create(EnvironmentSpec(scheme="internal", ingress_cidrs=("10.0.0.0/8",), max_albs=2))
    assert env.spec().scheme == "internal"
    arn = env.status().gateway_arn
    assert arn is not None
    env.delete()
    assert not env.exists()
    ecs = local.session.client("ecs", endpoint_url=local.endpoint_url)
    names = json.dumps(ecs.list_gateways().get("gateways", []), default=str)
    assert "fluoride-env-spare" not in names


def _gateway_callers(local: Fluoride, env: Environment) -> dict[str, str]:
    """The environment group's HTTPS rules from security groups: source group -> the rule's
    description."""
    ec2 = local.session.client("ec2", endpoint_url=local.endpoint_url)
    group = env.outputs()["GatewaySecurityGroupId"]
    (sg,) = ec2.describe_security_groups(GroupIds=[group])["SecurityGroups"]
    return {pair["GroupId"]: pair.get("Description", "")
            for p in sg["IpPermissions"] if p.get("FromPort") == 443
            for pair in p.get("UserIdGroupPairs", [])}


def test_allowed_callers_behind_an_internal_gateway(local: Fluoride) -> None:
    inner = local.environment("inner")
    inner.create(EnvironmentSpec(scheme="internal", ingress_cidrs=()))  # callers only
    ec2 = local.session.client("ec2", endpoint_url=local.endpoint_url)
    (sg,) = ec2.describe_security_groups(
        GroupIds=[inner.outputs()["GatewaySecurityGroupId"]])["SecurityGroups"]
    assert not [p for p in sg["IpPermissions"] if p.get("IpRanges")]  # no network admitted
    caller = local.service("in-b")
    caller.create(ServiceSpec(gateway="inner"))
    caller_group = caller.outputs()["TaskSecurityGroupId"]
    callee = local.service("in-a")
    callee.create(ServiceSpec(gateway="inner", network=Network(allowed_callers=("in-b",))))
    rules = _gateway_callers(local, inner)
    assert caller_group in rules, rules
    assert rules[caller_group] == "in-a allowed caller 1 HTTPS"  # whose rule it is
    assert callee.spec().network.allowed_callers == ("in-b",)

    callee.update(ServiceSpec(gateway="inner"))  # callers cleared
    assert caller_group not in _gateway_callers(local, inner)

    callee.update(ServiceSpec(gateway="inner", network=Network(allowed_callers=("in-b",))))
    assert caller_group in _gateway_callers(local, inner)
    callee.delete(purge_data=True)  # its rules go with its stack
    assert _gateway_callers(local, inner) == {}
    caller.delete(purge_data=True)
    inner.delete()


def test_allowed_callers_behind_an_internal_gateway_open_to_networks_are_noted(
    local: Fluoride, recorded: Recorder
) -> None:
    wide = local.environment("wide")
    wide.create(EnvironmentSpec(scheme="internal", ingress_cidrs=["10.0.0.0/8"]))
    local.service("wd-b").create(ServiceSpec(gateway="wide"))
    seen = len(recorded.events)
    callee = local.service("wd-a")
    callee.create(ServiceSpec(gateway="wide", network=Network(allowed_callers=("wd-b",))))
    notes = [e.text for e in recorded.events[seen:]
             if isinstance(e, Note) and e.service == "wd-a"]
    assert any("also admits 10.0.0.0/8" in n and "ingress_cidrs=[]" in n for n in notes), notes
    for svc in wide.services():
        svc.delete(purge_data=True)
    wide.delete()


def test_allowed_callers_are_refused_behind_an_internet_facing_gateway(
    local: Fluoride, lab: Environment, three: list[Service]
) -> None:
    before = _gateway_callers(local, lab)
    spec = ServiceSpec(gateway="lab", network=Network(allowed_callers=("gw-b",)))
    with pytest.raises(ConfigError) as info:
        local.service("out-a").create(spec)
    assert [e.field for e in info.value.errors] == ["network.allowed_callers"]
    assert "internet-facing" in info.value.message
    assert "scheme='internal'" in str(info.value.errors[0].allowed)
    assert not local.service("out-a").exists()
    with pytest.raises(ConfigError):
        three[0].update(spec)
    assert three[0].spec().network.allowed_callers == ()
    assert _gateway_callers(local, lab) == before


def test_deploy_arms_the_5xx_alarm_left_unarmed_and_adds_no_call_once_armed() -> None:
    from fluoride.infra.gateway import alarm_unarmed
    from fluoride.releases.deployment import _Follower

    from ._bench import load_benchmark

    bench = load_benchmark("api_calls")
    counter = bench.Counter()
    check = _Follower.check

    def counted(self: _Follower) -> object:
        with counter.polling():
            return check(self)

    recorded = Recorder()
    fast = Timing(task_start=0.05, health_check=0.05, drain=0.05)
    with Fluoride.local(reporter=recorded, timing=fast) as fl, bench._patched(counted):
        fl.aws.session.events.register("before-call", counter)  # before any client
        fl.environment("armlab").create(EnvironmentSpec())
        svc = fl.service("late")
        svc.create(ServiceSpec(gateway="armlab"), wait=False)  # the alarm is not armed
        for _ in range(600):
            info = svc.stack.describe()
            if info is not None and info.status == "CREATE_COMPLETE":
                break
            time.sleep(0.05)
        assert alarm_unarmed(svc.stack.require().parameters) == "armlab"
        push(fl, svc, "v1")
        push(fl, svc, "v2")

        with counter.counting():
            first = svc.deploy("v1")
        assert first.outcome is Outcome.STABLE
        after = dict(counter.calls["outcome"])
        # After the verdict, in a stack update of its own: the route, then the change set.
        assert after.get("ecs.ListGatewayRoutes") == 1, after
        assert after.get("cloudformation.ExecuteChangeSet") == 1, after
        params = svc.stack.require().parameters
        assert alarm_unarmed(params) is None
        cw = fl.session.client("cloudwatch", endpoint_url=fl.endpoint_url)
        (alarm,) = [a for a in cw.describe_alarms()["MetricAlarms"]
                    if a["MetricName"] == "HTTPCode_Target_5XX_Count"
                    and a["AlarmDescription"].startswith("Fluoride late ")]
        dims = {d["Name"]: d["Value"] for d in alarm["Dimensions"]}
        assert dims["TargetGroup"] == params["GatewayTargetGroup"]
        assert any(isinstance(e, Note) and "arming the 5xx alarm" in e.text
                   for e in recorded.events)
        # Arming rolled nothing back and started no release: v1 serves, judged stable.
        status = svc.status()
        assert status.release is not None
        assert status.release.digest == first.digest
        assert [(r.id, r.outcome) for r in svc.history()] == [(first.id, Outcome.STABLE)]

        with counter.counting():
            second = svc.deploy("v2")
        assert second.outcome is Outcome.STABLE
        # Armed: the deploy makes the calls of any deploy, nothing after its verdict but
        # the history's outcome (the budget of tests/test_api_budget.py).
        assert dict(counter.calls["outcome"]) == {"s3.PutObject": 1}
        assert sum(counter.calls["start"].values()) <= 9
        assert alarm_unarmed(svc.stack.require().parameters) is None
