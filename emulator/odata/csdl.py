"""A contract's ``$metadata``: CSDL XML (OData v4.0), the same bytes as the downloaded contract.

Besides types and sets, the document carries the MindSphere query limits as Capabilities
annotations (odata.md 1): per-property filter and sort restrictions, counting allowed (never
``Countable=false``: Mendix could not use the entity), top and skip supported, and no insert,
update or delete. Descriptions tell a maker the formats Data Hub expects (seed 8.3, 8.4).
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
                 "(after) and le (at or before)",
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


def _entity_type(schema, ns: str, entity_set: dict) -> None:
    entity = _sub(schema, "EntityType", Name=entity_set["name"])
    _sub(_sub(entity, "Key"), "PropertyRef", Name=entity_set["key"])
    for p in entity_set["properties"]:
        element = _sub(entity, "Property", Name=p["name"], Type=p["type"],
                       Nullable=None if p["nullable"] else "false",
                       MaxLength=str(p["maxLength"]) if "maxLength" in p else None)
        if p["name"] in DESCRIPTIONS and entity_set["kind"] != "asset":
            _sub(element, "Annotation", Term="Org.OData.Core.V1.Description", String=DESCRIPTIONS[p["name"]])
    for nav in entity_set["navigation"]:
        target = f"{ns}.{nav['target']}"
        _sub(entity, "NavigationProperty", Name=nav["name"],
             Type=f"Collection({target})" if nav["collection"] else target,
             Nullable=None if nav["collection"] or nav.get("nullable", True) else "false", Partner=nav["partner"])


def _restrictions(annotations, entity_set: dict) -> None:
    filters = entity_set["filters"]
    names = [p["name"] for p in entity_set["properties"]]
    _record(annotations, "Org.OData.Capabilities.V1.CountRestrictions").append(
        ET.Element(f"{{{EDM}}}PropertyValue", {"Property": "Countable", "Bool": "true"}))
    record = _record(annotations, "Org.OData.Capabilities.V1.FilterRestrictions")
    _sub(record, "PropertyValue", Property="Filterable", Bool="true")
    _paths(record, "NonFilterableProperties", [n for n in names if n not in filters])
    expressions = _sub(_sub(record, "PropertyValue", Property="FilterExpressionRestrictions"), "Collection")
    for name, operators in filters.items():
        kind = ("SingleRange" if name == "timestamp" else
                "MultiRangeOrSearchExpression" if "contains" in operators else "SingleValue")
        item = _sub(expressions, "Record")
        _sub(item, "PropertyValue", Property="Property", PropertyPath=name)
        _sub(item, "PropertyValue", Property="AllowedExpressions", String=kind)
    record = _record(annotations, "Org.OData.Capabilities.V1.SortRestrictions")
    _sub(record, "PropertyValue", Property="Sortable", Bool="true")
    _paths(record, "NonSortableProperties", [n for n in names if n not in entity_set["sortable"]])
    _bool(annotations, "Org.OData.Capabilities.V1.TopSupported", True)
    _bool(annotations, "Org.OData.Capabilities.V1.SkipSupported", True)
    for term, prop in (("InsertRestrictions", "Insertable"), ("UpdateRestrictions", "Updatable"),
                       ("DeleteRestrictions", "Deletable")):
        _sub(_record(annotations, f"Org.OData.Capabilities.V1.{term}"), "PropertyValue", Property=prop, Bool="false")
    if entity_set["kind"] != "asset":
        _sub(annotations, "Annotation", Term="Org.OData.Core.V1.Description",
             String=f"At most {limits.DATAHUB_MAX_OBJECTS} objects per query; sortable only by timestamp")


def render(tenant: str, contract: str, model: dict) -> bytes:
    ns = namespace(tenant, contract)
    root = ET.Element(f"{{{EDMX}}}Edmx", {"Version": "4.0"})
    for vocabulary, (alias, uri) in VOCABULARIES.items():
        ref = ET.SubElement(root, f"{{{EDMX}}}Reference", {"Uri": uri})
        ET.SubElement(ref, f"{{{EDMX}}}Include", {"Namespace": vocabulary, "Alias": alias})
    schema = _sub(ET.SubElement(root, f"{{{EDMX}}}DataServices"), "Schema", Namespace=ns)
    for entity_set in model["sets"]:
        _entity_type(schema, ns, entity_set)
    container = _sub(schema, "EntityContainer", Name="Container")
    for entity_set in model["sets"]:
        element = _sub(container, "EntitySet", Name=entity_set["name"], EntityType=f"{ns}.{entity_set['name']}")
        for nav in entity_set["navigation"]:
            _sub(element, "NavigationPropertyBinding", Path=nav["name"], Target=nav["target"])
    functions = _record(container, "Org.OData.Capabilities.V1.FilterFunctions")
    functions.tag = f"{{{EDM}}}Collection"
    for name in ("contains", "startswith", "endswith"):
        _sub(functions, "String").text = name
    for entity_set in model["sets"]:
        _restrictions(_sub(schema, "Annotations", Target=f"{ns}.Container/{entity_set['name']}"), entity_set)
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)
