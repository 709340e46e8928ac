"""A service in private subnets with no NAT gateway: ``network.endpoints = true`` makes
the VPC endpoints its tasks need (ECR, CloudWatch Logs, Secrets Manager; S3 and DynamoDB
gateway endpoints), what they cost, what they look like through EC2, a deploy, and a
delete that takes them away.

Runs as it is on the embedded emulator (no AWS account); on AWS, use ``Fluoride()`` with
your own VPC (DNS support and DNS hostnames on) and its private subnets.
"""

from __future__ import annotations

from typing import Any

from fluoride import Fluoride, ServiceSpec
from fluoride.spec import Network


def main() -> None:
    with Fluoride.local() as fl:
        assert fl.emulator is not None
        # On AWS this exists already: a VPC with DNS on and two private subnets.
        ec2 = fl.session.client("ec2", endpoint_url=fl.endpoint_url)
        vpc = ec2.create_vpc(CidrBlock="10.40.0.0/16")["Vpc"]["VpcId"]
        ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})
        zones = [z["ZoneName"] for z in ec2.describe_availability_zones()["AvailabilityZones"]]
        subnets = tuple(ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.40.{i}.0/24",
                                          AvailabilityZone=zone)["Subnet"]["SubnetId"]
                        for i, zone in enumerate(zones[:2]))

        # [endpoints]
        spec = ServiceSpec(network=Network(vpc_id=vpc, subnet_ids=subnets, endpoints=True))
        svc = fl.service("private")
        for line in svc.estimate(spec).lines:
            if line.item.startswith("VPC"):
                print(f"{line.item}: ${line.monthly:.2f}")
        svc.create(spec)
        fl.emulator.push_image(svc.outputs()["RepositoryName"], "v1")
        svc.deploy("v1")
        # [/endpoints]

        def endpoints() -> list[Any]:
            found = ec2.describe_vpc_endpoints(Filters=[{"Name": "vpc-id", "Values": [vpc]}])
            return sorted(found["VpcEndpoints"], key=lambda e: e["ServiceName"])

        for endpoint in endpoints():
            print(endpoint["ServiceName"], endpoint["VpcEndpointType"],
                  "private DNS" if endpoint.get("PrivateDnsEnabled") else "route tables")
        print("round trip:", svc.spec() == spec)
        svc.delete(purge_data=True)
        print("endpoints left after delete:", len(endpoints()))


if __name__ == "__main__":
    main()
