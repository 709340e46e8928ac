"""A service under compliance="strict" with a sidecar: private subnets, a certificate, a
proxy beside the app (essential, with a health check); what each control looks like
through the AWS APIs; the proxy's health and its logs apart from the app's; a switch back
to standard refused; delete with purge.

Runs as it is on the embedded emulator (no AWS account); on AWS, use ``Fluoride()`` with
your own private VPC, subnets and ACM certificate.
"""

from __future__ import annotations

import attrs

from fluoride import ComplianceSwitchRefused, Fluoride, ServiceSpec, Sidecar
from fluoride.spec import Domain, Network


def main() -> None:
    with Fluoride.local() as fl:
        assert fl.emulator is not None
        url = fl.endpoint_url
        # On AWS these exist already: a VPC with private subnets, and a certificate.
        ec2 = fl.session.client("ec2", endpoint_url=url)
        vpc = ec2.create_vpc(CidrBlock="10.30.0.0/16")["Vpc"]["VpcId"]
        ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})
        zones = [z["ZoneName"] for z in ec2.describe_availability_zones()["AvailabilityZones"]]
        subnets = tuple(ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.30.{i}.0/24",
                                          AvailabilityZone=zone)["Subnet"]["SubnetId"]
                        for i, zone in enumerate(zones[:2]))
        certificate = fl.session.client("acm", endpoint_url=url).request_certificate(
            DomainName="api.example.org")["CertificateArn"]

        # [strict]
        spec = ServiceSpec(
            compliance="strict",
            network=Network(vpc_id=vpc, subnet_ids=subnets),
            domain=Domain(certificate_arn=certificate),
            memory=1024,
            sidecars=[Sidecar(name="proxy", image="public.ecr.aws/envoyproxy/envoy:v1.31",
                              port=9901, memory=256, essential=True,
                              health_command="curl -fs http://localhost:9901/ready || exit 1")],
            notify=["ops@example.org"],
        )
        print(f"user={spec.user} log_retention_days={spec.log_retention_days}")  # strict's
        svc = fl.service("records")
        svc.create(spec)
        fl.emulator.push_image(svc.outputs()["RepositoryName"], "v1")
        svc.deploy("v1")
        # [/strict]

        out = svc.outputs()
        ecr = fl.session.client("ecr", endpoint_url=url)
        repo = ecr.describe_repositories(repositoryNames=[out["RepositoryName"]])[
            "repositories"][0]
        print("tags:", repo["imageTagMutability"],
              "encryption:", repo["encryptionConfiguration"]["encryptionType"])
        table = fl.session.client("dynamodb", endpoint_url=url).describe_table(
            TableName=out["TableName"])["Table"]
        print("table deletion protection:", table["DeletionProtectionEnabled"])
        print("round trip:", svc.spec() == spec)

        # [sidecar-health]
        ecs = fl.session.client("ecs", endpoint_url=url)
        arns = ecs.list_tasks(cluster=out["ClusterName"],
                              serviceName=out["EcsServiceName"])["taskArns"]
        (task,) = ecs.describe_tasks(cluster=out["ClusterName"], tasks=arns)["tasks"]
        health = {c["name"]: c["healthStatus"] for c in task["containers"]}
        print("proxy health:", health["proxy"], "task health:", task["healthStatus"])
        # [/sidecar-health]

        # [sidecar-logs]
        app = list(svc.logs(since="1h"))  # the app's lines
        proxy = list(svc.logs(since="1h", container="proxy"))  # the sidecar's, apart
        print(f"app lines: {len(app)}, proxy lines: {len(proxy)}")
        print("proxy:", proxy[0].message.replace(proxy[0].task_id, "<task>"))
        # [/sidecar-logs]

        try:  # a live service keeps the profile it was created with
            svc.update(attrs.evolve(spec, compliance="standard"))
        except ComplianceSwitchRefused as refused:
            print("refused:", refused.switch.old, "->", refused.switch.new,
                  "would replace", refused.switch.repository)
        removed = svc.delete(purge_data=True).removed
        print("purged:", ", ".join(sorted(removed)))


if __name__ == "__main__":
    main()
