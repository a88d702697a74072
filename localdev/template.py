"""Read ``template.yaml`` for local runs: HTTP API routes, DynamoDB tables, KMS keys, function environments.

Everything local (the dev server, the integration tests) derives its routes, table schemas and environment
variables from the SAM template through this module, so local behaviour cannot drift from what is deployed.

Route matching follows API Gateway HTTP APIs:

* a route key is ``METHOD /path`` where segments are literals, ``{name}`` (one non-empty segment) or a
  trailing greedy ``{name+}``; ``ANY`` matches every method;
* when several routes match, the most specific wins, segment by segment: a literal beats ``{param}``,
  which beats ``{param+}``; an explicit method beats ``ANY``;
* the path is matched exactly, so a trailing slash matters: ``/calendars/`` only matches a route declared
  as ``/calendars/`` (the template declares both ``/calendars`` and ``/calendars/`` for the list/create
  routes, GoHighLevel's documented path being ``/calendars/``); ``/calendars/abc/`` matches nothing.
"""

from __future__ import annotations

import base64
import copy
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import yaml

REPO_ROOT = Path(__file__).resolve().parent.parent
TEMPLATE_PATH = REPO_ROOT / "template.yaml"

LOCAL_STAGE = "local"
LOCAL_ACCOUNT_ID = "123456789012"
DEFAULT_REGION = "us-east-1"

_FUNCTION_TYPE = "AWS::Serverless::Function"
_TABLE_TYPE = "AWS::DynamoDB::Table"
_KMS_KEY_TYPE = "AWS::KMS::Key"
_LAYER_TYPES = ("AWS::Serverless::LayerVersion", "AWS::Lambda::LayerVersion")


# --------------------------------------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------------------------------------


class _CfnLoader(yaml.SafeLoader):
    """SafeLoader that turns CloudFormation short-form tags into their long form.

    ``!Ref X`` becomes ``{"Ref": "X"}``, ``!GetAtt A.B`` becomes ``{"Fn::GetAtt": ["A", "B"]}``,
    ``!Condition C`` becomes ``{"Condition": "C"}`` and any other ``!Tag v`` becomes ``{"Fn::Tag": v}``.
    """


def _construct_cfn_tag(loader: yaml.SafeLoader, tag_suffix: str, node: yaml.Node) -> dict[str, Any]:
    key = tag_suffix if tag_suffix in ("Ref", "Condition") else f"Fn::{tag_suffix}"
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
        if tag_suffix == "GetAtt":
            value = str(value).split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    return {key: value}


_CfnLoader.add_multi_constructor("!", _construct_cfn_tag)


def load_template(path: Path | str = TEMPLATE_PATH) -> dict[str, Any]:
    """Parse a CloudFormation/SAM YAML template, short-form intrinsics included.

    :param path: template file (default: the repository's ``template.yaml``).
    :return: the template as plain dicts/lists/scalars, intrinsics in long form (``{"Ref": ...}``).
    """
    with open(path, encoding="utf-8") as fh:
        template = yaml.load(fh, Loader=_CfnLoader)  # _CfnLoader is a SafeLoader
    if not isinstance(template, dict) or "Resources" not in template:
        raise ValueError(f"{path} is not a CloudFormation template (no Resources section)")
    return template


def _resources(
    template: Mapping[str, Any], resource_type: str | tuple[str, ...]
) -> dict[str, dict[str, Any]]:
    types = (resource_type,) if isinstance(resource_type, str) else resource_type
    return {
        logical_id: resource
        for logical_id, resource in template.get("Resources", {}).items()
        if resource.get("Type") in types
    }


def _sam_merge(global_value: Any, local_value: Any) -> Any:
    """Merge a ``Globals`` value into a resource value the way SAM does.

    Maps are merged key by key (resource wins), lists are concatenated (globals first), and any other
    resource value replaces the global one. Intrinsic-function maps are treated as opaque values.
    """
    if isinstance(global_value, dict) and isinstance(local_value, dict):
        if _is_intrinsic(global_value) or _is_intrinsic(local_value):
            return copy.deepcopy(local_value)
        merged = copy.deepcopy(global_value)
        for key, value in local_value.items():
            merged[key] = _sam_merge(merged[key], value) if key in merged else copy.deepcopy(value)
        return merged
    if isinstance(global_value, list) and isinstance(local_value, list):
        return copy.deepcopy(global_value) + copy.deepcopy(local_value)
    return copy.deepcopy(local_value)


def function_properties(template: Mapping[str, Any], logical_id: str) -> dict[str, Any]:
    """Properties of an ``AWS::Serverless::Function`` with ``Globals.Function`` merged in (SAM rules).

    :raises KeyError: if ``logical_id`` is not a serverless function of the template.
    """
    functions = _resources(template, _FUNCTION_TYPE)
    if logical_id not in functions:
        raise KeyError(f"{logical_id} is not an {_FUNCTION_TYPE} in the template")
    global_props = template.get("Globals", {}).get("Function", {})
    return _sam_merge(global_props, functions[logical_id].get("Properties", {}))


# --------------------------------------------------------------------------------------------------------
# Routes
# --------------------------------------------------------------------------------------------------------

_PARAM_SEGMENT = re.compile(r"^\{([A-Za-z0-9_.\-]+)(\+?)\}$")


@dataclass(frozen=True)
class Route:
    """One HTTP API route of the template, bound to the function that serves it.

    :ivar method: upper-case HTTP method, or ``ANY``.
    :ivar path: route path as declared, e.g. ``/calendars/{calendarId}``.
    :ivar function: logical id of the serving ``AWS::Serverless::Function``.
    :ivar code_dir: absolute path of the function's ``CodeUri`` directory.
    :ivar handler: ``module.function`` inside ``code_dir``, e.g. ``app.lambda_handler``.
    """

    method: str
    path: str
    function: str
    code_dir: Path
    handler: str = "app.lambda_handler"

    @property
    def route_key(self) -> str:
        """The API Gateway route key, ``"METHOD /path"`` (e.g. ``"GET /calendars/{calendarId}"``)."""
        return f"{self.method} {self.path}"

    @property
    def specificity(self) -> tuple[int, ...]:
        """Sort key, lower is more specific: per segment 0 literal, 1 ``{p}``, 2 ``{p+}``; then ANY last."""
        ranks = []
        for segment in self.path.split("/")[1:]:
            param = _PARAM_SEGMENT.match(segment)
            ranks.append(0 if param is None else 2 if param.group(2) else 1)
        return (*ranks, 1 if self.method == "ANY" else 0)

    def match(self, method: str, path: str) -> dict[str, str] | None:
        """Match a request against this route.

        :param method: request method (any case).
        :param path: request path as received (percent-encoded, no query string), e.g. ``/calendars/a%20b``.
        :return: the path parameters (percent-decoded, as API Gateway passes them; ``{}`` for a route
            without parameters), or ``None`` if method or path do not match.
        """
        if self.method not in ("ANY", method.upper()):
            return None
        if not path.startswith("/"):
            return None
        route_segments = self.path.split("/")[1:]
        request_segments = path.split("/")[1:]
        params: dict[str, str] = {}
        for index, route_segment in enumerate(route_segments):
            param = _PARAM_SEGMENT.match(route_segment)
            if param is not None and param.group(2):  # greedy {name+}: the rest, at least one character
                rest = "/".join(request_segments[index:])
                if not rest:
                    return None
                params[param.group(1)] = unquote(rest)
                return params
            if index >= len(request_segments):
                return None
            request_segment = unquote(request_segments[index])
            if param is None:
                if request_segment != route_segment:
                    return None
            elif request_segment:
                params[param.group(1)] = request_segment
            else:
                return None
        if len(request_segments) != len(route_segments):
            return None
        return params


def routes(template: Mapping[str, Any], base_dir: Path | str | None = None) -> list[Route]:
    """Every ``HttpApi`` event of every serverless function, in template order.

    :param template: a template from :func:`load_template`.
    :param base_dir: directory ``CodeUri`` is relative to (default: the repository root).
    :raises ValueError: for an ``HttpApi`` event without ``Path``/``Method`` (a ``$default`` catch-all,
        which the local router does not emulate) or a non-string ``CodeUri``.
    """
    root = Path(base_dir) if base_dir is not None else TEMPLATE_PATH.parent
    result: list[Route] = []
    for logical_id in _resources(template, _FUNCTION_TYPE):
        props = function_properties(template, logical_id)
        code_uri = props.get("CodeUri")
        if not isinstance(code_uri, str):
            raise ValueError(f"{logical_id}: CodeUri must be a local directory, got {code_uri!r}")
        code_dir = (root / code_uri).resolve()
        handler = props.get("Handler", "app.lambda_handler")
        for event_name, event in (props.get("Events") or {}).items():
            if event.get("Type") != "HttpApi":
                continue
            event_props = event.get("Properties") or {}
            path, method = event_props.get("Path"), event_props.get("Method")
            if not isinstance(path, str) or not isinstance(method, str):
                raise ValueError(f"{logical_id}.{event_name}: HttpApi events need a literal Path and Method")
            method = method.upper()
            result.append(
                Route(method=method, path=path, function=logical_id, code_dir=code_dir, handler=handler)
            )
    return result


class Router:
    """Pick the route for a request with API Gateway HTTP API precedence (see the module docstring)."""

    def __init__(self, route_list: Iterable[Route]) -> None:
        """:param route_list: routes, e.g. ``routes(load_template())``; duplicate route keys are an error."""
        self.routes: list[Route] = sorted(route_list, key=lambda r: r.specificity)
        keys = [route.route_key for route in self.routes]
        duplicates = sorted({key for key in keys if keys.count(key) > 1})
        if duplicates:
            raise ValueError(f"duplicate route keys: {duplicates}")

    @classmethod
    def from_template(cls, template: Mapping[str, Any] | None = None) -> Router:
        """Router over :func:`routes` of ``template`` (default: the repository's template)."""
        return cls(routes(template if template is not None else load_template()))

    def resolve(self, method: str, path: str) -> tuple[Route, dict[str, str]] | None:
        """Find the route serving ``method path``.

        :param method: request method (any case).
        :param path: raw request path without the query string, e.g. ``/calendars/events``.
        :return: ``(route, path_parameters)`` or ``None`` when no route matches (API Gateway's 404).
        """
        for route in self.routes:  # sorted most specific first
            params = route.match(method, path)
            if params is not None:
                return route, params
        return None


# --------------------------------------------------------------------------------------------------------
# Tables
# --------------------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class TableDef:
    """A DynamoDB table of the template, ready for boto3.

    :ivar logical_id: the resource's logical id (e.g. ``SlotbookTable``).
    :ivar create_kwargs: keyword arguments for ``dynamodb_client.create_table(**create_kwargs)``.
    :ivar ttl_attribute: the TTL attribute name (epoch seconds) if TTL is enabled, else ``None``.
    """

    logical_id: str
    create_kwargs: dict[str, Any] = field(default_factory=dict)
    ttl_attribute: str | None = None

    @property
    def table_name(self) -> str:
        """Physical table name that :meth:`create_kwargs` creates."""
        return str(self.create_kwargs["TableName"])


def _index_kwargs(index: Mapping[str, Any], provisioned: bool) -> dict[str, Any]:
    kwargs: dict[str, Any] = {
        "IndexName": index["IndexName"],
        "KeySchema": copy.deepcopy(index["KeySchema"]),
        "Projection": copy.deepcopy(index.get("Projection", {"ProjectionType": "ALL"})),
    }
    if provisioned and "ProvisionedThroughput" in index:
        kwargs["ProvisionedThroughput"] = _throughput(index["ProvisionedThroughput"])
    return kwargs


def _throughput(value: Mapping[str, Any]) -> dict[str, int]:
    return {
        "ReadCapacityUnits": int(value["ReadCapacityUnits"]),
        "WriteCapacityUnits": int(value["WriteCapacityUnits"]),
    }


def table_definitions(
    template: Mapping[str, Any], name_override: Mapping[str, str] | None = None
) -> list[TableDef]:
    """Every ``AWS::DynamoDB::Table`` of the template as boto3 ``create_table`` kwargs.

    :param template: a template from :func:`load_template`.
    :param name_override: logical id -> physical table name; otherwise a literal ``TableName`` property,
        otherwise the logical id.
    :return: one :class:`TableDef` per table, in template order.
    """
    overrides = dict(name_override or {})
    result: list[TableDef] = []
    for logical_id, resource in _resources(template, _TABLE_TYPE).items():
        props = resource.get("Properties", {})
        declared_name = props.get("TableName")
        name = overrides.get(logical_id) or (declared_name if isinstance(declared_name, str) else logical_id)
        billing_mode = props.get("BillingMode", "PROVISIONED")
        provisioned = billing_mode == "PROVISIONED"
        kwargs: dict[str, Any] = {
            "TableName": name,
            "AttributeDefinitions": copy.deepcopy(props["AttributeDefinitions"]),
            "KeySchema": copy.deepcopy(props["KeySchema"]),
            "BillingMode": billing_mode,
        }
        if provisioned:
            kwargs["ProvisionedThroughput"] = _throughput(props["ProvisionedThroughput"])
        if props.get("GlobalSecondaryIndexes"):
            kwargs["GlobalSecondaryIndexes"] = [
                _index_kwargs(index, provisioned) for index in props["GlobalSecondaryIndexes"]
            ]
        if props.get("LocalSecondaryIndexes"):
            kwargs["LocalSecondaryIndexes"] = [
                _index_kwargs(index, provisioned=False) for index in props["LocalSecondaryIndexes"]
            ]
        stream = props.get("StreamSpecification")
        if isinstance(stream, dict) and "StreamViewType" in stream:
            view_type = stream["StreamViewType"]
            kwargs["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": view_type}
        ttl = props.get("TimeToLiveSpecification") or {}
        ttl_attribute = ttl.get("AttributeName") if ttl.get("Enabled") in (True, "true", "True") else None
        result.append(TableDef(logical_id=logical_id, create_kwargs=kwargs, ttl_attribute=ttl_attribute))
    return result


def create_tables(
    dynamodb_client: Any,
    table_names: Mapping[str, str] | None = None,
    template: Mapping[str, Any] | None = None,
) -> dict[str, str]:
    """Create every DynamoDB table of the template (with its GSIs and TTL) through ``dynamodb_client``.

    Meant for moto (tests, ``make dev``) so local schemas always equal the deployed ones.

    :param dynamodb_client: a boto3 DynamoDB *client*.
    :param table_names: optional logical id -> physical name overrides (see :func:`table_definitions`).
    :param template: template to read (default: the repository's ``template.yaml``).
    :return: logical id -> physical table name, for every table created.
    """
    tpl = template if template is not None else load_template()
    created: dict[str, str] = {}
    for table in table_definitions(tpl, table_names):
        dynamodb_client.create_table(**table.create_kwargs)
        dynamodb_client.get_waiter("table_exists").wait(
            TableName=table.table_name, WaiterConfig={"Delay": 1, "MaxAttempts": 30}
        )
        if table.ttl_attribute:
            dynamodb_client.update_time_to_live(
                TableName=table.table_name,
                TimeToLiveSpecification={"Enabled": True, "AttributeName": table.ttl_attribute},
            )
        created[table.logical_id] = table.table_name
    return created


def create_kms_keys(kms_client: Any, template: Mapping[str, Any] | None = None) -> dict[str, str]:
    """Create every ``AWS::KMS::Key`` of the template through ``kms_client`` (moto: tests, ``make dev``).

    Each key gets the template's ``KeySpec`` (default ``SYMMETRIC_DEFAULT``) and ``KeyUsage`` (default
    ``ENCRYPT_DECRYPT``), e.g. ``HMAC_256`` / ``GENERATE_VERIFY_MAC`` for a MAC key; a literal
    ``Description`` is kept. Key policies are not copied (moto does not enforce them).

    :param kms_client: a boto3 KMS *client*.
    :param template: template to read (default: the repository's ``template.yaml``).
    :return: logical id -> key id (what ``!Ref`` of the key gives on AWS), e.g.
        ``{"TokenKey": "<uuid>", "OAuthStateKey": "<uuid>"}``.
    """
    tpl = template if template is not None else load_template()
    created: dict[str, str] = {}
    for logical_id, resource in _resources(tpl, _KMS_KEY_TYPE).items():
        props = resource.get("Properties", {})
        kwargs: dict[str, Any] = {
            "KeySpec": props.get("KeySpec", "SYMMETRIC_DEFAULT"),
            "KeyUsage": props.get("KeyUsage", "ENCRYPT_DECRYPT"),
            "Description": props["Description"] if isinstance(props.get("Description"), str) else logical_id,
        }
        created[logical_id] = kms_client.create_key(**kwargs)["KeyMetadata"]["KeyId"]
    return created


# --------------------------------------------------------------------------------------------------------
# Intrinsic functions (enough of them for local environment variables)
# --------------------------------------------------------------------------------------------------------

_NO_VALUE = object()
_INTRINSICS = frozenset(
    {
        "Ref",
        "Condition",
        "Fn::GetAtt",
        "Fn::Sub",
        "Fn::Join",
        "Fn::Select",
        "Fn::Split",
        "Fn::If",
        "Fn::Equals",
        "Fn::Not",
        "Fn::And",
        "Fn::Or",
        "Fn::FindInMap",
        "Fn::Base64",
        "Fn::GetAZs",
        "Fn::ImportValue",
        "Fn::Cidr",
        "Fn::Length",
        "Fn::ToJsonString",
        "Fn::Transform",
    }
)
_SUB_VARIABLE = re.compile(r"\$\{([^}]*)\}")


def _is_intrinsic(value: Any) -> bool:
    return isinstance(value, dict) and len(value) == 1 and next(iter(value)) in _INTRINSICS


class _Resolver:
    """Resolve intrinsic functions against local values (parameters, physical names, pseudo parameters)."""

    def __init__(
        self,
        template: Mapping[str, Any],
        physical_names: Mapping[str, str],
        parameter_overrides: Mapping[str, str],
        region: str,
    ) -> None:
        self.template = template
        self.physical_names = physical_names
        self.parameter_overrides = parameter_overrides
        self.region = region

    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            items = [self.resolve(item) for item in value]
            return [item for item in items if item is not _NO_VALUE]
        if not isinstance(value, dict):
            return value
        if _is_intrinsic(value):
            ((name, argument),) = value.items()
            return self._intrinsic(name, argument)
        resolved = {key: self.resolve(item) for key, item in value.items()}
        return {key: item for key, item in resolved.items() if item is not _NO_VALUE}

    def _pseudo(self, name: str) -> Any:
        pseudo = {
            "AWS::Region": self.region,
            "AWS::AccountId": LOCAL_ACCOUNT_ID,
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::StackName": f"slotbook-{LOCAL_STAGE}",
            "AWS::StackId": f"arn:aws:cloudformation:{self.region}:{LOCAL_ACCOUNT_ID}:stack/slotbook-local/0",
            "AWS::NotificationARNs": [],
            "AWS::NoValue": _NO_VALUE,
        }
        if name not in pseudo:
            raise ValueError(f"unknown pseudo parameter {name}")
        return pseudo[name]

    def ref(self, name: str) -> Any:
        if name.startswith("AWS::"):
            return self._pseudo(name)
        parameters = self.template.get("Parameters", {})
        if name in parameters:
            if name in self.parameter_overrides:
                return self.parameter_overrides[name]
            if "Default" not in parameters[name]:
                raise ValueError(f"parameter {name} has no Default; pass it in parameter_overrides")
            return parameters[name]["Default"]
        if name in self.physical_names:
            return self.physical_names[name]
        if name in self.template.get("Resources", {}):
            return name
        raise ValueError(f"!Ref to unknown name {name!r}")

    def get_att(self, logical_id: str, attribute: str) -> str:
        resources = self.template.get("Resources", {})
        if logical_id not in resources:
            raise ValueError(f"!GetAtt of unknown resource {logical_id!r}")
        resource_type = resources[logical_id].get("Type")
        name = self.physical_names.get(logical_id, logical_id)
        if resource_type == _TABLE_TYPE and attribute == "Arn":
            return f"arn:aws:dynamodb:{self.region}:{LOCAL_ACCOUNT_ID}:table/{name}"
        if resource_type == _FUNCTION_TYPE and attribute == "Arn":
            return f"arn:aws:lambda:{self.region}:{LOCAL_ACCOUNT_ID}:function:{name}"
        return f"{name}.{attribute}"

    def condition(self, name: str) -> bool:
        conditions = self.template.get("Conditions", {})
        if name not in conditions:
            raise ValueError(f"unknown condition {name!r}")
        return bool(self.resolve(conditions[name]))

    def _sub(self, argument: Any) -> str:
        if isinstance(argument, list):
            text, variables = argument[0], self.resolve(argument[1])
        else:
            text, variables = argument, {}

        def replace(match: re.Match[str]) -> str:
            expression = match.group(1)
            if expression.startswith("!"):
                return "${" + expression[1:] + "}"
            if expression in variables:
                return _stringify(variables[expression])
            if "." in expression and not expression.startswith("AWS::"):
                logical_id, attribute = expression.split(".", 1)
                return self.get_att(logical_id, attribute)
            return _stringify(self.ref(expression))

        return _SUB_VARIABLE.sub(replace, text)

    def _intrinsic(self, name: str, argument: Any) -> Any:
        if name == "Ref":
            return self.ref(argument)
        if name == "Condition":
            return self.condition(argument)
        if name == "Fn::GetAtt":
            parts = argument.split(".", 1) if isinstance(argument, str) else self.resolve(argument)
            return self.get_att(parts[0], parts[1])
        if name == "Fn::Sub":
            return self._sub(argument)
        if name == "Fn::Join":
            delimiter, items = argument[0], self.resolve(argument[1])
            return delimiter.join(_stringify(item) for item in items)
        if name == "Fn::Select":
            index, items = self.resolve(argument[0]), self.resolve(argument[1])
            return items[int(index)]
        if name == "Fn::Split":
            delimiter, text = argument[0], self.resolve(argument[1])
            return str(text).split(delimiter)
        if name == "Fn::If":
            condition, if_true, if_false = argument
            return self.resolve(if_true if self.condition(condition) else if_false)
        if name == "Fn::Equals":
            left, right = self.resolve(argument)
            return _stringify(left) == _stringify(right)
        if name == "Fn::Not":
            return not self.resolve(argument[0])
        if name == "Fn::And":
            return all(self.resolve(argument))
        if name == "Fn::Or":
            return any(self.resolve(argument))
        if name == "Fn::FindInMap":
            map_name, top_key, second_key = self.resolve(argument)[:3]
            return self.template["Mappings"][map_name][top_key][second_key]
        if name == "Fn::Base64":
            return base64.b64encode(_stringify(self.resolve(argument)).encode()).decode()
        raise ValueError(f"{name} is not supported for local resolution")


def _stringify(value: Any) -> str:
    """Render a resolved value the way CloudFormation renders environment variable values."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    raise ValueError(f"cannot use {value!r} as a string value")


def function_environment(
    template: Mapping[str, Any],
    logical_id: str,
    table_names: Mapping[str, str] | None = None,
    parameter_overrides: Mapping[str, str] | None = None,
    region: str | None = None,
) -> dict[str, str]:
    """Environment variables of a function (``Globals`` merged in) with intrinsics resolved for local use.

    ``!Ref <Table>`` resolves to the local table name (``table_names``, else the name
    :func:`table_definitions` would create), ``!Ref Stage`` to ``"local"``, other parameters to
    ``parameter_overrides`` or their ``Default``, ``!GetAtt <Table>.Arn`` to a local ARN.

    :param template: a template from :func:`load_template`.
    :param logical_id: the ``AWS::Serverless::Function`` logical id, e.g. ``"AdminFunction"``.
    :param table_names: logical id -> physical name, e.g. the result of :func:`create_tables`.
    :param parameter_overrides: template parameter name -> value (``Stage`` defaults to ``"local"``).
    :param region: value of ``AWS::Region`` (default ``$AWS_DEFAULT_REGION`` or ``us-east-1``).
    :return: variable name -> string value.
    """
    physical = {table.logical_id: table.table_name for table in table_definitions(template, table_names)}
    overrides = {"Stage": LOCAL_STAGE, **dict(parameter_overrides or {})}
    resolver = _Resolver(
        template,
        physical_names=physical,
        parameter_overrides=overrides,
        region=region or os.environ.get("AWS_DEFAULT_REGION") or DEFAULT_REGION,
    )
    environment = resolver.resolve(function_properties(template, logical_id).get("Environment") or {})
    variables = (environment.get("Variables") if isinstance(environment, dict) else None) or {}
    return {name: _stringify(value) for name, value in variables.items()}


# --------------------------------------------------------------------------------------------------------
# Function runtime settings
# --------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FunctionConfig:
    """Runtime settings of a serverless function, ``Globals`` merged in.

    :ivar logical_id: the function's logical id.
    :ivar code_dir: absolute ``CodeUri`` directory.
    :ivar handler: ``module.function`` (e.g. ``app.lambda_handler``).
    :ivar memory_mb: ``MemorySize`` in MB (Lambda default 128).
    :ivar timeout_s: ``Timeout`` in seconds (Lambda default 3).
    :ivar layer_dirs: absolute ``ContentUri`` directories of the template's layers the function uses.
    """

    logical_id: str
    code_dir: Path
    handler: str
    memory_mb: int
    timeout_s: int
    layer_dirs: tuple[Path, ...]


def function_config(
    template: Mapping[str, Any], logical_id: str, base_dir: Path | str | None = None
) -> FunctionConfig:
    """Runtime settings of ``logical_id`` (see :class:`FunctionConfig`).

    :param base_dir: directory ``CodeUri``/``ContentUri`` are relative to (default: the repository root).
    """
    root = Path(base_dir) if base_dir is not None else TEMPLATE_PATH.parent
    props = function_properties(template, logical_id)
    layers = _resources(template, _LAYER_TYPES)
    layer_dirs: list[Path] = []
    for layer in props.get("Layers") or []:
        layer_id = layer.get("Ref") if isinstance(layer, dict) else None
        if layer_id in layers:
            content = layers[layer_id].get("Properties", {})
            content_uri = content.get("ContentUri") or content.get("Content")
            if isinstance(content_uri, str):
                layer_dirs.append((root / content_uri).resolve())
    return FunctionConfig(
        logical_id=logical_id,
        code_dir=(root / str(props["CodeUri"])).resolve(),
        handler=str(props.get("Handler", "app.lambda_handler")),
        memory_mb=int(props.get("MemorySize", 128)),
        timeout_s=int(props.get("Timeout", 3)),
        layer_dirs=tuple(layer_dirs),
    )


def function_ids(template: Mapping[str, Any]) -> list[str]:
    """Logical ids of every ``AWS::Serverless::Function`` in template order."""
    return list(_resources(template, _FUNCTION_TYPE))
