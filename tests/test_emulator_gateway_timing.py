"""With ``Timing.from_settings`` a service behind a gateway is timed by its gateway
connector's health check (the route's target group), as one behind its own ALB is timed by
its target group: stepped on the held simulated clock, no wall-clock assertion."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from fluoride.local import Emulator, Timing, start_emulator

from ._rollouts import Aws
from .test_emulator_gateway import (
    connected_service,
    gateway,
    image,
    route,
    target_health,
    task_definition,
)

SCALE = 0.01
PULL = 20.0


@pytest.fixture(scope="module")
def emulator() -> Iterator[Emulator]:
    with start_emulator(timing=Timing.from_settings(scale=SCALE, image_pull=PULL)) as emu:
        yield emu


def test_the_connector_s_health_check_times_the_targets(emulator: Emulator) -> None:
    aws = Aws(emulator)
    aws.ecr.create_repository(repositoryName="gateway/app")
    role = aws.iam.create_role(RoleName="timed", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    vpc = aws.ec2.describe_vpcs(
        Filters=[{"Name": "isDefault", "Values": ["true"]}])["Vpcs"][0]["VpcId"]
    network = {"vpc": vpc, "subnets": [s["SubnetId"] for s in aws.ec2.describe_subnets(
        Filters=[{"Name": "vpc-id", "Values": [vpc]}])["Subnets"]][:2]}
    gateway(aws, role, "timed")
    aws.ecs.create_cluster(clusterName="timed")
    aws.ecs.associate_gateway_with_cluster(gateway="timed", cluster="timed")
    definition = task_definition(aws, "timed", image(emulator, "timed"))
    tick = 0.5 * SCALE
    with emulator.hold_rollouts() as hold:
        service = connected_service(aws, network, "timed", "web", definition, gatewayConnectors=[
            {"portName": "http", "healthCheck": {"healthCheckIntervalSeconds": 5,
                                                 "healthyThresholdCount": 2}}])
        gateway_route = route(aws, service["serviceArn"])
        hold.advance(PULL * SCALE)  # the image is pulled: the task registers in the route
        assert target_health(aws, gateway_route) == ["initial"]
        hold.advance(5 * 2 * SCALE - tick)  # interval x healthy threshold, less a tick
        assert target_health(aws, gateway_route) == ["initial"]
        hold.advance(2 * tick)
        assert target_health(aws, gateway_route) == ["healthy"]
