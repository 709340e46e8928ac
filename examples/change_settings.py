"""Change a running service in place: plan, update memory and an environment variable,
read the live spec back.

Runs as it is on the embedded emulator (no AWS account); on AWS, use ``Fluoride()``.
"""

from __future__ import annotations

import attrs

from fluoride import Fluoride, ServiceSpec


def main() -> None:
    with Fluoride.local() as fl:
        assert fl.emulator is not None
        svc = fl.service("notes")
        svc.create(ServiceSpec(memory=512, environment={"GREETING": "hello"}))
        fl.emulator.push_image(svc.outputs()["RepositoryName"], "v1")
        svc.deploy("v1")

        # [plan]
        spec = svc.spec()  # the live spec, read back from the stack
        new = attrs.evolve(spec, memory=1024, environment={"GREETING": "hi", "MODE": "fast"})
        plan = svc.plan(new)  # a change set, read and deleted: nothing changes
        print(plan)
        # [/plan]

        # [update]
        before = svc.status().image
        status = svc.update(new)  # the image stays; the new task definition rolls out
        print("image kept:", status.image == before)
        print("round trip:", svc.spec() == new)
        latest = svc.history()[0]
        print(latest.kind, latest.outcome.value, latest.change)
        # [/update]


if __name__ == "__main__":
    main()
