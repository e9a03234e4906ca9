"""The data dictionary (数据字典): every table and mart of the warehouse, in Markdown.

Names, types, nullability and keys come from the SQLAlchemy metadata
(:mod:`ecqm.warehouse.schema`); the marts' columns and their labels from the comments in
``sql/marts/``; Chinese names and meanings from ``data/dictionary.yaml``. The committed
``docs/data_dictionary.md`` is checked against this output by the tests::

    python -m ecqm.warehouse.dictionary --out docs/data_dictionary.md

A mart column's source is traced through the mart's CTEs (:func:`column_lineage`), which
is also how the tests make sure that no mart shows personal data.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import Table
from sqlalchemy.dialects import postgresql

from ecqm.warehouse import schema
from ecqm.warehouse.marts import Mart, MartColumn, Token, mart_files, parse_mart

DICTIONARY_YAML = Path(__file__).resolve().parent / "data" / "dictionary.yaml"
REGENERATE = "python -m ecqm.warehouse.dictionary --out docs/data_dictionary.md"
# The layers in the order the pipeline fills them: (tuple in schema.py, heading).
LAYERS = (
    ("STAGING_TABLES", "暂存层 staging"),
    ("REFERENCE_TABLES", "参考数据 reference"),
    ("CORE_TABLES", "核心层 core"),
    ("PROCESS_TABLES", "处理记录 processing"),
    ("RISK_TABLES", "风险 risk"),
    ("MONITORING_TABLES", "监测 monitoring"),
    ("RESULTS_TABLES", "结果处理 results"),
    ("REVIEW_TABLES", "月度评审 review"),
)
OTHER_LAYER = "其他 other"
BaseColumn = tuple[str, str]


@dataclass(frozen=True)
class Words:
    """What dictionary.yaml says: Chinese names and meanings."""

    marts: dict[str, str]
    common: dict[str, str]
    tables: dict[str, dict[str, Any]]

    def table(self, name: str) -> tuple[str, str]:
        entry = self.tables.get(name) or {}
        return str(entry.get("zh") or ""), str(entry.get("meaning") or "")

    def column(self, table: str, column: str) -> str:
        own = (self.tables.get(table) or {}).get("columns") or {}
        return str(own.get(column) or self.common.get(column) or "")


def load_words(path: Path = DICTIONARY_YAML) -> Words:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return Words(
        marts=dict(data.get("marts") or {}),
        common=dict(data.get("common_columns") or {}),
        tables=dict(data.get("tables") or {}),
    )


# --------------------------------------------------------------------------- lineage


@cache
def _table_columns() -> dict[str, frozenset[str]]:
    return {t.name: frozenset(c.name for c in t.columns) for t in schema.metadata.tables.values()}


def _relation_columns(mart: Mart, relation: str) -> frozenset[str]:
    if relation in mart.ctes:
        select = mart.ctes[relation]
        names = {c.name for c in select.columns if c.name}
        if any(not c.name for c in select.columns):  # a *: every source column
            for source in set(select.sources.values()):
                names |= _relation_columns(mart, source)
        return frozenset(names)
    return _table_columns().get(relation, frozenset())


def _resolve(mart: Mart, relation: str, column: str) -> set[BaseColumn]:
    if relation not in mart.ctes:
        return {(relation, column)}
    select = mart.ctes[relation]
    for item, tokens in zip(select.columns, select.tokens, strict=True):
        if item.name == column:
            return _references(mart, relation, tokens)
    found: set[BaseColumn] = set()
    for source in set(select.sources.values()):  # through a *
        if column in _relation_columns(mart, source):
            found |= _resolve(mart, source, column)
    return found


def _references(mart: Mart, cte: str, tokens: list[Token]) -> set[BaseColumn]:
    """The base columns that a select item of ``cte`` reads."""
    sources = mart.ctes[cte].sources
    found: set[BaseColumn] = set()
    code = tokens[:-2] if len(tokens) > 2 and tokens[-2].is_word("as") else tokens
    for i, t in enumerate(code):
        if t.kind not in ("word", "ident"):
            continue
        before = code[i - 1].text if i else ""
        after = code[i + 1].text if i + 1 < len(code) else ""
        name = t.text.strip('"')
        if after == "(" or before.lower() == "as" or before == ":":
            continue  # a function, or the type of a cast
        if after == "." and i + 2 < len(code):
            relation = sources.get(name.lower())
            if relation is not None:
                found |= _resolve(mart, relation, code[i + 2].text.strip('"'))
            continue
        if before == ".":
            continue  # the column of a qualified reference, handled above
        for relation in sorted(set(sources.values())):
            if name in _relation_columns(mart, relation):
                found |= _resolve(mart, relation, name)
    return found


def column_lineage(mart: Mart) -> dict[str, set[BaseColumn]]:
    """Each output column of ``mart`` → the (table, column) pairs it is computed from,
    traced through the CTEs. A name that could come from several sources counts for all
    of them, so the answer errs on the side of too much."""
    final = mart.ctes["final"]
    return {
        c.name: _references(mart, "final", tokens)
        for c, tokens in zip(final.columns, final.tokens, strict=True)
    }


def direct_source(mart: Mart, column: str, cte: str = "final") -> BaseColumn | None:
    """The table column that ``column`` of ``mart`` shows unchanged, if it does."""
    select = mart.ctes.get(cte)
    if select is None:
        return None
    for item, tokens in zip(select.columns, select.tokens, strict=True):
        if item.name != column:
            continue
        code = tokens[:-2] if len(tokens) > 2 and tokens[-2].is_word("as") else tokens
        if len(code) == 3 and code[1].text == ".":
            relation, name = select.sources.get(code[0].text.lower()), code[2].text.strip('"')
        elif len(code) == 1 and code[0].kind in ("word", "ident"):
            name = code[0].text.strip('"')
            owners = [r for r in set(select.sources.values()) if name in _relation_columns(mart, r)]
            relation = owners[0] if len(owners) == 1 else None
        else:
            return None
        if relation is None:
            return None
        if relation in mart.ctes:
            return direct_source(mart, name, relation)
        return (relation, name) if name in _table_columns().get(relation, ()) else None
    return None


# ------------------------------------------------------------------------ rendering


def _type(table: str, column: str) -> str:
    col = schema.metadata.tables[table].c[column]
    return str(col.type.compile(dialect=postgresql.dialect())).lower()


def _keys(table: Table) -> dict[str, list[str]]:
    keys: dict[str, list[str]] = {c.name: [] for c in table.columns}
    for c in table.primary_key.columns:
        keys[c.name].append("PK")
    for constraint in sorted(table.constraints, key=lambda c: str(c.name)):
        if str(constraint.name or "").endswith("_natural"):
            for c in constraint.columns:  # type: ignore[attr-defined]
                keys[c.name].append("自然键 UK")
    for c in table.columns:
        for fk in sorted(c.foreign_keys, key=lambda f: f.target_fullname):
            keys[c.name].append(f"→ {fk.target_fullname}")
    return keys


def _cell(value: str) -> str:
    return value.replace("|", "\\|").replace("\n", " ") or "—"


def _split(text: str) -> tuple[str, str]:
    return MartColumn("", text).label, MartColumn("", text).meaning


def _layers() -> list[tuple[str, list[Table]]]:
    layers, seen = [], set()
    for attr, heading in LAYERS:
        tables = [t for t in getattr(schema, attr, ()) if t.name not in seen]
        seen |= {t.name for t in tables}
        if tables:
            layers.append((heading, tables))
    rest = sorted(
        (t for t in schema.metadata.tables.values() if t.name not in seen), key=lambda t: t.name
    )
    if rest:
        layers.append((OTHER_LAYER, rest))
    return layers


def _render_mart(mart: Mart, words: Words) -> list[str]:
    zh = words.marts.get(mart.name, "")
    lines = [f"### {mart.name}" + (f" — {zh}" if zh else ""), "", mart.description, ""]
    lines += [
        "| 列 column | 中文标签 label | 含义 meaning | 来源 source | 类型 type |",
        "|---|---|---|---|---|",
    ]
    for column in mart.columns:
        source = direct_source(mart, column.name)
        where = f"{source[0]}.{source[1]}" if source else "计算 computed"
        kind = _type(*source) if source else "—"
        lines.append(
            f"| `{column.name}` | {_cell(column.label)} | {_cell(column.meaning)} "
            f"| {_cell(where)} | {_cell(kind)} |"
        )
    return [*lines, ""]


def _render_table(table: Table, words: Words) -> list[str]:
    zh, meaning = words.table(table.name)
    lines = [f"### {table.name}" + (f" — {zh}" if zh else ""), "", meaning or "（待补充）", ""]
    lines += [
        "| 列 column | 类型 type | 可空 null | 键 key | 中文标签 label | 含义 meaning |",
        "|---|---|---|---|---|---|",
    ]
    keys = _keys(table)
    for c in table.columns:
        label, what = _split(words.column(table.name, c.name))
        lines.append(
            f"| `{c.name}` | {_type(table.name, c.name)} | {'是' if c.nullable else '否'} "
            f"| {_cell(', '.join(keys[c.name]))} | {_cell(label)} | {_cell(what)} |"
        )
    return [*lines, ""]


def render(words: Words | None = None, marts_dir: Path | None = None) -> str:
    """The whole dictionary as Markdown."""
    words = words or load_words()
    marts = [parse_mart(p) for p in mart_files(marts_dir).values()]
    layers = _layers()
    lines = [
        "# 数据字典 Data dictionary",
        "",
        f"Generated by `{REGENERATE}` from the schema",
        "(`ecqm/warehouse/schema.py`), the column comments of `sql/marts/` and",
        "`ecqm/warehouse/data/dictionary.yaml`. Do not edit it by hand: change those and",
        "run the command again.",
        "",
        "Types are PostgreSQL's; on SQLite `jsonb` is JSON text and timestamps are UTC",
        "text. Times are UTC unless a column says 北京时间; money is integer fen (分).",
        "BI tools read the marts (views); the tables are for the pipeline (see",
        "`sql/README.md`).",
        "",
        "## 目录 Contents",
        "",
        "| 层 layer | 表 tables |",
        "|---|---|",
        "| BI 集市 marts (views) | " + ", ".join(f"`{m.name}`" for m in marts) + " |",
    ]
    for heading, tables in layers:
        lines.append(f"| {heading} | " + ", ".join(f"`{t.name}`" for t in tables) + " |")
    lines += ["", "## BI 集市 marts (views)", ""]
    for mart in marts:
        lines += _render_mart(mart, words)
    for heading, tables in layers:
        lines += [f"## {heading}", ""]
        for table in tables:
            lines += _render_table(table, words)
    return "\n".join(lines).rstrip() + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m ecqm.warehouse.dictionary", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--out", type=Path, help="write here (default: standard output)")
    parser.add_argument(
        "--check", action="store_true", help="exit 1 if --out differs from what would be written"
    )
    args = parser.parse_args(argv)
    text = render()
    if args.check:
        if args.out is None:
            parser.error("--check needs --out")
        current = args.out.read_text(encoding="utf-8") if args.out.exists() else ""
        if current != text:
            print(f"{args.out} is out of date; run: {REGENERATE}", file=sys.stderr)
            return 1
        return 0
    if args.out is None:
        sys.stdout.write(text)
    else:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
