"""network.endpoints on the embedded emulator: the VPC endpoints read back through EC2
(service names, private DNS, the endpoints' security group, the policies, the route
tables), a deploy, a delete that leaves nothing, and the pre-flight refusals (a VPC
without DNS support or hostnames, the default VPC)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from fluoride import Fluoride, ServiceSpec
from fluoride.errors import ConfigError
from fluoride.spec import Domain, Network


def _client(fl: Fluoride, name: str) -> Any:
    return fl.session.client(name, endpoint_url=fl.endpoint_url)  # type: ignore[call-overload]


def _private_vpc(fl: Fluoride, cidr: int, *, hostnames: bool = True,
                 support: bool = True) -> tuple[Network, str]:
    """A VPC with one subnet in each of two zones, and a route table of its own for them."""
    ec2 = _client(fl, "ec2")
    vpc = ec2.create_vpc(CidrBlock=f"10.{cidr}.0.0/16")["Vpc"]["VpcId"]
    ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": hostnames})
    ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsSupport={"Value": support})
    zones = [z["ZoneName"] for z in ec2.describe_availability_zones()["AvailabilityZones"]][:2]
    subnets = tuple(ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.{cidr}.{i}.0/24",
                                      AvailabilityZone=zone)["Subnet"]["SubnetId"]
                    for i, zone in enumerate(zones))
    table = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
    ec2.associate_route_table(RouteTableId=table, SubnetId=subnets[0])  # the other: main
    return Network(vpc_id=vpc, subnet_ids=subnets, endpoints=True), table


def _endpoints(fl: Fluoride, vpc: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = _client(fl, "ec2").describe_vpc_endpoints(
        Filters=[{"Name": "vpc-id", "Values": [vpc]}])["VpcEndpoints"]
    return found


def _main_table(fl: Fluoride, vpc: str) -> str:
    (table,) = _client(fl, "ec2").describe_route_tables(Filters=[
        {"Name": "vpc-id", "Values": [vpc]}, {"Name": "association.main", "Values": ["true"]},
    ])["RouteTables"]
    return str(table["RouteTableId"])


def test_endpoints_read_back_deploy_and_leave_nothing_on_delete(
    fl: Fluoride, unique_name: str
) -> None:
    network, own_table = _private_vpc(fl, 41)
    assert network.vpc_id is not None
    spec = ServiceSpec(network=network)
    svc = fl.service(unique_name)
    svc.create(spec)
    region = fl.session.region_name
    out = svc.outputs()
    emulator = fl.emulator
    assert emulator is not None

    prefix = f"com.amazonaws.{region}."
    found = {e["ServiceName"].removeprefix(prefix): e for e in _endpoints(fl, network.vpc_id)}
    assert sorted(found) == ["dynamodb", "ecr.api", "ecr.dkr", "logs", "s3", "secretsmanager"]
    for name in ("ecr.api", "ecr.dkr", "logs", "secretsmanager"):
        endpoint = found[name]
        assert endpoint["ServiceName"] == f"com.amazonaws.{region}.{name}"
        assert endpoint["VpcEndpointType"] == "Interface"
        assert endpoint["PrivateDnsEnabled"] is True
        assert sorted(endpoint["SubnetIds"]) == sorted(network.subnet_ids)
        (group,) = endpoint["Groups"]
        policy = json.loads(endpoint["PolicyDocument"])
        (statement,) = policy["Statement"]
        assert statement["Condition"]["StringEquals"]["aws:PrincipalAccount"] == emulator.account_id
    pull = json.loads(found["ecr.dkr"]["PolicyDocument"])["Statement"][0]["Action"]
    assert "ecr:PutImage" not in pull
    assert "ecr:BatchGetImage" in pull

    # The endpoints' security group admits the tasks' group on 443, and nothing else.
    ec2 = _client(fl, "ec2")
    (sg,) = ec2.describe_security_groups(GroupIds=[group["GroupId"]])["SecurityGroups"]
    assert [(p["IpProtocol"], p["FromPort"], p["ToPort"],
             [g["GroupId"] for g in p["UserIdGroupPairs"]], p["IpRanges"])
            for p in sg["IpPermissions"]] == [("tcp", 443, 443, [out["TaskSecurityGroupId"]], [])]

    # Gateway endpoints on both subnets' route tables: the first subnet's own, the main one.
    tables = sorted([own_table, _main_table(fl, network.vpc_id)])
    for name in ("s3", "dynamodb"):
        assert found[name]["VpcEndpointType"] == "Gateway"
        assert sorted(found[name]["RouteTableIds"]) == tables
    assert sorted(out["EndpointRouteTables"].split(",")) == tables
    s3 = json.loads(found["s3"]["PolicyDocument"])["Statement"]
    resources = [r for st in s3 for r in ([st["Resource"]] if isinstance(st["Resource"], str)
                                         else st["Resource"])]
    assert resources == [f"arn:aws:s3:::prod-{region}-starport-layer-bucket/*",
                         f"arn:aws:s3:::{out['BucketName']}",
                         f"arn:aws:s3:::{out['BucketName']}/*"]
    dynamodb = json.loads(found["dynamodb"]["PolicyDocument"])["Statement"][0]["Resource"]
    assert dynamodb == [out["TableArn"], out["TableArn"] + "/index/*"]

    assert svc.spec() == spec  # network.endpoints reads back from the stack

    emulator.push_image(out["RepositoryName"], "v1")
    release = svc.deploy("v1")
    assert release.tag == "v1"

    svc.delete(purge_data=True)
    assert not svc.exists()
    assert _endpoints(fl, network.vpc_id) == []
    assert ec2.describe_security_groups(Filters=[
        {"Name": "group-id", "Values": [group["GroupId"]]}])["SecurityGroups"] == []
    routes = [r for t in ec2.describe_route_tables(RouteTableIds=tables)["RouteTables"]
              for r in t["Routes"] if r.get("GatewayId", "").startswith("vpce-")]
    assert routes == []


def test_strict_adds_a_kms_endpoint(fl: Fluoride, unique_name: str) -> None:
    network, _ = _private_vpc(fl, 42)
    assert network.vpc_id is not None
    certificate = _client(fl, "acm").request_certificate(DomainName="api.example.org")
    spec = ServiceSpec(compliance="strict", network=network,
                       domain=Domain(certificate_arn=certificate["CertificateArn"]))
    svc = fl.service(unique_name)
    svc.create(spec)
    names = sorted(e["ServiceName"] for e in _endpoints(fl, network.vpc_id))
    assert f"com.amazonaws.{fl.session.region_name}.kms" in names
    assert len(names) == 7
    assert svc.spec() == spec
    svc.delete(purge_data=True)
    assert _endpoints(fl, network.vpc_id) == []


@pytest.mark.parametrize(("hostnames", "support", "off"), [
    (False, True, "enableDnsHostnames"),
    (True, False, "enableDnsSupport"),
    (False, False, "enableDnsSupport, enableDnsHostnames"),
])
def test_endpoints_refuse_a_vpc_without_dns_before_any_change(
    fl: Fluoride, unique_name: str, hostnames: bool, support: bool, off: str
) -> None:
    network, _ = _private_vpc(fl, 43 + 2 * hostnames + support, hostnames=hostnames,
                              support=support)
    svc = fl.service(unique_name)
    with pytest.raises(ConfigError) as raised:
        svc.create(ServiceSpec(network=network))
    (error,) = raised.value.errors
    assert error.field == "network.vpc_id"
    assert f"has {off} off" in error.message
    assert "enableDnsSupport and enableDnsHostnames on" in (error.allowed or "")
    assert "modify-vpc-attribute" in (raised.value.hint or "")
    assert not svc.exists()
    assert network.vpc_id is not None
    assert _endpoints(fl, network.vpc_id) == []


def test_endpoints_refuse_the_default_vpc_before_any_call(fl: Fluoride, unique_name: str) -> None:
    svc = fl.service(unique_name)
    with pytest.raises(ConfigError) as raised:
        svc.create(ServiceSpec(network=Network(endpoints=True)))
    assert [e.field for e in raised.value.errors] == ["network.endpoints"]
    assert not svc.exists()


def test_a_plain_service_deploys_in_a_vpc_without_dns_hostnames(
    fl: Fluoride, unique_name: str
) -> None:
    # moto crashed placing its tasks (the ec2_network_interface_dns shim); AWS does not.
    network, _ = _private_vpc(fl, 47, hostnames=False)
    plain = Network(vpc_id=network.vpc_id, subnet_ids=network.subnet_ids)
    svc = fl.service(unique_name)
    svc.create(ServiceSpec(network=plain))
    emulator = fl.emulator
    assert emulator is not None
    emulator.push_image(svc.outputs()["RepositoryName"], "v1")
    assert svc.deploy("v1").tag == "v1"
    svc.delete(purge_data=True)


def test_turning_endpoints_on_and_off_is_an_update_and_a_second_service_is_refused(
    fl: Fluoride, unique_name: str
) -> None:
    network, _ = _private_vpc(fl, 48)
    assert network.vpc_id is not None
    plain = ServiceSpec(network=Network(vpc_id=network.vpc_id, subnet_ids=network.subnet_ids))
    svc = fl.service(unique_name)
    svc.create(plain)
    assert _endpoints(fl, network.vpc_id) == []

    on = ServiceSpec(network=network)
    plan = svc.plan(on)
    assert [str(s) for s in plan.settings] == ["network.endpoints: false -> true"]
    added = {c.logical_id for c in plan.changes if c.action == "add"}
    assert {"EndpointEcrApi", "EndpointS3", "EndpointDynamoDb", "EndpointSecurityGroup"} <= added
    svc.update(on)
    assert len(_endpoints(fl, network.vpc_id)) == 6
    assert svc.spec() == on
    svc.update(on)  # its own endpoints are not "taken"

    # A second service in the same VPC would make a second private-DNS endpoint per service.
    other = fl.service(unique_name + "b")
    with pytest.raises(ConfigError) as raised:
        other.create(on)
    (error,) = raised.value.errors
    assert error.field == "network.endpoints"
    assert "logs (vpce-" in error.message
    assert "s3 (vpce-" in error.message
    assert not other.exists()
    other.create(plain)  # without endpoints it uses the VPC's
    other.delete(purge_data=True)

    svc.update(plain)
    assert _endpoints(fl, network.vpc_id) == []
    svc.delete(purge_data=True)
