"""``fluoride demo``: the tour of the product on the embedded emulator, in well under a minute.

Create a service, push and deploy v1, deploy a broken v2 that rolls back by itself (with
the reason), deploy v3, roll back to v1, show the history, delete.
"""

from __future__ import annotations

import time

from rich.console import Console

from fluoride.cli.render import RichReporter, releases_table, table
from fluoride.client import Fluoride
from fluoride.errors import RolledBack
from fluoride.events import ProgressEvent, ServiceEventSeen, StackEventSeen
from fluoride.service import Service
from fluoride.spec import ServiceSpec

__all__ = ["run_demo"]


class _DemoReporter(RichReporter):
    """The CLI's reporter without the per-resource stack events (dozens on a create)."""

    def __call__(self, event: ProgressEvent) -> None:
        if isinstance(event, StackEventSeen) and event.logical_id != event.stack:
            return
        if isinstance(event, ServiceEventSeen) and "target" in event.message:
            return  # target (de)registrations: the progress lines show target health
        super().__call__(event)


def run_demo(name: str = "hello", *, console: Console | None = None) -> None:
    """The tour on a fresh emulator; prints to ``console`` (default: standard error)."""
    console = console or Console(stderr=True)
    started = time.monotonic()
    with Fluoride.local(reporter=_DemoReporter(console)) as fl:
        emulator = fl.emulator
        console.rule(f"Fluoride demo on the embedded emulator ({fl.endpoint_url})")
        svc: Service = fl.service(name)

        console.print(f"\n[bold]1. Create[/] the service {name!r}: load balancer, autoscaling "
                      "Fargate service, table, bucket, secret, image repository")
        svc.create(ServiceSpec(port=8080, health_path="/health"))
        repo = svc.outputs()["RepositoryName"]

        console.print("\n[bold]2. Push v1 and deploy it[/] (the emulator's registry takes "
                      "images without docker; on AWS: `fluoride push hello myapp:v1`)")
        emulator.push_image(repo, "v1")
        v1 = svc.deploy("v1")
        console.print(f"[green]v1 serves:[/] {v1.short}  [dim]{v1.image}[/]", highlight=False)

        console.print("\n[bold]3. Deploy a broken v2[/]: its health checks fail")
        emulator.push_image(repo, "v2", healthy=False)
        try:
            svc.deploy("v2")
        except RolledBack as exc:
            console.print(f"[red]RolledBack:[/] {exc.message}", highlight=False)
            for reason in exc.reasons[:3]:
                console.print(f"  stopped task: {reason}", highlight=False)
        else:  # pragma: no cover - the emulator always fails an unhealthy image
            raise AssertionError("the broken v2 was reported as a success")

        console.print("\n[bold]4. Deploy v3[/]")
        emulator.push_image(repo, "v3")
        v3 = svc.deploy("v3")
        console.print(f"[green]v3 serves:[/] {v3.short}")

        console.print("\n[bold]5. Roll back[/] to the last stable release before v3 "
                      "(v2 never was stable)")
        back = svc.rollback()
        console.print(f"[green]{back.tag} serves again:[/] {back.short}")

        console.print()
        console.print(releases_table(f"6. History of {name} (kept in AWS: every user sees it)",
                                svc.history()))
        status = svc.status()
        console.print(table(
            f"Status of {name}", ["field", "value"],
            [("state", status.state.value), ("stack", status.stack_status),
             ("tasks running/desired", f"{status.running}/{status.desired}"),
             ("serving", status.release.short if status.release else "(nothing)"),
             ("url", status.url), ("table", status.outputs.get("TableName")),
             ("bucket", status.outputs.get("BucketName")),
             ("repository", status.outputs.get("RepositoryUri"))],
        ))

        console.print("\n[bold]7. Delete[/] the service (its data is kept unless "
                      "purge_data=True)")
        svc.delete()
        console.rule(f"done in {time.monotonic() - started:.0f} s")
