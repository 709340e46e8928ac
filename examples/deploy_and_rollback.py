"""Deploy releases, watch a broken one roll back by itself, and roll back by hand.

Runs as it is on the embedded emulator (no AWS account). On AWS, use ``Fluoride()`` and
push real images with ``svc.push("shop:v1")`` (docker, podman or finch) instead of the
emulator's ``push_image``.
"""

from __future__ import annotations

from fluoride import Fluoride, Outcome, RolledBack, ServiceSpec


def main() -> None:
    with Fluoride.local() as fl:
        assert fl.emulator is not None
        svc = fl.service("shop")
        svc.create(ServiceSpec(port=8080, health_path="/health"))
        repo = svc.outputs()["RepositoryName"]

        # [deploy]
        fl.emulator.push_image(repo, "v1")  # on AWS: svc.push("shop:v1")
        release = svc.deploy("v1")  # waits until v1 serves: COMPLETED, healthy targets
        print(release.tag, release.outcome.value, release.digest is not None)
        # [/deploy]

        # [rolled-back]
        fl.emulator.push_image(repo, "v2", healthy=False)  # fails its health checks
        try:
            svc.deploy("v2")
        except RolledBack as exc:
            print("rolled back:", exc.reasons[0].split(" in ")[0])
            print("serving:", exc.serving.tag if exc.serving else None)
        # [/rolled-back]

        # [no-wait]
        fl.emulator.push_image(repo, "v3")
        started = svc.deploy("v3", wait=False)  # returns at once
        print(started.outcome.value)
        done = svc.wait_stable()  # follows it to the same outcomes as deploy()
        print(done.tag, done.outcome.value)
        # [/no-wait]

        # [rollback]
        back = svc.rollback()  # the last release that was stable before v3
        print("back to", back.tag)
        for r in svc.history():  # newest first, as every user of the service sees it
            print(r.tag, r.outcome.value, "(rollback)" if r.rollback else "")
        assert svc.status().release == back
        # [/rollback]

        assert [r.outcome for r in svc.history()][:2] == [Outcome.STABLE, Outcome.STABLE]
        svc.delete(purge_data=True)


if __name__ == "__main__":
    main()
