"""The monthly estimate: its arithmetic against figures computed by hand, its rendering,
the CLI command and the Price List refresh (Stubber, no AWS)."""

from __future__ import annotations

import datetime as dt
import json

import attrs
import boto3
import pytest
from botocore.stub import Stubber
from click.testing import CliRunner

from fluoride.aws import Aws
from fluoride.cli import main
from fluoride.cost import CostEstimate, Usage, estimate_cost
from fluoride.errors import CredentialsError, FluorideError
from fluoride.infra.price_list import USAGE_TYPES, find_price, refresh_prices
from fluoride.infra.prices import PRICES, PRICES_AS_OF
from fluoride.spec import ServiceSpec, Stores

# Hand-computed, with the table of 2025-01-15 (730 h a month, cents rounded half up).
# Spec A: the default spec in us-east-1 with the default usage.
DEFAULT_US_EAST_1 = {
    "Fargate vCPU at min_count": 7.39,      # 1 x 0.25 x 730 x 0.04048 = 7.3876
    "Fargate memory at min_count": 1.62,    # 1 x 0.5 x 730 x 0.004445 = 1.622425
    "Fargate vCPU at max_count": 29.55,     # 4 x 0.25 x 730 x 0.04048 = 29.5504
    "Fargate memory at max_count": 6.49,    # 4 x 0.5 x 730 x 0.004445 = 6.4897
    "Load balancer hours": 16.43,           # 730 x 0.0225 = 16.425
    "Load balancer LCUs": 4.20,             # max(0.4, 0.72 GB/h) x 730 x 0.008
    "Load balancer access logs (S3)": 0.18,  # 10 x 2,628,000 x 100 B = 2.628 GB x 3 x 0.023
    "Container logs ingested": 2.50,        # 5 x 0.50
    "Container logs stored": 0.15,          # 5 x 30/30 x 0.03
    "Container Insights": 6.05,             # 20 x 0.30 + 0.1 x 0.50
    "CloudWatch alarms": 0.20,              # 2 x 0.10
    "DynamoDB writes": 0.63,                # 1 x 0.625
    "DynamoDB reads": 0.63,                 # 5 x 0.125
    "DynamoDB storage and point-in-time recovery": 0.45,  # 1 x (0.25 + 0.20)
    "S3 bucket storage": 0.23,              # 10 x 0.023
    "Secret": 0.40,
}

# Spec B: 1 vCPU / 2 GB, 2 to 6 tasks, no table or secret, in eu-central-1, busier.
SPEC_B = ServiceSpec(cpu=1024, memory=2048, min_count=2, max_count=6, log_retention_days=90,
                     access_log_retention_days=30,
                     stores=Stores(table=False, secret=False))
USAGE_B = Usage(requests_per_second=50, kb_per_request=4, log_gb_per_month=20, bucket_gb=100)
B_EU_CENTRAL_1 = {
    "Fargate vCPU at min_count": 67.98,     # 2 x 1 x 730 x 0.04656 = 67.9776
    "Fargate memory at min_count": 14.92,   # 2 x 2 x 730 x 0.00511 = 14.9212
    "Fargate vCPU at max_count": 203.93,    # 6 x 1 x 730 x 0.04656 = 203.9328
    "Fargate memory at max_count": 44.76,   # 6 x 2 x 730 x 0.00511 = 44.7636
    "Load balancer hours": 19.71,           # 730 x 0.027
    "Load balancer LCUs": 11.68,            # max(50/25 = 2, 0.72) x 730 x 0.008
    "Load balancer access logs (S3)": 0.32,  # 50 x 2,628,000 x 100 B = 13.14 GB x 0.0245
    "Container logs ingested": 12.60,       # 20 x 0.63
    "Container logs stored": 1.94,          # 20 x 90/30 = 60 GB x 0.0324 = 1.944
    "Container Insights": 6.13,             # 20 x 0.30 + 2 x 0.1 x 0.63 = 6.126
    "CloudWatch alarms": 0.20,              # 2 x 0.10
    "S3 bucket storage": 2.45,              # 100 x 0.0245
}


def _by_item(estimate: CostEstimate) -> dict[str, float]:
    return {line.item: line.monthly for line in estimate.lines}


@pytest.mark.parametrize(
    ("spec", "region", "usage", "lines", "total", "at_max"),
    [
        (ServiceSpec(), "us-east-1", None, DEFAULT_US_EAST_1, 41.06, 68.09),
        (SPEC_B, "eu-central-1", USAGE_B, B_EU_CENTRAL_1, 137.93, 303.72),
    ],
    ids=["default-us-east-1", "larger-eu-central-1"],
)
def test_the_estimate_matches_the_figures_computed_by_hand(
    spec: ServiceSpec, region: str, usage: Usage | None, lines: dict[str, float],
    total: float, at_max: float,
) -> None:
    estimate = estimate_cost(spec, region=region, usage=usage)
    assert _by_item(estimate) == lines
    assert estimate.total == total
    assert estimate.total_at_max_count == at_max
    assert estimate.currency == "USD"
    assert estimate.prices_as_of == PRICES_AS_OF


def test_the_max_count_lines_are_shown_but_not_counted() -> None:
    estimate = estimate_cost(ServiceSpec(min_count=1, max_count=1), region="us-east-1")
    assert estimate.total == estimate.total_at_max_count
    uncounted = [line.item for line in estimate.lines if not line.in_total]
    assert uncounted == ["Fargate vCPU at max_count", "Fargate memory at max_count"]


def test_every_line_states_its_basis_with_the_unit_price() -> None:
    estimate = estimate_cost(ServiceSpec(), region="us-east-1")
    for line in estimate.lines:
        assert " x " in line.basis, line
        assert "$" in line.basis, line
    assert "$0.04048" in _by_item_basis(estimate)["Fargate vCPU at min_count"]


def _by_item_basis(estimate: CostEstimate) -> dict[str, str]:
    return {line.item: line.basis for line in estimate.lines}


def test_the_table_covers_the_largest_regions_with_every_price_positive() -> None:
    assert len(PRICES.regions) >= 10
    for region, prices in PRICES.regions.items():
        for name, value in attrs.asdict(prices).items():
            assert value > 0, (region, name)


def test_notify_adds_the_email_deliveries_beyond_the_free_tier() -> None:
    emails = tuple(f"ops{i}@example.org" for i in range(4))
    line = _by_item(estimate_cost(ServiceSpec(notify=emails), region="us-east-1",
                                  usage=Usage(alarm_notifications=1000)))
    # 1,000 changes x 4 addresses = 4,000 emails; 3,000 billed x $2 per 100,000 = 0.06
    assert line["SNS alarm notifications"] == 0.06
    topics_only = ServiceSpec(notify=("arn:aws:sns:us-east-1:123456789012:pager",))
    assert _by_item(estimate_cost(topics_only, region="us-east-1"))[
        "SNS alarm notifications"] == 0.0
    assert "SNS alarm notifications" not in _by_item(estimate_cost(ServiceSpec(),
                                                                   region="us-east-1"))


def test_a_region_without_prices_is_a_clear_error() -> None:
    with pytest.raises(FluorideError, match=r"xx-east-1.*us-east-1") as caught:
        estimate_cost(ServiceSpec(), region="xx-east-1")
    assert "--refresh-prices" in (caught.value.hint or "")


def test_the_estimate_shows_in_one_line_and_as_html() -> None:
    estimate = estimate_cost(ServiceSpec(), region="us-east-1")
    assert repr(estimate) == ("CostEstimate(us-east-1: 41.06 USD/month, 68.09 at max_count; "
                              "prices as of 2025-01-15)")
    html = estimate._repr_html_()
    assert html.startswith("<table><caption>Monthly estimate in us-east-1: 41.06 USD")
    assert html.count("<tr>") == len(estimate.lines) + 1


def test_the_json_form_has_total_currency_region_date_and_lines() -> None:
    data = estimate_cost(ServiceSpec(), region="us-east-1").to_json()
    assert {"total", "currency", "region", "prices_as_of", "lines"} <= set(data)
    assert data["prices_as_of"] == "2025-01-15"
    assert all({"item", "monthly", "basis"} <= set(line) for line in data["lines"])


def test_cost_command_prints_the_estimate_as_json(tmp_path) -> None:  # type: ignore[no-untyped-def]
    config = tmp_path / "fluoride.toml"
    config.write_text("cpu = 1024\nmemory = 2048\nmin_count = 2\nmax_count = 6\n"
                      "log_retention_days = 90\naccess_log_retention_days = 30\n"
                      "[stores]\ntable = false\nsecret = false\n")
    result = CliRunner().invoke(
        main, ["--region", "eu-central-1", "cost", "--config", str(config), "--output", "json"],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["region"] == "eu-central-1"
    # The default usage, not USAGE_B: only the spec's own lines are compared.
    lines = {line["item"]: line["monthly"] for line in data["lines"]}
    assert lines["Fargate vCPU at min_count"] == 67.98
    assert "DynamoDB writes" not in lines
    assert "Secret" not in lines


def test_cost_command_table_and_unknown_region() -> None:
    result = CliRunner().invoke(main, ["--region", "us-east-1", "cost", "hello"])
    assert result.exit_code == 0, result.output
    assert "total 41.06 USD/month" in result.stdout
    result = CliRunner().invoke(main, ["--region", "xx-east-1", "cost"])
    assert result.exit_code == 1
    assert "No prices for region 'xx-east-1'" in result.output


# -- the Price List refresh --------------------------------------------------------------


def _product(usage_type: str, *tiers: tuple[str, str]) -> str:
    dimensions = {
        f"d{i}": {"beginRange": begin, "pricePerUnit": {"USD": usd}}
        for i, (begin, usd) in enumerate(tiers)
    }
    return json.dumps({
        "product": {"attributes": {"usagetype": usage_type}},
        "terms": {"OnDemand": {"t": {"priceDimensions": dimensions}}},
    })


@pytest.mark.parametrize(
    ("usage_type", "wanted", "expected"),
    [
        ("EUC1-Fargate-GB-Hours", "Fargate-GB-Hours", 0.1),
        ("Fargate-GB-Hours", "Fargate-GB-Hours", 0.1),  # us-east-1 usage types lack a prefix
        ("EUC1-SpotFargate-GB-Hours", "Fargate-GB-Hours", None),  # not the same usage type
    ],
)
def test_a_price_is_found_by_the_end_of_its_usage_type(
    usage_type: str, wanted: str, expected: float | None
) -> None:
    products = [json.loads(_product(usage_type, ("0", "0.1")))]
    assert find_price(products, wanted) == expected


def test_the_first_tier_is_the_price() -> None:
    product = json.loads(_product("EUC1-TimedStorage-ByteHrs", ("51200", "0.0235"),
                                  ("0", "0.0245")))
    assert find_price([product], "TimedStorage-ByteHrs") == 0.0245


def _aws(region: str = "eu-central-1") -> Aws:
    session = boto3.Session(aws_access_key_id="testing", aws_secret_access_key="testing",
                            region_name=region)
    return Aws.from_options(session=session)


def test_refresh_reads_the_prices_the_api_returns_and_keeps_the_rest(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    aws = _aws()
    client = boto3.Session(aws_access_key_id="testing", aws_secret_access_key="testing",
                           region_name="us-east-1").client("pricing")
    monkeypatch.setattr(Aws, "pricing_client", lambda self: client)
    services = dict.fromkeys(service for service, _, _ in USAGE_TYPES.values())
    with Stubber(client) as stub:
        for service in services:
            price_list = []
            if service == "AmazonECS":
                price_list = [_product("EUC1-Fargate-vCPU-Hours:perCPU", ("0", "0.05")),
                              _product("EUC1-Fargate-GB-Hours", ("0", "0.006"))]
            stub.add_response("get_products", {"PriceList": price_list}, {
                "ServiceCode": service,
                "Filters": [{"Type": "TERM_MATCH", "Field": "regionCode",
                             "Value": "eu-central-1"}],
                "FormatVersion": "aws_v1",
            })
        table = refresh_prices(aws, "eu-central-1", today=lambda: dt.date(2030, 1, 2))
    prices = table.regions["eu-central-1"]
    assert (prices.fargate_vcpu_hour, prices.fargate_gb_hour) == (0.05, 0.006)
    assert prices.alb_hour == PRICES.regions["eu-central-1"].alb_hour
    assert table.as_of == dt.date(2030, 1, 2)
    assert table.sources[0] == ("AWS Price List API on 2030-01-02: fargate_gb_hour, "
                                "fargate_vcpu_hour")
    assert table.sources[1].startswith("table of 2025-01-15: alb_hour, alb_lcu_hour")


def test_refresh_without_credentials_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
                 "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    aws = Aws.from_options(session=boto3.Session(region_name="us-east-1"))
    with pytest.raises(CredentialsError, match="No AWS credentials"):
        refresh_prices(aws, "us-east-1")


def test_strict_adds_its_key_and_nothing_else_changes() -> None:
    from fluoride.spec import Domain

    cert = "arn:aws:acm:us-east-1:123456789012:certificate/0a1b2c3d-1111-2222-3333-444455556666"
    standard = ServiceSpec(domain=Domain(certificate_arn=cert), log_retention_days=365)
    strict = attrs.evolve(standard, compliance="strict", user="1000")
    plain = {line.item: line.monthly for line in estimate_cost(standard, region="us-east-1").lines}
    lines = {line.item: line.monthly for line in estimate_cost(strict, region="us-east-1").lines}
    # 1 key-month ($1.00) + 100,000 requests at $0.03 per 10,000 = $1.30
    assert lines.pop("KMS key") == 1.30
    assert lines == plain


_SUBNETS = ("subnet-0123456789abcdef0", "subnet-0fedcba9876543210")


@pytest.mark.parametrize(
    ("region", "subnets", "strict", "per_endpoint", "data"),
    [
        # 2 zones x 730 h x $0.01 = $14.60 an endpoint; 10 GB x $0.01 = $0.10
        ("us-east-1", _SUBNETS, False, 14.60, 0.10),
        # strict adds kms: five endpoints at the same $14.60
        ("us-east-1", _SUBNETS, True, 14.60, 0.10),
        # 3 zones x 730 h x $0.012 = $26.28 an endpoint
        ("eu-central-1", (*_SUBNETS, "subnet-0aaaaaaaaaaaaaaaa"), False, 26.28, 0.10),
    ],
)
def test_endpoints_add_an_hourly_line_per_interface_endpoint_and_their_data(
    region: str, subnets: tuple[str, ...], strict: bool, per_endpoint: float, data: float
) -> None:
    from fluoride.spec import Domain, Network

    cert = f"arn:aws:acm:{region}:123456789012:certificate/0a1b2c3d-1111-2222-3333-444455556666"
    base = ServiceSpec(domain=Domain(certificate_arn=cert), log_retention_days=365,
                       network=Network(vpc_id="vpc-0123456789abcdef0", subnet_ids=subnets))
    if strict:
        base = attrs.evolve(base, compliance="strict", user="1000")
    with_endpoints = attrs.evolve(base, network=attrs.evolve(base.network, endpoints=True))
    plain = {line.item: line.monthly for line in estimate_cost(base, region=region).lines}
    lines = {line.item: line.monthly for line in estimate_cost(with_endpoints, region=region).lines}
    names = ["ecr.api", "ecr.dkr", "logs", "secretsmanager"] + (["kms"] if strict else [])
    for name in names:
        assert lines.pop(f"VPC endpoint {name}") == per_endpoint
    assert lines.pop("VPC endpoint data processed") == data
    assert lines.pop("VPC gateway endpoints (S3, DynamoDB)") == 0.0
    assert lines == plain
    total = estimate_cost(with_endpoints, region=region).total
    assert total == pytest.approx(estimate_cost(base, region=region).total
                                  + len(names) * per_endpoint + data)


def test_the_estimate_counts_the_endpoints_the_stack_makes() -> None:
    # cost.py keeps its own list (importing infra.network would load boto3 for `fluoride cost`)
    from fluoride import cost
    from fluoride.infra.network import INTERFACE_ENDPOINTS
    from fluoride.infra.policy_report import parse_template
    from fluoride.infra.template import load_template

    assert cost._ENDPOINTS == INTERFACE_ENDPOINTS
    made = {r["Properties"]["ServiceName"]["Fn::Sub"].rsplit("}.", 1)[-1]
            for r in parse_template(load_template())["Resources"].values()
            if r["Type"] == "AWS::EC2::VPCEndpoint"
            and r["Properties"]["VpcEndpointType"] == "Interface"}
    assert made == {*INTERFACE_ENDPOINTS, "kms"}
