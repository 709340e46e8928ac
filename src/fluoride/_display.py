"""How Fluoride's values show themselves: one-line reprs and small HTML tables for notebooks.

Pure helpers shared by every public value (no I/O): HTML escaping, a table and a
field list renderer, truncation to one line, console links, and :class:`Preview`, the
lazy iterator behind ``svc.logs()`` and ``table.scan()`` that shows its first few items
when a notebook displays it and otherwise iterates exactly as a generator does.

Every piece of text that reaches HTML goes through :func:`escape`: values come from users
and from AWS (an image tag, a log line, an item of a table) and must not become markup.
"""

from __future__ import annotations

import html
import re
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, TypeVar
from urllib.parse import quote

__all__ = [
    "MAX_REPR",
    "PREVIEW",
    "Html",
    "Preview",
    "compact",
    "console_url",
    "dict_table",
    "escape",
    "fit",
    "html_fields",
    "html_link",
    "html_list",
    "html_table",
    "one_line",
    "plural",
    "truncate",
]

T = TypeVar("T")

#: The longest plain repr of a Fluoride value (one line, as a person reads it).
MAX_REPR = 120
#: How many items a lazy sequence shows when a notebook displays it.
PREVIEW = 10
#: The longest text of one table cell before it is cut.
MAX_CELL = 200

_SPACE = re.compile(r"\s+")
_CELL = "style='text-align:left;vertical-align:top'"


def escape(value: object) -> str:
    """``value`` as text safe inside HTML (quotes too, so it may sit in an attribute)."""
    return html.escape(str(value), quote=True)


def one_line(text: object) -> str:
    """``text`` with every run of whitespace (newlines too) made one space."""
    return _SPACE.sub(" ", str(text)).strip()


def truncate(text: object, limit: int) -> str:
    """``text`` on one line, cut to at most ``limit`` characters with ``…`` at the end.

    >>> truncate("a long\\nline", 8)
    'a long…'
    """
    if limit < 1:
        raise ValueError(f"limit={limit!r} must be at least 1")
    flat = one_line(text)
    if len(flat) <= limit:
        return flat
    return flat[: limit - 1].rstrip() + "…" if limit > 1 else "…"


def compact(kind: str, text: str, *, limit: int = MAX_REPR) -> str:
    """``<kind text>`` on one line, at most ``limit`` characters (``text`` is cut first).

    >>> compact("Release", "v2 stable")
    '<Release v2 stable>'
    """
    room = limit - len(kind) - 3  # "<", " ", ">"
    return f"<{kind} {truncate(text, max(room, 1))}>" if text else f"<{kind}>"


def html_link(url: str | None, text: str | None = None) -> str:
    """A link to ``url`` (http and https only; anything else is shown as text)."""
    if not url:
        return escape(text or "")
    shown = escape(text if text is not None else url)
    if not url.startswith(("https://", "http://")):
        return shown
    return f"<a href='{escape(url)}' target='_blank' rel='noopener'>{shown}</a>"


def _cell(value: object, limit: int) -> str:
    if isinstance(value, Html):
        return value.markup
    return escape(truncate(value, limit)) if value is not None else ""


class Html:
    """Markup already made safe (by these helpers), placed in a table cell as it is."""

    __slots__ = ("markup",)

    def __init__(self, markup: str) -> None:
        self.markup = markup

    def __repr__(self) -> str:
        return f"Html({self.markup!r})"


def html_table(
    columns: Sequence[str],
    rows: Iterable[Sequence[object]],
    *,
    caption: str | None = None,
    footer: str | None = None,
    cell_limit: int = MAX_CELL,
) -> str:
    """A plain HTML table: escaped ``caption``, a header row, one row per item, and an
    optional ``footer`` line (``first 10 shown``). Cells are cut to ``cell_limit``
    characters; a cell that is an :class:`Html` is placed as it is."""
    head = "".join(f"<th {_CELL}>{escape(c)}</th>" for c in columns)
    body = "".join(
        "<tr>" + "".join(f"<td {_CELL}>{_cell(v, cell_limit)}</td>" for v in row) + "</tr>"
        for row in rows
    )
    cap = f"<caption>{escape(caption)}</caption>" if caption else ""
    foot = (f"<tfoot><tr><td colspan='{max(len(columns), 1)}' style='text-align:left'>"
            f"<i>{escape(footer)}</i></td></tr></tfoot>" if footer else "")
    return f"<table>{cap}<thead><tr>{head}</tr></thead><tbody>{body}</tbody>{foot}</table>"


def html_fields(
    fields: Iterable[tuple[str, object]], *, caption: str | None = None,
    cell_limit: int = MAX_CELL,
) -> str:
    """A two-column table of ``(name, value)``; a ``None`` value leaves its row out."""
    body = "".join(
        f"<tr><th {_CELL}>{escape(name)}</th><td {_CELL}>{_cell(value, cell_limit)}</td></tr>"
        for name, value in fields
        if value is not None
    )
    cap = f"<caption>{escape(caption)}</caption>" if caption else ""
    return f"<table>{cap}<tbody>{body}</tbody></table>"


def html_list(items: Iterable[object], *, limit: int = MAX_CELL) -> str:
    """An escaped bullet list (empty text for no items)."""
    shown = "".join(f"<li>{escape(truncate(i, limit))}</li>" for i in items)
    return f"<ul>{shown}</ul>" if shown else ""


#: service -> the console page of one resource, with ``{region}`` and ``{name}``
_CONSOLE = {
    "table": "https://{region}.console.aws.amazon.com/dynamodbv2/home?region={region}"
             "#table?name={name}",
    "bucket": "https://s3.console.aws.amazon.com/s3/buckets/{name}?region={region}",
    "secret": "https://{region}.console.aws.amazon.com/secretsmanager/secret"
              "?name={name}&region={region}",
    "stack": "https://{region}.console.aws.amazon.com/cloudformation/home?region={region}"
             "#/stacks?filteringText={name}",
}


def console_url(kind: str, *, region: str, name: str, arn: str | None = None,
                on_aws: bool = True) -> str | None:
    """The AWS console page of a ``table``, ``bucket``, ``secret`` or ``stack``, or
    ``None``: off AWS (the emulator has no console), outside the commercial partition
    (the ARN is not ``arn:aws:``), or for a kind without a page."""
    template = _CONSOLE.get(kind)
    if template is None or not on_aws or not region or not name:
        return None
    if arn is not None and not arn.startswith("arn:aws:"):
        return None
    if region.startswith(("cn-", "us-gov-", "us-iso")):
        return None
    return template.format(region=quote(region, safe=""), name=quote(name, safe=""))


class Preview(Iterator[T]):
    """A lazy iterator that a notebook shows as its first few items.

    Iterating it yields exactly what ``source`` yields, fetching only as you go. Showing
    it (``repr()``, or a notebook calling ``_repr_html_``) fetches at most ``limit + 1``
    items, keeps them, and says how many are shown; iteration yields those kept items
    first, so nothing is lost or fetched twice. :meth:`head` peeks the same way.

    A failure while fetching the preview is shown instead of raised, and raised by the
    iteration when it reaches that point. ``peek=False`` (for a source that may wait
    forever, such as followed logs) shows a description without fetching anything.
    """

    #: what one item is called in words ("line", "item")
    noun = "item"

    def __init__(self, source: Iterator[T], *, title: str, limit: int = PREVIEW,
                 peek: bool = True) -> None:
        self._source = source
        self._kept: deque[T] = deque()
        self._error: Exception | None = None
        self._done = False
        self.title = title
        self.limit = limit
        self.peek = peek

    def __iter__(self) -> Iterator[T]:
        return self

    def __next__(self) -> T:
        if self._kept:
            return self._kept.popleft()
        if self._error is not None:
            error, self._error = self._error, None
            self._done = True
            raise error
        if self._done:
            raise StopIteration
        try:
            return next(self._source)
        except StopIteration:
            self._done = True
            raise

    def close(self) -> None:
        """Stop: close the source (a generator runs its cleanup) and drop kept items."""
        self._kept.clear()
        self._done = True
        close = getattr(self._source, "close", None)
        if callable(close):
            close()

    def _fill(self, count: int) -> None:
        """Fetch until ``count`` items are kept, the source ends, or it fails."""
        from fluoride.errors import FluorideError

        while len(self._kept) < count and not self._done and self._error is None:
            try:
                self._kept.append(next(self._source))
            except StopIteration:
                self._done = True
            except FluorideError as exc:  # shown by the preview, raised by iteration
                self._error = exc

    def head(self, n: int = PREVIEW) -> list[T]:
        """The next ``n`` items, without consuming them (iteration still yields them).
        Raises what fetching them raised."""
        self._fill(n)
        if self._error is not None and len(self._kept) < n:
            raise self._error
        return list(self._kept)[:n]

    def _shown(self) -> tuple[list[T], str]:
        """The items to show and the words for how many."""
        self._fill(self.limit + 1)
        items = list(self._kept)[: self.limit]
        noun = self.noun + ("" if len(items) == 1 else "s")
        if self._error is not None:
            said = f"{len(items)} {noun}, then: {one_line(self._error_text())}"
        elif len(self._kept) > self.limit:
            said = f"first {len(items)} {noun} shown; iterate for the rest"
        else:
            said = f"{len(items)} {noun}" + (" (all shown)" if items else "")
        return items, said

    def _error_text(self) -> str:
        error = self._error
        return f"{type(error).__name__}: {getattr(error, 'message', error)}"

    def _not_peeked(self) -> str:
        return "not read yet: iterate to read it"

    def __repr__(self) -> str:
        kind = type(self).__name__
        if not self.peek:
            return compact(kind, f"{self.title}: {self._not_peeked()}")
        return compact(kind, f"{self.title}: {self._shown()[1]}")

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:
        """IPython's plain-text display: the first items, one per line."""
        p.text(repr(self))
        if self.peek and not cycle:
            for item in self._shown()[0]:
                p.break_()
                p.text("  " + truncate(self._text_of(item), MAX_REPR - 2))

    def _repr_html_(self) -> str:
        """The first items as a table, with how many are shown."""
        if not self.peek:
            return (f"<div><b>{escape(type(self).__name__)}</b> {escape(self.title)}: "
                    f"{escape(self._not_peeked())}</div>")
        items, said = self._shown()
        columns, rows = self._table(items)
        return html_table(columns, rows, caption=self.title, footer=said)

    # -- what subclasses say about their items -------------------------------------------

    def _text_of(self, item: T) -> str:
        return repr(item)

    def _table(self, items: Sequence[T]) -> tuple[Sequence[str], list[Sequence[object]]]:
        return ("item",), [(self._text_of(i),) for i in items]


def dict_table(items: Sequence[dict[str, Any]], *, max_columns: int = 8,
               ) -> tuple[list[str], list[list[object]]]:
    """Columns (each key in the order first seen, at most ``max_columns``; ``…`` stands
    for the rest) and one row per dict, for showing items of a table."""
    keys: list[str] = []
    for item in items:
        keys += [k for k in item if k not in keys]
    columns = keys[:max_columns]
    more = len(keys) > max_columns
    rows: list[list[object]] = []
    for item in items:
        row: list[object] = [item.get(k, "") for k in columns]
        if more:
            rest = {k: v for k, v in item.items() if k not in columns}
            row.append(", ".join(f"{k}={v}" for k, v in rest.items()))
        rows.append(row)
    return [*columns, "…"] if more else columns, rows


def fit(parts: Iterable[str | None], *, sep: str = ", ") -> str:
    """The non-empty ``parts`` joined (a repr's fields, most important first)."""
    return sep.join(p for p in parts if p)


def plural(count: int, noun: str) -> str:
    """``1 release``, ``2 releases``."""
    return f"{count} {noun}{'' if count == 1 else 's'}"
