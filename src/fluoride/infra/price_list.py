"""Current prices from the AWS Price List API (``fluoride cost --refresh-prices``):
`refresh_prices` reads one region's prices into a `PriceTable` dated today.

Each price is found by its service, the region and the end of its usage type (usage
types carry a region prefix such as ``EUC1-``). A price the API does not return keeps the
shipped table's figure, and the table's ``sources`` name which ones were refreshed.

.. versionadded:: 0.2.0
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, Final

import attrs

from fluoride.aws import translate
from fluoride.errors import FluorideError
from fluoride.infra.prices import PRICES, PriceTable

if TYPE_CHECKING:
    from fluoride.aws import Aws

__all__ = ["USAGE_TYPES", "refresh_prices"]

_BYTE_HOURS_PER_GB_MONTH: Final = 1.0
"""Storage prices are quoted per GB-month even when the usage type says ByteHrs."""

USAGE_TYPES: Final[Mapping[str, tuple[str, str, float]]] = {
    # field: (service code, usage type without its region prefix, factor to our unit)
    "fargate_vcpu_hour": ("AmazonECS", "Fargate-vCPU-Hours:perCPU", 1.0),
    "fargate_gb_hour": ("AmazonECS", "Fargate-GB-Hours", 1.0),
    "alb_hour": ("AWSELB", "LoadBalancerUsage", 1.0),
    "alb_lcu_hour": ("AWSELB", "LCUUsage", 1.0),
    "logs_ingest_gb": ("AmazonCloudWatch", "DataProcessing-Bytes", 1.0),
    "logs_store_gb_month": ("AmazonCloudWatch", "TimedStorage-ByteHrs", 1.0),
    "metric_month": ("AmazonCloudWatch", "CW:MetricMonitorUsage", 1.0),
    "ddb_write_million": ("AmazonDynamoDB", "WriteRequestUnits", 1e6),
    "ddb_read_million": ("AmazonDynamoDB", "ReadRequestUnits", 1e6),
    "ddb_storage_gb_month": ("AmazonDynamoDB", "TimedStorage-ByteHrs",
                             _BYTE_HOURS_PER_GB_MONTH),
    "ddb_pitr_gb_month": ("AmazonDynamoDB", "TimedPITRStorage-ByteHrs",
                          _BYTE_HOURS_PER_GB_MONTH),
    "s3_gb_month": ("AmazonS3", "TimedStorage-ByteHrs", _BYTE_HOURS_PER_GB_MONTH),
    "secret_month": ("AWSSecretsManager", "AWSSecretsManager-Secrets", 1.0),
    "kms_key_month": ("awskms", "KMS-Keys", 1.0),
    "endpoint_az_hour": ("AmazonVPC", "VpcEndpoint-Hours", 1.0),
}
"""How each `RegionPrices` field is found in the Price List API."""


def _matches(usage_type: str, wanted: str) -> bool:
    return usage_type == wanted or usage_type.endswith("-" + wanted)


def _first_tier_usd(product: Mapping[str, Any]) -> float | None:
    """The on-demand USD price of a product's first tier (the one starting at 0)."""
    for term in product.get("terms", {}).get("OnDemand", {}).values():
        dimensions = list(term.get("priceDimensions", {}).values())
        dimensions.sort(key=lambda d: float(d.get("beginRange") or 0))
        for dimension in dimensions:
            usd = dimension.get("pricePerUnit", {}).get("USD")
            if usd is not None and float(usd) > 0:
                return float(usd)
    return None


def find_price(products: Iterable[Mapping[str, Any]], usage_type: str) -> float | None:
    """The first-tier USD price of the product whose usage type ends with ``usage_type``."""
    for product in products:
        found = product.get("product", {}).get("attributes", {}).get("usagetype", "")
        if _matches(found, usage_type):
            price = _first_tier_usd(product)
            if price is not None:
                return price
    return None


def _products(client: Any, service_code: str, region: str) -> Iterable[Mapping[str, Any]]:
    paginator = client.get_paginator("get_products")
    pages = paginator.paginate(
        ServiceCode=service_code,
        Filters=[{"Type": "TERM_MATCH", "Field": "regionCode", "Value": region}],
        FormatVersion="aws_v1",
    )
    for page in pages:
        for text in page.get("PriceList", []):
            yield json.loads(text)


def refresh_prices(
    aws: Aws, region: str, *, today: Callable[[], dt.date] = dt.date.today
) -> PriceTable:
    """A price table for ``region`` read now from the AWS Price List API.

    Prices the API does not return keep the shipped table's figures; ``sources`` says
    which fields were refreshed.

    Raises:
        CredentialsError: there are no AWS credentials.
        AwsError: the Price List API refused (it needs ``pricing:GetProducts``).
        FluorideError: a region the shipped table does not cover, for which the API
            lacks some price.

    .. versionadded:: 0.2.0
    """
    client = aws.pricing_client()
    found: dict[str, float] = {}
    by_service: dict[str, list[tuple[str, str, float]]] = {}
    for field, (service, usage, factor) in USAGE_TYPES.items():
        by_service.setdefault(service, []).append((field, usage, factor))
    for service, fields in by_service.items():
        with translate("GetProducts", f"pricing:{service}"):
            products = list(_products(client, service, region))
        for field, usage, factor in fields:
            price = find_price(products, usage)
            if price is not None:
                found[field] = price * factor
    base = PRICES.regions.get(region)
    if base is None:
        missing = sorted(set(USAGE_TYPES) - set(found))
        if missing:
            raise FluorideError(
                f"The AWS Price List API has no price for {', '.join(missing)} in "
                f"{region!r}, and the shipped table does not cover that region.",
                hint=f"The table covers {', '.join(sorted(PRICES.regions))}.",
            )
        base = PRICES.regions["us-east-1"]  # only its fixed-price fields remain
    refreshed = attrs.evolve(base, **found)
    kept = sorted(set(USAGE_TYPES) - set(found))
    sources = [f"AWS Price List API on {today().isoformat()}: {', '.join(sorted(found))}"]
    if kept:
        sources.append(f"table of {PRICES.as_of.isoformat()}: {', '.join(kept)}")
    return PriceTable(as_of=today(), sources=tuple(sources), regions={region: refreshed})
