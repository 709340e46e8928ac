"""Fluoride's entry point: names, credentials and regions fail clearly before any call."""

from __future__ import annotations

import boto3
import pytest

from fluoride import ConfigError, CredentialsError, Fluoride
from fluoride.aws import Aws


def _session(**kw: str) -> boto3.Session:
    return boto3.Session(**kw)  # type: ignore[arg-type]


def test_service_handle_validates_name_without_aws() -> None:
    fl = Fluoride(session=_session(aws_access_key_id="a", aws_secret_access_key="b",
                                   region_name="eu-west-1"))
    fl.service("hello")  # fine, no call
    with pytest.raises(ConfigError, match="lowercase") as info:
        fl.service("Hello_World")
    assert info.value.hint is not None or info.value.errors


def test_missing_region_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE", "AWS_CONFIG_FILE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    fl = Fluoride(session=_session(aws_access_key_id="a", aws_secret_access_key="b"))
    with pytest.raises(CredentialsError, match="No AWS region"):
        fl.service("hello").exists()


def test_missing_credentials_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
                "AWS_PROFILE", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    fl = Fluoride(region="eu-west-1")
    with pytest.raises(CredentialsError, match="No AWS credentials"):
        fl.service("hello").exists()


def test_unknown_profile_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    with pytest.raises(CredentialsError, match="profile 'nope' does not exist"):
        Fluoride(profile="nope")


def test_session_and_conflicting_region_refused() -> None:
    with pytest.raises(CredentialsError, match="either a session or a region"):
        Fluoride(session=_session(region_name="eu-west-1"), region="us-east-1")


def test_clients_are_cached_and_use_endpoint() -> None:
    aws = Aws.from_options(session=_session(aws_access_key_id="a", aws_secret_access_key="b",
                                            region_name="eu-west-1"),
                           endpoint_url="http://127.0.0.1:1")
    assert aws.client("ecs") is aws.client("ecs")
    assert aws.client("ecs").meta.endpoint_url == "http://127.0.0.1:1"


def test_poll_interval_reaches_the_deployments_and_is_bounded_on_aws() -> None:
    from fluoride.releases.deployment import AWS_POLL_INTERVAL

    session = _session(aws_access_key_id="a", aws_secret_access_key="b", region_name="eu-west-1")
    assert Fluoride(session=session).service("x").deployments.poll_interval == AWS_POLL_INTERVAL
    fl = Fluoride(session=session, poll_interval=10)
    assert fl.service("x").deployments.poll_interval == 10
    with pytest.raises(ConfigError, match="throttling"):
        Fluoride(session=session, poll_interval=0.2)
    local = Fluoride(session=session, endpoint_url="http://127.0.0.1:5000", poll_interval=0.05)
    assert local.service("x").deployments.poll_interval == 0.05
