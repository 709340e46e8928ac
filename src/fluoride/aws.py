"""The one seam to AWS: sessions, clients, retries and the endpoint.

Only this module creates boto3 sessions and clients. Every other layer receives an
:class:`Aws` and asks it for clients, so tests inject a session (or the emulator's).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Literal, overload

import attrs
import boto3
import botocore.config
import botocore.exceptions

from fluoride.errors import AwsError, CredentialsError

if TYPE_CHECKING:
    from mypy_boto3_acm import ACMClient
    from mypy_boto3_application_autoscaling import ApplicationAutoScalingClient
    from mypy_boto3_cloudformation import CloudFormationClient
    from mypy_boto3_cloudwatch import CloudWatchClient
    from mypy_boto3_dynamodb import DynamoDBClient, DynamoDBServiceResource
    from mypy_boto3_ec2 import EC2Client
    from mypy_boto3_ecr import ECRClient
    from mypy_boto3_ecs import ECSClient
    from mypy_boto3_elbv2 import ElasticLoadBalancingv2Client
    from mypy_boto3_logs import CloudWatchLogsClient
    from mypy_boto3_route53 import Route53Client
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_secretsmanager import SecretsManagerClient
    from mypy_boto3_sts import STSClient

    from fluoride.ratelimit import RateBudget

__all__ = ["Aws", "client_error_code", "translate"]

#: Standard retry mode backs off on throttling; adaptive adds client-side rate limiting.
DEFAULT_CONFIG = botocore.config.Config(
    retries={"mode": "adaptive", "max_attempts": 8},
    connect_timeout=10,
    read_timeout=60,
    user_agent_extra="fluoride",
)


_SESSION_LOCK = threading.Lock()


def client_error_code(error: BaseException) -> str | None:
    """The AWS error code of a botocore ``ClientError``, or ``None`` for anything else."""
    if isinstance(error, botocore.exceptions.ClientError):
        code = error.response.get("Error", {}).get("Code")
        return str(code) if code is not None else None
    return None


@attrs.define
class Aws:
    """A boto3 session, an optional endpoint override and a cache of clients.

    Attributes:
        session: the boto3 session every client comes from.
        endpoint_url: sent to every client (the emulator's address), or ``None`` for AWS.
        config: botocore ``Config`` for every client.
        budget: the calls-per-second budget every client's calls share (a ``before-call``
            hook on each client), or ``None`` for no client-side limit.
    """

    session: boto3.Session
    endpoint_url: str | None = None
    config: botocore.config.Config = DEFAULT_CONFIG
    budget: RateBudget | None = None
    _clients: dict[str, Any] = attrs.field(factory=dict, init=False, repr=False)
    _account: str | None = attrs.field(default=None, init=False, repr=False)
    #: boto3 clients are thread-safe once made; sessions are not, and several ``Aws`` may
    #: share one session, so every client and resource is made under one process-wide lock.
    _lock: threading.Lock = attrs.field(default=_SESSION_LOCK, init=False, repr=False)

    @classmethod
    def from_options(
        cls,
        *,
        session: boto3.Session | None = None,
        profile: str | None = None,
        region: str | None = None,
        endpoint_url: str | None = None,
        config: botocore.config.Config | None = None,
        budget: RateBudget | None = None,
    ) -> Aws:
        """Build from the usual options; an explicit ``session`` wins over ``profile``."""
        if session is None:
            try:
                session = boto3.Session(profile_name=profile, region_name=region)
            except botocore.exceptions.ProfileNotFound as exc:
                raise CredentialsError(
                    f"The AWS profile {profile!r} does not exist.",
                    hint="Check ~/.aws/config, or pass another profile.",
                ) from exc
        elif region is not None and session.region_name != region:
            raise CredentialsError(
                f"The session is for region {session.region_name!r} but region={region!r} "
                "was also given.",
                hint="Pass either a session or a region, not both.",
            )
        return cls(
            session=session,
            endpoint_url=endpoint_url,
            config=DEFAULT_CONFIG if config is None else DEFAULT_CONFIG.merge(config),
            budget=budget,
        )

    @property
    def region(self) -> str:
        """The region every client uses; a clear error when none is configured."""
        region = self.session.region_name
        if not region:
            raise CredentialsError(
                "No AWS region is configured.",
                hint="Pass region=..., use --region, or set AWS_REGION / AWS_DEFAULT_REGION.",
            )
        return region

    def check_credentials(self) -> None:
        """Raise :class:`CredentialsError` when the session has no credentials at all."""
        if self.session.get_credentials() is None:
            raise CredentialsError(
                "No AWS credentials were found.",
                hint="Run `aws configure` or `aws sso login`, pass profile=..., "
                "or try Fluoride without AWS: Fluoride.local() / `fluoride --local`.",
            )

    # Overloads give callers the precise mypy-boto3 client types.
    @overload
    def client(self, name: Literal["acm"]) -> ACMClient: ...
    @overload
    def client(self, name: Literal["application-autoscaling"]) -> ApplicationAutoScalingClient: ...
    @overload
    def client(self, name: Literal["cloudformation"]) -> CloudFormationClient: ...
    @overload
    def client(self, name: Literal["cloudwatch"]) -> CloudWatchClient: ...
    @overload
    def client(self, name: Literal["dynamodb"]) -> DynamoDBClient: ...
    @overload
    def client(self, name: Literal["ec2"]) -> EC2Client: ...
    @overload
    def client(self, name: Literal["ecr"]) -> ECRClient: ...
    @overload
    def client(self, name: Literal["ecs"]) -> ECSClient: ...
    @overload
    def client(self, name: Literal["elbv2"]) -> ElasticLoadBalancingv2Client: ...
    @overload
    def client(self, name: Literal["logs"]) -> CloudWatchLogsClient: ...
    @overload
    def client(self, name: Literal["route53"]) -> Route53Client: ...
    @overload
    def client(self, name: Literal["s3"]) -> S3Client: ...
    @overload
    def client(self, name: Literal["secretsmanager"]) -> SecretsManagerClient: ...
    @overload
    def client(self, name: Literal["sts"]) -> STSClient: ...
    def client(self, name: str) -> Any:
        """A cached client for ``name`` on this session, region and endpoint."""
        with self._lock:
            found = self._clients.get(name)
            if found is None:
                self.check_credentials()
                found = self.session.client(
                    name,  # type: ignore[call-overload]  # name is checked by the overloads
                    region_name=self.region,
                    endpoint_url=self.endpoint_url,
                    config=self.config,
                )
                self._limit(found)
                self._clients[name] = found
            return found

    def pricing_client(self) -> Any:
        """The AWS Price List API client; it answers in us-east-1 only (for any region)."""
        # No mypy-boto3 stubs are installed for "pricing"; fluoride.infra.price_list reads
        # its answers as plain JSON.
        self.check_credentials()
        return self.session.client(
            "pricing", region_name="us-east-1", endpoint_url=self.endpoint_url,
            config=self.config,
        )

    def dynamodb_resource(self) -> DynamoDBServiceResource:
        """The DynamoDB service resource (for the Table handle's conveniences)."""
        self.check_credentials()
        with self._lock:
            resource = self.session.resource(
                "dynamodb", region_name=self.region, endpoint_url=self.endpoint_url,
                config=self.config,
            )
        self._limit(resource.meta.client)
        return resource

    def _limit(self, client: Any) -> None:
        """Make ``client``'s calls take their tokens from the shared budget: the one
        :attr:`budget` names when the call is made (a fleet across accounts and regions
        gives every client of one account and region one budget, after they were made)."""
        client.meta.events.register("before-call", self._before_call)

    def _before_call(self, **kwargs: Any) -> None:
        budget = self.budget
        if budget is not None:
            budget.before_call(**kwargs)

    def account_id(self) -> str:
        """The AWS account the calls act in (one GetCallerIdentity call, then remembered)."""
        if self._account is None:
            with translate("GetCallerIdentity", "sts"):
                self._account = self.client("sts").get_caller_identity()["Account"]
        return self._account

    def caller_arn(self) -> str:
        """The ARN of the identity making the calls (recorded in release history)."""
        with translate("GetCallerIdentity", "sts"):
            return self.client("sts").get_caller_identity()["Arn"]


@contextmanager
def translate(operation: str, resource: str | None = None) -> Iterator[None]:
    """Turn botocore failures that no layer handles into :class:`AwsError` / credentials errors.

    Layers catch the codes they understand first; this is the last resort, keyed on codes.
    """
    try:
        yield
    except botocore.exceptions.NoCredentialsError as exc:
        raise CredentialsError(
            "No AWS credentials were found.",
            hint="Run `aws configure` or `aws sso login`, or pass profile=...",
        ) from exc
    except botocore.exceptions.NoRegionError as exc:
        raise CredentialsError(
            "No AWS region is configured.",
            hint="Pass region=..., use --region, or set AWS_REGION.",
        ) from exc
    except botocore.exceptions.ClientError as exc:
        code = client_error_code(exc) or "Unknown"
        if code in {
            "ExpiredToken",
            "ExpiredTokenException",
            "InvalidClientTokenId",
            "UnrecognizedClientException",
            "AuthFailure",
        }:
            raise CredentialsError(
                f"AWS refused the credentials ({code}) during {operation}.",
                hint="Refresh them (for SSO: `aws sso login`).",
            ) from exc
        if code in {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation"}:
            raise AwsError(
                f"Access denied to {operation}" + (f" on {resource}" if resource else "") + ".",
                operation=operation,
                resource=resource,
                code=code,
                hint="Your identity needs permission for this call; ask your AWS administrator.",
            ) from exc
        msg = exc.response.get("Error", {}).get("Message", "")
        raise AwsError(
            f"{operation} failed with {code}"
            + (f" on {resource}" if resource else "")
            + (f": {msg}" if msg else "."),
            operation=operation,
            resource=resource,
            code=code,
        ) from exc
    except (
        botocore.exceptions.EndpointConnectionError,
        botocore.exceptions.ConnectionClosedError,
        botocore.exceptions.ReadTimeoutError,
    ) as exc:
        raise AwsError(
            f"Could not reach AWS during {operation}: {exc}",
            operation=operation,
            resource=resource,
            hint="Check your network (or the --endpoint-url) and try again.",
        ) from exc
