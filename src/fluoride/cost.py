"""What a service would cost a month, before it is created: `estimate_cost`, pure
arithmetic over a spec, a region's prices (`fluoride.infra.prices`) and stated `Usage`.

Every line carries its basis (quantities times unit prices), so the figure can be checked
by hand and redone with other volumes. It is an estimate of list prices: free tiers,
savings plans, data transfer out and taxes are left out.

>>> from fluoride.cost import estimate_cost
>>> from fluoride.spec import ServiceSpec
>>> estimate_cost(ServiceSpec(), region="us-east-1").currency
'USD'

.. versionadded:: 0.2.0
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from decimal import ROUND_HALF_UP, Decimal
from html import escape as html_escape
from typing import TYPE_CHECKING, Any, Final

import attrs

from fluoride.errors import FluorideError
from fluoride.infra.prices import PRICES, PriceTable, RegionPrices

if TYPE_CHECKING:
    from fluoride.spec import ServiceSpec

__all__ = [
    "HOURS_PER_MONTH",
    "ROUTES_PER_ALB",
    "CostEstimate",
    "CostLine",
    "IngressComparison",
    "Usage",
    "compare_ingress",
    "estimate_cost",
]

HOURS_PER_MONTH: Final = 730
"""Hours in the month the estimate assumes (AWS's own pricing examples use 730)."""

_SECONDS_PER_MONTH: Final = HOURS_PER_MONTH * 3600
_INSIGHTS_METRICS: Final = 20
"""Container Insights metrics one service adds (cluster, service and task-family level);
an estimate: AWS bills them as custom metrics."""
_INSIGHTS_GB_PER_TASK: Final = 0.1
"""Container Insights performance log events, GB per task-month (an estimate)."""
_ENDPOINTS: Final = ("ecr.api", "ecr.dkr", "logs", "secretsmanager")
"""The interface endpoints ``network.endpoints`` adds (and ``kms`` under strict); the S3
and DynamoDB gateway endpoints are free."""


@attrs.frozen(kw_only=True)
class Usage:
    """The volumes an estimate assumes; each line's basis repeats the ones it uses.

    Attributes:
        requests_per_second: Average requests the load balancer serves, each on a new
            connection (the LCU dimension that grows fastest for small APIs).
        kb_per_request: Request plus response bytes, in KB, through the load balancer.
        log_gb_per_month: Container log lines ingested, GB a month.
        table_writes_million: DynamoDB write request units, millions a month.
        table_reads_million: DynamoDB read request units, millions a month.
        table_gb: Data in the table, GB.
        bucket_gb: Data in the bucket, GB (all versions).
        access_log_bytes_per_request: Compressed bytes of load balancer access log per
            request, kept for the spec's ``access_log_retention_days``.
        alarm_notifications: Alarm state changes a month, each sent to every address.
        kms_requests: KMS requests a month under the strict profile.
        endpoint_gb_per_month: GB through the VPC endpoints a month (image pulls, logs).
    """

    requests_per_second: float = 10.0
    kb_per_request: float = 20.0
    log_gb_per_month: float = 5.0
    table_writes_million: float = 1.0
    table_reads_million: float = 5.0
    table_gb: float = 1.0
    bucket_gb: float = 10.0
    access_log_bytes_per_request: float = 100.0
    alarm_notifications: int = 50
    kms_requests: int = 100_000
    endpoint_gb_per_month: float = 10.0


@attrs.frozen
class CostLine:
    """One item of an estimate.

    Attributes:
        item: What is paid for.
        monthly: USD a month, rounded to the cent.
        basis: How ``monthly`` was computed: quantities times unit prices.
        in_total: Whether `CostEstimate.total` counts it (the ``max_count`` lines show
            the ceiling and are not counted).
    """

    item: str
    monthly: float
    basis: str
    in_total: bool = True


@attrs.frozen
class CostEstimate:
    """A monthly estimate for one service in one region.

    Attributes:
        region: The region priced.
        currency: Always ``"USD"``.
        prices_as_of: The date of the prices used.
        lines: Every item with its basis.
        sources: Where the prices come from.
    """

    region: str
    currency: str
    prices_as_of: dt.date
    lines: tuple[CostLine, ...]
    sources: tuple[str, ...] = ()

    @property
    def total(self) -> float:
        """USD a month at ``min_count`` tasks (the lines with ``in_total``)."""
        return _cents(sum(line.monthly for line in self.lines if line.in_total))

    @property
    def total_at_max_count(self) -> float:
        """USD a month with autoscaling at ``max_count`` all month."""
        fargate_min = sum(line.monthly for line in self.lines
                          if line.in_total and line.item.startswith("Fargate"))
        fargate_max = sum(line.monthly for line in self.lines
                          if not line.in_total and line.item.startswith("Fargate"))
        return _cents(self.total - fargate_min + fargate_max)

    def to_json(self) -> dict[str, Any]:
        """The estimate as JSON-ready data: total, currency, region, prices_as_of, lines."""
        return {
            "total": self.total,
            "total_at_max_count": self.total_at_max_count,
            "currency": self.currency,
            "region": self.region,
            "prices_as_of": self.prices_as_of.isoformat(),
            "lines": [
                {"item": line.item, "monthly": line.monthly, "basis": line.basis,
                 "in_total": line.in_total}
                for line in self.lines
            ],
        }

    def __repr__(self) -> str:
        return (f"CostEstimate({self.region}: {self.total:.2f} {self.currency}/month, "
                f"{self.total_at_max_count:.2f} at max_count; "
                f"prices as of {self.prices_as_of.isoformat()})")

    def _repr_html_(self) -> str:
        """A table for notebooks (Jupyter calls this to show the value)."""
        rows = "".join(
            f"<tr><td style='text-align:left'>{html_escape(line.item)}</td>"
            f"<td style='text-align:right'>{line.monthly:,.2f}"
            f"{'' if line.in_total else ' (not in total)'}</td>"
            f"<td style='text-align:left'>{html_escape(line.basis)}</td></tr>"
            for line in self.lines
        )
        caption = (f"Monthly estimate in {html_escape(self.region)}: "
                   f"{self.total:,.2f} {html_escape(self.currency)} "
                   f"({self.total_at_max_count:,.2f} at max_count); "
                   f"prices as of {self.prices_as_of.isoformat()}")
        return (f"<table><caption>{caption}</caption><tr><th>item</th><th>USD/month</th>"
                f"<th>basis</th></tr>{rows}</table>")


def _usd(value: float) -> str:
    """A unit price as written on the price pages: no trailing zeros, at least cents."""
    text = f"{value:.6f}".rstrip("0")
    whole, _, cents = text.partition(".")
    return f"${whole}.{cents.ljust(2, '0')}"


def _num(value: float) -> str:
    return f"{value:g}" if value < 1e6 else f"{value:,.0f}"


def _cents(value: float) -> float:
    """``value`` rounded to the cent, halves up, as a person rounds by hand."""
    return float(Decimal(repr(value)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def _line(item: str, monthly: float, basis: str, *, in_total: bool = True) -> CostLine:
    return CostLine(item, _cents(monthly), basis, in_total)


def region_prices(region: str, prices: PriceTable = PRICES) -> RegionPrices:
    """The prices of ``region``; a `FluorideError` naming the covered regions otherwise."""
    found = prices.regions.get(region)
    if found is None:
        raise FluorideError(
            f"No prices for region {region!r} in the table of {prices.as_of.isoformat()}; "
            f"it covers {', '.join(sorted(prices.regions))}.",
            hint="Use --refresh-prices to read them from the AWS Price List API, or "
                 "estimate with a covered region of similar prices.",
        )
    return found


def estimate_cost(
    spec: ServiceSpec,
    *,
    region: str,
    prices: PriceTable = PRICES,
    usage: Usage | None = None,
) -> CostEstimate:
    """The monthly cost of a service with ``spec`` in ``region``, line by line.

    Raises:
        FluorideError: ``region`` is not in ``prices``.

    .. versionadded:: 0.2.0
    """
    usage = usage or Usage()
    price = region_prices(region, prices)
    lines = list(_lines(spec, price, usage))
    return CostEstimate(region=region, currency="USD", prices_as_of=prices.as_of,
                        lines=tuple(lines), sources=prices.sources)


def _lines(spec: ServiceSpec, p: RegionPrices, u: Usage) -> Iterator[CostLine]:
    yield from _fargate(spec, p)
    if spec.gateway is None:
        yield _line("Load balancer hours", HOURS_PER_MONTH * p.alb_hour,
                    f"{HOURS_PER_MONTH} h x {_usd(p.alb_hour)}")
    else:
        yield _line("Load balancer hours", HOURS_PER_MONTH * p.alb_hour,
                    f"not in the total: environment {spec.gateway}'s gateway pays "
                    f"{HOURS_PER_MONTH} h x {_usd(p.alb_hour)} per shared load balancer, "
                    "shared by its services (compare_ingress shows the split)",
                    in_total=False)
    new_connections = u.requests_per_second / 25  # an LCU: 25 new connections a second
    gb_per_hour = u.requests_per_second * u.kb_per_request * 3600 / 1e6  # or 1 GB an hour
    lcus = max(new_connections, gb_per_hour)
    yield _line(
        "Load balancer LCUs", lcus * HOURS_PER_MONTH * p.alb_lcu_hour,
        f"{_num(u.requests_per_second)} requests/s, each a new connection, "
        f"{_num(u.kb_per_request)} KB each: {lcus:.3g} LCU (the larger of "
        f"{new_connections:.3g} for connections and {gb_per_hour:.3g} for GB/hour) "
        f"x {HOURS_PER_MONTH} h x {_usd(p.alb_lcu_hour)}",
    )
    access_gb = (u.requests_per_second * _SECONDS_PER_MONTH * u.access_log_bytes_per_request
                 / 1e9 * spec.access_log_retention_days / 30)
    yield _line(
        "Load balancer access logs (S3)", access_gb * p.s3_gb_month,
        f"{_num(u.access_log_bytes_per_request)} B/request compressed, kept "
        f"{spec.access_log_retention_days} days: {access_gb:.3g} GB x {_usd(p.s3_gb_month)}",
    )
    yield _line("Container logs ingested", u.log_gb_per_month * p.logs_ingest_gb,
                f"{_num(u.log_gb_per_month)} GB x {_usd(p.logs_ingest_gb)}")
    stored = u.log_gb_per_month * spec.log_retention_days / 30
    yield _line(
        "Container logs stored", stored * p.logs_store_gb_month,
        f"{_num(u.log_gb_per_month)} GB/month kept {spec.log_retention_days} days: "
        f"{stored:.3g} GB x {_usd(p.logs_store_gb_month)} (an upper bound: stored logs "
        "are compressed)",
    )
    insights_gb = spec.min_count * _INSIGHTS_GB_PER_TASK
    yield _line(
        "Container Insights",
        _INSIGHTS_METRICS * p.metric_month + insights_gb * p.logs_ingest_gb,
        f"about {_INSIGHTS_METRICS} metrics x {_usd(p.metric_month)} + {insights_gb:.3g} GB "
        f"of performance events ({_num(_INSIGHTS_GB_PER_TASK)} GB per task) x "
        f"{_usd(p.logs_ingest_gb)}",
    )
    alarms = 2 if spec.alarm_rollback else 1
    yield _line("CloudWatch alarms", alarms * p.alarm_month,
                f"{alarms} alarms (failed deployment{', 5xx responses' if alarms == 2 else ''})"
                f" x {_usd(p.alarm_month)}")
    if spec.stores.table:
        yield from _table(p, u)
    if spec.stores.bucket:
        yield _line("S3 bucket storage", u.bucket_gb * p.s3_gb_month,
                    f"{_num(u.bucket_gb)} GB x {_usd(p.s3_gb_month)}")
    if spec.stores.secret:
        yield _line("Secret", p.secret_month, f"1 secret x {_usd(p.secret_month)}")
    yield from _operations(spec, p, u)


def _fargate(spec: ServiceSpec, p: RegionPrices) -> Iterator[CostLine]:
    vcpu = spec.cpu / 1024
    gb = spec.memory / 1024
    for label, count, counted in (("min_count", spec.min_count, True),
                                  ("max_count", spec.max_count, False)):
        note = "" if counted else " (not in the total: the ceiling autoscaling may reach)"
        tasks = f"{count} task{'s' if count != 1 else ''}"
        yield _line(
            f"Fargate vCPU at {label}", count * vcpu * HOURS_PER_MONTH * p.fargate_vcpu_hour,
            f"{tasks} x {vcpu:g} vCPU x {HOURS_PER_MONTH} h x {_usd(p.fargate_vcpu_hour)}{note}",
            in_total=counted,
        )
        yield _line(
            f"Fargate memory at {label}", count * gb * HOURS_PER_MONTH * p.fargate_gb_hour,
            f"{tasks} x {gb:g} GB x {HOURS_PER_MONTH} h x {_usd(p.fargate_gb_hour)}{note}",
            in_total=counted,
        )


def _table(p: RegionPrices, u: Usage) -> Iterator[CostLine]:
    yield _line("DynamoDB writes", u.table_writes_million * p.ddb_write_million,
                f"{_num(u.table_writes_million)} million write units x "
                f"{_usd(p.ddb_write_million)} per million (on-demand)")
    yield _line("DynamoDB reads", u.table_reads_million * p.ddb_read_million,
                f"{_num(u.table_reads_million)} million read units x "
                f"{_usd(p.ddb_read_million)} per million (on-demand)")
    yield _line("DynamoDB storage and point-in-time recovery",
                u.table_gb * (p.ddb_storage_gb_month + p.ddb_pitr_gb_month),
                f"{_num(u.table_gb)} GB x ({_usd(p.ddb_storage_gb_month)} storage + "
                f"{_usd(p.ddb_pitr_gb_month)} continuous backups)")


def _operations(spec: ServiceSpec, p: RegionPrices, u: Usage) -> Iterator[CostLine]:
    """The compliance profile's key and endpoints, and the alarm notifications."""
    if _strict(spec):
        yield _line(
            "KMS key", p.kms_key_month + u.kms_requests / 10_000 * p.kms_10k_requests,
            f"1 key x {_usd(p.kms_key_month)} + {_num(u.kms_requests)} requests x "
            f"{_usd(p.kms_10k_requests)} per 10,000",
        )
    if _endpoints(spec):
        yield from _endpoint_lines(spec, p, u)
    emails = _emails(spec)
    if emails or _topics(spec):
        deliveries = u.alarm_notifications * len(emails)
        billed = max(0, deliveries - 1000)
        yield _line(
            "SNS alarm notifications", billed / 100_000 * p.sns_email_100k,
            f"{u.alarm_notifications} alarm changes x {len(emails)} addresses = "
            f"{deliveries} emails, the first 1,000 a month free, then "
            f"{_usd(p.sns_email_100k)} per 100,000; given topics bill their owner",
        )


def _endpoint_lines(spec: ServiceSpec, p: RegionPrices, u: Usage) -> Iterator[CostLine]:
    """One line per interface endpoint (an hour per zone: one network interface in each
    subnet's zone), the data they process, and the free gateway endpoints."""
    zones = len(spec.network.subnet_ids) or 2
    names = (*_ENDPOINTS, "kms") if _strict(spec) else _ENDPOINTS
    for name in names:
        yield _line(
            f"VPC endpoint {name}", zones * HOURS_PER_MONTH * p.endpoint_az_hour,
            f"{zones} zones x {HOURS_PER_MONTH} h x {_usd(p.endpoint_az_hour)} per "
            "endpoint-zone-hour (interface endpoint, private DNS)",
        )
    yield _line(
        "VPC endpoint data processed", u.endpoint_gb_per_month * p.endpoint_gb,
        f"{_num(u.endpoint_gb_per_month)} GB x {_usd(p.endpoint_gb)} per GB through the "
        "interface endpoints (logs, API calls; image layers come through S3's gateway)",
    )
    yield _line("VPC gateway endpoints (S3, DynamoDB)", 0.0,
                "2 gateway endpoints x $0.00 (no hourly or data charge)")


def _strict(spec: ServiceSpec) -> bool:
    return getattr(spec, "compliance", "standard") == "strict"


def _endpoints(spec: ServiceSpec) -> bool:
    return bool(getattr(spec.network, "endpoints", False))


def _emails(spec: ServiceSpec) -> Sequence[str]:
    return [n for n in spec.notify if not n.startswith("arn:")]


def _topics(spec: ServiceSpec) -> Sequence[str]:
    return [n for n in spec.notify if n.startswith("arn:")]


ROUTES_PER_ALB: Final = 100
"""Services one of a gateway's shared load balancers is assumed to carry: each route is a
host-header rule, and an ALB takes 100 rules by default (ELB's quota). How ECS spreads
routes over its shared load balancers is not published; this is the assumption."""


@attrs.frozen
class IngressComparison:
    """``services`` services with a load balancer each, against one gateway's shared ones.

    Only what differs is priced: load balancer hours (an ALB bills every hour it exists,
    busy or not). Traffic (LCUs), access logs and everything else cost the same either way
    and are left out.

    Attributes:
        services: How many services.
        region: The region priced.
        prices_as_of: The date of the prices.
        alb_month: One ALB's hours a month, USD.
        gateway_albs: The shared load balancers the gateway is assumed to run:
            ``ceil(services / ROUTES_PER_ALB)``.
        own_albs: USD a month with a load balancer per service.
        gateway: USD a month with one gateway.
    """

    services: int
    region: str
    prices_as_of: dt.date
    alb_month: float
    gateway_albs: int
    own_albs: float
    gateway: float

    @property
    def own_per_service(self) -> float:
        """The per-service floor with a load balancer each, USD a month."""
        return _cents(self.own_albs / self.services)

    @property
    def gateway_per_service(self) -> float:
        """The per-service floor behind the gateway, USD a month."""
        return _cents(self.gateway / self.services)

    def __str__(self) -> str:
        albs = f"{self.gateway_albs} shared ALB{'s' if self.gateway_albs != 1 else ''}"
        return (f"{self.services} service{'s' if self.services != 1 else ''}: own ALBs "
                f"${self.own_albs:,.2f}/month, one gateway ${self.gateway:,.2f}/month "
                f"({albs}; per service ${self.own_per_service:,.2f} vs "
                f"${self.gateway_per_service:,.2f}; load balancer hours only, "
                f"{self.region}, prices as of {self.prices_as_of.isoformat()})")

    def to_json(self) -> dict[str, Any]:
        return {"services": self.services, "region": self.region,
                "prices_as_of": self.prices_as_of.isoformat(), "alb_month": self.alb_month,
                "gateway_albs": self.gateway_albs, "own_albs": self.own_albs,
                "gateway": self.gateway, "own_per_service": self.own_per_service,
                "gateway_per_service": self.gateway_per_service}

    def _repr_html_(self) -> str:
        return f"<p>{html_escape(str(self))}</p>"


def compare_ingress(services: int, *, region: str, max_albs: int = 10,
                    prices: PriceTable = PRICES) -> IngressComparison:
    """What ``services`` services pay for load balancer hours a month with an ALB each,
    and behind one environment's gateway (`IngressComparison`); pure arithmetic.

    >>> from fluoride.cost import compare_ingress
    >>> c = compare_ingress(10, region="us-east-1")
    >>> (c.gateway_albs, c.own_albs > 9 * c.gateway)
    (1, True)

    Raises:
        FluorideError: ``services`` or ``max_albs`` below 1, more services than
            ``max_albs`` load balancers carry, or ``region`` not in ``prices``.

    .. versionadded:: 0.3.0
    """
    for name, value in (("services", services), ("max_albs", max_albs)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise FluorideError(f"{name} must be a whole number of 1 or more, got {value!r}.")
    p = region_prices(region, prices)
    alb_month = HOURS_PER_MONTH * p.alb_hour
    albs = -(-services // ROUTES_PER_ALB)
    if albs > max_albs:
        raise FluorideError(
            f"{services} services need {albs} shared load balancers at {ROUTES_PER_ALB} "
            f"routes each; a gateway with max_albs={max_albs} runs at most {max_albs}.",
            hint="Split them over several environments, or raise max_albs (AWS's default "
            "limit is 10).")
    return IngressComparison(services=services, region=region, prices_as_of=prices.as_of,
                             alb_month=_cents(alb_month), gateway_albs=albs,
                             own_albs=_cents(services * alb_month),
                             gateway=_cents(albs * alb_month))
