"""Share a service with a colleague: two clients of one account see one service.

Fluoride keeps no state on your machine: the spec, the release history and the data live
in the service's stack and stores, so anyone with credentials for the same account and
region gets the same service from ``fl.service(name)``. Here the colleague is a second
client of the same embedded emulator (no AWS account needed); on AWS each of you uses
``Fluoride(profile=..., region=...)`` with your own credentials.
"""

from __future__ import annotations

import boto3

from fluoride import Fluoride, ServiceSpec


def main() -> None:
    with Fluoride.local() as mine:
        assert mine.emulator is not None
        svc = mine.service("shared")
        svc.create(ServiceSpec(memory=1024))
        mine.emulator.push_image(svc.outputs()["RepositoryName"], "v1")
        svc.deploy("v1")
        svc.table.put_item({"pk": "result#1", "value": 42})

        # [colleague]
        session = boto3.Session(aws_access_key_id="testing", aws_secret_access_key="testing",
                                region_name=mine.region)  # on AWS: their own profile
        theirs = Fluoride(session=session, endpoint_url=mine.endpoint_url)
        same = theirs.service("shared")  # no setup: the name is enough
        serving = same.status().release
        print("serving:", serving.tag if serving else None)
        print("memory:", same.spec().memory)
        print("history:", [r.tag for r in same.history()])
        print("their read:", same.table.get_item({"pk": "result#1"}))
        # [/colleague]

        svc.delete(purge_data=True)


if __name__ == "__main__":
    main()
