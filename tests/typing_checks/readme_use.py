"""The README's "Use" snippet, verbatim as this function's body: ``mypy --strict``
checks it (tests/ is in its ``files``) and tests/test_typing.py holds it equal to the
README, so the README's own snippet type-checks (``fl.emulator`` is an ``Emulator``).
"""

from __future__ import annotations

from fluoride import Fluoride, ServiceSpec


def readme_use() -> None:
    with Fluoride.local() as fl:            # or Fluoride(profile="lab", region="eu-west-1")
        svc = fl.service("hello")           # a handle: no AWS call yet
        svc.create(ServiceSpec(port=8080, health_path="/health"))
        fl.emulator.push_image("fluoride/hello", "v1")   # on AWS: svc.push("hello:v1")
        release = svc.deploy("v1")          # by digest; waits until healthy, or raises RolledBack
        svc.table.put_item({"pk": "note#1", "text": "hi"})
        print(svc.status(), svc.history())
        svc.delete()                        # the table, bucket, secret and images are kept
