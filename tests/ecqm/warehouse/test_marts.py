"""The marts: their column comments parsed from the SQL, the views on both databases
(every column documented in Chinese), and the comments PostgreSQL shows to BI tools."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from ecqm.warehouse import migrate
from ecqm.warehouse.engine import make_engine
from ecqm.warehouse.marts import (
    MartSqlError,
    create_marts,
    drop_marts,
    mart_columns,
    mart_files,
    parse_mart,
)

CJK = re.compile(r"[\u4e00-\u9fff]")
MARTS = mart_files()
# A warehouse at head on PostgreSQL only (the conftest fixture, one of its two params).
on_postgres = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)


def _mart(tmp_path: Path, body: str, name: str = "mart_probe") -> Path:
    path = tmp_path / f"{name}.sql"
    path.write_text(textwrap.dedent(body).lstrip(), encoding="utf-8")
    return path


# --------------------------------------------------------------------------- parsing


def test_every_form_of_select_item_gets_its_comment(tmp_path):
    path = _mart(
        tmp_path,
        """
        -- mart_probe: one row per thing; the header
        -- goes on over two lines.
        with counts as (
            select
                product_id,
                count(*) as n,  -- not a column of final
                sum(case when a = ',' then 1 else 0 end)
            from listings
            group by product_id
        ),

        final as (
            select
                t.id,                                  -- 编号：things.id
                coalesce(t.a, 'x, y') as a_or_x,       -- 带逗号的默认值：'x, y'
                case t.level  -- not the column's comment
                    when 'high' then '高'  -- nor this
                    else '低'
                end as level_zh,                       -- 风险级别：高/低
                cast(t.doc ->> 'k' as text) as k,      -- 键（JSON）：doc 的 k
                f(t.a, (t.b + 1)) as nested,
                /* block */ t.b as "quoted",          -- 带引号的名称
                c.n                                    -- 数量（含 -- 两个短横）
            from things as t
            left join counts as c on t.id = c.product_id
        )

        select * from final
        """,
    )
    columns = mart_columns(path)
    assert [c.name for c in columns] == ["id", "a_or_x", "level_zh", "k", "nested", "quoted", "n"]
    assert [c.comment for c in columns] == [
        "编号：things.id",
        "带逗号的默认值：'x, y'",
        "风险级别：高/低",
        "键（JSON）：doc 的 k",
        "",
        "带引号的名称",
        "数量（含 -- 两个短横）",
    ]
    assert columns[2].label == "风险级别" and columns[2].meaning == "高/低"
    assert columns[3].label == "键（JSON）" and columns[3].meaning == "doc 的 k"
    assert columns[5].label == "带引号的名称" and columns[5].meaning == ""
    assert columns[2].expression.startswith("case t.level when 'high' then '高'")
    mart = parse_mart(path)
    assert mart.description == "one row per thing; the header goes on over two lines."
    assert mart.tables == {"listings", "things"}
    assert mart.ctes["final"].sources == {
        "things": "things",
        "t": "things",
        "counts": "counts",
        "c": "counts",
    }


def test_a_comment_belongs_to_the_last_item_on_its_line(tmp_path):
    path = _mart(
        tmp_path,
        """
        with final as (
            select
                a, b,  -- 只属于 b
                c
                -- 单独一行的注释不属于任何列
            from t
        )

        select * from final
        """,
    )
    assert [(c.name, c.comment) for c in mart_columns(path)] == [
        ("a", ""),
        ("b", "只属于 b"),
        ("c", ""),
    ]


def test_the_label_splits_at_a_colon_outside_brackets(tmp_path):
    path = _mart(
        tmp_path,
        """
        with final as (
            select
                a,  -- 移出日期（在列且为空：持续列入）
                b   -- 级别: high/low
            from t
        )
        select * from final
        """,
    )
    a, b = mart_columns(path)
    assert (a.label, a.meaning) == ("移出日期（在列且为空：持续列入）", "")
    assert (b.label, b.meaning) == ("级别", "high/low")


@pytest.mark.parametrize(
    ("final", "message"),
    [
        ("select * from t", "give '\\*' a name"),
        ("select a, b + 1 from t", "give 'b \\+ 1' a name"),
        ("select t.* from t", "give 't.\\*' a name"),
    ],
)
def test_a_column_of_final_must_have_a_name(tmp_path, final, message):
    path = _mart(tmp_path, f"with final as ({final})\nselect * from final\n")
    with pytest.raises(MartSqlError, match=message):
        mart_columns(path)


def test_a_mart_without_final_is_refused(tmp_path):
    path = _mart(tmp_path, "with latest as (select a from t)\nselect a from latest\n")
    with pytest.raises(MartSqlError, match="no CTE named final"):
        mart_columns(path)


def test_from_inside_functions_and_subqueries(tmp_path):
    path = _mart(
        tmp_path,
        """
        with final as (
            select
                extract(year from t.at) as y,          -- 年
                substring(t.s from 2 for 3) as s3,     -- 片段
                t.a is distinct from t.b as changed,   -- 是否变化
                exists (select 1 from u where u.id = t.id) as has_u  -- 有无 u
            from public.t as t
        )
        select * from final
        """,
    )
    assert parse_mart(path).tables == {"t", "u"}


def test_the_shipped_marts_parse():
    assert MARTS, "no marts in sql/marts/"
    for name, path in MARTS.items():
        mart = parse_mart(path)
        assert mart.description and not mart.description.startswith(name), name
        assert mart.columns, name


# --------------------------------------------------------------------- the databases


def test_every_column_of_every_mart_view_has_a_chinese_comment(warehouse_engine):
    insp = inspect(warehouse_engine)
    views = set(insp.get_view_names())
    assert views == set(MARTS), "at head every mart is created"
    undocumented = []
    for name, path in MARTS.items():
        comments = {c.name: c.comment for c in mart_columns(path)}
        columns = [c["name"] for c in insp.get_columns(name)]
        assert columns == list(comments), f"{name}: the view's columns and final's differ"
        undocumented += [
            f"{name}.{c}: {comments[c]!r}" for c in columns if not CJK.search(comments[c])
        ]
    assert not undocumented, (
        "columns without a Chinese comment (-- 中文标签：meaning):\n" + "\n".join(undocumented)
    )


@pytest.mark.postgres
@on_postgres
def test_postgresql_shows_the_comments_to_bi_tools(warehouse_engine):
    with warehouse_engine.connect() as conn:
        for name, path in MARTS.items():
            mart = parse_mart(path)
            described = conn.execute(
                text("select obj_description(cast(:v as regclass), 'pg_class')"), {"v": name}
            ).scalar()
            assert described == mart.description
            shown = dict(
                conn.execute(
                    text(
                        "select a.attname, col_description(a.attrelid, a.attnum)"
                        " from pg_catalog.pg_attribute as a"
                        " where a.attrelid = cast(:v as regclass) and a.attnum > 0"
                        " and not a.attisdropped"
                    ),
                    {"v": name},
                ).all()
            )
            assert shown == {c.name: c.comment for c in mart.columns}, name
            options = conn.execute(
                text("select reloptions from pg_catalog.pg_class where oid = cast(:v as regclass)"),
                {"v": name},
            ).scalar()
            assert "security_barrier=true" in options, name


@pytest.mark.postgres
@on_postgres
def test_percent_signs_and_quotes_reach_postgresql_as_written(warehouse_engine, tmp_path):
    _mart(
        tmp_path,
        """
        -- mart_probe: 100% of the products whose brand is like 'A%'; it's a probe
        with final as (
            select
                p.id,                                  -- 编号：100% 有值
                p.brand like 'A%' as is_a_brand        -- 是否 A 开头：like 'A%'，it's 50%
            from products as p
        )

        select * from final
        """,
    )
    with warehouse_engine.begin() as conn:
        assert create_marts(conn, tmp_path) == ["mart_probe"]
        described = conn.execute(
            text("select obj_description(cast('mart_probe' as regclass), 'pg_class')")
        ).scalar()
        comment = conn.execute(
            text("select col_description(cast('mart_probe' as regclass), 2)")
        ).scalar()
        drop_marts(conn, tmp_path)
    assert described == "100% of the products whose brand is like 'A%'; it's a probe"
    assert comment == "是否 A 开头：like 'A%'，it's 50%"


def test_a_mart_whose_tables_are_missing_is_left_out(database_url, tmp_path):
    engine = make_engine(database_url)
    migrate.upgrade(engine, "0001_foundation")
    _mart(tmp_path, "with final as (select e.id from evaluations as e)\nselect * from final\n")
    _mart(
        tmp_path,
        "with final as (select s.id from shops as s)\nselect * from final\n",
        name="mart_shops",
    )
    with engine.begin() as conn:
        assert create_marts(conn, tmp_path) == ["mart_shops"]
        drop_marts(conn, tmp_path)
    assert "mart_shops" not in inspect(engine).get_view_names()
    engine.dispose()


def test_a_cte_the_parser_cannot_read_does_not_stop_the_view(database_url, tmp_path):
    path = _mart(
        tmp_path,
        """
        -- mart_probe: two fixed rows and a join
        with names (label, shop_id) as (
            values ('a', 1), ('b', 2)
        ),

        final as (
            select
                n.label,                               -- 名称
                s.platform                             -- 电商平台
            from names as n
            left join shops as s on n.shop_id = s.id
        )

        select * from final
        """,
    )
    mart = parse_mart(path)
    assert mart.tables == {"shops"}
    assert mart.problems and "expected a SELECT" in mart.problems[0]
    assert [(c.name, c.comment) for c in mart.columns] == [
        ("label", "名称"),
        ("platform", "电商平台"),
    ]
    engine = make_engine(database_url)
    migrate.upgrade(engine)
    with engine.begin() as conn:
        assert create_marts(conn, tmp_path) == ["mart_probe"]
        assert conn.execute(text("select count(*) from mart_probe")).scalar() == 2
        drop_marts(conn, tmp_path)
    engine.dispose()
