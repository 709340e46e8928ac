"""The dated price table that `fluoride.cost` multiplies: on-demand USD list prices for
the thirteen largest commercial regions.

These figures were transcribed by hand from the AWS public pricing pages below, as they
read on the date in `PRICES_AS_OF`. They are not fetched when Fluoride runs and they
will drift: ``fluoride cost --refresh-prices`` (`fluoride.infra.price_list`) reads the
current ones through the AWS Price List API when credentials allow. Free tiers are left
out (they are per account, not per service), except where a line says so.

Sources (read for the table, not by the code):

- https://aws.amazon.com/fargate/pricing/ (Linux/x86 on-demand vCPU-hour, GB-hour)
- https://aws.amazon.com/elasticloadbalancing/pricing/ (ALB hour, LCU-hour)
- https://aws.amazon.com/cloudwatch/pricing/ (logs ingested / stored, custom metrics)
- https://aws.amazon.com/dynamodb/pricing/on-demand/ (write / read request units after
  the November 2024 price cut, storage, continuous backups)
- https://aws.amazon.com/s3/pricing/ (S3 Standard, first 50 TB)
- https://aws.amazon.com/secrets-manager/pricing/ (secret-month)
- https://aws.amazon.com/kms/pricing/ (customer-managed key-month, requests)
- https://aws.amazon.com/privatelink/pricing/ (interface endpoint hour per AZ, GB)
- https://aws.amazon.com/sns/pricing/ (email deliveries)

.. versionadded:: 0.2.0
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Final

import attrs

__all__ = ["PRICES", "PRICES_AS_OF", "PRICE_SOURCES", "PriceTable", "RegionPrices"]

PRICES_AS_OF: Final = dt.date(2025, 1, 15)
"""The date the table was transcribed from the public price pages."""

PRICE_SOURCES: Final = (
    "https://aws.amazon.com/fargate/pricing/",
    "https://aws.amazon.com/elasticloadbalancing/pricing/",
    "https://aws.amazon.com/cloudwatch/pricing/",
    "https://aws.amazon.com/dynamodb/pricing/on-demand/",
    "https://aws.amazon.com/s3/pricing/",
    "https://aws.amazon.com/secrets-manager/pricing/",
    "https://aws.amazon.com/kms/pricing/",
    "https://aws.amazon.com/privatelink/pricing/",
    "https://aws.amazon.com/sns/pricing/",
)


@attrs.frozen(kw_only=True)
class RegionPrices:
    """On-demand USD prices in one region.

    Attributes:
        fargate_vcpu_hour: Fargate Linux/x86, per vCPU-hour.
        fargate_gb_hour: Fargate Linux/x86, per GB of memory per hour.
        alb_hour: Application Load Balancer, per hour.
        alb_lcu_hour: Application Load Balancer, per LCU-hour.
        logs_ingest_gb: CloudWatch Logs, per GB ingested (standard class).
        logs_store_gb_month: CloudWatch Logs, per GB-month archived.
        metric_month: CloudWatch custom metric, per metric-month (first 10,000).
        alarm_month: CloudWatch standard-resolution alarm, per alarm-month.
        ddb_write_million: DynamoDB on-demand, per million write request units.
        ddb_read_million: DynamoDB on-demand, per million read request units.
        ddb_storage_gb_month: DynamoDB standard table class storage, per GB-month.
        ddb_pitr_gb_month: DynamoDB continuous backups (point-in-time recovery), per GB-month.
        s3_gb_month: S3 Standard storage, per GB-month (first 50 TB).
        secret_month: Secrets Manager, per secret-month.
        kms_key_month: KMS customer-managed key, per key-month.
        kms_10k_requests: KMS, per 10,000 requests.
        endpoint_az_hour: VPC interface endpoint, per endpoint per availability zone-hour.
        endpoint_gb: VPC interface endpoint, per GB processed (first PB).
        sns_email_100k: SNS email deliveries, per 100,000 (after the first 1,000 a month).
    """

    fargate_vcpu_hour: float
    fargate_gb_hour: float
    alb_hour: float
    alb_lcu_hour: float
    logs_ingest_gb: float
    logs_store_gb_month: float
    metric_month: float
    alarm_month: float = 0.10
    ddb_write_million: float
    ddb_read_million: float
    ddb_storage_gb_month: float
    ddb_pitr_gb_month: float
    s3_gb_month: float
    secret_month: float = 0.40
    kms_key_month: float = 1.00
    kms_10k_requests: float = 0.03
    endpoint_az_hour: float
    endpoint_gb: float = 0.01
    sns_email_100k: float = 2.00


@attrs.frozen(kw_only=True)
class PriceTable:
    """Prices by region, with the date they were read and where from.

    Attributes:
        as_of: The date the prices were read.
        sources: Where they were read (pages, or the Price List API).
        regions: Region name -> its prices.
    """

    as_of: dt.date
    sources: tuple[str, ...]
    regions: Mapping[str, RegionPrices]


def _region(
    fargate: tuple[float, float],
    alb: tuple[float, float],
    logs: tuple[float, float],
    ddb: tuple[float, float, float, float],
    s3: float,
    endpoint: float,
    metric: float = 0.30,
) -> RegionPrices:
    return RegionPrices(
        fargate_vcpu_hour=fargate[0], fargate_gb_hour=fargate[1],
        alb_hour=alb[0], alb_lcu_hour=alb[1],
        logs_ingest_gb=logs[0], logs_store_gb_month=logs[1], metric_month=metric,
        ddb_write_million=ddb[0], ddb_read_million=ddb[1],
        ddb_storage_gb_month=ddb[2], ddb_pitr_gb_month=ddb[3],
        s3_gb_month=s3, endpoint_az_hour=endpoint,
    )


# Columns: Fargate (vCPU-h, GB-h), ALB (hour, LCU-h), Logs (GB in, GB-month stored),
# DynamoDB (M writes, M reads, GB-month, PITR GB-month), S3 GB-month, endpoint AZ-hour.
PRICES: Final = PriceTable(
    as_of=PRICES_AS_OF,
    sources=PRICE_SOURCES,
    regions={
        "us-east-1": _region((0.04048, 0.004445), (0.0225, 0.008), (0.50, 0.03),
                             (0.625, 0.125, 0.25, 0.20), 0.023, 0.01),
        "us-east-2": _region((0.04048, 0.004445), (0.0225, 0.008), (0.50, 0.03),
                             (0.625, 0.125, 0.25, 0.20), 0.023, 0.01),
        "us-west-1": _region((0.04656, 0.00511), (0.0252, 0.008), (0.50, 0.03),
                             (0.6975, 0.1395, 0.28, 0.224), 0.026, 0.011),
        "us-west-2": _region((0.04048, 0.004445), (0.0225, 0.008), (0.50, 0.03),
                             (0.625, 0.125, 0.25, 0.20), 0.023, 0.01),
        "ca-central-1": _region((0.04456, 0.004865), (0.02475, 0.008), (0.55, 0.033),
                                (0.6875, 0.1375, 0.275, 0.22), 0.025, 0.011),
        "eu-west-1": _region((0.04048, 0.004445), (0.0252, 0.008), (0.57, 0.03),
                             (0.705, 0.141, 0.283, 0.2264), 0.023, 0.011),
        "eu-west-2": _region((0.04656, 0.00511), (0.02646, 0.0084), (0.57, 0.0315),
                             (0.7375, 0.1475, 0.29, 0.232), 0.024, 0.011),
        "eu-central-1": _region((0.04656, 0.00511), (0.027, 0.008), (0.63, 0.0324),
                                (0.7625, 0.1525, 0.306, 0.2448), 0.0245, 0.012),
        "ap-south-1": _region((0.04256, 0.00467), (0.0239, 0.008), (0.50, 0.033),
                              (0.711, 0.142, 0.285, 0.228), 0.025, 0.01),
        "ap-northeast-1": _region((0.05056, 0.00553), (0.0243, 0.008), (0.76, 0.033),
                                  (0.7125, 0.1425, 0.285, 0.228), 0.025, 0.014),
        "ap-southeast-1": _region((0.05056, 0.00553), (0.0252, 0.008), (0.70, 0.03),
                                  (0.7125, 0.1425, 0.285, 0.228), 0.025, 0.013),
        "ap-southeast-2": _region((0.04856, 0.00532), (0.0252, 0.008), (0.70, 0.03),
                                  (0.7125, 0.1425, 0.285, 0.228), 0.025, 0.013),
        "sa-east-1": _region((0.0696, 0.0076), (0.034, 0.011), (0.90, 0.0408),
                             (0.9375, 0.1875, 0.375, 0.30), 0.0405, 0.017, metric=0.40),
    },
)
"""The shipped table (`PRICES_AS_OF`)."""
