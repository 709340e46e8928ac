"""Deploy a new release to a small fleet at once; one service's broken image rolls back
alone, and the others go ahead.

Runs as it is on the embedded emulator (no AWS account). On AWS, use ``Fluoride()`` and
push real images with ``svc.push(...)`` instead of the emulator's ``push_image``.
"""

from __future__ import annotations

from fluoride import Fluoride, RolledBack, ServiceSpec
from fluoride.fleet import FleetFailed


def main() -> None:
    with Fluoride.local(reporter=lambda event: None) as fl:
        assert fl.emulator is not None
        names = ["shop-api", "shop-cart", "shop-web", "billing"]
        for name in names:
            team = "billing" if name == "billing" else "shop"
            svc = fl.service(name)
            svc.create(ServiceSpec(team=team, project="store"))
            repo = svc.outputs()["RepositoryName"]
            fl.emulator.push_image(repo, "v1")
            # v2 of shop-cart fails its health checks: its deployment will roll back.
            fl.emulator.push_image(repo, "v2", healthy=name != "shop-cart")

        # [deploy-many]
        # By selection (names, globs, team= / project= tags) with one image for all,
        # or as {name: image, ...}; at most max_parallel deploy at once.
        result = fl.deploy_many(select="*", image="v1", max_parallel=4)
        print(result)
        # [/deploy-many]

        # [partial-failure]
        result = fl.deploy_many(dict.fromkeys(names, "v2"))
        print(result)  # <FleetResult deploy: 3 succeeded, 1 failed (shop-cart: rolled back)>
        for name, error in result.failed.items():
            if isinstance(error, RolledBack):
                serving = error.serving.tag if error.serving else None
                print(f"{name} rolled back; {serving} serves again")
        try:
            result.raise_for_failures()
        except FleetFailed as exc:
            print("failed:", sorted(exc.failures))
        # [/partial-failure]

        # [status]
        for status in fl.status(team="shop"):  # a StatusList: a table in a notebook
            print(status.name, status.state.value, status.image)
        # [/status]


if __name__ == "__main__":
    main()
