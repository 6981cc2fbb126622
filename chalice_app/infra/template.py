"""tgpipe's CloudFormation, read and checked offline.

* :func:`load` reads a template written in YAML with CloudFormation's short tags (``!Sub``...).
* :func:`compose` joins data.yaml (stands alone) and functions.yaml (attaches to the resources
  `chalice package` generates) into the one merge template `chalice package --merge-template` takes,
  with each function role's policy translated from its .chalice policy file (:func:`translate`):
  the files name the lake ``tgpipe-lake-<stage>`` and any region/account as ``*``; the stack's
  bucket carries the account and region (bucket names are global) and ARNs are made exact. Each
  function role also gets the bootstrap stack's permissions boundary (:data:`BOUNDARY`).
* :func:`check_boundaries` and :func:`check_deploy_trust` refuse a packaged template with a role
  lacking that boundary, and a bootstrap template whose deploy role trusts more than the
  repository's deployment environments by name.
* :func:`resolve` evaluates intrinsic functions for a made-up account, so policies can be linted as
  the JSON IAM will see; :func:`policies` lists every policy document of a template.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent
CHALICE_CONFIG = HERE.parent / ".chalice" / "config.json"
DATA_TEMPLATE = HERE / "data.yaml"
FUNCTIONS_TEMPLATE = HERE / "functions.yaml"
BOOTSTRAP_TEMPLATE = HERE / "bootstrap.yaml"

# The managed policy bootstrap.yaml exports as the ceiling of every role an app stack creates; the
# CloudFormation execution role may create and change roles only when they carry it.
BOUNDARY_EXPORT = "tgpipe-permissions-boundary"
BOUNDARY: dict[str, Any] = {"Fn::ImportValue": BOUNDARY_EXPORT}
_OIDC_SUB = "token.actions.githubusercontent.com:sub"

__all__ = [
    "BOUNDARY",
    "BOUNDARY_EXPORT",
    "Context",
    "TemplateError",
    "check_boundaries",
    "check_deploy_trust",
    "compose",
    "configured_bucket",
    "function_policies",
    "load",
    "policies",
    "resolve",
    "translate",
]


class TemplateError(ValueError):
    """A template cannot be composed or resolved."""


class _CfnLoader(yaml.SafeLoader):
    """SafeLoader plus CloudFormation's short tags, on a private class (PyYAML's are global)."""


def _short_tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
        if suffix == "GetAtt":
            value = str(value).split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        assert isinstance(node, yaml.MappingNode)
        value = loader.construct_mapping(node, deep=True)
    return {suffix if suffix in ("Ref", "Condition") else f"Fn::{suffix}": value}


_CfnLoader.add_multi_constructor("!", _short_tag)


def load(path: Path) -> dict[str, Any]:
    """A CloudFormation template (YAML with short tags, or JSON) as plain data."""
    data = yaml.load(path.read_text(), Loader=_CfnLoader)  # noqa: S506 - a SafeLoader subclass
    if not isinstance(data, dict):
        raise TemplateError(f"{path} is not a CloudFormation template")
    return data


def _union(a: Any, b: Any, where: str) -> Any:
    if isinstance(a, dict) and isinstance(b, dict):
        merged = dict(a)
        for key, value in b.items():
            merged[key] = _union(a[key], value, f"{where}.{key}") if key in a else value
        return merged
    if a == b:
        return a
    raise TemplateError(f"data.yaml and functions.yaml both define {where} differently")


def configured_bucket(stage: str) -> str:
    """The lake bucket as .chalice/config.json and the policy files name it for ``stage``."""
    return f"tgpipe-lake-{stage}"


_REGIONAL_WILDCARD = re.compile(r"arn:aws:([a-z0-9-]+):\*:\*:")


def translate(value: Any, stage: str, *, bucket: str = "${LakeBucket}") -> Any:
    """A policy value from a .chalice policy file, for the stack: ``arn:aws:s3:::tgpipe-lake-<stage>``
    becomes the stack's bucket, ``arn:aws:<service>:*:*:`` this region and account (Fn::Sub)."""
    if isinstance(value, list):
        return [translate(item, stage, bucket=bucket) for item in value]
    if isinstance(value, dict):
        return {key: translate(item, stage, bucket=bucket) for key, item in value.items()}
    if not isinstance(value, str) or not value.startswith("arn:"):
        return value
    lake = f"arn:aws:s3:::{configured_bucket(stage)}"
    if value == lake or value.startswith(lake + "/"):
        return {"Fn::Sub": "arn:${AWS::Partition}:s3:::" + bucket + value[len(lake) :]}
    if value.startswith("arn:aws:s3:::"):
        raise TemplateError(f"{value} is not in the stage's lake bucket {configured_bucket(stage)}")
    match = _REGIONAL_WILDCARD.match(value)
    if match:
        rest = value[match.end() :]
        return {
            "Fn::Sub": f"arn:${{AWS::Partition}}:{match.group(1)}:${{AWS::Region}}:${{AWS::AccountId}}:{rest}"
        }
    raise TemplateError(f"{value}: only the lake bucket and arn:aws:<service>:*:*: ARNs are translated")


def function_policies(stage: str) -> dict[str, dict[str, Any]]:
    """Each function's role (Chalice's logical id) -> its policy file for ``stage``, as written."""
    from chalice.utils import to_cfn_resource_name

    config = json.loads(CHALICE_CONFIG.read_text())
    if stage not in config["stages"]:
        known = ", ".join(sorted(config["stages"]))
        raise TemplateError(f"stage {stage!r} is not in .chalice/config.json ({known})")
    functions = config["stages"][stage]["lambda_functions"]
    found = {}
    for name, settings in sorted(functions.items()):
        path = CHALICE_CONFIG.parent / settings["iam_policy_file"]
        found[to_cfn_resource_name(f"{name}_role")] = json.loads(path.read_text())
    return found


def compose(stage: str) -> dict[str, Any]:
    """The merge template for one stage: data.yaml and functions.yaml together, every function role's
    policy translated from its file and the bootstrap's permissions boundary on it, Stage defaulting
    to ``stage`` so the packaged template deploys as is."""
    data = load(DATA_TEMPLATE)
    pattern = data["Parameters"]["Stage"]["AllowedPattern"]
    if not re.fullmatch(pattern.strip("^$"), stage):
        raise TemplateError(f"stage {stage!r} does not match {pattern}")
    overlay = load(FUNCTIONS_TEMPLATE)
    roles = {
        role: {
            "Properties": {
                "PermissionsBoundary": BOUNDARY,
                "Policies": [{"PolicyName": f"{role}Policy", "PolicyDocument": translate(doc, stage)}],
            }
        }
        for role, doc in function_policies(stage).items()
    }
    overlay["Resources"] = _union(overlay["Resources"], roles, "Resources")
    merged: dict[str, Any] = _union(data, {k: v for k, v in overlay.items() if k != "Description"}, "")
    merged["Parameters"]["Stage"]["Default"] = stage
    return merged


@dataclass(frozen=True)
class Context:
    """A made-up deployment to resolve a template in: account, region, stack, parameter values."""

    stage: str = "prod"
    account: str = "123456789012"
    region: str = "eu-west-1"
    partition: str = "aws"
    parameters: Mapping[str, str] = field(default_factory=dict)
    conditions: Mapping[str, bool] = field(default_factory=dict)

    @property
    def stack(self) -> str:
        return f"tgpipe-{self.stage}"


# What Ref and GetAtt return per resource type: (ref, {attribute: value}), from the physical name.
def _physical(template: Mapping[str, Any], logical: str, ctx: Context) -> tuple[str, dict[str, str]]:
    resource = template["Resources"][logical]
    kind = resource["Type"]
    props = resource.get("Properties", {})
    a, r, p = ctx.account, ctx.region, ctx.partition

    def named(prop: str) -> str:
        value = props.get(prop)
        return str(resolve(template, value, ctx)) if value is not None else f"{ctx.stack}-{logical}-0AB1C2"

    if kind == "AWS::S3::Bucket":
        name = named("BucketName")
        return name, {"Arn": f"arn:{p}:s3:::{name}"}
    if kind == "AWS::SQS::Queue":
        name = named("QueueName")
        return f"https://sqs.{r}.amazonaws.com/{a}/{name}", {
            "Arn": f"arn:{p}:sqs:{r}:{a}:{name}",
            "QueueName": name,
        }
    if kind == "AWS::SNS::Topic":
        arn = f"arn:{p}:sns:{r}:{a}:{named('TopicName')}"
        return arn, {"TopicArn": arn}
    if kind == "AWS::IAM::Role":
        name = named("RoleName")
        return name, {"Arn": f"arn:{p}:iam::{a}:role/{name}"}
    if kind == "AWS::IAM::ManagedPolicy":
        return f"arn:{p}:iam::{a}:policy/{named('ManagedPolicyName')}", {}
    if kind == "AWS::IAM::OIDCProvider":
        return f"arn:{p}:iam::{a}:oidc-provider/token.actions.githubusercontent.com", {}
    if kind in ("AWS::Serverless::Function", "AWS::Lambda::Function"):
        name = named("FunctionName")
        return name, {"Arn": f"arn:{p}:lambda:{r}:{a}:function:{name}"}
    if kind in ("AWS::Serverless::LayerVersion", "AWS::Lambda::LayerVersion"):
        return f"arn:{p}:lambda:{r}:{a}:layer:{named('LayerName')}:1", {}
    if kind == "AWS::Glue::Database":
        return str(resolve(template, props["DatabaseInput"]["Name"], ctx)), {}
    if kind == "AWS::Athena::WorkGroup":
        return named("Name"), {}
    if kind == "AWS::Logs::LogGroup":
        name = named("LogGroupName")
        return name, {"Arn": f"arn:{p}:logs:{r}:{a}:log-group:{name}:*"}
    if kind in ("AWS::Serverless::Api", "AWS::ApiGateway::RestApi"):
        return "abcdef1234", {"RootResourceId": "root123456"}
    return f"{ctx.stack}-{logical}-0AB1C2", {}


def _ref(template: Mapping[str, Any], name: str, ctx: Context) -> str:
    if name == "AWS::NoValue":
        return _NO_VALUE  # type: ignore[no-any-return]
    pseudo = {
        "AWS::AccountId": ctx.account,
        "AWS::Region": ctx.region,
        "AWS::Partition": ctx.partition,
        "AWS::StackName": ctx.stack,
        "AWS::URLSuffix": "amazonaws.com",
    }
    if name in pseudo:
        return pseudo[name]
    parameters = template.get("Parameters", {})
    if name in parameters:
        if name in ctx.parameters:
            return ctx.parameters[name]
        if name == "Stage":
            return ctx.stage
        if "Default" not in parameters[name]:
            raise TemplateError(f"parameter {name} has no default and no value in the context")
        return str(parameters[name]["Default"])
    if name in template.get("Resources", {}):
        return _physical(template, name, ctx)[0]
    raise TemplateError(f"Ref to unknown {name}")


def _getatt(template: Mapping[str, Any], logical: str, attribute: str, ctx: Context) -> str:
    if logical not in template.get("Resources", {}):
        raise TemplateError(f"GetAtt of unknown resource {logical}")
    attributes = _physical(template, logical, ctx)[1]
    if attribute not in attributes:
        raise TemplateError(f"GetAtt {logical}.{attribute} is not modelled here")
    return attributes[attribute]


def _import(name: str, ctx: Context) -> str:
    """An export of the bootstrap stack (the only stack tgpipe's templates import from), in ``ctx``."""
    bootstrap = load(BOOTSTRAP_TEMPLATE)
    for output in bootstrap.get("Outputs", {}).values():
        if "Export" in output and resolve(bootstrap, output["Export"]["Name"], ctx) == name:
            return str(resolve(bootstrap, output["Value"], ctx))
    raise TemplateError(f"ImportValue {name}: bootstrap.yaml exports no such name")


def _condition(template: Mapping[str, Any], name: str, ctx: Context) -> bool:
    if name in ctx.conditions:
        return ctx.conditions[name]
    return bool(resolve(template, template["Conditions"][name], ctx))


_NO_VALUE: Any = object()  # Ref AWS::NoValue: the property is left out
_SUB = re.compile(r"\$\{([^}!][^}]*)\}")


def resolve(template: Mapping[str, Any], value: Any, ctx: Context) -> Any:
    """``value`` with every intrinsic function evaluated in ``ctx``."""
    if isinstance(value, list):
        return [item for item in (resolve(template, item, ctx) for item in value) if item is not _NO_VALUE]
    if not isinstance(value, dict):
        return value
    if len(value) == 1:
        ((key, arg),) = value.items()
        if key == "Ref":
            return _ref(template, arg, ctx)
        if key == "Fn::GetAtt":
            return _getatt(template, arg[0], arg[1], ctx)
        if key == "Fn::Sub":
            text, variables = (arg, {}) if isinstance(arg, str) else (arg[0], arg[1])
            values = {k: str(resolve(template, v, ctx)) for k, v in variables.items()}

            def substitute(match: re.Match[str]) -> str:
                name = match.group(1)
                if name in values:
                    return values[name]
                if "." in name and not name.startswith("AWS::"):
                    logical, attribute = name.split(".", 1)
                    return _getatt(template, logical, attribute, ctx)
                return _ref(template, name, ctx)

            return _SUB.sub(substitute, text).replace("${!", "${")
        if key == "Fn::ImportValue":
            return _import(str(resolve(template, arg, ctx)), ctx)
        if key == "Fn::Join":
            return str(arg[0]).join(str(resolve(template, v, ctx)) for v in arg[1])
        if key == "Fn::If":
            return resolve(template, arg[1] if _condition(template, arg[0], ctx) else arg[2], ctx)
        if key == "Fn::Equals":
            return resolve(template, arg[0], ctx) == resolve(template, arg[1], ctx)
        if key == "Fn::Not":
            return not resolve(template, arg[0], ctx)
        if key == "Fn::And":
            return all(resolve(template, v, ctx) for v in arg)
        if key == "Fn::Or":
            return any(resolve(template, v, ctx) for v in arg)
        if key == "Condition":
            return _condition(template, arg, ctx)
        if key.startswith("Fn::"):
            raise TemplateError(f"{key} is not modelled here")
    return {k: v for k, v in ((k, resolve(template, v, ctx)) for k, v in value.items()) if v is not _NO_VALUE}


def policies(template: Mapping[str, Any], ctx: Context) -> Iterator[tuple[str, dict[str, Any]]]:
    """``(where, policy document)`` for every permission and resource policy of the template, resolved
    in ``ctx`` (resources whose Condition is false in ``ctx`` are left out)."""
    for logical, resource in template.get("Resources", {}).items():
        if "Condition" in resource and not _condition(template, resource["Condition"], ctx):
            continue
        props = resource.get("Properties", {})
        kind = resource["Type"]
        if kind == "AWS::IAM::Role":
            for policy in props.get("Policies", []):
                name = resolve(template, policy["PolicyName"], ctx)
                yield f"{logical}/{name}", resolve(template, copy.deepcopy(policy["PolicyDocument"]), ctx)
        elif kind in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy", "AWS::S3::BucketPolicy"):
            yield logical, resolve(template, copy.deepcopy(props["PolicyDocument"]), ctx)
        elif kind in ("AWS::Serverless::Function",) and props.get("Policies"):
            raise TemplateError(f"{logical}: SAM policy templates are not used here (give it a Role)")


def check_boundaries(template: Mapping[str, Any]) -> list[str]:
    """The roles of ``template`` (sorted), each carrying the bootstrap's permissions boundary exactly;
    a TemplateError names the first that does not, or a SAM function that would create its own role."""
    roles = []
    for logical, resource in sorted(template.get("Resources", {}).items()):
        kind, props = resource["Type"], resource.get("Properties", {})
        if kind == "AWS::Serverless::Function" and "Role" not in props:
            raise TemplateError(
                f"{logical} has no Role: SAM would create one without the permissions boundary"
            )
        if kind != "AWS::IAM::Role":
            continue
        if props.get("PermissionsBoundary") != BOUNDARY:
            found = json.dumps(props.get("PermissionsBoundary"))
            raise TemplateError(
                f"role {logical} has PermissionsBoundary {found}, not {json.dumps(BOUNDARY)}: the "
                "CloudFormation execution role may only create roles within the bootstrap's boundary"
            )
        roles.append(logical)
    return roles


def check_deploy_trust(template: Mapping[str, Any], ctx: Context) -> list[str]:
    """The OIDC subjects bootstrap's GitHubDeployRole trusts, resolved in ``ctx``: each must be exactly
    ``repo:<GitHubRepository>:environment:<stage>`` for a stage of .chalice/config.json, compared with
    StringEquals. Anything else (a wildcard environment, a branch, StringLike) is a TemplateError."""
    repository = _ref(template, "GitHubRepository", ctx)
    role = resolve(template, template["Resources"]["GitHubDeployRole"], ctx)
    stages = sorted(json.loads(CHALICE_CONFIG.read_text())["stages"])
    allowed = {f"repo:{repository}:environment:{stage}" for stage in stages}
    trusted: list[str] = []
    for statement in role["Properties"]["AssumeRolePolicyDocument"]["Statement"]:
        if statement["Effect"] != "Allow":
            continue
        conditions = statement.get("Condition", {})
        for operator, keys in conditions.items():
            if _OIDC_SUB in keys and operator != "StringEquals":
                raise TemplateError(
                    f"GitHubDeployRole compares {_OIDC_SUB} with {operator}: only StringEquals names "
                    "environments exactly"
                )
        subjects = conditions.get("StringEquals", {}).get(_OIDC_SUB)
        if subjects is None:
            raise TemplateError(f"GitHubDeployRole trusts any {_OIDC_SUB}: name the environments")
        for subject in subjects if isinstance(subjects, list) else [subjects]:
            if subject not in allowed:
                raise TemplateError(
                    f"GitHubDeployRole trusts {subject}: only "
                    f"{', '.join(sorted(allowed))} (the stages' environments) may deploy"
                )
            trusted.append(subject)
    return trusted
