"""Pages generated from the code at build time, so they cannot drift from it.

``{fluoride-stack}``: what one stack creates, read from ``templates/fluoride.yaml``: a Mermaid
graph of its resources and the references between them (``Ref``, ``Fn::GetAtt``, ``${X}``
in ``Fn::Sub``, ``DependsOn``), and the same as a table (the graph is drawn by the reader's
browser; the table needs nothing).

``{fluoride-errors}``: the troubleshooting page, one section per class of the
:class:`~fluoride.errors.FluorideError` tree: its cause (the class's docstring), where it
is raised, and the hints Fluoride gives with it, read from the ``raise`` statements in
``src/fluoride`` (a hint made at run time is shown with ``…`` for its variable parts).
"""

from __future__ import annotations

import ast
import inspect
import re
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml
from docutils import nodes
from docutils.statemachine import StringList
from sphinx.application import Sphinx
from sphinx.util.docutils import SphinxDirective
from sphinx.util.nodes import nested_parse_with_titles

ROOT = Path(__file__).resolve().parent.parent.parent
TEMPLATE = ROOT / "templates" / "fluoride.yaml"
SOURCE = ROOT / "src" / "fluoride"

# ------------------------------------------------------------------------ the stack


class _CfnLoader(yaml.SafeLoader):
    """YAML with CloudFormation's short tags (!Ref X -> {"Ref": "X"}, !GetAtt A.B ...)."""


def _short_tag(loader: yaml.Loader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    name = "Ref" if suffix == "Ref" else f"Fn::{suffix}"
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
        if suffix == "GetAtt":
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return {name: value}


_CfnLoader.add_multi_constructor("!", _short_tag)


def load_template(path: Path = TEMPLATE) -> dict[str, Any]:
    return yaml.load(path.read_text(), Loader=_CfnLoader)  # a SafeLoader


def _references(value: Any, names: set[str]) -> Iterator[str]:
    """The resources a property value refers to."""
    if isinstance(value, dict):
        for key, inner in value.items():
            if key == "Ref" and inner in names:
                yield inner
            elif key == "Fn::GetAtt" and isinstance(inner, list) and inner[0] in names:
                yield inner[0]
            elif key == "Fn::Sub":
                text = inner[0] if isinstance(inner, list) else inner
                for ref in re.findall(r"\$\{([A-Za-z0-9]+)[.}]", str(text)):
                    if ref in names:
                        yield ref
                if isinstance(inner, list):
                    yield from _references(inner[1:], names)
            else:
                yield from _references(inner, names)
    elif isinstance(value, list):
        for inner in value:
            yield from _references(inner, names)


def stack_graph(template: dict[str, Any]) -> dict[str, tuple[str, str | None, list[str]]]:
    """Logical id -> (type, condition, the resources it refers to or depends on)."""
    resources: dict[str, Any] = template["Resources"]
    names = set(resources)
    graph = {}
    for logical_id, resource in resources.items():
        depends = resource.get("DependsOn", [])
        refs = set(_references(resource.get("Properties", {}), names))
        refs |= {depends} if isinstance(depends, str) else set(depends)
        refs.discard(logical_id)
        graph[logical_id] = (resource["Type"], resource.get("Condition"), sorted(refs))
    return graph


def _short(kind: str) -> str:
    return kind.removeprefix("AWS::").replace("ElasticLoadBalancingV2", "ELBv2")


# Boxes around the resources of one kind, by the start of their type.
GROUPS = (
    ("traffic", "Load balancer, DNS, network", ("AWS::ElasticLoadBalancingV2::", "AWS::EC2::",
                                                 "AWS::Route53::", "AWS::CertificateManager::")),
    ("compute", "Tasks", ("AWS::ECS::", "AWS::ApplicationAutoScaling::", "AWS::ECR::",
                          "AWS::Logs::")),
    ("iam", "Permissions and keys", ("AWS::IAM::", "AWS::KMS::")),
    ("data", "Data and access logs", ("AWS::DynamoDB::", "AWS::S3::", "AWS::SecretsManager::")),
    ("alarms", "Alarms", ("AWS::CloudWatch::", "AWS::Events::", "AWS::SNS::")),
)


def _group(kind: str) -> str | None:
    return next((key for key, _, starts in GROUPS if kind.startswith(starts)), None)


def mermaid(graph: dict[str, tuple[str, str | None, list[str]]]) -> list[str]:
    """A left-to-right graph, the resources boxed by kind; the many security group rules
    are one node."""
    folded: dict[str, str] = {}  # logical id -> the node that stands for it
    for logical_id, (kind, _, _) in graph.items():
        rule = kind == "AWS::EC2::SecurityGroupIngress"
        folded[logical_id] = "IngressRules" if rule else logical_id
    rules = sum(1 for k, _, _ in graph.values() if k == "AWS::EC2::SecurityGroupIngress")
    lines = ["flowchart LR"]
    seen: set[str] = set()
    boxes: dict[str | None, list[str]] = defaultdict(list)
    for logical_id, (kind, condition, _) in graph.items():
        node = folded[logical_id]
        if node in seen:
            continue
        seen.add(node)
        label = (f"{rules} security group rules" if node == "IngressRules"
                 else f"{logical_id}<br/><small>{_short(kind)}</small>")
        shape = ('("{}")' if condition else '["{}"]').format(label)
        boxes[_group(kind)].append(f"{node}{shape}")
    for key, title, _ in GROUPS:
        if boxes.get(key):
            lines += [f'  subgraph {key}["{title}"]', *(f"    {n}" for n in boxes[key]), "  end"]
    lines += [f"  {n}" for n in boxes.get(None, [])]
    edges = sorted({(folded[a], folded[b]) for a, (_, _, refs) in graph.items() for b in refs
                    if folded[a] != folded[b]})
    lines += [f"  {a} --> {b}" for a, b in edges]
    return lines


class StackDirective(SphinxDirective):
    """``{fluoride-stack}``: the template's resources as a Mermaid graph and a table."""

    def run(self) -> list[nodes.Node]:
        self.env.note_dependency(str(TEMPLATE))
        graph = stack_graph(load_template())
        conditional = sum(1 for _, c, _ in graph.values() if c)
        text = [
            f"The template has {len(graph)} resources; {conditional} of them are made only "
            "when a spec setting asks for them (rounded boxes in the graph, their condition "
            "in the table). An arrow points from a resource to one it refers to (``Ref``, "
            "``Fn::GetAtt``, ``Fn::Sub``) or waits for (``DependsOn``).",
            "",
            ".. mermaid::",
            "",
            *(f"   {line}" for line in mermaid(graph)),
            "",
            ".. list-table::",
            "   :header-rows: 1",
            "   :widths: 20 30 15 35",
            "",
            "   * - Resource",
            "     - Type (``AWS::``)",
            "     - Made when",
            "     - Refers to",
        ]
        for logical_id, (kind, condition, refs) in graph.items():
            text += [
                f"   * - ``{logical_id}``",
                f"     - ``{_short(kind)}``",
                f"     - {condition or 'always'}",
                f"     - {', '.join(f'``{r}``' for r in refs) or '—'}",
            ]
        return _parse(self, text)


# ----------------------------------------------------------------------- the errors


def _hint_text(node: ast.expr) -> str | None:
    """A hint's text as written: literal parts kept, run-time parts as ``…``."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(_hint_text(v) or "…" for v in node.values)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _hint_text(node.left), _hint_text(node.right)
        return None if left is None and right is None else (left or "…") + (right or "…")
    if isinstance(node, ast.FormattedValue):
        return None
    return None


def raised_hints(source: Path = SOURCE) -> dict[str, dict[str, set[str]]]:
    """Error class -> hint text -> the modules that raise it with that hint."""
    found: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for path in sorted(source.rglob("*.py")):
        module = ".".join(path.relative_to(source.parent).with_suffix("").parts)
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)):
                continue
            for keyword in node.keywords:
                if keyword.arg == "hint":
                    text = _hint_text(keyword.value)
                    if text and text.strip("… "):
                        found[node.func.id][" ".join(text.split())].add(module)
    return found


def error_classes() -> list[type[Exception]]:
    """Every subclass of FluorideError that Fluoride defines (the base first)."""
    import fluoride
    from fluoride.errors import FluorideError

    for name in fluoride.__all__:  # load every module that defines a public error
        getattr(fluoride, name)
    found: list[type[Exception]] = [FluorideError]
    for cls in found:
        found += [c for c in cls.__subclasses__()
                  if c.__module__.startswith("fluoride.") and c not in found]
    return found


def _depth_first(classes: list[type[Exception]]) -> list[type[Exception]]:
    """The tree in reading order: each class followed by its subclasses."""
    ordered: list[type[Exception]] = []

    def visit(cls: type[Exception]) -> None:
        ordered.append(cls)
        for sub in sorted((c for c in classes if c.__bases__[0] is cls), key=lambda c: c.__name__):
            visit(sub)

    visit(classes[0])
    return ordered


class ErrorsDirective(SphinxDirective):
    """``{fluoride-errors}``: one section per FluorideError class."""

    def run(self) -> list[nodes.Node]:
        self.env.note_dependency(str(SOURCE / "errors.py"))
        hints = raised_hints()
        text: list[str] = []
        for cls in _depth_first(error_classes()):
            name = cls.__name__
            doc = inspect.cleandoc(cls.__doc__ or "")
            parent = cls.__bases__[0].__name__
            text += [name, "-" * len(name), ""]
            if cls.__bases__[0] is not Exception:
                text += [f"Subclass of :class:`~fluoride.{parent}`." if _exported(parent)
                         else f"Subclass of ``{parent}``.", ""]
            text += [doc, ""]
            own = hints.get(name, {})
            if own:
                said = ("raised as ``FluorideError`` itself" if cls.__name__ == "FluorideError"
                        else "the hints Fluoride gives with it")
                text += [f"**What to do** ({said}):", ""]
                for hint, modules in sorted(own.items()):
                    where = ", ".join(f"``{m}``" for m in sorted(modules))
                    text += [f"- {_literals(_escape(hint))} (in {where})"]
                text += [""]
            elif name != "FieldError":
                text += ["**What to do:** read the message: it names what failed and why. "
                         "See :doc:`errors` for what it carries.", ""]
            text += [f"Catch it as :class:`fluoride.{name}`." if _exported(name)
                     else f"Catch it as ``fluoride.errors.{name}``.", ""]
        return _parse(self, text)


def _exported(name: str) -> bool:
    import fluoride

    return name in fluoride.__all__


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("*", r"\*").replace("|", r"\|")


def _literals(text: str) -> str:
    """A hint's `code` (markdown style) as a reST literal, and so a bare ``--option``
    (which smart quotes would turn into a dash)."""
    parts = re.split(r"(`[^`]+`)", text)
    return "".join(
        f"`{part}`" if part.startswith("`")
        else re.sub(r"(?<![\w-])(--[a-z][\w-]*)", r"``\1``", part)
        for part in parts
    )


def _parse(directive: SphinxDirective, text: list[str]) -> list[nodes.Node]:
    container = nodes.container()
    nested_parse_with_titles(directive.state, StringList(text, source="generated"), container)
    return list(container.children)


# ------------------------------------------------------------- references to public names


def resolve_public_name(app: Sphinx, env: Any, node: Any, contnode: nodes.Element) -> Any:
    """A docstring inside ``fluoride.logs`` says :class:`ConfigError`; the reference pages
    document it as ``fluoride.ConfigError``, where users import it from. Resolve a Python
    reference to ``X`` or ``fluoride.<module>.X`` to ``fluoride.X`` when ``X`` is exported,
    else to the one documented ``fluoride.<module>.X`` when there is exactly one."""
    import fluoride

    if node.get("refdomain") != "py":
        return None
    name = str(node["reftarget"]).rsplit(".", 1)[-1]
    domain = env.get_domain("py")
    if name in fluoride.__all__:
        target = f"fluoride.{name}"
    else:
        found = [full for full in domain.objects
                 if full.startswith("fluoride.") and full.endswith(f".{name}")]
        if len(found) != 1:
            return None
        target = found[0]
    if target == node["reftarget"]:
        return None
    node = node.deepcopy()
    node["reftarget"] = target
    return domain.resolve_xref(env, node["refdoc"], app.builder, node["reftype"], target,
                               node, contnode)


def setup(app: Sphinx) -> dict[str, Any]:
    app.connect("missing-reference", resolve_public_name)
    app.add_directive("fluoride-stack", StackDirective)
    app.add_directive("fluoride-errors", ErrorsDirective)
    return {"parallel_read_safe": True, "parallel_write_safe": True, "version": "1"}
