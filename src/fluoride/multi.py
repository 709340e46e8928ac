"""A fleet across accounts and regions: a list of :class:`~fluoride.Fluoride` clients.

A team that outgrows one account and region keeps one view: ``Fleet([...])`` has the
verbs of one client's fleet (:meth:`Fleet.services`, :meth:`Fleet.status`,
:meth:`Fleet.deploy_many`, :meth:`Fleet.rollback_many`) over every member, and names
each service by where it lives, ``account/region/name`` (a :class:`~fluoride.fleet.Target`).

AWS limits API calls per account and region, so each member (one per account and region)
keeps its own call budget: a member's polls never wait for another's.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from types import TracebackType
from typing import TYPE_CHECKING

import attrs

from fluoride.client import Fluoride
from fluoride.errors import ConfigError, FieldError, InvalidInput, ServiceNotFound
from fluoride.fleet import (
    FleetResult,
    StatusList,
    Target,
    check_max_parallel,
    run_many,
    timed,
)
from fluoride.names import DEFAULT_TIMEOUT, SERVICE_TAG

if TYPE_CHECKING:
    from fluoride._release import Release
    from fluoride.events import Reporter
    from fluoride.infra.stack import StackInfo
    from fluoride.service import Service, ServiceStatus

__all__ = ["Fleet", "Member", "resolve_keys"]

#: A member as given: a client, or a ``(profile, region)`` pair to make one from.
Member = Fluoride | tuple[str | None, str]


def resolve_keys(
    keys: Iterable[str], found: Mapping[str, Iterable[str]]
) -> tuple[dict[str, list[Target]], list[FieldError]]:
    """Which services each key of a :meth:`Fleet.deploy_many` mapping means (pure).

    ``found`` maps each member's place (``account/region``) to the service names it has.
    A key is ``name`` (that service wherever it is), ``region/name`` (in every member of
    that region) or ``account/region/name`` (in that member). Returns key -> its targets
    (a plain name found nowhere has none), and the problems: a key naming no member's
    region or place, a malformed key, a service two keys name.
    """
    from fluoride.spec import validate_service_name

    places = {place: set(names) for place, names in found.items()}
    out: dict[str, list[Target]] = {}
    problems: list[FieldError] = []
    seen: dict[Target, str] = {}
    for key in keys:
        parts = key.split("/") if isinstance(key, str) else []
        field = f"images[{key!r}]"
        if not 1 <= len(parts) <= 3:
            problems.append(FieldError(field, "is not a service name", allowed="name, "
                                       "region/name or account/region/name"))
            continue
        try:
            validate_service_name(parts[-1])
        except ConfigError as exc:
            problems.append(FieldError(field, exc.message.splitlines()[0],
                                       allowed="a Fluoride service name"))
            continue
        name = parts[-1]
        if len(parts) == 1:
            targets = [_target(place, name) for place, names in places.items() if name in names]
        else:
            wanted = "/".join(parts[:-1])
            matching = [place for place in places
                        if place == wanted or (len(parts) == 2 and place.endswith("/" + wanted))]
            if not matching:
                problems.append(FieldError(field, f"{wanted!r} is none of the fleet's places",
                                           allowed=", ".join(sorted(places)) or "none"))
                continue
            targets = [_target(place, name) for place in matching]
        for target in targets:
            if target in seen:
                problems.append(FieldError(field, f"names {target}, as {seen[target]!r} does",
                                           allowed="each service once"))
            seen[target] = key
        out[key] = targets
    return out, problems


def _target(place: str, name: str) -> Target:
    account, region = place.split("/", 1)
    return Target(account, region, name)


@attrs.frozen
class _Found:
    """One member's listing: its place and its Fluoride stacks by service name."""

    member: Fluoride
    place: str
    stacks: Mapping[str, StackInfo]


class Fleet:
    """Many :class:`~fluoride.Fluoride` clients, one per account and region, as one fleet.

    Members are clients, or ``(profile, region)`` pairs (``Fluoride(profile=...,
    region=...)`` is made for each). Every service is named by where it lives:
    ``account/region/name`` (:class:`~fluoride.fleet.Target`), in results, statuses and
    progress events.

    Each member keeps its own call budget (AWS limits each account and region on its
    own); ``max_calls_per_second`` gives every member a budget of that rate instead.
    Finding each member's account is one GetCallerIdentity call, made once.

    Example::

        fleet = Fleet([Fluoride(profile="eu", region="eu-west-1"),
                       ("prod", "us-east-1")])
        fleet.status()                                   # every service, everywhere
        result = fleet.deploy_many(select="api", image="v2")
        result["123456789012/eu-west-1/api"]             # a Release, or its error

    .. versionadded:: 0.2
    """

    def __init__(
        self,
        members: Iterable[Member],
        *,
        max_calls_per_second: float | None = None,
        reporter: Reporter | None = None,
    ) -> None:
        given: list[object] = list(members) if isinstance(members, Iterable) else []
        problems: list[FieldError] = []
        if not given:
            raise InvalidInput("Fleet() was refused: no member clients.", errors=[FieldError(
                "members", f"{members!r} holds no client",
                allowed="a list of Fluoride clients or (profile, region) pairs")])
        pairs: list[tuple[str | None, str]] = []
        for i, member in enumerate(given):
            if isinstance(member, Fluoride):
                continue
            if isinstance(member, tuple) and len(member) == 2 and (
                member[0] is None or isinstance(member[0], str)
            ) and isinstance(member[1], str):
                pairs.append((member[0], member[1]))
                continue
            problems.append(FieldError(f"members[{i}]", f"{member!r} is not a member",
                                       allowed="a Fluoride client or a (profile, region) "
                                       "pair of strings (profile may be None)"))
        if problems:
            raise InvalidInput("Fleet() was refused: nothing was sent to AWS.", errors=problems)
        made = iter([Fluoride(profile=profile, region=region) for profile, region in pairs])
        self.members: tuple[Fluoride, ...] = tuple(
            m if isinstance(m, Fluoride) else next(made) for m in given)
        if max_calls_per_second is not None:
            for member in self.members:
                member.aws.budget = member._budget(max_calls_per_second)
        self.reporter: Reporter = reporter or self.members[0].reporter
        self._places: list[str] | None = None

    def places(self) -> list[str]:
        """Each member's ``account/region``, in order (a GetCallerIdentity call per member,
        the first time). Raises :class:`ConfigError` when two members reach one place."""
        if self._places is None:
            places = [f"{m.aws.account_id()}/{m.region}" for m in self.members]
            twice = sorted({p for p in places if places.count(p) > 1})
            if twice:
                raise ConfigError(
                    "Two members of the fleet reach the same account and region: "
                    + ", ".join(twice) + ".",
                    hint="Give one client per account and region (they would list the same "
                    "services, and AWS limits calls per account and region).",
                )
            self._places = places
        return list(self._places)

    def _listings(self) -> list[_Found]:
        """Every member's Fluoride stacks: one DescribeStacks per member, read at once."""
        from fluoride.infra.stack import list_service_stacks

        places = self.places()

        def read(member: Fluoride) -> Callable[[Reporter], list[StackInfo]]:
            return lambda _: list_service_stacks(member.aws)

        done = run_many({place: read(m) for place, m in zip(places, self.members, strict=True)},
                        max_parallel=len(places))
        found: list[_Found] = []
        for member, (place, value) in zip(self.members, done.items(), strict=True):
            if isinstance(value, Exception):
                raise value  # a member that cannot be read is the caller's to see
            found.append(_Found(member, place,
                                {info.tags[SERVICE_TAG]: info for info in value}))
        return found

    def _select(
        self,
        patterns: Iterable[str],
        team: str | None,
        project: str | None,
        tags: Mapping[str, str] | None,
    ) -> list[tuple[_Found, str]]:
        from fluoride.selection import Selector

        wanted = dict(tags or {})
        wanted.update({k: v for k, v in (("team", team), ("project", project)) if v})
        selector = Selector.of(list(patterns), tags=wanted)
        listings = self._listings()
        missing = selector.missing({name for f in listings for name in f.stacks})
        if missing:
            raise ServiceNotFound(
                "No such service in any member of the fleet: " + ", ".join(missing) + ".",
                resource=", ".join(missing),
                hint="`fleet.services()` lists them all; a glob may match none.",
            )
        return [(f, name) for f in listings
                for name in selector.select({n: i.tags for n, i in f.stacks.items()})]

    def services(
        self,
        *select: str,
        team: str | None = None,
        project: str | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> list[Service]:
        """The services of every member (or those selected, as in
        :meth:`Fluoride.services`), member by member; each handle works in its own
        account and region (``svc.aws.region``)."""
        return [f.member.service(name) for f, name in self._select(select, team, project, tags)]

    def status(
        self,
        *select: str,
        team: str | None = None,
        project: str | None = None,
        tags: Mapping[str, str] | None = None,
        max_parallel: int = 8,
    ) -> StatusList:
        """The status of every service of every member (or those selected): one
        DescribeStacks per member, then one DescribeServices per service, at most
        ``max_parallel`` at a time over the whole fleet. Each status names its ``account``
        and ``region``; the table shows ``account/region/name``."""
        check_max_parallel(max_parallel)
        chosen = self._select(select, team, project, tags)

        def read(found: _Found, name: str) -> Callable[[Reporter], ServiceStatus]:
            def run(_: Reporter) -> ServiceStatus:
                status = found.member.service(name).status_of(found.stacks[name])
                target = _target(found.place, name)
                return attrs.evolve(status, account=target.account, region=target.region)
            return run

        done = run_many({str(_target(f.place, n)): read(f, n) for f, n in chosen},
                        max_parallel=max_parallel)
        return StatusList.collect(done)

    def deploy_many(
        self,
        images: Mapping[str, str | None] | None = None,
        *,
        select: str | Iterable[str] | None = None,
        team: str | None = None,
        project: str | None = None,
        tags: Mapping[str, str] | None = None,
        image: str | None = None,
        max_parallel: int = 4,
        timeout: float = DEFAULT_TIMEOUT,
        reporter: Reporter | None = None,
    ) -> FleetResult:
        """Deploy to services of every member at once, at most ``max_parallel`` at a time
        over the whole fleet; as :meth:`Fluoride.deploy_many` does for one client.

        ``images`` maps keys to images: a key is a service ``name`` (in every member that
        has it), ``region/name`` or ``account/region/name``. Or select services (``select``,
        ``team``, ``project``, ``tags``) in every member and give them all ``image``.

        Returns a :class:`~fluoride.fleet.FleetResult` keyed ``account/region/name``
        (``result.targets`` holds each key's :class:`~fluoride.fleet.Target`); a plain
        name that no member has is a :class:`ServiceNotFound` under that name. One
        service's failure stops no other, in any member.

        Raises :class:`ConfigError` before any deployment for a bad key, selection or
        ``max_parallel``.
        """
        check_max_parallel(max_parallel)
        targets = self._targets(images, select, team, project, tags, image)

        def deploy(img: str | None) -> Callable[[Service], Release]:
            return lambda svc: svc.deploy(img, timeout=timeout)

        return self._many("deploy", {k: (t, deploy(img)) for k, (t, img) in targets.items()},
                          max_parallel, reporter)

    def rollback_many(
        self,
        names: Iterable[str] | None = None,
        *,
        select: str | Iterable[str] | None = None,
        team: str | None = None,
        project: str | None = None,
        tags: Mapping[str, str] | None = None,
        max_parallel: int = 4,
        timeout: float = DEFAULT_TIMEOUT,
        reporter: Reporter | None = None,
    ) -> FleetResult:
        """Roll back services of every member at once (keys as in :meth:`deploy_many`,
        or a selection); as :meth:`Fluoride.rollback_many` does for one client."""
        check_max_parallel(max_parallel)
        given = None if names is None else dict.fromkeys(names)
        targets = self._targets(given, select, team, project, tags, None)
        return self._many(
            "rollback",
            {k: (t, lambda svc: svc.rollback(timeout=timeout)) for k, (t, _) in targets.items()},
            max_parallel, reporter,
        )

    def _targets(
        self,
        images: Mapping[str, str | None] | None,
        select: str | Iterable[str] | None,
        team: str | None,
        project: str | None,
        tags: Mapping[str, str] | None,
        image: str | None,
    ) -> dict[str, tuple[Target | None, str | None]]:
        """key -> (target, image); a plain name found nowhere has no target."""
        selecting = select is not None or team or project or tags
        if images is not None:
            if selecting or image is not None:
                raise ConfigError(
                    "Give the services either as a mapping of names to images, or as a "
                    "selection (select=, team=, project=, tags=) with image=, not both.")
            listings = self._listings()
            resolved, problems = resolve_keys(images, {f.place: f.stacks for f in listings})
            if problems:
                raise InvalidInput("deploy_many() was refused: nothing was deployed.",
                                   errors=problems)
            out: dict[str, tuple[Target | None, str | None]] = {}
            for key, found in resolved.items():
                if not found:
                    out[key] = (None, images[key])
                for target in found:
                    out[str(target)] = (target, images[key])
            return out
        if not selecting:
            raise ConfigError(
                "No services were given.",
                hint="Pass {name: image, ...}, or select=\"team-*\" (or team=...) with "
                "image=...; select=\"*\" means every service in every member.")
        patterns = [select] if isinstance(select, str) else list(select or ())
        return {str(t): (t, image) for t in (
            _target(f.place, name) for f, name in self._select(patterns, team, project, tags))}

    def _many(
        self,
        operation: str,
        jobs: Mapping[str, tuple[Target | None, Callable[[Service], Release]]],
        max_parallel: int,
        reporter: Reporter | None,
    ) -> FleetResult:
        from fluoride.service import Service

        members = dict(zip(self.places(), self.members, strict=True))

        def job(key: str, target: Target | None,
                work: Callable[[Service], Release]) -> Callable[[Reporter], Release]:
            def run(report: Reporter) -> Release:
                if target is None:
                    raise ServiceNotFound(
                        f"No member of the fleet has a service named {key!r}.",
                        resource=key, hint="`fleet.services()` lists them all.")
                member = members[target.place]
                svc = Service(name=target.name, aws=member.aws, reporter=report,
                              clock=member.clock, poll_interval=member.poll_interval)
                return work(svc)
            return run

        outcomes, seconds = timed(lambda: run_many(
            {key: job(key, target, work) for key, (target, work) in jobs.items()},
            max_parallel=max_parallel, reporter=reporter or self.reporter, operation=operation,
        ))
        return FleetResult(operation, outcomes, seconds,
                           targets={k: t for k, (t, _) in jobs.items() if t is not None})

    def close(self) -> None:
        """Close every member (stops the emulators of :meth:`Fluoride.local` members)."""
        for member in self.members:
            member.close()

    def __enter__(self) -> Fleet:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        where: Sequence[str] = self._places or [m.region for m in self.members]
        return f"Fleet({', '.join(where)})"
