"""Turning records into ``<data>`` blocks: field plans and record serialisation.

A *plan* is resolved once per request from the ``fields``/``select`` list: plain fields,
containers rendered as nested blocks (``SHIPTO/MAILADDRESS``, F21/F27), child collections
(``SODOCUMENTENTRIES/sodocumententry``), and the legacy ARPAYMENT repeated ``INVOICES`` /
``CREDITS`` groups (F25).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from .conditions import QueryError
from .formatting import TimeZoneFormatter, xml_attr, xml_text
from .object_definitions import CONTAINERS, ObjectDef

REPEATED_GROUPS = ("INVOICES", "CREDITS")
_FLAT = ("", "", "", "flat")


@dataclass
class PlanItem:
    kind: str  # "field" | "container" | "children" | "repeated"
    name: str
    subfields: list[str] = field(default_factory=list)
    child_tag: str = ""


def build_plan(obj: ObjectDef, fields_text: str | None, *, nested_star: bool = False,
               with_children: bool = False) -> list[PlanItem]:
    """Resolve a ``fields`` list; raises QueryError (DL02000001) on an unknown field."""
    text = (fields_text or "*").strip() or "*"
    names = [n.strip().upper() for n in text.split(",") if n.strip()]
    plan: list[PlanItem] = []
    if names == ["*"]:
        seen_containers: set[str] = set()
        for name in obj.fields:
            head = name.split(".", 1)[0]
            if name in REPEATED_GROUPS:
                plan.append(PlanItem("repeated", name))
            elif nested_star and "." in name and head in CONTAINERS:
                if head not in seen_containers:
                    seen_containers.add(head)
                    plan.append(_container(obj, head))
            else:
                plan.append(PlanItem("field", name))
        if with_children:
            for container, tag in obj.nested.items():
                plan.append(PlanItem("children", container, child_tag=tag))
        return plan
    for name in names:
        if name in obj.nested:
            plan.append(PlanItem("children", name, child_tag=obj.nested[name]))
        elif name in REPEATED_GROUPS and name in obj.field_set:
            plan.append(PlanItem("repeated", name))
        elif name in obj.field_set:
            plan.append(PlanItem("field", name))
        elif name in CONTAINERS and any(f.startswith(name + ".") for f in obj.fields):
            plan.append(_container(obj, name))
        else:
            raise QueryError(f"Unknown field {name} on {obj.name}")
    return plan


def _container(obj: ObjectDef, head: str) -> PlanItem:
    prefix = head + "."
    return PlanItem("container", head, [f[len(prefix):] for f in obj.fields
                                        if f.startswith(prefix)])


class RecordWriter:
    """Serialises records for one response (pretty or compact) at a fixed depth."""

    def __init__(self, tz: TimeZoneFormatter, pretty: bool, iso_dates: bool,
                 children_of: Callable[[dict, str], list[dict]] | None = None,
                 child_plan: Callable[[str], list[PlanItem]] | None = None) -> None:
        self.tz = tz
        self.pretty = pretty
        self.iso = iso_dates
        self.children_of = children_of
        self.child_plan = child_plan
        self.table = tz._dispatch
        self._compiled: dict[tuple[int, int], list] = {}
        self._templates: dict[tuple[str, int], tuple[str, list[str]]] = {}
        self._keep: list = []

    def _nl(self, depth: int) -> str:
        return "\n" + "    " * depth if self.pretty else ""

    def value(self, v: object) -> str:
        if v is None:
            return ""
        if type(v) is str:
            return xml_text(v)
        return xml_text(self.tz.format_value(v, self.iso))

    def record(self, tag: str, rec: dict, plan: list[PlanItem], depth: int) -> str:
        """One record element. Plain fields go through a precompiled fast path."""
        compiled = self._compiled.get((id(plan), depth))
        if compiled is None:
            nl = self._nl(depth + 1)
            compiled = [(item.name, f"{nl}<{item.name}>", f"</{item.name}>",
                         None if item.kind == "field" else item) for item in plan]
            if all(entry[3] is None for entry in compiled):
                compiled = [*compiled, _FLAT]  # marker: every item is a plain field
            self._compiled[(id(plan), depth)] = compiled
            self._keep.append(plan)  # keep id(plan) unique while cached
        if compiled[-1] is _FLAT:
            return self._flat(tag, rec, compiled, depth)
        parts = [f"{self._nl(depth)}<{tag}>"]
        append = parts.append
        get = rec.get
        table = self.table
        iso = self.iso
        fallback = self.tz.format_value
        for name, open_tag, close_tag, item in compiled:
            if item is None:
                v = get(name)
                kind = type(v)
                if kind is str:
                    if "&" in v or "<" in v or ">" in v:
                        v = xml_text(v)
                    append(open_tag + v + close_tag)
                elif v is None:
                    append(open_tag + close_tag)
                else:  # numbers, dates, booleans never need escaping
                    render = table.get(kind)
                    text = render(v, iso) if render is not None else xml_text(fallback(v, iso))
                    append(open_tag + text + close_tag)
            else:
                append(self._complex(rec, item, depth))
        append(f"{self._nl(depth)}</{tag}>")
        return "".join(parts)

    def _flat(self, tag: str, rec: dict, compiled: list, depth: int) -> str:
        """All-plain-field records: one ``str.format`` over the values (the hot path)."""
        key = (tag, id(compiled))
        template = self._templates.get(key)
        if template is None:
            fields = compiled[:-1]
            body = "".join(open_tag.replace("{", "{{").replace("}", "}}") + "{}"
                           + close_tag for _, open_tag, close_tag, _ in fields)
            template = (f"{self._nl(depth)}<{tag}>{body}{self._nl(depth)}</{tag}>",
                        [entry[0] for entry in fields])
            self._templates[key] = template
        fmt, names = template
        values = list(map(rec.get, names))
        table = self.table
        iso = self.iso
        for i, v in enumerate(values):
            kind = type(v)
            if kind is str:
                if "&" in v or "<" in v or ">" in v:
                    values[i] = xml_text(v)
            elif v is None:
                values[i] = ""
            else:
                render = table.get(kind)
                values[i] = (render(v, iso) if render is not None
                             else xml_text(self.tz.format_value(v, iso)))
        return fmt.format(*values)

    def _complex(self, rec: dict, item: PlanItem, depth: int) -> str:
        nl = self._nl(depth + 1)
        if item.kind == "container":
            return self._container(rec, item, depth + 1)
        if item.kind == "repeated":
            out = []
            for row in rec.get("_" + item.name, ()):
                inner = "".join(f"{self._nl(depth + 2)}<{k}>{self.value(v)}</{k}>"
                                for k, v in row.items())
                out.append(f"{nl}<{item.name}>{inner}{nl}</{item.name}>")
            return "".join(out)
        kids = self.children_of(rec, item.name) if self.children_of else []
        kid_plan = self.child_plan(item.child_tag) if self.child_plan else []
        if not kids:
            return f"{nl}<{item.name}></{item.name}>"
        body = "".join(self.record(item.child_tag, k, kid_plan, depth + 2) for k in kids)
        return f"{nl}<{item.name}>{body}{nl}</{item.name}>"

    def _container(self, rec: dict, item: PlanItem, depth: int) -> str:
        """``SHIPTO.MAILADDRESS.CITY`` → ``<SHIPTO><MAILADDRESS><CITY>``."""
        tree: dict = {}
        for sub in item.subfields:
            node = tree
            bits = sub.split(".")
            for bit in bits[:-1]:
                node = node.setdefault(bit, {})
            node[bits[-1]] = rec.get(f"{item.name}.{sub}")
        return self._tree(item.name, tree, depth)

    def _tree(self, tag: str, tree: dict, depth: int) -> str:
        inner = []
        for key, val in tree.items():
            if isinstance(val, dict):
                inner.append(self._tree(key, val, depth + 1))
            else:
                inner.append(f"{self._nl(depth + 1)}<{key}>{self.value(val)}</{key}>")
        return f"{self._nl(depth)}<{tag}>{''.join(inner)}{self._nl(depth)}</{tag}>"


def data_block(attrs: dict[str, str] | None, records: list[str], pretty: bool,
               depth: int = 3) -> str:
    """``<data …>`` with pre-rendered records; self-closing when empty (F11)."""
    nl = "\n" + "    " * depth if pretty else ""
    attr = "".join(f' {k}="{xml_attr(v)}"' for k, v in (attrs or {}).items())
    if not records:
        return f"{nl}<data{attr}/>"
    return f"{nl}<data{attr}>{''.join(records)}{nl}</data>"
