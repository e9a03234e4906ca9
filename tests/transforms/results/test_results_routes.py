"""Routing of notices: channel and address per recipient, from the routes file."""

from __future__ import annotations

import doctest

import pytest

from transforms.notify import routes as routes_module
from transforms.notify.routes import DATA_FILE, Routes, RoutesError

HOOK = {"url": "https://open.shopx.example.cn/ecqm", "secret_env": "ECQM_WEBHOOK_SECRET_SHOPX"}
DOC = {
    "version": "t",
    "platforms": {"shopx": {"name": "某电商平台", "webhook": HOOK}, "quiet": {"name": "静默"}},
    "producers": {"浙江某某电器有限公司": "quality@producer.cn"},
}
SMTP = {"ECQM_SMTP_HOST": "smtp.example.cn"}


def test_the_shipped_routes_send_everything_to_files_without_smtp():
    routes = Routes.load(DATA_FILE, environ={})
    assert routes.version and routes.issuer_name and routes.smtp_configured is False
    assert routes.platform_name("youpin") == "优品商城" and routes.platform_name("zz") == "zz"
    for kind, extra in (
        ("seller", {"platform": "youpin"}),
        ("producer", {"producer": "某厂"}),
        ("platform", {"platform": "lehuo"}),
        ("regulator", {"email": "ningbo.regulator@notify.example"}),
        ("public", {}),
    ):
        route = routes.route(kind, **extra)
        assert route.channel == "file" and route.address == routes.files[kind]
        assert route.delivery() is None


def test_platforms_and_their_sellers_get_the_webhook_with_its_secret_named():
    routes = Routes.from_dict(DOC, environ={})
    for kind in ("platform", "seller"):
        route = routes.route(kind, platform="shopx")
        assert (route.channel, route.address) == ("webhook", HOOK["url"])
        assert route.delivery() == {"secret_env": "ECQM_WEBHOOK_SECRET_SHOPX"}
    assert routes.route("platform", platform="quiet").channel == "file"
    assert routes.route("platform", platform=None).channel == "file"
    off = Routes.from_dict({**DOC, "sellers": {"via_platform": False}}, environ={})
    assert off.route("seller", platform="shopx").channel == "file"
    conn = Routes.from_dict(
        {
            "version": "t",
            "platforms": {"p": {"webhook": {"url": HOOK["url"], "secret_conn": "ecqm_webhook_p"}}},
        },
        environ={},
    )
    assert conn.route("platform", platform="p").delivery() == {"secret_conn": "ecqm_webhook_p"}


def test_email_needs_an_address_smtp_and_a_real_domain():
    with_smtp = Routes.from_dict(DOC, environ=SMTP)
    without = Routes.from_dict(DOC, environ={"ECQM_SMTP_HOST": "  "})
    # The producer's name is matched as people write it: spaces, full-width letters.
    producer = with_smtp.route("producer", producer="浙江某某电器 有限公司")
    assert (producer.channel, producer.address) == ("email", "quality@producer.cn")
    assert without.route("producer", producer="浙江某某电器有限公司").channel == "file"
    assert with_smtp.route("producer", producer="别的厂").channel == "file"
    assert with_smtp.route("regulator", email="zj@amr.zj.gov.cn").channel == "email"
    for placeholder in ("a@notify.example", "b@x.invalid", "c@mail.test", "d@relay.localhost"):
        route = with_smtp.route("regulator", email=placeholder)
        assert route.channel == "file" and "placeholder" in route.reason
    assert with_smtp.route("regulator", email=None).channel == "file"
    assert with_smtp.route("regulator", email="not an address").channel == "file"
    files = Routes.from_dict({**DOC, "regulators": {"email": False}}, environ=SMTP)
    assert files.route("regulator", email="zj@amr.zj.gov.cn").channel == "file"


def test_an_unknown_recipient_is_filed_never_dropped():
    route = Routes.from_dict(DOC, environ=SMTP).route("auditor")
    assert (route.channel, route.address) == ("file", "unrouted")


def test_a_file_in_ecqm_home_replaces_the_shipped_routes(tmp_path):
    assert Routes.load(home=tmp_path, environ={}).source == str(DATA_FILE)
    (tmp_path / "notify_routes.yaml").write_text(
        "version: local-1\n"
        "issuer: {name: 宁波市产品质量监督检验研究院, contact: 0574-0000}\n"
        "platforms:\n"
        "  youpin:\n"
        "    name: 优品\n"
        "    webhook: {url: 'https://youpin.example.cn/hook', secret_env: ECQM_WEBHOOK_SECRET_YP}\n",
        encoding="utf-8",
    )
    routes = Routes.load(home=tmp_path, environ={})
    assert (routes.version, routes.issuer_name, routes.issuer_contact) == (
        "local-1",
        "宁波市产品质量监督检验研究院",
        "0574-0000",
    )
    assert routes.route("seller", platform="youpin").channel == "webhook"
    assert routes.route("platform", platform="lehuo").channel == "file"  # whole file replaced


@pytest.mark.parametrize(
    "doc, message",
    [
        ({}, "version"),
        ({"version": "1", "routes": {}}, "unknown keys"),
        (
            {
                "version": "1",
                "platforms": {
                    "x": {"webhook": {"url": "ftp://x/y", "secret_env": "ECQM_WEBHOOK_SECRET"}}
                },
            },
            "http",
        ),
        (
            {"version": "1", "platforms": {"x": {"webhook": {"url": "https://x.cn/h"}}}},
            "never unsigned",
        ),
        (
            {
                "version": "1",
                "platforms": {
                    "x": {"webhook": {"url": "https://x.cn/h", "secret_env": "ECQM_SMTP_PASSWORD"}}
                },
            },
            "ECQM_WEBHOOK_SECRET",
        ),
        (
            {
                "version": "1",
                "platforms": {"x": {"webhook": {"url": "https://x.cn/h", "secret": "hunter2"}}},
            },
            "never unsigned",
        ),
        (
            {
                "version": "1",
                "platforms": {"x": {"webhook": {"url": "https://x.cn/h", "secret_conn": "smtp"}}},
            },
            "ecqm_webhook",
        ),
        ({"version": "1", "producers": {"某厂": "nobody"}}, "e-mail"),
        ({"version": "1", "files": {"seller": "../../etc"}}, "folder name"),
        ({"version": "1", "files": {"auditor": "x"}}, "unknown recipient kind"),
        ({"version": "1", "smtp_host_env": "smtp host"}, "smtp_host_env"),
    ],
)
def test_bad_routes_are_refused_naming_the_field(doc, message):
    with pytest.raises(RoutesError, match=message):
        Routes.from_dict(doc, environ={})


def test_docstring_examples():
    result = doctest.testmod(routes_module)
    assert result.attempted > 0 and result.failed == 0
