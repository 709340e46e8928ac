"""The README's quick start, run against the embedded emulator (no AWS account needed)."""

from __future__ import annotations

from fluoride import Fluoride, ServiceSpec


def main() -> None:
    with Fluoride.local() as fl:  # or Fluoride(profile="lab", region="eu-west-1")
        svc = fl.service("hello")  # a handle: no AWS call yet
        svc.create(ServiceSpec(port=8080, health_path="/health"))
        fl.emulator.push_image("fluoride/hello", "v1")  # on AWS: svc.push("hello:v1")
        release = svc.deploy("v1")  # by digest; waits until healthy, or raises RolledBack
        print("serving", release.image, release.outcome.value)
        svc.table.put_item({"pk": "note#1", "text": "hi"})
        print(svc.table.get_item({"pk": "note#1"}))
        print(svc.status().state.value, [r.outcome.value for r in svc.history()])
        result = svc.delete()  # the table, bucket, secret and images are kept
        print("kept", sorted(result.kept))


if __name__ == "__main__":
    main()
