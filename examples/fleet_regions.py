"""One view of services in two accounts and two regions: ``Fleet([...])`` of two clients.

Runs as it is on two embedded emulators in this process (no AWS account): one plays the
account 123456789012 in us-east-1, the other 210987654321 in eu-west-1. On AWS, give the
fleet your own clients instead, e.g. ``Fleet([Fluoride(profile="prod", region="us-east-1"),
Fluoride(profile="eu", region="eu-west-1")])`` or ``Fleet([("prod", "us-east-1"), ...])``.
"""

from __future__ import annotations

from fluoride import Fleet, Fluoride, RolledBack, ServiceSpec


def main() -> None:
    def quiet(event: object) -> None:
        """Progress goes nowhere here (a notebook would show a live table)."""

    with Fluoride.local(reporter=quiet) as us, Fluoride.local(
        region="eu-west-1", account_id="210987654321", reporter=quiet
    ) as eu:
        for fl, names in ((us, ["api", "web"]), (eu, ["api", "jobs"])):
            assert fl.emulator is not None
            for name in names:
                svc = fl.service(name)
                svc.create(ServiceSpec(team="shop"))
                repo = svc.outputs()["RepositoryName"]
                fl.emulator.push_image(repo, "v1")
                # v2 of eu-west-1's api fails its health checks: it will roll back there
                # alone.
                fl.emulator.push_image(repo, "v2", healthy=not (fl is eu and name == "api"))

        # [fleet]
        fleet = Fleet([us, eu])  # clients, or (profile, region) pairs
        print(fleet.places())    # ['123456789012/us-east-1', '210987654321/eu-west-1']
        print(fleet.deploy_many(select="*", image="v1"))
        # [/fleet]

        # [deploy]
        # A key is a name (wherever it is), region/name, or account/region/name.
        result = fleet.deploy_many({"api": "v2", "us-east-1/web": "v2"})
        print(result)
        for key, error in result.failed.items():
            target = result.targets[key]
            if isinstance(error, RolledBack) and error.serving is not None:
                print(f"{target.name} in {target.region} ({target.account}) rolled back; "
                      f"{error.serving.tag} serves again")
        # [/deploy]

        # [status]
        for status in fleet.status(team="shop"):  # one table in a notebook
            print(status.account, status.region, status.name, status.state.value)
        # [/status]


if __name__ == "__main__":
    main()
