"""A small CloudFormation renderer for tests: the template's resources for given parameters.

It evaluates conditions (with the package's one evaluator, ``fluoride.infra.resolve``) and
the intrinsics the template uses (Ref, GetAtt, Sub, If, Join, Select, Split, FindInMap,
AWS::NoValue) on concrete parameters, with fake but realistic physical ids and ARNs, so
tests can read the exact IAM policies and security group rules a stack would get.
It fails loudly on anything it does not know.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from fluoride.infra.policy_report import parse_template, template_text
from fluoride.infra.resolve import evaluate_condition

ACCOUNT = "123456789012"
REGION = "eu-west-1"
_NO_VALUE = object()


@attrs.frozen
class Rendered:
    """The resources that exist for one parameter set, their properties resolved.

    Attributes:
        parameters: every parameter's value (defaults filled in; lists for list types).
        resources: logical id -> {"Type", "Properties", ...} for resources whose condition
            holds, with properties resolved.
        physical: logical id -> physical id (what Ref returns).
    """

    parameters: dict[str, Any]
    resources: dict[str, dict[str, Any]]
    physical: dict[str, str]
    types: dict[str, str]
    account: str = ACCOUNT
    region: str = REGION

    def of_type(self, kind: str) -> dict[str, dict[str, Any]]:
        return {k: v for k, v in self.resources.items() if v["Type"] == kind}

    def arn(self, logical: str) -> str:
        return _get_att(self, logical, "Arn")


def render(
    parameters: Mapping[str, str],
    *,
    template: dict[str, Any] | None = None,
    account: str = ACCOUNT,
    region: str = REGION,
    stack_name: str | None = None,
) -> Rendered:
    """Render ``template`` (the shipped one by default) for ``parameters`` (strings)."""
    template = parse_template(template_text()) if template is None else template
    declared = template["Parameters"]
    unknown = set(parameters) - set(declared)
    assert not unknown, f"parameters the template does not declare: {unknown}"
    values: dict[str, Any] = {}
    for name, decl in declared.items():
        if name in parameters:
            raw: Any = parameters[name]
        else:
            assert "Default" in decl, f"parameter {name} is required"
            raw = decl["Default"]
        raw = str(raw)
        kind = decl["Type"]
        values[name] = (
            raw.split(",") if kind.startswith("List<") or kind == ("CommaDelimitedList") else raw
        )
    # An environment's template has no ServiceName: its callers name the stack.
    stack = stack_name or f"fluoride-{values['ServiceName']}"
    pseudo = {
        "AWS::AccountId": account,
        "AWS::Region": region,
        "AWS::Partition": "aws",
        "AWS::StackName": stack,
        "AWS::StackId": f"arn:aws:cloudformation:{region}:{account}:stack/{stack}/0000",
        "AWS::URLSuffix": "amazonaws.com",
    }
    ctx = _Context(template, values, pseudo, account, region, stack)
    types = {k: v["Type"] for k, v in template["Resources"].items()}
    rendered = Rendered(values, {}, ctx.physical, types, account, region)
    ctx.rendered = rendered
    for logical, res in template["Resources"].items():
        if "Condition" in res and not ctx.condition(res["Condition"]):
            continue
        ctx.physical[logical] = ctx.physical_id(logical, res)
    for logical, res in template["Resources"].items():
        if logical not in ctx.physical:
            continue
        props = ctx.resolve(res.get("Properties", {}))
        rendered.resources[logical] = {**res, "Properties": props}
    return rendered


@attrs.define
class _Context:
    template: dict[str, Any]
    values: dict[str, Any]
    pseudo: dict[str, str]
    account: str
    region: str
    stack: str
    physical: dict[str, str] = attrs.field(factory=dict)
    rendered: Rendered | None = None
    _conditions: dict[str, bool] = attrs.field(factory=dict)

    def condition(self, name: str) -> bool:
        """A condition's value, by the package's one evaluator (fluoride.infra.resolve)."""
        if name not in self._conditions:
            held = evaluate_condition(self.template["Conditions"][name], self._known,
                                      self.condition, self.template.get("Mappings"))
            assert held is not None, f"condition {name} is undecided for these parameters"
            self._conditions[name] = held
        return self._conditions[name]

    def _known(self, name: str) -> Any:
        return self.values.get(name, self.pseudo.get(name))

    def physical_id(self, logical: str, res: dict[str, Any]) -> str:
        kind = res["Type"]
        props = res.get("Properties", {})
        generated = f"{self.stack}-{logical}-0ABCDEF1234"
        if kind == "AWS::DynamoDB::Table":
            name = self.resolve(props.get("TableName", {"Ref": "AWS::NoValue"}))
            return generated if name is _NO_VALUE else str(name)
        if kind == "AWS::S3::Bucket":
            name = self.resolve(props.get("BucketName", {"Ref": "AWS::NoValue"}))
            return generated.lower() if name is _NO_VALUE else str(name)
        if kind == "AWS::SecretsManager::Secret":
            name = self.resolve(props["Name"])
            return f"arn:aws:secretsmanager:{self.region}:{self.account}:secret:{name}-AbCdEf"
        if kind == "AWS::IAM::Role":
            return f"{self.stack}-{logical}-0ABCDEF1234"
        if kind == "AWS::EC2::SecurityGroup":
            return f"sg-{self.stack}-{logical}".lower()
        if kind == "AWS::ECR::Repository":
            return str(self.resolve(props["RepositoryName"]))
        if kind == "AWS::Logs::LogGroup":
            return str(self.resolve(props["LogGroupName"]))
        if kind == "AWS::ECS::Cluster":
            return str(self.resolve(props["ClusterName"]))
        if kind.startswith("AWS::ElasticLoadBalancingV2::"):
            return (
                f"arn:aws:elasticloadbalancing:{self.region}:{self.account}:{logical}/{self.stack}"
            )
        return generated

    def resolve(self, node: Any) -> Any:
        if isinstance(node, list):
            out: Any = [self.resolve(x) for x in node]
            return [x for x in out if x is not _NO_VALUE]
        if not isinstance(node, dict):
            return node
        if len(node) == 1:
            ((key, arg),) = node.items()
            if key == "Ref":
                return self.ref(arg)
            if key == "Fn::GetAtt":
                assert self.rendered is not None
                return _get_att(self.rendered, arg[0], arg[1])
            if key == "Fn::Sub":
                return self.sub(arg)
            if key == "Fn::If":
                cond, yes, no = arg
                return self.resolve(yes if self.condition(cond) else no)
            if key == "Fn::Join":
                sep, parts = arg
                parts = self.resolve(parts)
                return sep.join(str(p) for p in parts)
            if key == "Fn::Select":
                index, items = arg
                return self.resolve(items)[int(self.resolve(index))]
            if key == "Fn::Split":
                sep, text = arg
                return str(self.resolve(text)).split(sep)
            if key == "Fn::FindInMap":
                table, top, second = (self.resolve(x) for x in arg)
                return self.template["Mappings"][table][top][second]
            if key.startswith("Fn::"):
                raise AssertionError(f"intrinsic {key} is not supported by the test renderer")
        out = {k: self.resolve(v) for k, v in node.items()}
        return {k: v for k, v in out.items() if v is not _NO_VALUE}

    def ref(self, name: str) -> Any:
        if name == "AWS::NoValue":
            return _NO_VALUE
        if name in self.pseudo:
            return self.pseudo[name]
        if name in self.values:
            return self.values[name]
        if name in self.physical:
            return self.physical[name]
        raise AssertionError(f"Ref to {name}, which does not exist for these parameters")

    def sub(self, arg: Any) -> str:
        text, variables = (arg, {}) if isinstance(arg, str) else arg
        local = {k: self.resolve(v) for k, v in variables.items()}
        out = []
        i = 0
        while i < len(text):
            start = text.find("${", i)
            if start < 0:
                out.append(text[i:])
                break
            out.append(text[i:start])
            end = text.index("}", start)
            name = text[start + 2 : end]
            if name in local:
                value = local[name]
            elif "." in name and not name.startswith("AWS::"):
                logical, attr = name.split(".", 1)
                assert self.rendered is not None
                value = _get_att(self.rendered, logical, attr)
            else:
                value = self.ref(name)
            out.append(str(value))
            i = end + 1
        return "".join(out)


def _get_att(rendered: Rendered, logical: str, attr: str) -> str:
    physical = rendered.physical.get(logical)
    assert physical is not None, f"GetAtt {logical}.{attr}: {logical} does not exist"
    account, region = rendered.account, rendered.region
    if attr == "Arn":
        if physical.startswith("arn:"):
            return physical
        kind = rendered.types[logical]
        if kind == "AWS::DynamoDB::Table":
            return f"arn:aws:dynamodb:{region}:{account}:table/{physical}"
        if kind == "AWS::S3::Bucket":
            return f"arn:aws:s3:::{physical}"
        if kind == "AWS::IAM::Role":
            return f"arn:aws:iam::{account}:role/{physical}"
        if kind == "AWS::Logs::LogGroup":
            return f"arn:aws:logs:{region}:{account}:log-group:{physical}:*"
        if kind == "AWS::ECR::Repository":
            return f"arn:aws:ecr:{region}:{account}:repository/{physical}"
    if attr == "GroupId":
        return physical
    return f"{physical}.{attr}"
