"""OData system query options, read the way the ABNF means them, and checked against the limits.

* The query string is split and decoded by hand (odata.md 2, percent-encoding pitfalls). A raw ``+``
  between a time and an ``hh:mm`` offset stays a plus, as the ABNF reads it (``request.args`` would
  make it a space); any other raw ``+`` is a space, as form-encoding clients (Python's requests, o.js)
  send spaces and as servlet gateways read them. A literal plus elsewhere must be sent as ``%2B``.
* ``$filter`` is parsed by ``odata-query`` (after ``not(`` without a space, which Mendix's own OData
  docs write, is given its space) and then walked against the entity set's filter limits (seed 8.5):
  a property or operator outside them answers 400 naming it; a construct the service does not
  implement at all (other functions, lambdas, arithmetic, aliases) answers 501. Operators, function
  names and the literals true, false and null are lower case (OData 4.0; case-insensitive names
  came with 4.01): another case answers 400 naming the lower-case form. A string function compared
  with a boolean (``contains(name,'x') eq true``) is that condition (or its negation).
* ``$orderby`` takes the set's sortable properties only (time series and aggregates: ``timestamp``).
* ``$search``, ``$apply``, ``$compute`` and the like answer 501; an unknown ``$option`` 400.
"""

from __future__ import annotations

import importlib
import re
from dataclasses import dataclass, field
from functools import cache
from urllib.parse import unquote

from emulator import errors, limits


class _Deferred:
    """A module of odata_query, imported when first used: the library builds its grammar's parse tables as it is
    imported (40 ms of every start, whether or not an OData query ever comes)."""

    def __init__(self, name: str):
        self._name = name

    def __getattr__(self, attr: str):
        return getattr(importlib.import_module(self._name), attr)


ast = _Deferred("odata_query.ast")
oq = _Deferred("odata_query.exceptions")
_grammar = _Deferred("odata_query.grammar")

SUPPORTED = ("$filter", "$orderby", "$top", "$skip", "$count", "$select", "$expand", "$format", "$skiptoken")
NOT_IMPLEMENTED = ("$search", "$apply", "$compute", "$levels", "$index", "$schemaversion", "$deltatoken", "$id")
STRING_FUNCTIONS = ("contains", "startswith", "endswith")


@cache
def _comparators() -> dict:
    return {ast.Eq: "eq", ast.NotEq: "ne", ast.Gt: "gt", ast.GtE: "ge", ast.Lt: "lt", ast.LtE: "le", ast.In: "in"}


_MIRROR = {"gt": "lt", "lt": "gt", "ge": "le", "le": "ge", "eq": "eq", "ne": "ne"}
_SPACE_PLUS = re.compile(r"\+(?!(?<=\d\+)\d{2}(?::|%3[Aa])\d{2})")
_BAD_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2}).{0,2}")
_NOT_PAREN = re.compile(r"(?i)(?<![A-Za-z0-9_'])not\(")
# Tokens OData 4.0 writes in lower case: the operators and the literals true, false and null.
_LOWER_CASE = frozenset({"AND", "OR", "NOT", "EQ", "NE", "LT", "LE", "GT", "GE", "IN", "ADD", "SUB", "MUL", "DIV",
                         "MOD", "BOOLEAN", "NULL", "ANY", "ALL"})


@cache
def _function_names() -> dict:
    return {name.lower(): name for name in _grammar.ODATA_FUNCTIONS}  # as the spec spells them (matchesPattern)


def odata_error(message: str, target: str | None = None, cls=errors.BadRequest) -> errors.ApiError:
    err = cls(message)
    err.target = target
    return err


def parse_query_string(raw: bytes) -> dict[str, str]:
    """Option name -> value, decoded with ``unquote`` (``+`` is a plus). Repeated options are refused."""
    try:
        text = raw.decode("ascii")
    except UnicodeDecodeError:
        raise odata_error("The query string must be percent-encoded ASCII") from None
    out: dict[str, str] = {}
    for part in text.split("&"):
        if not part:
            continue
        key, _, value = _SPACE_PLUS.sub(" ", part).partition("=")
        bad = _BAD_ESCAPE.search(part)
        if bad:  # unquote would keep it as text: RFC 3986 2.1 makes it no URL at all
            raise odata_error(f"The query string has an invalid percent-escape {bad.group(0)!r} (a % is followed by "
                              "two hexadecimal digits; a literal % is %25)")
        try:
            key, value = unquote(key, errors="strict"), unquote(value, errors="strict")
        except UnicodeDecodeError:
            raise odata_error("The query string is not valid UTF-8 after percent-decoding") from None
        if key in out:
            raise odata_error(f"The query option {key} is given more than once", key)
        out[key] = value
    return out


@dataclass
class Options:
    filter: ast._Node | None = None
    orderby: list[tuple[str, bool]] = field(default_factory=list)  # (property, descending)
    top: int | None = None
    skip: int = 0
    count: bool = False
    select: list[str] | None = None  # the structural properties of $select (None: all)
    select_navigation: list[str] = field(default_factory=list)  # the navigation properties $select names
    expand: dict[str, list[str] | None] = field(default_factory=dict)  # navigation -> selected properties
    raw: dict[str, str] = field(default_factory=dict)
    metadata: str = "minimal"  # the control information asked for: minimal, full or none (JSON format 3.1)


MAX_INTEGER = 2**31 - 1  # $top, $skip, $skiptoken: beyond it no store could page, and their sum must stay an int64


def _integer(name: str, value: str) -> int:
    if not (value.isascii() and value.isdigit()) or int(value) > MAX_INTEGER:  # isdigit alone takes "²" and "٣"
        raise odata_error(f"{name} must be a non-negative integer of at most {MAX_INTEGER}, not {value!r}", name)
    return int(value)


def _names(entity_set: dict) -> list[str]:
    return [p["name"] for p in entity_set["properties"]]


def _select(value: str, entity_set: dict, option: str = "$select") -> tuple[list[str] | None, list[str]]:
    """The structural properties (None: all) and the navigation properties a select list names: both are
    select items (Part 2 5.1.3; a navigation property selected without $expand is a link, shown with full
    control information only)."""
    items = [s.strip() for s in value.split(",")]
    names = _names(entity_set)
    navs = [n["name"] for n in entity_set["navigation"]]
    for item in items:
        if item not in names and item not in navs and item != "*":
            raise odata_error(f"{option}: {entity_set['name']} has no property {item!r}", item)
    selected_navs = [item for item in items if item in navs]
    return (None if "*" in items else [item for item in items if item in names]), selected_navs


# The options Part 2 5.1.2 allows inside $expand(...): this service implements $select there.
EXPAND_OPTIONS = ("$select", "$expand", "$filter", "$orderby", "$top", "$skip", "$count", "$search", "$levels",
                  "$compute", "$apply")


def _expand(value: str, entity_set: dict, model_sets: dict[str, dict]) -> dict[str, list[str] | None]:
    """Navigation property -> its selected properties (None: all). ``*`` expands every navigation property."""
    navs = {n["name"]: n for n in entity_set["navigation"]}
    out: dict[str, list[str] | None] = {}
    for item in _split_top_level(value, ","):
        if item.strip() == "*":
            out.update((name, None) for name in navs if name not in out)
            continue
        match = re.fullmatch(r"\s*([A-Za-z_][A-Za-z0-9_]*)\s*(?:\((.*)\))?\s*", item)
        if not match or match.group(1) not in navs:
            name = match.group(1) if match else item
            raise odata_error(f"$expand: {entity_set['name']} has no navigation property {name!r}", name)
        nav, nested = match.group(1), match.group(2)
        out[nav] = _expand_options(nav, nested, model_sets[navs[nav]["target"]]) if nested else None
    return out


def _expand_options(nav: str, text: str, target: dict) -> list[str] | None:
    """The options inside ``Nav(...)``, separated by semicolons: $select is served; another option of Part 2
    5.1.2 answers 501 naming it, anything else 400."""
    selected, seen = None, set()
    for part in _split_top_level(text, ";"):
        key, eq, value = part.partition("=")
        key = key.strip()
        if not eq or key not in EXPAND_OPTIONS:
            raise odata_error(f"$expand {nav}(...): {part.strip()!r} is no expand option (options are "
                              f"{', '.join(EXPAND_OPTIONS)}, separated by ';')", nav)
        if key in seen:
            raise odata_error(f"$expand {nav}(...): {key} is given more than once", key)
        seen.add(key)
        if key != "$select":
            raise odata_error(f"$expand {nav}(...): {key} inside an expansion is not supported by this service "
                              "(only $select is)", key, errors.NotImplementedYet)
        selected, _links = _select(value, target, f"$expand {nav} $select")
    return selected


def _split_top_level(value: str, separator: str) -> list[str]:
    """Split at ``separator`` outside parentheses and string literals."""
    parts, depth, current, quoted = [], 0, "", False
    for ch in value:
        if ch == "'":
            quoted = not quoted
        elif not quoted and ch == separator and depth == 0:
            parts.append(current)
            current = ""
            continue
        elif not quoted:
            depth += {"(": 1, ")": -1}.get(ch, 0)
        current += ch
    parts.append(current)
    return parts


def _orderby(value: str, entity_set: dict) -> list[tuple[str, bool]]:
    out = []
    names = _names(entity_set)
    for item in value.split(","):
        words = item.split()
        if not words or len(words) > 2 or (len(words) == 2 and words[1].lower() not in ("asc", "desc")):
            raise odata_error(f"$orderby: {item.strip()!r} is not 'property [asc|desc]'", "$orderby")
        name = words[0]
        if name not in names:
            raise odata_error(f"$orderby: {entity_set['name']} has no property {name!r}", name)
        if name not in entity_set["sortable"]:
            only = ", ".join(entity_set["sortable"])
            raise odata_error(f"$orderby: {entity_set['name']} cannot be sorted by {name!r}; MindSphere sorts it by "
                              f"{only} only", name)
        out.append((name, len(words) == 2 and words[1].lower() == "desc"))
    return out


def parse_options(params: dict[str, str], entity_set: dict, model_sets: dict[str, dict]) -> Options:
    options = Options(raw=params)
    for key in params:
        if not key.startswith("$"):
            continue  # custom query options are the service's to ignore
        if key in NOT_IMPLEMENTED:
            raise odata_error(f"The query option {key} is not supported by this service", key,
                              errors.NotImplementedYet)
        if key not in SUPPORTED:
            raise odata_error(f"Unknown system query option {key}", key)
    if "$filter" in params:
        options.filter = parse_filter(params["$filter"])
        check_filter(options.filter, entity_set)
    if "$orderby" in params:
        options.orderby = _orderby(params["$orderby"], entity_set)
    if "$top" in params:
        options.top = _integer("$top", params["$top"])
    options.skip = _integer("$skip", params["$skip"]) if "$skip" in params else 0
    if "$skiptoken" in params:
        options.skip += _integer("$skiptoken", params["$skiptoken"])
    if "$count" in params:
        if params["$count"] not in ("true", "false"):
            raise odata_error(f"$count must be true or false, not {params['$count']!r}", "$count")
        options.count = params["$count"] == "true"
    if "$select" in params:
        options.select, options.select_navigation = _select(params["$select"], entity_set)
    if "$expand" in params:
        options.expand = _expand(params["$expand"], entity_set, model_sets)
    return options


def _nesting(text: str) -> int:
    """How deeply the parentheses of a filter nest, string literals aside ('' is a quote inside one)."""
    depth = deepest = 0
    in_string = False
    for char in text:
        if char == "'":
            in_string = not in_string  # '' toggles twice: still inside
        elif not in_string and char == "(":
            depth += 1
            deepest = max(deepest, depth)
        elif not in_string and char == ")":
            depth -= 1
    return deepest


def parse_filter(text: str) -> ast._Node:
    text = _NOT_PAREN.sub(lambda m: m.group(0)[:-1] + " (", text)
    if _nesting(text) > limits.ODATA_FILTER_MAX_DEPTH:  # the parser recurses: 1000 levels were a 500
        raise odata_error(f"$filter nests more than {limits.ODATA_FILTER_MAX_DEPTH} levels of parentheses", "$filter")
    try:
        _check_case(text)
        return _normalise(_grammar.ODataParser().parse(_grammar.ODataLexer().tokenize(text)))
    except (oq.UnknownFunctionException, oq.UnsupportedFunctionException) as exc:
        raise odata_error(f"$filter: {exc}; this service supports {', '.join(STRING_FUNCTIONS)}", "$filter",
                          errors.NotImplementedYet) from None
    except oq.ODataException as exc:
        raise odata_error(f"$filter is not valid OData: {exc}", "$filter") from None


def _check_case(text: str) -> None:
    """Refuse an operator, literal or function name in another case than OData 4.0 writes it."""
    tokens = list(_grammar.ODataLexer().tokenize(text))
    for i, token in enumerate(tokens):
        end = tokens[i + 1].index if i + 1 < len(tokens) else len(text)
        word = text[token.index:end].strip()
        if token.type in _LOWER_CASE and word != word.lower():
            raise odata_error(f"$filter: OData writes operators and the literals true, false and null in lower "
                              f"case: '{word.lower()}', not '{word}'", word)
        if token.type == "ODATA_IDENTIFIER" and i + 1 < len(tokens) and tokens[i + 1].type == "(":
            canonical = _function_names().get(word.lower())
            if canonical is not None and word != canonical:
                raise odata_error(f"$filter: OData function names are written in lower case: '{canonical}', "
                                  f"not '{word}'", word)


def _normalise(node):
    """``contains(p,'x') eq true`` as ``contains(p,'x')``; ``eq false`` and ``ne true`` as its negation (the
    three string functions only: any other function stays, to be refused as not implemented)."""
    if isinstance(node, ast.BoolOp):
        return ast.BoolOp(node.op, _normalise(node.left), _normalise(node.right))
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        return ast.UnaryOp(node.op, _normalise(node.operand))
    if isinstance(node, ast.Compare) and isinstance(node.comparator, ast.Eq | ast.NotEq):
        call, other = (node.left, node.right) if isinstance(node.left, ast.Call) else (node.right, node.left)
        if isinstance(call, ast.Call) and call.func.name in STRING_FUNCTIONS and isinstance(other, ast.Boolean):
            positive = (other.val == "true") == isinstance(node.comparator, ast.Eq)
            return call if positive else ast.UnaryOp(ast.Not(), call)
    return node


@dataclass(frozen=True)
class Condition:
    """One comparison of the filter: ``prop op value`` (value: a literal node or a list of them)."""

    prop: str
    op: str  # eq ne gt ge lt le in contains startswith endswith
    value: object


def conditions(node) -> list[Condition]:
    """The comparisons of a checked filter that is a conjunction (time series and aggregates)."""
    if isinstance(node, ast.BoolOp):
        return conditions(node.left) + conditions(node.right)
    return [_condition(node)]


def _condition(node) -> Condition:
    if isinstance(node, ast.Call):
        return Condition(node.args[0].name, node.func.name, node.args[1])
    op = _comparators()[type(node.comparator)]
    if isinstance(node.left, ast.Identifier):
        return Condition(node.left.name, op, node.right)
    return Condition(node.right.name, _MIRROR[op], node.left)


def check_filter(node, entity_set: dict) -> None:
    """Refuse what the entity set's limits do not allow, naming the property or the operator."""
    conjunction_only = entity_set["kind"] != "asset"
    _check(node, entity_set, conjunction_only)


def _check(node, entity_set: dict, conjunction_only: bool) -> None:
    if isinstance(node, ast.BoolOp):
        if conjunction_only and isinstance(node.op, ast.Or):
            raise odata_error(f"$filter: {entity_set['name']} takes conditions joined by 'and' only, not 'or'", "or")
        _check(node.left, entity_set, conjunction_only)
        _check(node.right, entity_set, conjunction_only)
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        if conjunction_only:
            raise odata_error(f"$filter: {entity_set['name']} does not take 'not'", "not")
        _check(node.operand, entity_set, conjunction_only)
    elif isinstance(node, ast.Call):
        name = node.func.name
        if name not in STRING_FUNCTIONS:
            raise odata_error(f"$filter: the function {name}() is not supported by this service", name,
                              errors.NotImplementedYet)
        if len(node.args) != 2 or not isinstance(node.args[0], ast.Identifier) or not isinstance(node.args[1],
                                                                                                  ast.String):
            raise odata_error(f"$filter: {name}() takes a property and a string literal", name)
        _allowed(node.args[0].name, name, entity_set)
    elif isinstance(node, ast.Compare):
        left, right = node.left, node.right
        if isinstance(right, ast.Identifier) and not isinstance(left, ast.Identifier):
            left, right = right, left
        for side in (left, right):
            if isinstance(side, ast.Call):
                raise odata_error(f"$filter: the function {side.func.name}() is not supported by this service",
                                  side.func.name, errors.NotImplementedYet)
        if not isinstance(left, ast.Identifier) or isinstance(right, ast.Identifier) or left.namespace:
            what = "a path" if isinstance(left, ast.Identifier) and left.namespace else "an expression"
            raise odata_error(f"$filter: comparisons take a property and a literal, not {what}", "$filter",
                              errors.NotImplementedYet)
        if not isinstance(right, (ast.String, ast.Integer, ast.Float, ast.Boolean, ast.Null, ast.DateTime,
                                  ast.Date, ast.List)):
            raise odata_error(f"$filter: {type(right).__name__} literals are not supported", "$filter",
                              errors.NotImplementedYet)
        _allowed(left.name, _condition(node).op, entity_set)
    elif isinstance(node, ast.Boolean):
        if conjunction_only:
            raise odata_error(f"$filter: {entity_set['name']} takes property conditions only", "$filter")
    elif isinstance(node, (ast.CollectionLambda, ast.BinOp, ast.UnaryOp)):
        raise odata_error(f"$filter: {type(node).__name__} expressions are not supported by this service",
                          "$filter", errors.NotImplementedYet)
    else:
        raise odata_error("$filter must be a condition (a comparison or a string function)", "$filter")


def _allowed(prop: str, op: str, entity_set: dict) -> None:
    if prop not in _names(entity_set):
        raise odata_error(f"$filter: {entity_set['name']} has no property {prop!r}", prop)
    limits = entity_set["filters"]
    if prop not in limits:
        allowed = ", ".join(limits)
        raise odata_error(f"$filter: {entity_set['name']} cannot be filtered by {prop!r}; MindSphere filters it by "
                          f"{allowed} only", prop)
    if op == "in" and "eq" in limits[prop] and entity_set["kind"] == "asset":
        return  # a list of equalities
    if op not in limits[prop]:
        raise odata_error(f"$filter: {prop!r} of {entity_set['name']} takes {', '.join(limits[prop])}, not {op}",
                          op)


# --- the format asked for: Accept and $format ------------------------------------------------------------------

# The format parameters of application/json (JSON format 3; names and values case-insensitive): name -> (the name
# as the spec writes it, the values this service serves). IEEE754Compatible=true (Int64 as strings) is not served.
JSON_PARAMETERS = {
    "odata.metadata": ("odata.metadata", ("minimal", "full", "none")),
    "metadata": ("metadata", ("minimal", "full", "none")),  # the 4.01 name
    "odata.streaming": ("odata.streaming", ("true", "false")),
    "streaming": ("streaming", ("true", "false")),
    "ieee754compatible": ("IEEE754Compatible", ("false",)),
    "exponentialdecimals": ("ExponentialDecimals", ("true", "false")),  # no Edm.Decimal here: either is met
    "charset": ("charset", ("utf-8",)),
}
CHARSET_ONLY = {"charset": JSON_PARAMETERS["charset"]}
JSON_TYPES = ("application/json",)


def media_type(text: str) -> tuple[str, dict[str, str]]:
    """``type/subtype;name=value;...`` as the type and its parameters, lower-cased (JSON format 3 makes the
    format parameters' names and values case-insensitive)."""
    kind, *params = text.split(";")
    values = {}
    for param in params:
        name, _, value = param.partition("=")
        if name.strip():
            values[name.strip().lower()] = value.strip().strip('"').lower()
    return kind.strip().lower(), values


def media_ranges(text: str) -> list[tuple[str, dict[str, str]]]:
    """``Accept`` as (type, parameters), the most wanted first (stable for equal weights), q=0 left out."""
    weighted = []
    for item in text.split(","):
        kind, params = media_type(item)
        if not kind:
            continue
        try:
            q = float(params.pop("q", "1"))
        except ValueError:
            q = 1.0  # RFC 9110 12.4.2: a weight that is no number is no refusal
        if q > 0:
            weighted.append((q, kind, params))
    return [(kind, params) for _q, kind, params in sorted(weighted, key=lambda w: -w[0])]


def json_parameters_refused(params: dict[str, str], allowed=JSON_PARAMETERS) -> str | None:
    """Why the service cannot produce application/json with these parameters, or None when it can."""
    for name, value in params.items():
        known = allowed.get(name)
        if known is None:
            return f"the format parameter {name}={value} is unknown to this service"
        shown, values = known
        if value not in values:
            return f"{shown}={value} is not served (it serves {shown}={'|'.join(values)})"
    return None


def metadata_level(params: dict[str, str]) -> str:
    return params.get("odata.metadata") or params.get("metadata") or "minimal"


def format_option(value: str) -> str:
    """The control information a ``$format`` asks for (JSON format 3: ``json`` without parameters, or
    ``application/json`` with format parameters); 400 for another format, 406 for parameters not served."""
    if value.strip().lower() == "json":
        return "minimal"
    kind, params = media_type(value)
    if kind not in JSON_TYPES:
        raise odata_error(f"$format: this service answers JSON only (json, or application/json with format "
                          f"parameters), not {value!r}", "$format")
    reason = json_parameters_refused(params)
    if reason:
        raise odata_error(f"$format {value}: {reason}", "$format", NotAcceptable)
    return metadata_level(params)


class NotAcceptable(errors.ApiError):
    status, code = 406, "notAcceptable"


def negotiate(accept: str | None, served: tuple[str, ...]) -> str:
    """The control information to answer with (minimal, full or none), for a resource served as one of
    ``served``: the first acceptable media range of ``accept`` wins; 406 naming what was asked when none is.
    application/json takes the JSON format parameters, another type charset=utf-8 only."""
    if not accept or not accept.strip():
        return "minimal"
    reasons = []
    for kind, params in media_ranges(accept):
        main, _, sub = kind.partition("/")
        if kind == "*/*" or sub == "*" and any(t.startswith(main + "/") for t in served):
            return "minimal"
        if kind not in served:
            continue
        reason = json_parameters_refused(params, JSON_PARAMETERS if kind in JSON_TYPES else CHARSET_ONLY)
        if reason is None:
            return metadata_level(params)
        reasons.append(reason)
    why = f" ({'; '.join(reasons)})" if reasons else ""
    raise NotAcceptable(f"This resource is served as {served[0]}, not {accept}{why}")
