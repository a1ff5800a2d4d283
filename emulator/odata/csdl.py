"""A contract's ``$metadata``: CSDL XML (OData v4.0), the same bytes as the downloaded contract.

By default the document carries no query limits: seed 8.5 says Mendix "does not know about these", and
8.7 that a query outside them fails at run time, so the real contract cannot be telling Studio Pro (which
reads NonFilterableProperties and NonSortableProperties, odata.md 1). An app built on this contract is the
app built on the real one. What it does say is that the service is read-only (seed 8.1): Insert-, Update-
and DeleteRestrictions on every entity set.

With ``capabilities`` (the setting ``--odata-capability-annotations``, not faithful) the limits are added
as Capabilities annotations (odata.md 1), each promising only what the service does: per entity set the
filter restrictions (non-filterable properties, SingleValue for the properties that take one ``eq``, the
functions and operators it takes in ``FilterFunctions``), sort restrictions, counting allowed (never
``Countable=false``: Mendix could not use the entity), top and skip supported, no ``$search``, ``$expand``
only where there are navigation properties; no ``$batch``; and descriptions of the formats Data Hub
expects (seed 8.3, 8.4). The vocabulary has no value for "``gt`` and ``le``" (``SingleRange`` is ``ge``
and ``le``), so the time range of ``timestamp`` is said in its description only.
"""

from __future__ import annotations

from xml.etree import ElementTree as ET

from emulator import limits

EDMX = "http://docs.oasis-open.org/odata/ns/edmx"
EDM = "http://docs.oasis-open.org/odata/ns/edm"
VOCABULARIES = {
    "Org.OData.Capabilities.V1": ("Capabilities",
                                  "https://oasis-tcs.github.io/odata-vocabularies/vocabularies/Org.OData.Capabilities.V1.xml"),
    "Org.OData.Core.V1": ("Core", "https://oasis-tcs.github.io/odata-vocabularies/vocabularies/Org.OData.Core.V1.xml"),
}
DESCRIPTIONS = {
    "timestamp": "UTC time as text, YYYY-MM-DDTHH:mm:ss (with .fff when it has milliseconds); filter with gt "
                 "(after) and le (at or before) only",
    "intervalUnit": "days, minutes or seconds",
    "aggregationType": "average, sum, minvalue, maxvalue, firstvalue, lastvalue, countgood, countuncertain, "
                       "countbad or sd",
}
ET.register_namespace("edmx", EDMX)
ET.register_namespace("", EDM)


def namespace(tenant: str, contract: str) -> str:
    from emulator.odata.model import identifier

    return f"mindsphere.{identifier(tenant)}.{identifier(contract)}"


def _sub(parent, tag: str, **attrs) -> ET.Element:
    return ET.SubElement(parent, f"{{{EDM}}}{tag}", {k: v for k, v in attrs.items() if v is not None})


def _bool(parent, term: str, value: bool) -> None:
    _sub(parent, "Annotation", Term=term, Bool="true" if value else "false")


def _record(parent, term: str) -> ET.Element:
    return _sub(_sub(parent, "Annotation", Term=term), "Record")


def _paths(record, name: str, paths: list[str]) -> None:
    collection = _sub(_sub(record, "PropertyValue", Property=name), "Collection")
    for path in paths:
        _sub(collection, "PropertyPath").text = path


def _entity_type(schema, ns: str, entity_set: dict, capabilities: bool) -> None:
    entity = _sub(schema, "EntityType", Name=entity_set["name"])
    _sub(_sub(entity, "Key"), "PropertyRef", Name=entity_set["key"])
    for p in entity_set["properties"]:
        element = _sub(entity, "Property", Name=p["name"], Type=p["type"],
                       Nullable=None if p["nullable"] else "false",
                       MaxLength=str(p["maxLength"]) if "maxLength" in p else None)
        if capabilities and p["name"] in DESCRIPTIONS and entity_set["kind"] != "asset":
            _sub(element, "Annotation", Term="Org.OData.Core.V1.Description", String=DESCRIPTIONS[p["name"]])
    for nav in entity_set["navigation"]:
        target = f"{ns}.{nav['target']}"
        _sub(entity, "NavigationProperty", Name=nav["name"],
             Type=f"Collection({target})" if nav["collection"] else target,
             Nullable=None if nav["collection"] or nav.get("nullable", True) else "false", Partner=nav["partner"])


# The $filter operators and functions each kind of entity set takes (seed 8.5), for FilterFunctions.
FILTER_FUNCTIONS = {
    "asset": ("eq", "in", "and", "or", "not", "contains", "startswith", "endswith"),
    "timeseries": ("eq", "gt", "le", "and"),
    "aggregate": ("eq", "gt", "le", "and"),
}


def _read_only(annotations) -> None:
    for term, prop in (("InsertRestrictions", "Insertable"), ("UpdateRestrictions", "Updatable"),
                       ("DeleteRestrictions", "Deletable")):
        _sub(_record(annotations, f"Org.OData.Capabilities.V1.{term}"), "PropertyValue", Property=prop, Bool="false")


def _limits(annotations, entity_set: dict) -> None:
    """The query limits of one entity set (the opt-in annotations): each value promises only what is served."""
    filters = entity_set["filters"]
    names = [p["name"] for p in entity_set["properties"]]
    _record(annotations, "Org.OData.Capabilities.V1.CountRestrictions").append(
        ET.Element(f"{{{EDM}}}PropertyValue", {"Property": "Countable", "Bool": "true"}))
    record = _record(annotations, "Org.OData.Capabilities.V1.FilterRestrictions")
    _sub(record, "PropertyValue", Property="Filterable", Bool="true")
    _paths(record, "NonFilterableProperties", [n for n in names if n not in filters])
    expressions = _sub(_sub(record, "PropertyValue", Property="FilterExpressionRestrictions"), "Collection")
    for name, operators in filters.items():
        if tuple(operators) == ("eq",):  # SingleValue: "a single eq clause"; no value fits the others
            item = _sub(expressions, "Record")
            _sub(item, "PropertyValue", Property="Property", PropertyPath=name)
            _sub(item, "PropertyValue", Property="AllowedExpressions", String="SingleValue")
    functions = _sub(_sub(annotations, "Annotation", Term="Org.OData.Capabilities.V1.FilterFunctions"), "Collection")
    for name in FILTER_FUNCTIONS[entity_set["kind"]]:
        _sub(functions, "String").text = name
    record = _record(annotations, "Org.OData.Capabilities.V1.SortRestrictions")
    _sub(record, "PropertyValue", Property="Sortable", Bool="true")
    _paths(record, "NonSortableProperties", [n for n in names if n not in entity_set["sortable"]])
    _bool(annotations, "Org.OData.Capabilities.V1.TopSupported", True)
    _bool(annotations, "Org.OData.Capabilities.V1.SkipSupported", True)
    _sub(_record(annotations, "Org.OData.Capabilities.V1.SearchRestrictions"), "PropertyValue",
         Property="Searchable", Bool="false")
    record = _record(annotations, "Org.OData.Capabilities.V1.ExpandRestrictions")
    _sub(record, "PropertyValue", Property="Expandable", Bool="true" if entity_set["navigation"] else "false")
    if entity_set["navigation"]:
        _sub(record, "PropertyValue", Property="MaxLevels", Int="1")  # no $expand inside $expand
    if entity_set["kind"] != "asset":
        _sub(annotations, "Annotation", Term="Org.OData.Core.V1.Description",
             String=f"At most {limits.DATAHUB_MAX_OBJECTS} objects per query; sortable only by timestamp")


def render(tenant: str, contract: str, model: dict, capabilities: bool = False) -> bytes:
    """The CSDL document; ``capabilities`` adds the query limits as annotations (not faithful: see above)."""
    ns = namespace(tenant, contract)
    root = ET.Element(f"{{{EDMX}}}Edmx", {"Version": "4.0"})
    for vocabulary, (alias, uri) in VOCABULARIES.items():
        if capabilities or vocabulary == "Org.OData.Capabilities.V1":
            ref = ET.SubElement(root, f"{{{EDMX}}}Reference", {"Uri": uri})
            ET.SubElement(ref, f"{{{EDMX}}}Include", {"Namespace": vocabulary, "Alias": alias})
    schema = _sub(ET.SubElement(root, f"{{{EDMX}}}DataServices"), "Schema", Namespace=ns)
    for entity_set in model["sets"]:
        _entity_type(schema, ns, entity_set, capabilities)
    container = _sub(schema, "EntityContainer", Name="Container")
    for entity_set in model["sets"]:
        element = _sub(container, "EntitySet", Name=entity_set["name"], EntityType=f"{ns}.{entity_set['name']}")
        for nav in entity_set["navigation"]:
            _sub(element, "NavigationPropertyBinding", Path=nav["name"], Target=nav["target"])
    if capabilities:
        _bool(container, "Org.OData.Capabilities.V1.BatchSupported", False)
    for entity_set in model["sets"]:
        annotations = _sub(schema, "Annotations", Target=f"{ns}.Container/{entity_set['name']}")
        if capabilities:
            _limits(annotations, entity_set)
        _read_only(annotations)
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)
