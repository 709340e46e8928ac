"""Shared ingress: one environment (an ECS gateway with shared HTTPS load balancers) and
three services behind it, each at its own generated https:// hostname, with no load
balancer of their own; an internal environment whose services name their callers; the
cost of both choices side by side.

Runs as it is on the embedded emulator (no AWS account); on AWS, use ``Fluoride()``.
"""

from __future__ import annotations

from fluoride import EnvironmentInUse, EnvironmentSpec, Fluoride, ServiceSpec
from fluoride.cost import compare_ingress
from fluoride.spec import Network


def main() -> None:
    with Fluoride.local() as fl:
        assert fl.emulator is not None
        # [environment]
        lab = fl.environment("lab")
        lab.create(EnvironmentSpec(scheme="internet-facing", max_albs=2))
        # [/environment]

        # [services]
        for name in ("api", "web", "jobs"):
            svc = fl.service(name)
            svc.create(ServiceSpec(gateway="lab"))  # toml: gateway = "lab"
            fl.emulator.push_image(svc.outputs()["RepositoryName"], "v1")
            svc.deploy("v1")
            print(name, svc.url)
        print(lab.status())
        # [/services]

        # [internal]
        # Internal, with no networks: only the callers its services name get in.
        inner = fl.environment("inner")
        inner.create(EnvironmentSpec(scheme="internal", ingress_cidrs=[]))
        fl.service("worker").create(ServiceSpec(gateway="inner"))
        reports = fl.service("reports")
        reports.create(ServiceSpec(gateway="inner",
                                   network=Network(allowed_callers=["worker"])))
        print("reports admits:", ", ".join(reports.spec().network.allowed_callers))
        for svc in inner.services():
            svc.delete(purge_data=True)
        inner.delete()
        # [/internal]

        # [delete]
        try:
            lab.delete()
        except EnvironmentInUse as exc:
            print("refused:", ", ".join(exc.services))
        for svc in lab.services():
            svc.delete(purge_data=True)
        lab.delete()
        print("environment exists:", lab.exists())
        # [/delete]

        print(compare_ingress(10, region=fl.region))


if __name__ == "__main__":
    main()
