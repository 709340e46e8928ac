"""The cost of ingress: a load balancer per service against one environment's gateway
(pure arithmetic, by table), and a gateway service's own estimate."""

from __future__ import annotations

import pytest

from fluoride.cost import HOURS_PER_MONTH, ROUTES_PER_ALB, compare_ingress, estimate_cost
from fluoride.errors import FluorideError
from fluoride.infra.prices import PRICES
from fluoride.spec import ServiceSpec

ALB_HOUR = PRICES.regions["us-east-1"].alb_hour


@pytest.mark.parametrize(("services", "albs"), [
    (1, 1), (2, 1), (10, 1), (100, 1), (101, 2), (250, 3), (1000, 10),
])
def test_compare_ingress(services: int, albs: int) -> None:
    c = compare_ingress(services, region="us-east-1")
    month = HOURS_PER_MONTH * ALB_HOUR
    assert c.gateway_albs == albs
    assert c.own_albs == pytest.approx(services * month, abs=0.01)
    assert c.gateway == pytest.approx(albs * month, abs=0.01)
    assert c.own_per_service == pytest.approx(month, abs=0.01)
    assert c.gateway_per_service == pytest.approx(albs * month / services, abs=0.01)
    assert c.gateway <= c.own_albs
    text = str(c)
    assert text.startswith(f"{services} service")
    assert f"own ALBs ${c.own_albs:,.2f}/month, one gateway ${c.gateway:,.2f}/month" in text
    assert c.to_json()["gateway_albs"] == albs


def test_ten_services_in_words() -> None:
    text = str(compare_ingress(10, region="us-east-1"))
    assert text.startswith("10 services: own ALBs $164.25/month, one gateway $16.43/month")


@pytest.mark.parametrize(("services", "max_albs"), [(0, 10), (-1, 10), (True, 10), (5, 0),
                                                     (10 * ROUTES_PER_ALB + 1, 10), (201, 2)])
def test_compare_ingress_refuses(services: int, max_albs: int) -> None:
    with pytest.raises(FluorideError):
        compare_ingress(services, region="us-east-1", max_albs=max_albs)


def test_a_gateway_services_estimate_leaves_the_load_balancer_out() -> None:
    own = estimate_cost(ServiceSpec(), region="us-east-1")
    behind = estimate_cost(ServiceSpec(gateway="lab"), region="us-east-1")
    (line,) = [x for x in behind.lines if x.item == "Load balancer hours"]
    assert not line.in_total
    assert "environment lab" in line.basis
    assert own.total - behind.total == pytest.approx(HOURS_PER_MONTH * ALB_HOUR, abs=0.02)
