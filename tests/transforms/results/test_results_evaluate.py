"""Evaluation of inspection results taken in through the inbox, on SQLite and
PostgreSQL: verdicts, retests, the notices queued with them, and risk confirmation."""

from __future__ import annotations

import datetime as dt

import pytest
from results_world import (  # type: ignore[import-not-found]
    DRYER_PRODUCER,
    FILE_ROUTES,
    NOW,
    SHOP_COMPANY,
    assessment,
    dump,
    evaluate,
    evaluation,
    events,
    notices,
    result,
    send,
)
from sqlalchemy import select, update

from ecqm.warehouse.schema import (
    evaluations,
    inspection_results,
    notifications,
    quarantine,
    ref_regions,
    risk_assessments,
    sampling_tasks,
    shops,
)
from transforms.intake import import_file
from transforms.notify.routes import Routes

LATER = dt.datetime(2026, 12, 1, 2, 0, tzinfo=dt.UTC)  # 10:00 on 1 December in Shanghai


def _kettle_fails(engine, home, report="QC2026-0417"):
    """T-KETTLE's report: the leakage current fails critically, the marking minorly, two
    items pass."""
    send(
        engine,
        home,
        "results",
        [
            result(item="发热", report_number=report),
            result(
                item="泄漏电流和电气强度",
                measured_value="0.82 mA",
                limit_value="≤ 0.75 mA",
                standard_clause="GB 4706.1-2005 第13章",
                verdict="不合格",
                defect_class="严重",
                report_number=report,
            ),
            result(item="标志和说明", verdict="不合格", defect_class="C类", report_number=report),
            result(item="输入功率和电流", report_number=report),
        ],
    )


def _kinds(found: dict) -> dict[str, tuple[str, str]]:
    return {k: (n["kind"], n["recipient_kind"]) for k, n in found.items()}


def test_a_report_with_mixed_verdicts_fails_as_a_safety_defect(world, home):
    _kettle_fails(world, home)
    report = evaluate(world)

    assert report.problems == [] and (report.inserted, report.reports) == (1, 1)
    ev = evaluation(world, "QC2026-0417")
    assert (ev["verdict"], ev["items_total"], ev["items_failed"]) == ("fail", 4, 2)
    assert (ev["worst_defect"], ev["is_safety"], ev["status"]) == ("critical", True, "current")
    assert ev["is_retest"] is False and ev["supersedes"] is None
    assert ev["failed_items"] == [
        {
            "test_item": "泄漏电流和电气强度",
            "standard_clause": "GB 4706.1-2005 第13章",
            "measured_value": "0.82 mA",
            "limit_value": "≤ 0.75 mA",
            "defect_class": "critical",
            "is_safety": True,
        },
        {
            "test_item": "标志和说明",
            "standard_clause": "GB 4706.19-2008 第11章",
            "measured_value": "温升 48K",
            "limit_value": "≤ 65K",
            "defect_class": "minor",
            "is_safety": False,
        },
    ]
    # Tested on Saturday 21 November 2026: Mon 23 is working day 1, Fri 27 day 5.
    assert ev["seller_deadline"] == dt.date(2026, 11, 27)
    assert (ev["plan_id"], ev["stratum"], ev["category_code"]) == (
        "PLAN-2026-11",
        "targeted",
        "electric_kettle",
    )
    assert ev["rules_version"] == "2026.1" and ev["evaluated_at"] == NOW

    # The seller always; the producer and the platform on a failure; one regulator (the
    # producer is the shop's own company, both in 宁波) and the public alert list for a
    # safety defect.
    found = notices(world)
    assert _kinds(found) == {
        "QC2026-0417:seller_result:seller:sim/shop-88": ("seller_result", "seller"),
        next(k for k in found if ":producer_failure:producer:~" in k): (
            "producer_failure",
            "producer",
        ),
        "QC2026-0417:platform_failure:platform:sim": ("platform_failure", "platform"),
        "QC2026-0417:regulator_safety:regulator:330200": ("regulator_safety", "regulator"),
        "QC2026-0417:public_alert:public:public": ("public_alert", "public"),
    }
    for key, n in found.items():
        assert (n["status"], n["attempts"], n["reminders"]) == ("queued", 0, 0)
        assert n["next_attempt_at"] == NOW and n["created_at"] == NOW
        assert n["evaluation_id"] == ev["id"] and n["report_number"] == "QC2026-0417"
        assert n["channel"] == "file" and n["subject"] and n["body_text"] and n["body_html"]
        assert n["payload"]["kind"] == n["kind"] and "_delivery" not in n["payload"]
        assert len(key) <= 200 and key.isascii() and key.isprintable() and " " not in key
        assert events(world, n["id"]) == ["queued"]
    seller = found["QC2026-0417:seller_result:seller:sim/shop-88"]
    # 5 working days after the test date; the objection period (15 days) after that,
    # stated in the notice. Silence means acceptance: no answer is due, so no reminder.
    assert seller["due_at"] == dt.datetime(2026, 11, 27, 16, tzinfo=dt.UTC)
    assert seller["ack_due_at"] is None
    assert "2026年12月12日24时前" in seller["body_text"]
    platform = found["QC2026-0417:platform_failure:platform:sim"]
    # Takedown confirmed within 3 working days of queueing (Sun 22 Nov → Wed 25 Nov).
    assert platform["ack_due_at"] == dt.datetime(2026, 11, 25, 16, tzinfo=dt.UTC)
    regulator = found["QC2026-0417:regulator_safety:regulator:330200"]
    assert regulator["recipient_name"] == "宁波市市场监督管理局"
    # The shipped ref_regions holds placeholder addresses: never mailed, filed instead.
    assert (regulator["channel"], regulator["address"]) == ("file", "regulators")
    assert "泄漏电流和电气强度（严重缺陷）" in regulator["body_text"]
    producer = next(n for n in found.values() if n["kind"] == "producer_failure")
    assert producer["recipient_name"] == SHOP_COMPANY
    public = found["QC2026-0417:public_alert:public:public"]
    assert public["due_at"] is None and public["ack_due_at"] is None


def test_a_minor_failure_is_no_safety_defect_and_owes_no_regulator(world, home):
    send(
        world,
        home,
        "results",
        [
            result(
                "T-DRYER",
                item="标志和说明",
                verdict="不合格",
                defect_class="一般",
                report_number="NB-88",
            ),
            result("T-DRYER", item="发热", report_number="NB-88"),
        ],
    )
    evaluate(world)
    ev = evaluation(world, "NB-88")
    assert (ev["verdict"], ev["worst_defect"], ev["is_safety"]) == ("fail", "major", False)
    assert sorted(n["kind"] for n in notices(world).values()) == [
        "platform_failure",
        "producer_failure",
        "seller_result",
    ]


def test_a_pass_tells_the_seller_only(world, home):
    send(world, home, "results", [result(item="发热"), result(item="标志和说明")])
    evaluate(world)
    ev = evaluation(world, "QC2026-TLE")
    assert (ev["verdict"], ev["items_failed"], ev["worst_defect"]) == ("pass", 0, None)
    assert ev["failed_items"] == [] and ev["is_safety"] is False
    (only,) = notices(world).values()
    assert only["kind"] == "seller_result" and "检验结论：合格" in only["body_text"]
    # A pass confirms nothing.
    kettle = assessment(world, ev["product_id"])
    assert kettle["is_confirmed"] is False and ev["risk_level_after"] == "elevated"


def test_a_failed_item_without_a_defect_class_counts_as_major(world, home):
    # The inbox refuses it (a failed item needs its class) …
    from intake_world import RESULT_HEADER_ZH, write_csv  # type: ignore[import-not-found]

    path = write_csv(
        home / "no-class.csv",
        RESULT_HEADER_ZH,
        [result(item="标志和说明", verdict="不合格", defect_class="")],
    )
    refused = import_file(world, "results", path, home=home, now=NOW)
    assert refused.status == "rejected"
    assert {p.code for p in refused.problems} == {"defect_class_missing"}
    # … but older or hand-loaded rows may hold one.
    send(world, home, "results", [result(item="发热")])
    with world.begin() as conn:
        conn.execute(
            inspection_results.insert().values(
                task_id="T-KETTLE",
                platform="sim",
                listing_external_id="item-100",
                test_item="标志和说明",
                verdict="fail",
                defect_class=None,
                measured_value="未标注额定功率",
                lab_code="lab_hz_qiancheng",
                report_number="QC2026-TLE",
                tested_on=dt.date(2026, 11, 21),
            )
        )
    evaluate(world)
    ev = evaluation(world, "QC2026-TLE")
    assert (ev["verdict"], ev["worst_defect"], ev["is_safety"]) == ("fail", "major", False)
    assert ev["failed_items"][0]["defect_class"] is None
    seller = notices(world)["QC2026-TLE:seller_result:seller:sim/shop-88"]
    assert "1. 标志和说明\n" in seller["body_text"]  # no class shown, none invented


def test_a_safety_defect_goes_to_both_regulators_and_a_shared_one_once(world, home):
    send(
        world,
        home,
        "results",
        [
            result(
                "T-DRYER",
                item="非正常工作（堵风口）",
                verdict="不合格",
                defect_class="一般",
                report_number="NB-9",
            )
        ],
    )
    evaluate(world)
    # A major failure of an abnormal-operation test is still a safety defect.
    assert evaluation(world, "NB-9")["is_safety"] is True
    regulators = {
        k.rsplit(":", 1)[1]: n for k, n in notices(world).items() if n["kind"] == "regulator_safety"
    }
    # The producer's 属地 from the listing's 产地 (顺德), and the shop's (宁波).
    assert {k: n["recipient_name"] for k, n in regulators.items()} == {
        "440606": "佛山市顺德区市场监督管理局",
        "330200": "宁波市市场监督管理局",
    }
    assert "标称生产者：" + DRYER_PRODUCER in regulators["440606"]["body_text"]
    assert "佛山市顺德区" in regulators["440606"]["body_text"]


def test_a_shop_in_the_producers_region_means_one_regulator_notice(world, home):
    with world.begin() as conn:
        conn.execute(update(shops).values(region_code="440606"))
    send(
        world,
        home,
        "results",
        [
            result(
                "T-DRYER", item="发热", verdict="不合格", defect_class="严重", report_number="NB-9"
            )
        ],
    )
    evaluate(world)
    regulators = [n for n in notices(world).values() if n["kind"] == "regulator_safety"]
    assert [n["recipient_name"] for n in regulators] == ["佛山市顺德区市场监督管理局"]


def test_no_known_region_still_owes_the_regulator_a_notice(world, home):
    from ecqm.warehouse.schema import listings

    with world.begin() as conn:
        conn.execute(update(shops).values(region_code=None, company_name=None, attributes=None))
        conn.execute(update(listings).values(origin=None))
    send(
        world,
        home,
        "results",
        [result(item="泄漏电流和电气强度", verdict="不合格", defect_class="严重")],
    )
    evaluate(world)
    (unresolved,) = [n for n in notices(world).values() if n["kind"] == "regulator_safety"]
    assert unresolved["idempotency_key"].endswith(":regulator:unresolved")
    assert (unresolved["channel"], unresolved["address"]) == ("file", "regulators")
    assert "请转送" in unresolved["recipient_name"]
    # A shop with no licence seen may be a person's: the public never sees its name.
    public = notices(world)["QC2026-TLE:public_alert:public:public"]
    assert "个人网店（名称不公开）" in public["body_text"]
    assert "暖心电器旗舰店" not in public["body_text"] + public["body_html"]


def test_hostile_shop_names_are_escaped_in_html_and_one_line_in_text(world, home):
    hostile = '<script>alert("x")</script>暖心\r\n二、检验结论：合格\u202e'
    with world.begin() as conn:
        conn.execute(update(shops).values(name=hostile))
    _kettle_fails(world, home)
    evaluate(world)
    seller = notices(world)["QC2026-0417:seller_result:seller:sim/shop-88"]
    assert "<script>" not in seller["body_html"]
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;暖心" in seller["body_html"]
    assert "\n二、检验结论：合格" not in seller["body_text"]
    assert '<script>alert("x")</script>暖心 二、检验结论：合格：' in seller["body_text"]
    assert "\u202e" not in seller["recipient_name"] + seller["body_text"]
    assert seller["recipient_name"] == '<script>alert("x")</script>暖心 二、检验结论：合格'
    for n in notices(world).values():
        assert "<script>" not in n["body_html"]


def test_a_passed_retest_supersedes_the_failure(world, home):
    _kettle_fails(world, home, "QC-1")
    evaluate(world)
    kettle = evaluation(world, "QC-1")["product_id"]
    confirmed = assessment(world, kettle)
    assert confirmed["is_confirmed"] is True
    assert confirmed["confirmation"] == "检验不合格确认：检验报告 QC-1 判定不合格"
    first = notices(world, "QC-1")
    seller_key = "QC-1:seller_result:seller:sim/shop-88"
    # The seller's notice went out; the others are still waiting.
    with world.begin() as conn:
        conn.execute(
            update(notifications)
            .where(notifications.c.idempotency_key == seller_key)
            .values(status="sent", sent_at=NOW, attempts=1)
        )

    # The seller objected; the backup sample passes every item.
    send(
        world,
        home,
        "results",
        [
            result(item=item, report_number="QC-1R", tested_on="2026-11-30")
            for item in ("发热", "泄漏电流和电气强度", "标志和说明", "输入功率和电流")
        ],
        now=LATER,
    )
    report = evaluate(world, LATER)
    assert (report.inserted, report.relinked, report.superseded) == (1, 1, 1)

    old, new = evaluation(world, "QC-1"), evaluation(world, "QC-1R")
    assert (old["status"], old["superseded_by"], old["verdict"]) == ("superseded", "QC-1R", "fail")
    assert old["evaluated_at"] == NOW  # its verdict stands, only its place changed
    assert (new["status"], new["is_retest"], new["supersedes"]) == ("current", True, "QC-1")
    assert (new["verdict"], new["superseded_by"]) == ("pass", None)

    after = notices(world, "QC-1")
    assert after[seller_key]["status"] == "sent"
    for key in set(first) - {seller_key}:
        assert after[key]["status"] == "cancelled"
        assert events(world, after[key]["id"]) == ["queued", "cancelled"]
    assert events(world, after[seller_key]["id"]) == ["queued"]
    # The retest has its own notices under its own keys: the seller hears the new result.
    assert _kinds(notices(world, "QC-1R")) == {
        "QC-1R:seller_result:seller:sim/shop-88": ("seller_result", "seller"),
    }
    # The failure no longer confirms the risk; the audit trail stays.
    withdrawn = assessment(world, kettle)
    assert (withdrawn["is_confirmed"], withdrawn["confirmation"]) == (False, None)
    with world.connect() as conn:
        numbers = {n for (n,) in conn.execute(select(inspection_results.c.report_number))}
    assert numbers == {"QC-1", "QC-1R"}

    before = dump(world)
    assert evaluate(world, LATER + dt.timedelta(hours=5)).written == 0
    assert dump(world) == before


def test_running_twice_leaves_the_warehouse_identical(world, home):
    _kettle_fails(world, home)
    send(world, home, "results", [result("T-DRYER", report_number="NB-1")])
    evaluate(world)
    before = dump(world)
    report = evaluate(world, NOW + dt.timedelta(days=1))
    assert (report.written, report.unchanged, report.problems) == (0, 2, [])
    assert sum(report.notifications.values()) == 0
    assert dump(world) == before


def test_a_corrected_report_is_judged_again_and_its_notices_follow(world, home):
    _kettle_fails(world, home)
    evaluate(world)
    kettle = evaluation(world, "QC2026-0417")["product_id"]
    seller_key = "QC2026-0417:seller_result:seller:sim/shop-88"
    platform_key = "QC2026-0417:platform_failure:platform:sim"
    with world.begin() as conn:
        conn.execute(
            update(notifications)
            .where(notifications.c.idempotency_key == platform_key)
            .values(status="sent", sent_at=NOW, attempts=1)
        )
    # The lab corrects its report: both failed items actually passed.
    send(
        world,
        home,
        "results",
        [
            result(item="泄漏电流和电气强度", report_number="QC2026-0417"),
            result(item="标志和说明", report_number="QC2026-0417"),
        ],
        now=LATER,
    )
    report = evaluate(world, LATER)
    assert (report.replaced, report.inserted) == (1, 0)
    ev = evaluation(world, "QC2026-0417")
    assert (ev["verdict"], ev["items_failed"], ev["evaluated_at"]) == ("pass", 0, LATER)
    found = notices(world)
    # The pending seller notice now says 合格; pending failure notices are withdrawn; the
    # platform notice already sent cannot be, and is counted for a person to correct.
    assert found[seller_key]["status"] == "queued"
    assert "检验结论：合格" in found[seller_key]["body_text"]
    assert events(world, found[seller_key]["id"]) == ["queued", "updated"]
    assert found[platform_key]["status"] == "sent"
    assert report.notifications["stale_sent"] == 1
    assert {n["status"] for k, n in found.items() if k not in (seller_key, platform_key)} == {
        "cancelled"
    }
    assert assessment(world, kettle)["is_confirmed"] is False


def test_a_staff_decision_on_the_risk_is_kept(world, home):
    from ecqm.warehouse.schema import risk_assessments

    with world.begin() as conn:
        conn.execute(
            update(risk_assessments).values(
                review_status="dismissed", review_note="人工排除（张三，2026-11-20）"
            )
        )
    _kettle_fails(world, home)
    report = evaluate(world)
    ev = evaluation(world, "QC2026-0417")
    row = assessment(world, ev["product_id"])
    assert (row["is_confirmed"], row["review_status"], row["confirmation"]) == (
        False,
        "dismissed",
        None,
    )
    assert report.risk["staff_decision"] == 1
    # The level the matrix gives a product known to fail: likelihood 5 at severity 3
    # (a safety defect) is 高风险; before, the assessment said 较高风险.
    assert (ev["risk_level_before"], ev["risk_level_after"]) == ("elevated", "high")


def test_a_rule_confirmation_is_kept_beside_the_lab_one(world, home):
    from ecqm.warehouse.schema import risk_assessments

    with world.begin() as conn:
        conn.execute(
            update(risk_assessments).values(is_confirmed=True, confirmation="召回匹配确认：某召回")
        )
    _kettle_fails(world, home, "QC-1")
    evaluate(world)
    kettle = evaluation(world, "QC-1")["product_id"]
    assert assessment(world, kettle)["confirmation"] == (
        "检验不合格确认：检验报告 QC-1 判定不合格；召回匹配确认：某召回"
    )
    send(
        world,
        home,
        "results",
        [result(item="发热", report_number="QC-1R", tested_on="2026-11-30")],
        now=LATER,
    )
    evaluate(world, LATER)
    row = assessment(world, kettle)
    assert (row["is_confirmed"], row["confirmation"]) == (True, "召回匹配确认：某召回")


def test_the_seller_deadline_skips_the_2026_national_day_holiday(world, home):
    from intake_world import purchase  # type: ignore[import-not-found]

    september = dt.datetime(2026, 10, 9, 2, tzinfo=dt.UTC)
    send(
        world,
        home,
        "purchases",
        [
            purchase(
                "T-SPARE",
                "3391827465501939999",
                ordered_at="2026-09-20 10:00",
                received_at="2026-09-25 09:00",
            )
        ],
        now=september,
    )
    send(
        world,
        home,
        "results",
        [result("T-SPARE", item="发热", report_number="QC-0930", tested_on="2026-09-30")],
        now=september,
    )
    evaluate(world, september)
    # Wed 30 Sep is day 0; 1–7 Oct are off; Thu 8 (1), Fri 9 (2), Sat 10 — a working
    # Saturday (调休) — (3), Sun 11 off, Mon 12 (4), Tue 13 (5).
    assert evaluation(world, "QC-0930")["seller_deadline"] == dt.date(2026, 10, 13)
    seller = notices(world, "QC-0930")["QC-0930:seller_result:seller:sim/shop-88"]
    # Exclusive end: 00:00 on 14 October in Shanghai.
    assert seller["due_at"] == dt.datetime(2026, 10, 13, 16, tzinfo=dt.UTC)


def test_a_deadline_past_the_calendar_is_counted_provisionally(world, home):
    from transforms.notify.workdays import default_calendar

    late = dt.datetime(2026, 12, 29, 2, tzinfo=dt.UTC)
    send(
        world,
        home,
        "results",
        [result(item="发热", report_number="QC-1228", tested_on="2026-12-28")],
        now=late,
    )
    send(world, home, "results", [result("T-DRYER", report_number="NB-1")], now=late)
    # A strict calendar refuses to guess 2027: that report waits in quarantine, the other
    # is evaluated, and a second run changes nothing.
    report = evaluate(world, late, calendar=default_calendar())
    assert [(p["report_number"], p["code"]) for p in report.problems] == [
        ("QC-1228", "outside_calendar")
    ]
    assert "2027" in report.problems[0]["reason"]
    assert report.inserted == 1 and notices(world, "QC-1228") == {}
    with world.connect() as conn:
        rows = conn.execute(select(quarantine.c.record_key, quarantine.c.rule)).all()
    assert [tuple(r) for r in rows] == [("QC-1228", "evaluate:outside_calendar")]
    before = dump(world)
    evaluate(world, late + dt.timedelta(hours=1), calendar=default_calendar())
    assert dump(world) == before
    # The default counts 2027 provisionally (weekends and 1 January off): Mon 28 Dec is
    # day 0; Tue 29 (1), Wed 30 (2), Thu 31 (3), Fri 1 Jan off, Mon 4 (4), Tue 5 (5).
    report = evaluate(world, late + dt.timedelta(hours=2))
    assert report.problems == [] and report.inserted == 1
    assert evaluation(world, "QC-1228")["seller_deadline"] == dt.date(2027, 1, 5)
    assert notices(world, "QC-1228")
    with world.connect() as conn:
        assert conn.execute(select(quarantine)).all() == []


def test_results_of_an_unknown_task_are_quarantined_until_it_exists(world, home):
    with world.begin() as conn:
        conn.execute(
            inspection_results.insert().values(
                task_id="T-GHOST",
                test_item="发热",
                verdict="pass",
                lab_code="lab_hz_qiancheng",
                report_number="GH-1",
                tested_on=dt.date(2026, 11, 21),
            )
        )
    report = evaluate(world)
    assert [p["code"] for p in report.problems] == ["unknown_task"]
    with world.begin() as conn:
        task = dict(
            conn.execute(select(sampling_tasks).where(sampling_tasks.c.task_id == "T-SPARE"))
            .mappings()
            .one()
        )
        conn.execute(sampling_tasks.insert().values({**task, "task_id": "T-GHOST"}))
    report = evaluate(world)
    assert report.problems == [] and report.inserted == 1
    with world.connect() as conn:
        assert conn.execute(select(quarantine)).all() == []
    assert evaluation(world, "GH-1")["verdict"] == "pass"


def test_routes_pick_webhooks_and_email_and_keep_secrets_out(world, home):
    with world.begin() as conn:
        conn.execute(
            update(ref_regions)
            .where(ref_regions.c.code == "330200")
            .values(notify_email="zhijian@amr.ningbo.gov.cn")
        )
    routes = Routes.from_dict(
        {
            "version": "t1",
            "platforms": {
                "sim": {
                    "name": "模拟商城",
                    "webhook": {
                        "url": "https://open.sim.example.cn/ecqm",
                        "secret_env": "ECQM_WEBHOOK_SECRET_SIM",
                    },
                }
            },
            "producers": {SHOP_COMPANY.replace("电器", "电器 "): "quality@nuanxin.cn"},
        },
        environ={"ECQM_SMTP_HOST": "smtp.example.cn", "ECQM_WEBHOOK_SECRET_SIM": "s3cret!"},
    )
    _kettle_fails(world, home)
    evaluate(world, routes=routes)
    found = {n["kind"]: n for n in notices(world).values()}
    assert {k: (n["channel"], n["address"]) for k, n in found.items()} == {
        "seller_result": ("webhook", "https://open.sim.example.cn/ecqm"),
        "platform_failure": ("webhook", "https://open.sim.example.cn/ecqm"),
        "producer_failure": ("email", "quality@nuanxin.cn"),
        "regulator_safety": ("email", "zhijian@amr.ningbo.gov.cn"),
        "public_alert": ("file", "public_alerts"),
    }
    assert found["seller_result"]["payload"]["_delivery"] == {
        "secret_env": "ECQM_WEBHOOK_SECRET_SIM"
    }
    assert "模拟商城" in found["platform_failure"]["body_text"]
    assert "s3cret!" not in repr(dump(world))


@pytest.mark.parametrize("number", ["浙检（2026）第0417号", "R:" + "9" * 62])
def test_keys_stay_printable_ascii_for_any_report_number(world, home, number):
    _kettle_fails(world, home, number)
    evaluate(world)
    keys = list(notices(world))
    assert len(keys) == 5
    for key in keys:
        assert len(key) <= 200 and key.isascii() and key.isprintable() and " " not in key
        assert key.count(":") == 3 and key.startswith("~")


def test_file_routes_fixture_has_no_smtp():
    assert FILE_ROUTES.smtp_configured is False


def test_a_notice_that_cannot_be_rendered_rolls_back_its_evaluation(world, home, monkeypatch):
    from transforms.notify.render import NoticeError
    from transforms.results import notices as nt

    real = nt.plan_notices

    def plan(evaluation, *args, **kwargs):
        if evaluation["report_number"] == "QC2026-0417":
            raise NoticeError("seller_result: the context lacks shop")
        return real(evaluation, *args, **kwargs)

    monkeypatch.setattr(nt, "plan_notices", plan)
    _kettle_fails(world, home)
    send(world, home, "results", [result("T-DRYER", report_number="NB-1")])
    report = evaluate(world)
    # The evaluation, its risk confirmation and its notices are one transaction.
    assert (report.inserted, report.verdicts, dict(report.risk)) == (1, {"pass": 1}, {})
    assert report.report_numbers == ["NB-1"] and report.notifications["queued"] == 1
    assert [p["code"] for p in report.problems] == ["notice_error"]
    with world.connect() as conn:
        numbers = conn.execute(select(evaluations.c.report_number)).scalars().all()
        rule = conn.execute(select(quarantine.c.rule)).scalar_one()
    assert numbers == ["NB-1"] and rule == "evaluate:notice_error"
    assert set(notices(world)) == {"NB-1:seller_result:seller:sim/shop-88"}
    with world.connect() as conn:
        kettle = conn.execute(
            select(sampling_tasks.c.product_id).where(sampling_tasks.c.task_id == "T-KETTLE")
        ).scalar_one()
    assert assessment(world, kettle)["is_confirmed"] is False

    monkeypatch.setattr(nt, "plan_notices", real)
    report = evaluate(world)
    assert (report.inserted, report.problems) == (1, [])
    with world.connect() as conn:
        assert conn.execute(select(quarantine)).all() == []


def test_assessment_and_evaluation_agree_whichever_runs_first(world, home, tmp_path):
    """The day's assessment and the evaluation of that day's results write the same
    confirmation, so re-running either, in any order, changes nothing."""
    from risk_models.assess import assess

    day = dt.date(2026, 11, 21)  # the results' test date

    def newest(product_id):
        with world.connect() as conn:
            return dict(
                conn.execute(
                    select(risk_assessments)
                    .where(risk_assessments.c.product_id == product_id)
                    .order_by(risk_assessments.c.as_of.desc())
                    .limit(1)
                )
                .mappings()
                .one()
            )

    _kettle_fails(world, home, "QC-1")
    # Assess, then evaluate: the evaluation confirms the day's assessment.
    assess(world, day, home=tmp_path, now=NOW)
    evaluate(world)
    kettle = evaluation(world, "QC-1")["product_id"]
    first = newest(kettle)
    assert first["as_of"] == day and first["is_confirmed"] is True
    assert first["confirmation"].startswith("检验不合格确认：检验报告 QC-1 判定不合格")
    # The assessment runs again after the evaluation: the same row.
    assess(world, day, home=tmp_path, now=NOW)
    again = newest(kettle)
    keep = ("level", "probability", "is_confirmed", "confirmation", "review_status")
    assert {k: again[k] for k in keep} == {k: first[k] for k in keep}
    before = dump(world)
    evaluate(world, NOW + dt.timedelta(hours=1))
    assess(world, day, home=tmp_path, now=NOW)
    assert dump(world) == before
