"""Checked by ``mypy --strict`` (tests/ is in its ``files``), never run: the ways users
pass a progress callback must type-check. A regression here fails the mypy step.

``Reporter`` takes the event positionally, so a plain function with any parameter name,
a lambda, a bound method and a callable object all fit ``progress=`` and ``reporter=``.
"""

from __future__ import annotations

from fluoride import (
    Fluoride,
    LocalFluoride,
    Note,
    OperationFinished,
    ProgressEvent,
    Reporter,
)
from fluoride.events import describe

collected: list[ProgressEvent] = []


def on_event(event: ProgressEvent) -> None:
    """A plain function, its parameter named as the user likes."""
    if isinstance(event, OperationFinished) and not event.ok:
        print(f"{event.service}: {event.operation} failed: {event.summary}")
    elif isinstance(event, Note):
        print(event.service, event.text)


def post_to_chat(e: ProgressEvent) -> None:
    print(describe(e))


class Collector:
    def __init__(self) -> None:
        self.seen: list[ProgressEvent] = []

    def __call__(self, event: ProgressEvent) -> None:
        self.seen.append(event)


def clients() -> list[Fluoride]:
    reporter: Reporter = on_event
    return [
        Fluoride(progress=on_event),
        Fluoride(progress=post_to_chat),
        Fluoride(progress=lambda event: collected.append(event)),
        Fluoride(progress=lambda event: print(describe(event))),
        Fluoride(progress=collected.append),
        Fluoride(progress=Collector()),
        Fluoride(progress="rich"),
        Fluoride(progress="off"),
        Fluoride(reporter=on_event),
        Fluoride(reporter=lambda event: None),
        Fluoride(reporter=reporter),
    ]


def local_client() -> None:
    fl: LocalFluoride = Fluoride.local(progress="log")
    fl.emulator.push_image("fluoride/hello", "v1")  # Emulator, not Emulator | None
    with Fluoride.local(progress=collected.append) as local:
        local.emulator.push_image("fluoride/hello", "v1")
    with Fluoride(region="eu-west-1") as aws:
        assert aws.emulator is None  # a plain client: no emulator
