"""``fluoride demo``: the tour of the product on the embedded emulator."""

from __future__ import annotations

from rich.console import Console

from fluoride.client import Fluoride
from fluoride.render import RichReporter, table
from fluoride.spec import ServiceSpec

__all__ = ["run_demo"]


def run_demo(name: str = "hello", *, console: Console | None = None) -> None:
    """Create a service on a fresh emulator, show its status, and delete it."""
    console = console or Console(stderr=True)
    reporter = RichReporter(console)
    with Fluoride.local(reporter=reporter) as fl:
        console.rule(f"Fluoride demo on the embedded emulator ({fl.endpoint_url})")
        svc = fl.service(name)
        console.print(f"[bold]1. Create[/] the service {name!r}")
        svc.create(ServiceSpec(port=8080, health_path="/health"))
        status = svc.status()
        console.print(table(
            f"2. Status of {name}", ["field", "value"],
            [("state", status.state.value), ("stack", status.stack_status),
             ("tasks running/desired", f"{status.running}/{status.desired}"),
             ("url", status.url), ("table", status.outputs.get("TableName")),
             ("bucket", status.outputs.get("BucketName")),
             ("secret", status.outputs.get("SecretArn")),
             ("repository", status.outputs.get("RepositoryUri"))],
        ))
        console.print("[bold]3. Delete[/] the service (its data is kept)")
        result = svc.delete()
        console.print(f"kept: {dict(result.kept)}")
        console.rule("done")
