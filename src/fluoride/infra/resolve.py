"""The template as CloudFormation evaluates it for given parameters: the one evaluator.

:func:`resolve_template` substitutes the parameters, evaluates the conditions, removes the
resources, outputs and properties whose condition is false, and reduces ``Fn::If``,
``Fn::Sub`` (on parameters and known pseudo parameters), ``Fn::Join``, ``Fn::Select``,
``Fn::Split``, ``Fn::FindInMap``, ``Fn::Equals``/``And``/``Or``/``Not`` and
``AWS::NoValue``. ``Ref`` and ``Fn::GetAtt`` of resources stay, as do pseudo parameters
that were not given: ``AWS::Region`` and ``AWS::AccountId`` are filled in only when given.
A condition that depends on something not given (the region, say) stays undecided: its
definition is kept, and so are the resources, outputs and ``Fn::If`` that use it.

:func:`evaluate_conditions` and :func:`evaluate_condition` are the same evaluator for
conditions alone; the emulator's CloudFormation and the tests use them too. Everything
here is pure: plain data in, new plain data out.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from fluoride.errors import FieldError

__all__ = [
    "cfn_string",
    "drop_other_profiles_skips",
    "evaluate_condition",
    "evaluate_conditions",
    "parameter_values",
    "resolve_template",
    "resolve_value",
]

#: A parameter's value as CloudFormation sees it: a string, or a list for list types.
Value = str | list[str]


class _NoValue:
    """``AWS::NoValue``: the property it stands for is removed."""

    def __repr__(self) -> str:
        return "NO_VALUE"


NO_VALUE: Any = _NoValue()

_CONDITION_FUNCTIONS = frozenset({"Fn::Equals", "Fn::And", "Fn::Or", "Fn::Not", "Condition"})
_SUB_VARIABLE = re.compile(r"\$\{([^!}][^}]*)\}")


def cfn_string(value: Any) -> Any:
    """The string CloudFormation compares for ``value``: booleans as ``true``/``false``,
    numbers as written, lists element-wise."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, list):
        return [cfn_string(v) for v in value]
    return value


def _is_list_type(kind: str) -> bool:
    return kind == "CommaDelimitedList" or kind.startswith("List<")


def parameter_values(
    template: Mapping[str, Any], parameters: Mapping[str, str]
) -> dict[str, Value]:
    """Every declared parameter's value: given, else its default; lists split on commas.

    Raises:
        FieldError: a parameter the template does not declare, or a required one missing.
    """
    declared: Mapping[str, Any] = template.get("Parameters") or {}
    unknown = sorted(set(parameters) - set(declared))
    if unknown:
        raise FieldError("parameters", f"{unknown[0]!r} is not a parameter of the template",
                         allowed=", ".join(sorted(declared)))
    values: dict[str, Value] = {}
    for name, declaration in declared.items():
        if name in parameters:
            raw = parameters[name]
        elif "Default" in declaration:
            raw = declaration["Default"]
        else:
            raise FieldError(f"parameters[{name!r}]", "is required (it has no default)",
                             allowed=f"a value of type {declaration.get('Type', 'String')}")
        if _is_list_type(str(declaration.get("Type", ""))):
            items = raw if isinstance(raw, list) else str(cfn_string(raw)).split(",")
            values[name] = [str(cfn_string(item)) for item in items]
        else:
            values[name] = str(cfn_string(raw))
    return values


class _Scope:
    """Evaluates intrinsics against known values, leaving the rest in place."""

    def __init__(
        self,
        ref: Callable[[str], Any],
        conditions: Mapping[str, Any],
        mappings: Mapping[str, Any],
        condition: Callable[[str], bool | None] | None = None,
    ) -> None:
        self._ref = ref  # a value, or None when unknown
        self._definitions = conditions
        self._mappings = mappings
        self._external = condition
        self._known: dict[str, bool | None] = {}
        self._evaluating: set[str] = set()

    # -- conditions

    def condition(self, name: str) -> bool | None:
        if self._external is not None:
            return self._external(name)
        if name not in self._known:
            if name not in self._definitions:
                raise FieldError("Conditions", f"{name!r} is used but not defined",
                                 allowed=", ".join(sorted(self._definitions)) or "none defined")
            if name in self._evaluating:
                raise FieldError("Conditions", f"{name!r} refers to itself")
            self._evaluating.add(name)
            try:
                self._known[name] = self.truth(self._definitions[name])
            finally:
                self._evaluating.discard(name)
        return self._known[name]

    def truth(self, node: Any) -> bool | None:
        """A condition expression's value, or ``None`` when it depends on something unknown."""
        if isinstance(node, bool):
            return node
        if not isinstance(node, dict) or len(node) != 1:
            raise FieldError("Conditions", f"{node!r} is not a condition",
                             allowed="Fn::Equals, Fn::And, Fn::Or, Fn::Not or Condition")
        ((key, arg),) = node.items()
        if key == "Condition":
            return self.condition(str(arg))
        if key == "Fn::Equals":
            left, right = (self.value(item) for item in arg)
            if not (_concrete(left) and _concrete(right)):
                return None
            return bool(cfn_string(left) == cfn_string(right))
        if key == "Fn::Not":
            inner = self.truth(arg[0])
            return None if inner is None else not inner
        if key in ("Fn::And", "Fn::Or"):
            results = [self.truth(item) for item in arg]
            decisive = key == "Fn::Or"  # True decides an Or, False decides an And
            if decisive in results:
                return bool(decisive)
            return None if None in results else not decisive
        raise FieldError("Conditions", f"{key} cannot be used in a condition",
                         allowed="Fn::Equals, Fn::And, Fn::Or, Fn::Not or Condition")

    # -- values

    def value(self, node: Any) -> Any:
        """``node`` with what is known evaluated; ``NO_VALUE`` for ``AWS::NoValue``."""
        if isinstance(node, list):
            return [v for v in (self.value(item) for item in node) if v is not NO_VALUE]
        if not isinstance(node, dict):
            return node
        if len(node) == 1:
            ((key, arg),) = node.items()
            if key == "Ref" or key.startswith("Fn::") or key == "Condition":
                return self._intrinsic(key, arg)
        out = {k: self.value(v) for k, v in node.items()}
        return {k: v for k, v in out.items() if v is not NO_VALUE}

    def _intrinsic(self, key: str, arg: Any) -> Any:
        if key == "Ref":
            if arg == "AWS::NoValue":
                return NO_VALUE
            found = self._ref(str(arg))
            return {"Ref": arg} if found is None else copy.deepcopy(found)
        if key == "Fn::If":
            name, when_true, when_false = arg
            held = self.condition(str(name))
            if held is None:
                return {"Fn::If": [name, _kept(self.value(when_true)),
                                   _kept(self.value(when_false))]}
            return self.value(when_true if held else when_false)
        if key in _CONDITION_FUNCTIONS:
            held = self.truth({key: arg})
            return {key: self.value(arg)} if held is None else held
        if key == "Fn::Sub":
            return self._sub(arg)
        if key == "Fn::Join":
            separator, parts = arg[0], self.value(arg[1])
            if isinstance(parts, list) and all(_scalar(p) for p in parts):
                return str(separator).join(str(cfn_string(p)) for p in parts)
            return {"Fn::Join": [separator, parts]}
        if key == "Fn::Select":
            index, items = self.value(arg[0]), self.value(arg[1])
            if _scalar(index) and isinstance(items, list):
                return items[int(str(index))]
            return {"Fn::Select": [index, items]}
        if key == "Fn::Split":
            separator, text = arg[0], self.value(arg[1])
            if isinstance(text, str):
                return text.split(str(separator))
            return {"Fn::Split": [separator, text]}
        if key == "Fn::FindInMap":
            keys = [self.value(item) for item in arg]
            if all(isinstance(k, str) for k in keys[:3]):
                name, top, second = keys[:3]
                try:
                    return self.value(self._mappings[name][top][second])
                except (KeyError, TypeError):
                    raise FieldError("Fn::FindInMap", f"{name}/{top}/{second} is not in the "
                                     "template's Mappings",
                                     allowed=", ".join(sorted(self._mappings))) from None
            return {"Fn::FindInMap": keys}
        return {key: self.value(arg)}  # GetAtt, GetAZs, Base64, ...: kept, arguments resolved

    def _sub(self, arg: Any) -> Any:
        text, variables = (arg, {}) if isinstance(arg, str) else (arg[0], arg[1])
        local = {name: self.value(v) for name, v in dict(variables).items()}

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name in local:
                found = local[name]
            elif "." in name and not name.startswith("AWS::"):
                return match.group(0)  # a resource attribute: CloudFormation's to resolve
            else:
                found = self._ref(name)
            return str(cfn_string(found)) if _scalar(found) else match.group(0)

        text = _SUB_VARIABLE.sub(replace, str(text))
        remaining = {name: v for name, v in local.items() if f"${{{name}}}" in text}
        if not _SUB_VARIABLE.search(text):
            return text.replace("${!", "${")
        return {"Fn::Sub": [text, remaining] if remaining else text}


def _scalar(value: Any) -> bool:
    return isinstance(value, (str, int, float, bool))


def _concrete(value: Any) -> bool:
    if isinstance(value, list):
        return all(_concrete(v) for v in value)
    return _scalar(value)


def _kept(value: Any) -> Any:
    """A value that stays in the template: ``AWS::NoValue`` written back as its ``Ref``."""
    return {"Ref": "AWS::NoValue"} if value is NO_VALUE else value


def _pseudo(region: str | None, account: str | None) -> dict[str, str]:
    found = {}
    if region is not None:
        found["AWS::Region"] = region
    if account is not None:
        found["AWS::AccountId"] = account
    return found


def _scope(template: Mapping[str, Any], parameters: Mapping[str, str], region: str | None,
           account: str | None) -> _Scope:
    values: dict[str, Any] = {**parameter_values(template, parameters),
                              **_pseudo(region, account)}
    return _Scope(values.get, template.get("Conditions") or {}, template.get("Mappings") or {})


def evaluate_condition(
    node: Any,
    ref: Callable[[str], Any],
    condition: Callable[[str], bool | None],
    mappings: Mapping[str, Any] | None = None,
) -> bool | None:
    """One condition expression, ``None`` when it depends on something unknown.

    ``ref(name)`` gives a parameter's or pseudo parameter's value (``None``: unknown) and
    ``condition(name)`` another condition's value. ``Fn::Equals`` compares string forms,
    as CloudFormation, where every parameter is a string, does.
    """
    return _Scope(ref, {}, mappings or {}, condition).truth(node)


def evaluate_conditions(
    template: Mapping[str, Any],
    parameters: Mapping[str, str],
    *,
    region: str | None = None,
    account: str | None = None,
) -> dict[str, bool | None]:
    """Every condition of ``template`` for these parameters (``None``: undecided)."""
    scope = _scope(template, parameters, region, account)
    return {name: scope.condition(name) for name in template.get("Conditions") or {}}


def resolve_value(
    node: Any,
    template: Mapping[str, Any],
    parameters: Mapping[str, str],
    *,
    region: str | None = None,
    account: str | None = None,
) -> Any:
    """One piece of ``template`` resolved as :func:`resolve_template` resolves it."""
    return _kept(_scope(template, parameters, region, account).value(node))


def _names_used(node: Any) -> Iterator[str]:
    """Parameters, pseudo parameters, resources and conditions a node refers to."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("Ref", "Condition") and isinstance(value, str):
                yield value
            elif key == "Fn::Sub":
                text = value if isinstance(value, str) else value[0]
                yield from (m.split(".")[0] for m in _SUB_VARIABLE.findall(str(text)))
            elif key == "Fn::If" and isinstance(value, list) and value:
                yield str(value[0])
            yield from _names_used(value)
    elif isinstance(node, list):
        for value in node:
            yield from _names_used(value)


def _maps_used(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "Fn::FindInMap" and isinstance(value, list) and isinstance(value[0], str):
                yield value[0]
            yield from _maps_used(value)
    elif isinstance(node, list):
        for value in node:
            yield from _maps_used(value)


def _section(scope: _Scope, entries: Mapping[str, Any]) -> dict[str, Any]:
    kept = {}
    for name, body in entries.items():
        condition = body.get("Condition") if isinstance(body, dict) else None
        held = None if condition is None else scope.condition(str(condition))
        if held is False:
            continue
        rest = {k: v for k, v in body.items() if not (k == "Condition" and held)}
        kept[name] = scope.value(rest)
    return kept


def resolve_template(
    template: Mapping[str, Any],
    parameters: Mapping[str, str],
    *,
    region: str | None = None,
    account: str | None = None,
) -> dict[str, Any]:
    """``template`` as CloudFormation would evaluate it with ``parameters`` (see the module).

    ``template`` is plain data with long-form intrinsics (``{"Fn::If": [...]}``);
    ``parameters`` are strings, as the API takes them (lists comma-separated); missing
    ones take their defaults. Parameters, mappings and conditions that nothing uses any
    more are dropped. The input is not changed.

    Raises:
        FieldError: an unknown or missing parameter, an undefined condition, or a
            ``Fn::FindInMap`` whose keys are not in the mappings.
    """
    scope = _scope(template, parameters, region, account)
    resolved: dict[str, Any] = {}
    for key, section in template.items():
        if key in ("Parameters", "Conditions", "Mappings"):
            continue
        if key in ("Resources", "Outputs"):
            resolved[key] = _section(scope, section or {})
        else:
            resolved[key] = copy.deepcopy(section)
    used = set(_names_used([resolved.get("Resources"), resolved.get("Outputs")]))
    definitions: Mapping[str, Any] = template.get("Conditions") or {}
    undecided = {name for name in definitions if name in used}
    pending = list(undecided)
    while pending:  # conditions that undecided ones refer to stay too
        for name in _names_used(definitions[pending.pop()]):
            if name in definitions and name not in undecided:
                undecided.add(name)
                pending.append(name)
    if undecided:
        resolved["Conditions"] = {
            name: _condition_kept(scope, definitions[name])
            for name in definitions if name in undecided}
        used |= set(_names_used(resolved["Conditions"]))
    mappings_used = set(_maps_used(resolved))
    mappings = {k: copy.deepcopy(v) for k, v in (template.get("Mappings") or {}).items()
                if k in mappings_used}
    if mappings:
        resolved["Mappings"] = mappings
    declared = template.get("Parameters") or {}
    kept_parameters = {k: copy.deepcopy(v) for k, v in declared.items() if k in used}
    if kept_parameters:
        resolved["Parameters"] = kept_parameters
    order = list(template)
    return dict(sorted(resolved.items(),
                       key=lambda item: order.index(item[0]) if item[0] in order else len(order)))


def _condition_kept(scope: _Scope, node: Any) -> Any:
    """An undecided condition's definition with what is known substituted, its references
    to other conditions kept (a condition cannot hold a literal boolean)."""
    if isinstance(node, list):
        return [_condition_kept(scope, item) for item in node]
    if isinstance(node, dict) and len(node) == 1:
        ((key, arg),) = node.items()
        if key == "Condition":
            return {"Condition": arg}
        if key in _CONDITION_FUNCTIONS:
            if key == "Fn::Equals":
                return {key: [_kept(scope.value(item)) for item in arg]}
            return {key: _condition_kept(scope, arg)}
    return _kept(scope.value(node))


def drop_other_profiles_skips(template: dict[str, Any], profile: str) -> dict[str, Any]:
    """``template`` (resolved) without the checkov skips that hold for another compliance
    profile only: a skip ``{id, comment, profile: standard}`` excuses what strict fixes,
    so the strict template carries none of them and checkov judges those controls.
    Changes ``template`` in place and returns it.

    .. versionadded:: 0.3.0
    """
    for body in (template.get("Resources") or {}).values():
        checkov = (body.get("Metadata") or {}).get("checkov") if isinstance(body, dict) else None
        if not isinstance(checkov, dict) or not isinstance(checkov.get("skip"), list):
            continue
        checkov["skip"] = [s for s in checkov["skip"]
                           if not isinstance(s, dict) or s.get("profile", profile) == profile]
        if not checkov["skip"]:
            del body["Metadata"]["checkov"]
            if not body["Metadata"]:
                del body["Metadata"]
    return template
