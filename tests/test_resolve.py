"""The one CloudFormation evaluator (fluoride.infra.resolve), by tables."""

from __future__ import annotations

from typing import Any

import pytest

from fluoride.errors import FieldError
from fluoride.infra.policy_report import parse_template, template_text
from fluoride.infra.resolve import (
    evaluate_condition,
    evaluate_conditions,
    parameter_values,
    resolve_template,
    resolve_value,
)

TEMPLATE: dict[str, Any] = {
    "Parameters": {
        "Name": {"Type": "String"},
        "Count": {"Type": "Number", "Default": 0},
        "Flag": {"Type": "String", "Default": "false"},
        "Ids": {"Type": "CommaDelimitedList", "Default": "a,b,c"},
        "Subnets": {"Type": "List<AWS::EC2::Subnet::Id>", "Default": ""},
        "Unused": {"Type": "String", "Default": "x"},
    },
    "Mappings": {"Accounts": {"us-east-1": {"Id": "127311923021"}},
                 "Other": {"k": {"v": "1"}}},
    "Conditions": {
        "IsZero": {"Fn::Equals": [{"Ref": "Count"}, 0]},
        "FlagOn": {"Fn::Equals": [{"Ref": "Flag"}, True]},
        "Both": {"Fn::And": [{"Condition": "IsZero"}, {"Condition": "FlagOn"}]},
        "Either": {"Fn::Or": [{"Condition": "IsZero"}, {"Condition": "FlagOn"}]},
        "NotZero": {"Fn::Not": [{"Condition": "IsZero"}]},
        "InUsEast1": {"Fn::Equals": [{"Ref": "AWS::Region"}, "us-east-1"]},
        "ZeroInUsEast1": {"Fn::And": [{"Condition": "IsZero"}, {"Condition": "InUsEast1"}]},
    },
    "Resources": {
        "Always": {"Type": "AWS::SQS::Queue", "Properties": {
            "QueueName": {"Fn::Sub": "${Name}-${AWS::Region}-${Queue.Arn}-${!Literal}"},
            "Tags": [
                {"Key": "joined", "Value": {"Fn::Join": [",", {"Ref": "Ids"}]}},
                {"Key": "second", "Value": {"Fn::Select": [1, {"Ref": "Ids"}]}},
                {"Key": "split", "Value": {"Fn::Select": [0, {"Fn::Split": ["-", "p-q"]}]}},
                {"Key": "if", "Value": {"Fn::If": ["IsZero", "zero", "many"]}},
                {"Key": "map", "Value": {"Fn::FindInMap": ["Accounts", {"Ref": "AWS::Region"},
                                                           "Id"]}},
                {"Fn::If": ["FlagOn", {"Key": "flag", "Value": "on"}, {"Ref": "AWS::NoValue"}]},
            ],
            "DelaySeconds": {"Fn::If": ["NotZero", {"Ref": "Count"}, {"Ref": "AWS::NoValue"}]},
            "Arn": {"Fn::GetAtt": ["Queue", "Arn"]},
            "Other": {"Ref": "Queue"},
        }},
        "Queue": {"Type": "AWS::SQS::Queue", "Condition": "IsZero"},
        "WhenNotZero": {"Type": "AWS::SQS::Queue", "Condition": "NotZero"},
        "Regional": {"Type": "AWS::SQS::Queue", "Condition": "ZeroInUsEast1",
                     "Properties": {"QueueName": {"Fn::If": ["InUsEast1", "east", "west"]}}},
    },
    "Outputs": {
        "Zero": {"Condition": "IsZero", "Value": {"Ref": "Queue"}},
        "Many": {"Condition": "NotZero", "Value": {"Ref": "WhenNotZero"}},
        "AccountId": {"Value": {"Fn::Sub": "${AWS::AccountId}"}},
    },
}


@pytest.mark.parametrize(("parameters", "expected"), [
    ({"Name": "n"}, {"IsZero": True, "FlagOn": False, "Both": False, "Either": True,
                     "NotZero": False, "InUsEast1": None, "ZeroInUsEast1": None}),
    ({"Name": "n", "Count": "0", "Flag": "true"},
     {"IsZero": True, "FlagOn": True, "Both": True, "Either": True, "NotZero": False,
      "InUsEast1": None, "ZeroInUsEast1": None}),
    ({"Name": "n", "Count": "3"},
     {"IsZero": False, "FlagOn": False, "Both": False, "Either": False, "NotZero": True,
      "InUsEast1": None, "ZeroInUsEast1": False}),  # And with one false side is decided
])
def test_conditions(parameters: dict[str, str], expected: dict[str, bool | None]) -> None:
    assert evaluate_conditions(TEMPLATE, parameters) == expected


@pytest.mark.parametrize(("region", "expected"), [
    ("us-east-1", True), ("eu-west-1", False), (None, None)])
def test_a_condition_on_the_region_is_decided_only_with_it(
    region: str | None, expected: bool | None
) -> None:
    assert evaluate_conditions(TEMPLATE, {"Name": "n"}, region=region)["InUsEast1"] is expected


@pytest.mark.parametrize(("node", "expected"), [
    ({"Fn::Equals": ["a", "a"]}, True),
    ({"Fn::Equals": [{"Ref": "P"}, "1"]}, True),  # numbers compare as their strings
    ({"Fn::Equals": [{"Ref": "B"}, "true"]}, True),  # booleans as true/false
    ({"Fn::Equals": [{"Ref": "Unknown"}, "x"]}, None),
    ({"Fn::Or": [{"Fn::Equals": [{"Ref": "Unknown"}, "x"]}, {"Condition": "Yes"}]}, True),
    ({"Fn::And": [{"Fn::Equals": [{"Ref": "Unknown"}, "x"]}, {"Condition": "No"}]}, False),
    ({"Fn::And": [{"Fn::Equals": [{"Ref": "Unknown"}, "x"]}, {"Condition": "Yes"}]}, None),
    ({"Fn::Not": [{"Condition": "No"}]}, True),
    ({"Fn::Equals": [{"Fn::Join": ["", [{"Fn::Select": [0, {"Ref": "L"}]}, "x"]]}, "ax"]}, True),
    ({"Fn::Equals": [{"Fn::Join": [",", {"Ref": "L"}]}, "a,b,c"]}, False),
    ({"Fn::Equals": [{"Fn::Select": [1, {"Ref": "L"}]}, "b"]}, True),
    ({"Fn::Equals": [{"Fn::FindInMap": ["M", "k", "v"]}, "1"]}, True),
    (True, True),
])
def test_evaluate_condition(node: Any, expected: bool | None) -> None:
    values: dict[str, Any] = {"P": 1, "B": True, "L": ["a", "b"]}
    conditions = {"Yes": True, "No": False}
    assert evaluate_condition(node, values.get, conditions.__getitem__,
                              {"M": {"k": {"v": "1"}}}) is expected


def test_resolved_template() -> None:
    resolved = resolve_template(TEMPLATE, {"Name": "n", "Flag": "true"}, region="us-east-1")
    always = resolved["Resources"]["Always"]["Properties"]
    assert always["QueueName"] == {"Fn::Sub": "n-us-east-1-${Queue.Arn}-${!Literal}"}
    assert always["Tags"] == [
        {"Key": "joined", "Value": "a,b,c"}, {"Key": "second", "Value": "b"},
        {"Key": "split", "Value": "p"}, {"Key": "if", "Value": "zero"},
        {"Key": "map", "Value": "127311923021"}, {"Key": "flag", "Value": "on"}]
    assert "DelaySeconds" not in always  # Fn::If to AWS::NoValue removes the property
    assert always["Arn"] == {"Fn::GetAtt": ["Queue", "Arn"]}
    assert always["Other"] == {"Ref": "Queue"}
    assert set(resolved["Resources"]) == {"Always", "Queue", "Regional"}
    assert "Condition" not in resolved["Resources"]["Queue"]
    assert resolved["Resources"]["Regional"]["Properties"] == {"QueueName": "east"}
    assert resolved["Outputs"] == {"Zero": {"Value": {"Ref": "Queue"}},
                                   "AccountId": {"Value": {"Fn::Sub": "${AWS::AccountId}"}}}
    # Everything decided: no conditions, parameters or mappings are left to read.
    assert [k for k in resolved if k in ("Conditions", "Parameters", "Mappings")] == []


def test_what_depends_on_something_not_given_stays() -> None:
    resolved = resolve_template(TEMPLATE, {"Name": "n"}, account="111122223333")
    assert resolved["Outputs"]["AccountId"] == {"Value": "111122223333"}
    regional = resolved["Resources"]["Regional"]
    assert regional["Condition"] == "ZeroInUsEast1"
    assert regional["Properties"]["QueueName"] == {"Fn::If": ["InUsEast1", "east", "west"]}
    assert resolved["Conditions"] == {
        "IsZero": {"Fn::Equals": ["0", 0]},
        "InUsEast1": {"Fn::Equals": [{"Ref": "AWS::Region"}, "us-east-1"]},
        "ZeroInUsEast1": {"Fn::And": [{"Condition": "IsZero"}, {"Condition": "InUsEast1"}]},
    }
    tags = resolved["Resources"]["Always"]["Properties"]["Tags"]
    assert {"Key": "map", "Value": {"Fn::FindInMap": ["Accounts", {"Ref": "AWS::Region"},
                                                      "Id"]}} in tags
    assert resolved["Mappings"] == {"Accounts": TEMPLATE["Mappings"]["Accounts"]}
    assert "Parameters" not in resolved


def test_the_input_is_not_changed() -> None:
    before = repr(TEMPLATE)
    resolve_template(TEMPLATE, {"Name": "n"}, region="us-east-1")
    assert repr(TEMPLATE) == before


def test_parameter_values() -> None:
    values = parameter_values(TEMPLATE, {"Name": "n", "Ids": "x,y"})
    assert values == {"Name": "n", "Count": "0", "Flag": "false", "Ids": ["x", "y"],
                      "Subnets": [""], "Unused": "x"}


@pytest.mark.parametrize(("parameters", "message"), [
    ({}, "parameters['Name']: is required"),
    ({"Name": "n", "Nme": "typo"}, "'Nme' is not a parameter of the template"),
])
def test_bad_parameters(parameters: dict[str, str], message: str) -> None:
    with pytest.raises(FieldError, match=message.replace("[", r"\[").replace("]", r"\]")):
        resolve_template(TEMPLATE, parameters)


@pytest.mark.parametrize(("node", "message"), [
    ({"Fn::If": ["Nope", "a", "b"]}, "'Nope' is used but not defined"),
    ({"Fn::FindInMap": ["Accounts", "mars-1", "Id"]}, "Accounts/mars-1/Id is not in"),
])
def test_bad_references(node: Any, message: str) -> None:
    with pytest.raises(FieldError, match=message):
        resolve_value(node, TEMPLATE, {"Name": "n"})


def test_the_shipped_template_resolves_with_nothing_unresolved_but_resources() -> None:
    template = parse_template(template_text())
    resolved = resolve_template(template, {"ServiceName": "hello", "VpcId": "vpc-1",
                                           "SubnetIds": "subnet-1,subnet-2"},
                                region="eu-west-1", account="123456789012")
    assert "Conditions" not in resolved
    text = repr(resolved)
    assert "Fn::If" not in text
    assert "AWS::NoValue" not in text
    assert "Fn::FindInMap" not in text
    refs = set(_refs(resolved))
    assert refs <= set(resolved["Resources"]) | {"AWS::StackName", "AWS::Partition",
                                                 "AWS::URLSuffix", "AWS::StackId"}


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["Ref"]] if isinstance(node.get("Ref"), str) else []
        return found + [r for v in node.values() for r in _refs(v)]
    if isinstance(node, list):
        return [r for v in node for r in _refs(v)]
    return []
