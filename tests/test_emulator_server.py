"""The emulator's own API: starting and stopping, the endpoint, fake images, simulated time."""

from __future__ import annotations

import socket
import sys
import urllib.request
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from fluoride.errors import EmulatorError, ImageTagExists
from fluoride.local import Emulator, Timing, start_emulator


def _client(emulator: Emulator, service: str) -> Any:
    return boto3.client(service,  # type: ignore[call-overload]  # any service; stubs overload literals
                        endpoint_url=emulator.endpoint_url, region_name=emulator.region,
                        aws_access_key_id="testing", aws_secret_access_key="testing")


@pytest.fixture(scope="module")
def emulator() -> Iterator[Emulator]:
    with start_emulator() as emu:
        yield emu


def test_it_listens_on_a_free_loopback_port(emulator: Emulator) -> None:
    assert emulator.endpoint_url == f"http://127.0.0.1:{emulator.port}"
    assert emulator.port > 0
    assert emulator.region == "us-east-1"
    sts = _client(emulator, "sts")
    assert sts.get_caller_identity()["Account"] == emulator.account_id


def test_the_environment_points_other_tools_here(emulator: Emulator) -> None:
    env = emulator.environment()
    assert env["AWS_ENDPOINT_URL"] == emulator.endpoint_url
    assert env["AWS_ACCESS_KEY_ID"] == env["AWS_SECRET_ACCESS_KEY"] == "testing"
    assert env["AWS_DEFAULT_REGION"] == env["AWS_REGION"] == "us-east-1"


def test_pushed_images_get_their_own_digests_and_tags_move(emulator: Emulator) -> None:
    ecr = _client(emulator, "ecr")
    ecr.create_repository(repositoryName="fluoride/pushing")
    first = emulator.push_image("fluoride/pushing", "v1")
    second = emulator.push_image("fluoride/pushing", "v1")
    uri = f"{emulator.account_id}.dkr.ecr.us-east-1.amazonaws.com/fluoride/pushing"
    third = emulator.push_image(uri, "v2")
    assert len({first, second, third}) == 3
    assert all(d.startswith("sha256:") and len(d) == 71 for d in (first, second, third))
    described = ecr.describe_images(repositoryName="fluoride/pushing",
                                    imageIds=[{"imageTag": "v1"}])["imageDetails"]
    assert described[0]["imageDigest"] == second  # the tag moved to the newest push
    manifest = ecr.batch_get_image(repositoryName="fluoride/pushing",
                                   imageIds=[{"imageDigest": first}])["images"][0]
    assert manifest["imageManifestMediaType"] == \
        "application/vnd.docker.distribution.manifest.v2+json"


def test_an_immutable_tag_pushed_again_is_a_clear_error(emulator: Emulator) -> None:
    ecr = _client(emulator, "ecr")
    ecr.create_repository(repositoryName="fluoride/frozen", imageTagMutability="IMMUTABLE")
    first = emulator.push_image("fluoride/frozen", "v1")
    with pytest.raises(ImageTagExists, match="'v1' already exists in fluoride/frozen") as raised:
        emulator.push_image("fluoride/frozen", "v1")
    assert (raised.value.tag, raised.value.digest) == ("v1", first)
    assert "new tag" in (raised.value.hint or "")
    described = ecr.describe_images(repositoryName="fluoride/frozen")["imageDetails"]
    assert [d["imageDigest"] for d in described] == [first]  # nothing else was stored


def test_pushing_to_a_missing_repository_says_what_to_do(emulator: Emulator) -> None:
    with pytest.raises(EmulatorError, match="no repository 'fluoride/nowhere'") as raised:
        emulator.push_image("fluoride/nowhere", "v1")
    assert raised.value.hint is not None


def test_a_taken_port_is_a_clear_error(emulator: Emulator) -> None:
    with pytest.raises(EmulatorError, match=f"127.0.0.1:{emulator.port}"):
        start_emulator(port=emulator.port)


def test_a_second_emulator_shares_the_account_and_the_first_starts_empty() -> None:
    with start_emulator() as first:
        _client(first, "sqs").create_queue(QueueName="shared")
        with start_emulator() as second:
            assert second.port != first.port
            assert _client(second, "sqs").list_queues()["QueueUrls"]
    # The module's emulator is still running, so even this one does not reset.
    with start_emulator() as third:
        assert _client(third, "sqs").list_queues().get("QueueUrls")


def test_moto_reset_also_resets_the_simulation(emulator: Emulator) -> None:
    from fluoride.local._world import WORLD

    WORLD.state["probe"] = True
    request = urllib.request.Request(f"{emulator.endpoint_url}/moto-api/reset", method="POST")
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200
    assert "probe" not in WORLD.state


def test_stop_is_idempotent_and_frees_the_port() -> None:
    emu = start_emulator()
    port = emu.port
    emu.stop()
    emu.stop()
    assert "stopped" in repr(emu)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))


def test_without_moto_the_emulator_explains_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "fluoride.local._server", None)
    with pytest.raises(EmulatorError, match="moto") as raised:
        start_emulator()
    assert raised.value.hint == "pip install 'fluoride[local]'"


def test_timing_rejects_negative_durations() -> None:
    with pytest.raises(ValueError, match="drain"):
        Timing(drain=-1)


def test_held_time_stands_still_until_advanced(emulator: Emulator) -> None:
    from fluoride.local._world import WORLD

    seen: list[float] = []
    with emulator.hold_rollouts() as hold:
        start = WORLD.now()
        WORLD.schedule(0.5, seen.append)
        with emulator.hold_rollouts():  # holds nest
            WORLD.advance()
        assert seen == []
        hold.advance(0.5)
        assert seen == [pytest.approx(start + 0.5)]
        assert WORLD.now() == pytest.approx(start + 0.5)
    assert WORLD.now() >= start + 0.5
