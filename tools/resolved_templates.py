"""Write the resolved templates of both compliance profiles, for the policy tools.

    python tools/resolved_templates.py OUT_DIR

writes OUT_DIR/standard.json (the default spec) and OUT_DIR/strict.json (strict, in a
private VPC with endpoints, HTTPS, notify and an essential sidecar: every toggle strict
adds), each as ``svc.template(spec, resolved=True)`` gives it, resolved on the embedded
emulator (the network is read as create() reads it). CI runs checkov and cfn-lint on them.
"""

import sys
from pathlib import Path

from fluoride import Fluoride, ServiceSpec, Sidecar
from fluoride.spec import Domain, Network

with Fluoride.local(region="us-east-1") as fl:
    ec2 = fl.session.client("ec2", endpoint_url=fl.endpoint_url)
    vpc = ec2.create_vpc(CidrBlock="10.50.0.0/16")["Vpc"]["VpcId"]
    ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})
    ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsSupport={"Value": True})
    zones = [z["ZoneName"] for z in ec2.describe_availability_zones()["AvailabilityZones"]][:2]
    subnets = tuple(ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.50.{i}.0/24",
                                      AvailabilityZone=z)["Subnet"]["SubnetId"]
                    for i, z in enumerate(zones))
    cert = fl.session.client("acm", endpoint_url=fl.endpoint_url).request_certificate(
        DomainName="api.example.org")["CertificateArn"]
    svc = fl.service("policy")
    specs = {
        "standard": ServiceSpec(),
        "strict": ServiceSpec(
            compliance="strict",
            network=Network(vpc_id=vpc, subnet_ids=subnets, endpoints=True),
            domain=Domain(certificate_arn=cert), notify=("ops@example.org",),
            sidecars=(Sidecar(name="proxy", image="public.ecr.aws/x/envoy:1", port=9901,
                              memory=128, essential=True),)),
    }
    for name, spec in specs.items():
        text = svc.template(spec, resolved=True, region="us-east-1", account="123456789012")
        path = Path(sys.argv[1], f"{name}.json")
        path.write_text(text, encoding="utf-8")
        print(f"{path}: {len(text.encode()):,} bytes")
