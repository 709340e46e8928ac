"""Hints fit where the user is: the SDK call in Python, the command in the CLI.

``how`` is pure given the surface: a table of both forms. The CLI sets the surface for
the whole command (tests/test_cli.py checks a command's hint); here an SDK error on the
emulator names the SDK call, and the surface reaches a fleet's worker threads.
"""

from __future__ import annotations

import pytest

from fluoride import Fluoride
from fluoride.errors import HINT_ACTIONS, ServiceNotFound, hint_surface, hints_for, how
from fluoride.fleet import run_many


@pytest.mark.parametrize(("action", "service", "sdk", "cli"), [
    ("logs", "hello", '`svc.logs(since="15m")`', "`fluoride logs hello --since 15m`"),
    ("status", "hello", "`svc.status()`", "`fluoride status hello`"),
    ("fleet_status", None, "`fl.status()`", "`fluoride status`"),
    ("list", None, "`fl.services()`", "`fluoride list`"),
    ("create", "hello", "`svc.create()`", "`fluoride create hello`"),
    ("deploy", "hello", "`svc.deploy(image)`", "`fluoride deploy hello IMAGE`"),
    ("deploy", None, "`svc.deploy(image)`", "`fluoride deploy NAME IMAGE`"),
    ("push", "web", "`svc.push(local_image)`", "`fluoride push web LOCAL_IMAGE`"),
    ("rollback", "hello", "`svc.rollback()`", "`fluoride rollback hello`"),
    ("wait", "hello", "`svc.wait_stable()`", "`fluoride status hello`"),
    ("update", "hello", "`svc.update(spec)`",
     "`fluoride update hello --config fluoride.toml`"),
    ("delete", "hello", "`svc.delete()`", "`fluoride delete hello`"),
    ("purge", "hello", "`svc.delete(purge_data=True)`",
     "`fluoride delete hello --purge-data`"),
])
def test_how_in_each_surface(action: str, service: str | None, sdk: str, cli: str) -> None:
    assert how(action, service, surface="sdk") == sdk
    assert how(action, service, surface="cli") == cli


def test_every_action_is_in_the_table() -> None:
    for action in HINT_ACTIONS:
        assert how(action, "x", surface="sdk").startswith(("`svc.", "`fl."))
        assert how(action, "x", surface="cli").startswith("`fluoride ")


def test_the_surface_is_sdk_unless_set_and_is_reset() -> None:
    assert hint_surface() == "sdk"
    with hints_for("cli"):
        assert hint_surface() == "cli"
        assert how("logs", "hello") == "`fluoride logs hello --since 15m`"
    assert hint_surface() == "sdk"
    assert how("logs", "hello") == '`svc.logs(since="15m")`'


def test_a_fleets_workers_see_the_surface() -> None:
    with hints_for("cli"):
        out = run_many({"a": lambda report: how("status", "a"),
                        "b": lambda report: hint_surface()}, max_parallel=2)
    assert out == {"a": "`fluoride status a`", "b": "cli"}


def test_an_sdk_error_names_the_sdk_call(fl: Fluoride) -> None:
    with pytest.raises(ServiceNotFound) as caught:
        fl.service("not-there").status()
    assert "`svc.create()`" in (caught.value.hint or "")
    assert "fluoride create" not in str(caught.value)
