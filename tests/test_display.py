"""What each public value shows: a one-line repr of at most 120 characters and escaped HTML.

The pure helpers of ``fluoride._display`` by tables; every public value by one table
(built offline, with a ``<script>`` in the text a user or AWS controls); the lazy
previews of logs and scans (iteration unchanged, showing bounded); and the live objects
of one emulator (a client, a created service, deploys, a caught error).
"""

from __future__ import annotations

import datetime as dt
import doctest
import inspect
import re
import runpy
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

import fluoride
from fluoride import (
    ConfigError,
    DeploymentInProgress,
    FieldError,
    Fluoride,
    FluorideError,
    LogLine,
    LogLines,
    LogStream,
    Outcome,
    Release,
    ReleaseList,
    RolledBack,
    ServiceSpec,
    ServiceStatus,
    StackFailed,
)
from fluoride._display import (
    MAX_REPR,
    Html,
    Preview,
    compact,
    console_url,
    dict_table,
    escape,
    html_fields,
    html_link,
    html_list,
    html_table,
    one_line,
    truncate,
)
from fluoride.aws import Aws
from fluoride.cost import estimate_cost
from fluoride.errors import PushFailed, StoresRetained
from fluoride.fleet import FleetFailed, FleetResult, StatusList
from fluoride.infra.plan import Plan, ResourceChange, SettingChange, StoreRisk
from fluoride.infra.prices import PRICES
from fluoride.infra.stack import StackState
from fluoride.service import DeleteResult
from fluoride.spec import Network, Stores
from fluoride.stores.data import Bucket, Items, Objects, ObjectSummary, Secret, Table

SCRIPT = "<script>alert(1)</script>"
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"
T0 = dt.datetime(2026, 12, 1, 2, 30, tzinfo=dt.timezone.utc)
DIGEST = "sha256:" + "ab" * 32


# -- the pure helpers ----------------------------------------------------------------------


@pytest.mark.parametrize(("value", "expected"), [
    ("plain", "plain"),
    (SCRIPT, ESCAPED),
    ("a & b", "a &amp; b"),
    ("it's \"quoted\"", "it&#x27;s &quot;quoted&quot;"),
    (42, "42"),
])
def test_escape(value: object, expected: str) -> None:
    assert escape(value) == expected


@pytest.mark.parametrize(("text", "limit", "expected"), [
    ("short", 10, "short"),
    ("exactly10!", 10, "exactly10!"),
    ("eleven char", 10, "eleven ch…"),
    ("two\nlines\there", 40, "two lines here"),
    ("  padded  ", 40, "padded"),
    ("abc", 1, "…"),
    ("word    word", 6, "word…"),  # the space before the cut goes
])
def test_truncate(text: str, limit: int, expected: str) -> None:
    assert truncate(text, limit) == expected
    assert len(truncate(text, limit)) <= limit


def test_truncate_needs_room() -> None:
    with pytest.raises(ValueError, match="limit=0"):
        truncate("x", 0)


@pytest.mark.parametrize(("kind", "text", "limit", "expected"), [
    ("Release", "v2 stable", 120, "<Release v2 stable>"),
    ("Empty", "", 120, "<Empty>"),
    ("X", "a" * 200, 20, "<X " + "a" * 15 + "…>"),
    ("Y", "line one\nline two", 120, "<Y line one line two>"),
])
def test_compact(kind: str, text: str, limit: int, expected: str) -> None:
    assert compact(kind, text, limit=limit) == expected
    assert len(expected) <= limit


def test_the_examples_in_the_helpers_docstrings() -> None:
    import fluoride._display

    result = doctest.testmod(fluoride._display)
    assert result.attempted >= 2
    assert result.failed == 0


def test_one_line() -> None:
    assert one_line(" a\n\n b\r\nc ") == "a b c"


@pytest.mark.parametrize(("url", "text", "expected"), [
    ("https://example.com/a?b=1&c=2", None,
     "<a href='https://example.com/a?b=1&amp;c=2' target='_blank' rel='noopener'>"
     "https://example.com/a?b=1&amp;c=2</a>"),
    ("http://x", "open <it>", "<a href='http://x' target='_blank' rel='noopener'>"
                              "open &lt;it&gt;</a>"),
    ("javascript:alert(1)", None, "javascript:alert(1)"),  # never a link
    ("https://x/'onmouseover='alert(1)", "x",
     "<a href='https://x/&#x27;onmouseover=&#x27;alert(1)' target='_blank' "
     "rel='noopener'>x</a>"),
    (None, "nothing", "nothing"),
    ("", None, ""),
])
def test_html_link(url: str | None, text: str | None, expected: str) -> None:
    assert html_link(url, text) == expected


@pytest.mark.parametrize(("kind", "region", "name", "arn", "on_aws", "expected"), [
    ("table", "eu-west-1", "fluoride-hello", "arn:aws:dynamodb:eu-west-1:1:table/x", True,
     "https://eu-west-1.console.aws.amazon.com/dynamodbv2/home?region=eu-west-1"
     "#table?name=fluoride-hello"),
    ("bucket", "us-east-1", "b-1", None, True,
     "https://s3.console.aws.amazon.com/s3/buckets/b-1?region=us-east-1"),
    ("secret", "us-east-1", "fluoride/hello", None, True,
     "https://us-east-1.console.aws.amazon.com/secretsmanager/secret"
     "?name=fluoride%2Fhello&region=us-east-1"),
    ("stack", "us-east-1", "fluoride-a", None, True,
     "https://us-east-1.console.aws.amazon.com/cloudformation/home?region=us-east-1"
     "#/stacks?filteringText=fluoride-a"),
    ("table", "us-east-1", "t", None, False, None),  # the emulator has no console
    ("table", "cn-north-1", "t", "arn:aws-cn:dynamodb:cn-north-1:1:table/t", True, None),
    ("table", "us-gov-west-1", "t", None, True, None),
    ("queue", "us-east-1", "q", None, True, None),
    ("table", "", "t", None, True, None),
])
def test_console_url(kind: str, region: str, name: str, arn: str | None, on_aws: bool,
                     expected: str | None) -> None:
    assert console_url(kind, region=region, name=name, arn=arn, on_aws=on_aws) == expected


def test_html_table_escapes_every_part_and_cuts_long_cells() -> None:
    out = html_table((SCRIPT,), [(SCRIPT,), ("x" * 300,), (Html("<b>kept</b>"),), (None,)],
                     caption=SCRIPT, footer=SCRIPT, cell_limit=50)
    assert "<script>" not in out
    assert out.count(ESCAPED) == 4  # header, cell, caption, footer
    assert "x" * 49 + "…" in out
    assert "x" * 50 not in out
    assert "<b>kept</b>" in out
    assert "<tfoot>" in out


def test_html_fields_leaves_out_none_and_escapes() -> None:
    out = html_fields([("a", SCRIPT), ("gone", None), ("<k>", 3)], caption=SCRIPT)
    assert "gone" not in out
    assert ESCAPED in out
    assert "&lt;k&gt;" in out
    assert "<script>" not in out


def test_html_list() -> None:
    assert html_list([]) == ""
    assert html_list([SCRIPT]) == f"<ul><li>{ESCAPED}</li></ul>"


@pytest.mark.parametrize(("items", "max_columns", "columns", "rows"), [
    ([], 8, [], []),
    ([{"pk": "a", "n": 1}, {"pk": "b", "extra": True}], 8,
     ["pk", "n", "extra"], [["a", 1, ""], ["b", "", True]]),
    ([{"a": 1, "b": 2, "c": 3}], 2, ["a", "b", "…"], [[1, 2, "c=3"]]),
])
def test_dict_table(items: list[dict[str, Any]], max_columns: int, columns: list[str],
                    rows: list[list[object]]) -> None:
    assert dict_table(items, max_columns=max_columns) == (columns, rows)


# -- the lazy preview ----------------------------------------------------------------------


class Counting:
    """A source that counts how many items were taken from it."""

    def __init__(self, count: int, fail_at: int | None = None) -> None:
        self.taken = 0
        self.count = count
        self.fail_at = fail_at

    def __iter__(self) -> Iterator[int]:
        return self

    def __next__(self) -> int:
        if self.fail_at is not None and self.taken == self.fail_at:
            self.taken += 1
            raise FluorideError("the page could not be read")
        if self.taken >= self.count:
            raise StopIteration
        self.taken += 1
        return self.taken


def test_preview_fetches_nothing_until_used_and_iterates_as_before() -> None:
    source = Counting(25)
    preview = Preview(source, title="numbers", limit=3)
    assert source.taken == 0
    assert next(preview) == 1  # an iterator: next() works
    assert iter(preview) is preview
    assert list(preview) == list(range(2, 26))


@pytest.mark.parametrize(("count", "limit", "taken", "said"), [
    (25, 3, 4, "first 3 items shown; iterate for the rest"),
    (3, 3, 3, "3 items (all shown)"),
    (1, 3, 1, "1 item (all shown)"),
    (0, 3, 0, "0 items"),
])
def test_showing_a_preview_fetches_at_most_one_more_than_it_shows(
    count: int, limit: int, taken: int, said: str
) -> None:
    source = Counting(count)
    preview = Preview(source, title="numbers", limit=limit)
    text = repr(preview)
    html = preview._repr_html_()
    assert source.taken == taken  # shown twice, fetched once
    assert text == f"<Preview numbers: {said}>"
    assert said in html
    assert list(preview) == list(range(1, count + 1))  # nothing lost, nothing twice


def test_head_peeks_without_consuming() -> None:
    preview = Preview(Counting(5), title="n")
    assert preview.head(2) == [1, 2]
    assert preview.head(3) == [1, 2, 3]
    assert list(preview) == [1, 2, 3, 4, 5]


def test_a_failure_is_shown_then_raised_where_it_happened() -> None:
    preview = Preview(Counting(10, fail_at=2), title="n", limit=5)
    assert "2 items, then: FluorideError: the page could not be read" in repr(preview)
    assert next(preview) == 1
    assert next(preview) == 2
    with pytest.raises(FluorideError, match="could not be read"):
        next(preview)
    assert list(preview) == []  # a generator that raised is finished too

    again = Preview(Counting(10, fail_at=2), title="n")
    assert again.head(2) == [1, 2]
    with pytest.raises(FluorideError):
        again.head(3)  # more were asked for than were read before the failure


def test_a_preview_that_may_wait_forever_fetches_nothing_when_shown() -> None:
    source = Counting(10)
    preview = Preview(source, title="following", peek=False)
    assert "not read yet" in repr(preview)
    assert "not read yet" in preview._repr_html_()
    assert source.taken == 0


def test_close_closes_the_generator_underneath() -> None:
    closed = []

    def gen() -> Iterator[int]:
        try:
            yield 1
            yield 2
        finally:
            closed.append(True)

    preview = Preview(gen(), title="g")
    assert next(preview) == 1
    preview.close()
    assert closed == [True]
    assert list(preview) == []


class FakePretty:
    """IPython's pretty printer, as far as ``_repr_pretty_`` uses it."""

    def __init__(self) -> None:
        self.parts: list[str] = []

    def text(self, text: str) -> None:
        self.parts.append(text)

    def break_(self) -> None:
        self.parts.append("\n")


def test_plain_text_display_lists_the_first_items() -> None:
    printer = FakePretty()
    Preview(Counting(3), title="n")._repr_pretty_(printer, False)
    assert "".join(printer.parts) == "<Preview n: 3 items (all shown)>\n  1\n  2\n  3"


# -- every public value --------------------------------------------------------------------


def _release(tag: str = "v1", outcome: Outcome = Outcome.STABLE, reason: str | None = None,
             ) -> Release:
    return Release(id=f"id-{tag}", image=f"1.dkr.ecr.eu-west-1.amazonaws.com/fluoride/a@{DIGEST}",
                   digest=DIGEST, tags=(tag,), deployed_at=T0,
                   deployed_by="arn:aws:iam::1:user/ada", outcome=outcome, reason=reason)


def _status(**changes: Any) -> ServiceStatus:
    outputs = {f"Output{i}": f"arn:aws:something:eu-west-1:1:thing/{'x' * 60}"
               for i in range(20)}
    values: dict[str, Any] = {
        "name": "hello", "state": StackState.COMPLETE, "stack_status": "UPDATE_COMPLETE",
        "desired": 2, "running": 2, "pending": 0,
        "url": "http://fluoride-hello-Load-ABCDEFGHIJ-1234567890.eu-west-1.elb.amazonaws.com",
        "outputs": outputs, "image": f"fluoride/a@{DIGEST}", "release": _release(SCRIPT),
        "reason": SCRIPT,
    }
    values.update(changes)
    return ServiceStatus(**values)


def _aws(endpoint: str | None = None) -> Aws:
    session = boto3.Session(aws_access_key_id="testing", aws_secret_access_key="testing",
                            region_name="eu-west-1")
    return Aws(session=session, endpoint_url=endpoint)


def _table() -> Table:
    aws = _aws()
    stub = Stubber(aws.client("dynamodb"))
    stub.add_response("describe_table", {"Table": {"ItemCount": 1234}})
    stub.activate()
    return Table(aws, "fluoride-hello", "arn:aws:dynamodb:eu-west-1:1:table/fluoride-hello")


def _bucket() -> Bucket:
    aws = _aws()
    stub = Stubber(aws.client("s3"))
    stub.add_response("list_objects_v2", {"KeyCount": 1000, "IsTruncated": True})
    stub.activate()
    return Bucket(aws, "fluoride-hello-1-eu-west-1", "arn:aws:s3:::fluoride-hello-1-eu-west-1")


def _fleet() -> FleetResult:
    failed = RolledBack(f"The deployment of v2 to b was rolled back: {SCRIPT}",
                        reasons=["Essential container exited"], serving=_release())
    return FleetResult("deploy", {"a": _release("v2"), "b": failed}, 12.5)


def _plan() -> Plan:
    return Plan(
        service="hello",
        changes=(ResourceChange("TaskDefinition", "AWS::ECS::TaskDefinition", "modify",
                                "yes", ("memory",)),
                 ResourceChange("Table", "AWS::DynamoDB::Table", "modify", "yes",
                                ("stores.partition_key",))),
        settings=(SettingChange("memory", "512", "1024"),
                  SettingChange("environment.NOTE", "''", SCRIPT)),
        risks=(StoreRisk("table", "fluoride-hello", "stores.partition_key", "replaced"),),
        consequences=("The tasks restart.",),
    )


def _lines() -> list[LogLine]:
    return [LogLine(T0 + dt.timedelta(seconds=i), f"task{i % 2}abcdef0123456789",
                    f"GET /items/{i} {SCRIPT}") for i in range(30)]


#: (what, a maker of the value, what its HTML must contain besides escaped user text)
VALUES: list[tuple[str, Callable[[], Any], tuple[str, ...]]] = [
    ("Fluoride", lambda: Fluoride(session=_aws().session), ("eu-west-1", "AWS")),
    ("Fluoride on an endpoint", lambda: Fluoride(session=_aws().session,
                                                 endpoint_url="http://127.0.0.1:9"),
     ("http://127.0.0.1:9",)),
    ("Service", lambda: Fluoride(session=_aws().session).service("hello"),
     ("fluoride-hello", "cloudformation/home?region=eu-west-1", "svc.status()")),
    ("ServiceStatus", _status, ("hello", "complete", "2 / 2 / 0", "elb.amazonaws.com",
                                "20 stack outputs", "<details>")),
    ("ServiceStatus, deploying", lambda: _status(state=StackState.IN_PROGRESS, url=None,
                                                 release=None, drift=SCRIPT),
     ("in progress", "drift")),
    ("Release", lambda: _release(SCRIPT, Outcome.ROLLED_BACK, reason=SCRIPT * 5),
     ("rolled back", DIGEST, "2026-12-01 02:30:00 UTC", "arn:aws:iam::1:user/ada")),
    ("ReleaseList", lambda: ReleaseList([_release("v3", Outcome.ROLLED_BACK, SCRIPT),
                                         _release("v2"), _release("v1")]),
     ("3 releases", "rolled back", "stable", "ada")),
    ("ReleaseList, empty", ReleaseList, ("0 releases",)),
    ("StatusList", lambda: StatusList([_status(name=f"svc-{i}") for i in range(12)]),
     ("12 Fluoride service(s)", "svc-11")),
    ("DeleteResult", lambda: DeleteResult(kept={"table": SCRIPT, "bucket": "b"},
                                          removed={"repository": "fluoride/hello"}),
     ("kept", "removed", "purge_data=True")),
    ("Plan", _plan, ("memory: 512 -&gt; 1024", "TaskDefinition")),
    ("CostEstimate", lambda: estimate_cost(ServiceSpec(), region="us-east-1", prices=PRICES),
     ("us-east-1", "USD")),
    ("FleetResult", _fleet, ("1 of 2 succeeded", "rolled back")),
    ("Table", _table, ("fluoride-hello", "1,234", "dynamodbv2", "table.scan()")),
    ("Bucket", _bucket, ("fluoride-hello-1-eu-west-1", "1,000+", "s3/buckets")),
    ("Secret", lambda: Secret(_aws(), "arn:aws:secretsmanager:eu-west-1:1:secret:f/h-AbC123",
                              "f/h"),
     ("f/h", "secretsmanager/secret?name=f%2Fh", "not shown")),
    ("LogLine", lambda: _lines()[0], ("2026-12-01 02:30:00", "task0abc")),
    ("LogLines", lambda: LogLines(_lines()), ("30 log lines", "GET /items/29")),
    ("LogStream", lambda: LogStream(iter(_lines()), title=f"/fluoride/{SCRIPT}"),
     ("first 10 lines shown", "GET /items/9")),
    ("Items", lambda: Items(iter([{"pk": f"n#{i}", "text": SCRIPT} for i in range(3)]),
                            title="scan of t"),
     ("3 items (all shown)", "n#2", "pk")),
    ("ObjectSummary", lambda: ObjectSummary(f"reports/{SCRIPT}.csv", 12345, T0, "e"),
     ("12,345", "2026-12-01 02:30:00")),
    ("Objects", lambda: Objects(iter([ObjectSummary(f"r/{i}{SCRIPT}", i, T0, "e")
                                      for i in range(11)]), title="bucket/r/"),
     ("first 10 objects shown", "r/9")),
    ("FleetFailed", lambda: FleetFailed(_fleet()), ("1 of 2 succeeded", "rolled back")),
    ("FluorideError", lambda: FluorideError(f"bad {SCRIPT}", hint=SCRIPT), ("hint",)),
    ("ConfigError", lambda: ConfigError(
        "The spec is invalid.", errors=[FieldError("memory", f"{SCRIPT} is no number",
                                                   allowed="512 to 30720")]),
     ("memory", "512 to 30720")),
    ("RolledBack", lambda: RolledBack(
        f"The deployment of v2 to hello was rolled back: {SCRIPT}",
        reasons=[f"Essential container exited {SCRIPT}"],
        events=[f"event {i}" for i in range(9)], serving=_release(), hint="svc.logs()"),
     ("reasons", "recent events", "event 8", "v1 (sha256:abababababab)", "svc.logs()")),
    ("StackFailed", lambda: StackFailed("The stack failed.", logical_id="Table",
                                        reason=SCRIPT, status="UPDATE_ROLLBACK_COMPLETE"),
     ("Table", "UPDATE_ROLLBACK_COMPLETE")),
    ("DeploymentInProgress", lambda: DeploymentInProgress(
        "hello is deploying.", started_by="arn:aws:iam::1:user/ada", started_at=T0),
     ("started by", "ada")),
    ("StoresRetained", lambda: StoresRetained("Kept stores block create.",
                                              stores=[SCRIPT, "b"]), ("stores",)),
    ("ServiceSpec", lambda: ServiceSpec(team=SCRIPT, memory=1024, cpu=512),
     ("<b>memory</b>", "1024", "default 512", "stores.table")),
    ("PushFailed", lambda: PushFailed("docker push failed", command=["docker", "push"],
                                      exit_code=1, output=SCRIPT), ("exit code",)),
]


@pytest.mark.parametrize(("what", "make", "shown"), VALUES, ids=[v[0] for v in VALUES])
def test_every_value_shows_one_short_line_and_escaped_html(
    what: str, make: Callable[[], Any], shown: tuple[str, ...]
) -> None:
    value = make()
    text = repr(value)
    assert "\n" not in text, text
    assert len(text) <= MAX_REPR, text
    html = value._repr_html_()
    assert isinstance(html, str)
    assert html.startswith("<")
    assert "<script>" not in html
    for part in shown:
        assert part in html, (part, html)
    assert repr(value) == text  # showing twice fetches nothing new and says the same


@pytest.mark.parametrize(("what", "make", "shown"), VALUES, ids=[v[0] for v in VALUES])
def test_user_text_reaches_the_html_escaped(
    what: str, make: Callable[[], Any], shown: tuple[str, ...]
) -> None:
    html = make()._repr_html_()
    if what in ("Fluoride", "Fluoride on an endpoint", "Service", "ReleaseList, empty",
                "CostEstimate", "Table", "Bucket", "Secret", "StackFailed",
                "DeploymentInProgress", "Plan"):
        # no free text in these (the plan's value is listed below, in its settings)
        assert "<script>" not in html
        if what == "Plan":
            assert ESCAPED in html
        return
    assert ESCAPED in html, html


@pytest.mark.parametrize(("what", "make", "shown"), VALUES, ids=[v[0] for v in VALUES])
def test_ipython_shows_the_html_and_the_short_repr(
    what: str, make: Callable[[], Any], shown: tuple[str, ...]
) -> None:
    """What IPython's own formatter (as a notebook kernel runs it) makes of each value."""
    formatters = pytest.importorskip("IPython.core.formatters")
    value = make()
    data, _ = formatters.DisplayFormatter().format(value)
    assert "<script>" not in data["text/html"]
    for part in shown:
        assert part in data["text/html"]
    plain = data["text/plain"]
    if isinstance(value, Preview):  # the first items, one per line, under the repr
        assert plain.splitlines()[0] == repr(value)
    else:
        assert plain == repr(value)


def test_ipython_shows_a_preview_as_its_first_items() -> None:
    formatters = pytest.importorskip("IPython.core.formatters")
    source = Counting(100)
    data, _ = formatters.DisplayFormatter().format(Preview(source, title="n", limit=3))
    assert data["text/plain"] == ("<Preview n: first 3 items shown; iterate for the rest>\n"
                                  "  1\n  2\n  3")
    assert source.taken == 4


def test_every_public_error_has_the_compact_repr_and_keeps_its_str() -> None:
    errors = [obj for obj in vars(fluoride.errors).values()
              if inspect.isclass(obj) and issubclass(obj, FluorideError)]
    assert len(errors) >= 20
    for cls in errors:
        assert cls.__repr__ is FluorideError.__repr__, cls
        assert cls._repr_html_ is FluorideError._repr_html_, cls
    error = RolledBack("line one\nline two", hint="do this")
    assert str(error) == "line one\nline two\n  hint: do this"  # tracebacks unchanged
    assert repr(error) == "<RolledBack: line one>"


@pytest.mark.parametrize(("spec", "expected"), [
    (ServiceSpec(), "ServiceSpec()"),
    (ServiceSpec(port=8080, health_path="/health"), "ServiceSpec()"),  # the defaults
    (ServiceSpec(memory=1024, team="lab"), "ServiceSpec(memory=1024, team='lab')"),
    (ServiceSpec(network=Network(public=False), environment={"A": "1"}),
     "ServiceSpec(network=Network(public=False), environment={'A': '1'})"),
    (ServiceSpec(stores=Stores(table=False), notify=["a@example.com"]),
     "ServiceSpec(stores=Stores(table=False), notify=('a@example.com',))"),
])
def test_a_spec_shows_what_differs_from_the_defaults_as_the_call_that_makes_it(
    spec: ServiceSpec, expected: str
) -> None:
    assert repr(spec) == expected
    # the repr is the call that makes the spec again (eval of this table's own text)
    assert eval(expected, {"ServiceSpec": ServiceSpec, "Network": Network,
                           "Stores": Stores}) == spec


def test_a_spec_with_many_settings_is_cut_at_a_setting() -> None:
    spec = ServiceSpec(project="p" * 40, team="t" * 40, contact="c" * 40, memory=2048)
    text = repr(spec)
    assert len(text) <= MAX_REPR
    assert text.endswith(", …)")
    assert "memory=2048" in text


@pytest.mark.parametrize(("image", "shown"), [
    (f"1.dkr.ecr.eu-west-1.amazonaws.com/fluoride/hello@{DIGEST}",
     "hello@sha256:abababababab"),
    ("ghcr.io/acme/web:v2", "web:v2"),
    ("nginx", "nginx"),
])
def test_a_status_without_a_release_names_its_image_briefly(image: str, shown: str) -> None:
    status = _status(release=None, image=image, url=None)
    assert repr(status) == f"<ServiceStatus hello: complete, 2/2 tasks, {shown}>"


@pytest.mark.parametrize(("name", "url", "expected"), [
    ("a", "http://a.example", "<ServiceStatus a: complete, 2/2 tasks, v1, http://a.example>"),
    # too long with every part: the tasks go first, then the release; the URL stays
    ("long-name-of-a-service", "http://long-name-ABCDEFGH-1234567890.eu-west-1.elb.amazonaws.com",
     "<ServiceStatus long-name-of-a-service: complete, v1, "
     "http://long-name-ABCDEFGH-1234567890.eu-west-1.elb.amazonaws.com>"),
    ("long-name-of-a-service", "http://long-name-ABCDEFGH-1234567890.eu-west-1.elb.amazonaws.com"
     "/path",
     "<ServiceStatus long-name-of-a-service: complete, "
     "http://long-name-ABCDEFGH-1234567890.eu-west-1.elb.amazonaws.com/path>"),
])
def test_a_status_keeps_its_url_before_its_counts(name: str, url: str, expected: str) -> None:
    assert repr(_status(name=name, url=url, release=_release("v1"))) == expected


def test_a_config_error_names_its_first_field_in_the_repr() -> None:
    error = ConfigError("Invalid spec.", errors=[FieldError("memory", "must be a number")])
    assert repr(error) == "<ConfigError: Invalid spec. [1 field(s): memory: must be a number]>"


def test_fleet_result_and_status_list_stay_short_with_many_services() -> None:
    failures = {f"service-{i}": RolledBack("rolled back") for i in range(30)}
    assert len(repr(FleetResult("deploy", failures, 1.0))) <= MAX_REPR
    assert repr(StatusList()) == "<StatusList 0 services: none>"


def test_the_client_shows_its_account_once_a_call_has_told_it() -> None:
    fl = Fluoride(session=_aws().session)
    assert repr(fl) == "<Fluoride eu-west-1, AWS>"  # no call made to find out
    with Stubber(fl.aws.client("sts")) as stub:
        stub.add_response("get_caller_identity", {
            "Arn": "arn:aws:iam::111122223333:user/ada", "Account": "111122223333",
            "UserId": "AIDA"})
        fl.aws.caller_arn()
    assert repr(fl) == "<Fluoride account 111122223333, eu-west-1, AWS>"
    assert "111122223333" in fl._repr_html_()


def test_store_html_says_when_the_count_cannot_be_read() -> None:
    aws = _aws()
    stub = Stubber(aws.client("dynamodb"))
    stub.add_client_error("describe_table", "AccessDeniedException", "no", 400)
    stub.activate()
    html = Table(aws, "t", "arn:aws:dynamodb:eu-west-1:1:table/t")._repr_html_()
    assert "not read (" in html


def test_slices_of_the_list_types_show_as_tables_too() -> None:
    history = ReleaseList([_release(f"v{i}") for i in range(5)])
    assert type(history[:2]) is ReleaseList
    assert history[:2] == history[0:2]
    assert history[-1].tags == ("v4",)
    lines = LogLines(_lines())
    assert type(lines[-3:]) is LogLines
    assert len(lines[-3:]) == 3
    assert isinstance(lines[0], LogLine)
    statuses = StatusList([_status(name=f"s{i}") for i in range(3)])
    assert type(statuses[1:]) is StatusList
    assert statuses[0].name == "s0"


def test_status_list_collects_reads_in_order_and_raises_the_first_failure() -> None:
    ok = {f"s{i}": _status(name=f"s{i}") for i in range(3)}
    collected = StatusList.collect(ok)
    assert type(collected) is StatusList
    assert [s.name for s in collected] == ["s0", "s1", "s2"]
    first, second = RolledBack("first failure"), RolledBack("second failure")
    with pytest.raises(RolledBack, match="first failure"):
        StatusList.collect({"s0": ok["s0"], "s1": first, "s2": second})


def test_the_new_types_are_exported() -> None:
    for name in ("ReleaseList", "LogLines", "LogStream", "Items", "Objects"):
        assert name in fluoride.__all__
        assert getattr(fluoride, name).__name__ == name


# -- live objects on the emulator ---------------------------------------------------------


@pytest.fixture(scope="module")
def live() -> Iterator[tuple[Fluoride, Any]]:
    from fluoride.local import Timing

    fast = Timing(task_start=0.05, health_check=0.05, drain=0.05)
    with Fluoride.local(timing=fast, reporter=lambda event: None) as fl:
        svc = fl.service("shown")
        svc.create()
        assert fl.emulator is not None
        fl.emulator.push_image("fluoride/shown", "v1")
        fl.emulator.push_image("fluoride/shown", "v2", healthy=False)
        svc.deploy("v1")
        yield fl, svc


def _short(value: object) -> str:
    text = repr(value)
    assert "\n" not in text, text
    assert len(text) <= MAX_REPR, text
    return text


def test_live_client_and_service(live: tuple[Fluoride, Any]) -> None:
    fl, svc = live
    assert re.fullmatch(r"<Fluoride account 123456789012, us-east-1, embedded emulator "
                        r"http://127\.0\.0\.1:\d+>", _short(fl))
    assert "embedded emulator" in fl._repr_html_()
    assert _short(svc).startswith("<Service shown (endpoint http://127.0.0.1:")
    assert "console" not in svc._repr_html_()  # no console link off AWS

    status = svc.status()
    assert re.fullmatch(r"<ServiceStatus shown: complete, 1/1 tasks, v1, http://\S+\.elb\."
                        r"amazonaws\.com>", _short(status))
    assert "<a href='http://" in status._repr_html_()
    fleet = fl.status()
    assert isinstance(fleet, StatusList)
    assert _short(fleet) == "<StatusList 1 service: shown complete>"


def test_live_history_and_a_caught_error(live: tuple[Fluoride, Any]) -> None:
    _, svc = live
    with pytest.raises(RolledBack) as caught:
        svc.deploy("v2")
    error = caught.value
    assert _short(error).startswith("<RolledBack: The deployment of v2")
    html = error._repr_html_()
    assert "reasons" in html
    assert "v1 (sha256:" in html

    history = svc.history()
    assert isinstance(history, ReleaseList)
    assert _short(history).startswith("<ReleaseList 2 releases, serving v1 (sha256:")
    assert "rolled back" in history._repr_html_()
    assert _short(history[0]).startswith("<Release v2 (sha256:")


def test_live_stores_and_previews(live: tuple[Fluoride, Any]) -> None:
    _, svc = live
    table = svc.table
    for i in range(12):
        table.put_item({"pk": f"note#{i:02}", "text": f"<i>{i}</i>"})
    scan = table.scan()
    assert isinstance(scan, Items)
    assert _short(scan) == ("<Items scan of fluoride-shown: first 10 items shown; iterate for "
                            "the rest>")
    assert "&lt;i&gt;" in scan._repr_html_()
    assert sorted(item["pk"] for item in scan) == [f"note#{i:02}" for i in range(12)]

    table_html = table._repr_html_()
    assert "fluoride-shown" in table_html
    assert "items" in table_html
    assert "console" not in table_html  # the emulator has no console
    svc.bucket.put_bytes("a.txt", b"a")
    assert ">1<" in svc.bucket._repr_html_()
    listed = svc.bucket.list()
    assert isinstance(listed, Objects)
    assert _short(listed).endswith(": 1 object (all shown)>")
    assert [o.key for o in listed] == ["a.txt"]
    assert "secret.get_json()" in svc.secret._repr_html_()
    for handle in (table, svc.bucket, svc.secret):
        _short(handle)

    logs = svc.logs(since="1h")
    assert isinstance(logs, LogStream)
    assert "lines" in _short(logs)
    first = next(logs)  # still an iterator
    assert isinstance(first, LogLine)
    assert "<table>" in logs._repr_html_()
    head = svc.logs(since="1h").head(3)
    assert isinstance(head, LogLines)
    assert len(head) <= 3


def test_the_notebook_display_example(capsys: pytest.CaptureFixture[str]) -> None:
    runpy.run_path(str(Path(__file__).parent.parent / "examples" / "notebook_display.py"),
                   run_name="__main__")
    out = capsys.readouterr().out.splitlines()
    assert all(len(line) <= MAX_REPR for line in out)
    assert out[0].startswith("<Fluoride account 123456789012, us-east-1, embedded emulator")
    assert out[1].startswith("<ServiceStatus gallery: complete, no image, http://")
    assert out[2].startswith("<Release v1 (sha256:")
    assert out[3].startswith("<ReleaseList 1 release, serving v1 (sha256:")
    assert out[4:8] == [
        "<Items scan of fluoride-gallery: first 10 items shown; iterate for the rest>",
        "25", "True 1", "True"]
    assert out[8] == "<DeleteResult removed table, bucket, secret, repository; kept nothing>"
