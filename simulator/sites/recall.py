"""缺陷产品召回 (recall): SAMR-style notices and overseas recall downloads."""

from __future__ import annotations

import csv
import io

from ..entities import Recall
from ..recalls import HAZARD_EN, fmt_units
from ..world import World
from .base import (
    NotFound,
    Request,
    Response,
    document,
    esc,
    html_response,
    json_response,
    offsite_footer,
    pager,
    pages_for,
)

PAGE = 20
CPSC_COLUMNS = (
    "Recall Number",
    "Product Safety Warning Number",
    "Date",
    "Product Safety Warning Date",
    "Recall Heading",
    "Name of product",
    "Description",
    "Hazard Description",
    "Consumer Action",
    "Original Product Safety Warning Announcement",
    "Remedy Type",
    "Units",
    "Incidents",
    "Remedy",
    "Sold At Label",
    "Sold At",
    "Importers",
    "Manufacturers",
    "Distributors",
    "Manufactured In",
    "Custom Label",
    "Custom Field",
)
EU_COLUMNS = (
    "Alert number",
    "Alert type",
    "Publication date",
    "Notifying country",
    "Product category",
    "Product",
    "Name",
    "Brand",
    "Type / number of model",
    "Batch number / Barcode",
    "OECD Portal Category",
    "Description",
    "Country of origin",
    "Counterfeit",
    "Risk type",
    "Risk description",
    "Measures adopted by notifying country",
    "Products were found and measures were taken also in",
    "Company recall page",
)
_EU_CATEGORY = {
    "appliance": "Electrical appliances and equipment",
    "toy": "Toys",
    "kids": "Childcare articles and children's equipment",
    "lighting": "Lighting equipment",
    "digital": "Electrical appliances and equipment",
    "ebike": "Protective equipment",
    "textile": "Clothing, textiles and fashion items",
    "cosmetic": "Cosmetics",
    "kitchen": "Kitchen / cooking accessories",
}
_EU_RISK = {
    "fire": "Fire",
    "electric_shock": "Electric shock",
    "burn": "Burns",
    "chemical_odour": "Chemical",
    "choking_small_parts": "Choking",
    "cut_breakage": "Injuries",
    "allergy_skin": "Chemical",
    "performance": "Injuries",
}
_EU_MEASURES = (
    "Withdrawal of the product from the market",
    "Recall of the product from end users",
    "Ban on the marketing of the product and any accompanying measures",
    "Rejection of the product at the border",
)


def _page(title: str, body: str) -> Response:
    head = (
        '<div class="rc-head"><a href="/recall/">缺陷产品召回信息平台</a> <a href="/recall/notices">国内召回</a> '
        '<a href="/recall/overseas">境外召回</a> <a href="/recall/manage/login" rel="nofollow">管理登录</a></div>'
    )
    return html_response(
        document(
            f"{title} - 缺陷产品召回",
            head + body + f'<div class="rc-foot">{offsite_footer()}</div>',
        )
    )


def home(world: World, req: Request) -> Response:
    body = (
        '<div class="rc-home"><ul><li><a href="/recall/notices">消费品召回公告</a></li>'
        '<li><a href="/recall/overseas?source=cpsc">美国CPSC召回</a></li>'
        '<li><a href="/recall/overseas?source=eu">欧盟Safety Gate通报</a></li></ul>'
        '<h3>数据下载</h3><ul><li><a href="/recall/download/cpsc_recalls.csv">CPSC召回数据（CSV）</a></li>'
        '<li><a href="/recall/download/cpsc_recalls.json">CPSC召回数据（JSON）</a></li>'
        '<li><a href="/recall/download/safety_gate_alerts.csv">欧盟Safety Gate通报（CSV）</a></li></ul></div>'
    )
    return _page("首页", body)


def notices(world: World, req: Request) -> Response:
    reg = world.recall_registry
    total = reg.count_source("samr")
    page = req.int_arg("page")
    pages = pages_for(total, PAGE)
    if page > pages:
        raise NotFound("page")
    rows = []
    for i in range((page - 1) * PAGE, min(total, page * PAGE)):
        r = reg.recall(reg.newest("samr", i))
        rows.append(
            f'<li><a href="/recall/notice/{r.number}.html">{esc(r.producer)}召回部分{esc(r.brand)}牌'
            f'{esc(r.product_name)}</a><span class="date">{r.published:%Y-%m-%d}</span></li>'
        )
    return _page(
        "消费品召回公告",
        f'<ul class="notice-list">{"".join(rows)}</ul>{pager("/recall/notices", page, pages)}',
    )


def notice(world: World, req: Request, number: str) -> Response:
    k = world.recall_registry.index_of("samr", number)
    if k is None:
        raise NotFound(number)
    r = world.recall(k)
    body = f"""<div class="notice" data-number="{r.number}">
<h1>{esc(r.producer)}召回部分{esc(r.brand)}牌{esc(r.product_name)}</h1>
<p class="meta">召回编号：{r.number}　发布日期：{r.published:%Y年%m月%d日}</p>
<table class="recall-info">
<tr><th>生产者</th><td>{esc(r.producer)}</td></tr>
<tr><th>产品名称</th><td>{esc(r.product_name)}</td></tr>
<tr><th>品牌</th><td>{esc(r.brand)}</td></tr>
<tr><th>型号规格</th><td>{esc("、".join(r.models))}</td></tr>
<tr><th>生产批次</th><td>{esc("；".join(r.batches))}</td></tr>
<tr><th>召回数量</th><td>{r.units}台（件）</td></tr>
<tr><th>缺陷情况</th><td>{esc(r.defect)}</td></tr>
<tr><th>可能导致的后果</th><td>{esc(r.hazard_text)}</td></tr>
<tr><th>维修/召回措施</th><td>{esc(r.measures)}。自{r.published:%Y年%m月%d日}起，{esc(r.producer)}将为消费者{esc(r.measures)}。</td></tr>
<tr><th>联系方式</th><td>{esc(r.contact)}</td></tr>
</table></div>"""
    return _page(f"召回公告 {r.number}", body)


def _source(code: str) -> str:
    if code in ("cpsc", ""):
        return "cpsc"
    if code in ("eu", "eu_safety_gate"):
        return "eu_safety_gate"
    raise NotFound(code)


def overseas(world: World, req: Request) -> Response:
    reg = world.recall_registry
    src = _source(req.query.get("source", ""))
    total = reg.count_source(src)
    page = req.int_arg("page")
    pages = pages_for(total, PAGE)
    if page > pages:
        raise NotFound("page")
    rows = []
    for i in range((page - 1) * PAGE, min(total, page * PAGE)):
        r = reg.recall(reg.newest(src, i))
        rows.append(
            f'<li><a href="{overseas_path(r)}">{esc(r.brand)} {esc(r.product_name)}</a>'
            f"<span>{r.published:%Y-%m-%d}</span></li>"
        )
    tag = "cpsc" if src == "cpsc" else "eu"
    return _page(
        "境外召回",
        f'<ul class="overseas">{"".join(rows)}</ul>{pager(f"/recall/overseas?source={tag}", page, pages, "&")}',
    )


def overseas_path(r: Recall) -> str:
    if r.source == "cpsc":
        return f"/recall/overseas/cpsc/{r.number}.html"
    return f"/recall/overseas/eu/{r.number.replace('/', '-')}.html"


def notice_path(r: Recall) -> str:
    return f"/recall/notice/{r.number}.html" if r.source == "samr" else overseas_path(r)


def overseas_detail(world: World, req: Request, source: str, number: str) -> Response:
    src = _source(source)
    if src == "eu_safety_gate":
        number = number.replace("-", "/")
    k = world.recall_registry.index_of(src, number)
    if k is None:
        raise NotFound(number)
    r = world.recall(k)
    row = cpsc_row(r) if src == "cpsc" else eu_row(r)
    cols = CPSC_COLUMNS if src == "cpsc" else EU_COLUMNS
    table = "".join(
        f"<tr><th>{esc(c)}</th><td>{esc(v)}</td></tr>" for c, v in zip(cols, row, strict=True) if v
    )
    return _page(
        f"{r.brand} {r.product_name}",
        f'<div class="overseas-detail" data-number="{esc(r.number)}">'
        f"<h1>{esc(row[4] if src == 'cpsc' else row[6])}</h1><table>{table}</table></div>",
    )


def _heading(r: Recall) -> str:
    return f"{_maker(r)} Recalls {r.product_name} Due to {HAZARD_EN[r.hazard][0]} Hazard"


def cpsc_row(r: Recall) -> list[str]:
    models = ", ".join(r.models)
    noun = r.product_name.lower()
    incidents = int(r.units) % 17
    return [
        r.number,
        "",
        f"{r.published:%B} {r.published.day}, {r.published.year}",
        "",
        _heading(r),
        r.product_name,
        f"This recall involves {r.brand} {noun} with model numbers {models}. The model number is printed on "
        f"the label on the bottom of the product. The products were manufactured {r.batches[0]}.",
        HAZARD_EN[r.hazard][1],
        f"Consumers should immediately stop using the recalled {noun} and contact {_maker(r)} for a "
        f"{'full refund' if incidents % 2 else 'free replacement'}.",
        "",
        "Refund" if incidents % 2 else "Replace",
        fmt_units(r.units),
        f"The firm has received {incidents} reports of incidents, including {incidents // 3} reports of minor "
        "injuries."
        if incidents
        else "None reported",
        "Refund" if incidents % 2 else "Replace",
        "Sold At",
        "Online marketplaces and independent stores "
        f"nationwide from {r.published.year - 2} through {r.published.year}",
        r.extra.get("importer", ""),
        f"{_maker(r)}, of {r.producer_country}",
        "",
        r.producer_country,
        "",
        "",
    ]


def eu_row(r: Recall) -> list[str]:
    return [
        r.number,
        "Consumers",
        f"{r.published:%d/%m/%Y}",
        r.extra.get("eu_country", "Germany"),
        _EU_CATEGORY.get(r.extra.get("group", ""), "Other"),
        r.product_name,
        r.product_name,
        r.brand,
        ", ".join(r.models),
        r.batches[0] + ("; Barcode " + r.extra["barcode"] if r.extra.get("barcode") else ""),
        "",
        f"{r.product_name} sold in a cardboard box.",
        r.producer_country,
        "No",
        _EU_RISK[r.hazard],
        HAZARD_EN[r.hazard][1] + " The product does not comply with the relevant "
        "European standard.",
        _EU_MEASURES[r.units % len(_EU_MEASURES)],
        "",
        "",
    ]


def cpsc_csv(world: World, req: Request) -> Response:
    reg = world.recall_registry
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(CPSC_COLUMNS)
    for i in range(reg.count_source("cpsc")):
        w.writerow(cpsc_row(reg.recall(reg.newest("cpsc", i))))
    body = b"\xef\xbb\xbf" + buf.getvalue().encode("utf-8")
    return Response(
        200,
        body,
        "text/csv; charset=utf-8",
        [("Content-Disposition", 'attachment; filename="recalls_recall_listing.csv"')],
    )


def cpsc_json(world: World, req: Request) -> Response:
    reg = world.recall_registry
    out = []
    for i in range(reg.count_source("cpsc")):
        r = reg.recall(reg.newest("cpsc", i))
        row = cpsc_row(r)
        out.append(
            {
                "RecallID": 9000 + r.index,
                "RecallNumber": r.number,
                "RecallDate": f"{r.published:%Y-%m-%d}T00:00:00",
                "Description": row[6],
                "URL": f"https://www.example.com/Recalls/{r.published.year}/{r.number}",
                "Title": row[4],
                "ConsumerContact": f"{_maker(r)} toll-free at 888-{r.units % 900 + 100}-{r.units % 9000 + 1000}",
                "LastPublishDate": f"{r.published:%Y-%m-%d}T00:00:00",
                "Products": [
                    {
                        "Name": r.product_name,
                        "Description": row[6],
                        "Model": ", ".join(r.models),
                        "Type": r.product_name,
                        "CategoryID": "",
                        "NumberOfUnits": fmt_units(r.units),
                    }
                ],
                "Inconjunctions": [],
                "Images": [],
                "Injuries": [{"Name": row[12]}],
                "Manufacturers": [{"Name": r.extra["producer_en"], "CompanyID": ""}],
                "Retailers": [],
                "Importers": [{"Name": r.extra.get("importer", ""), "CompanyID": ""}],
                "Distributors": [],
                "SoldAtLabel": "Sold At",
                "ManufacturerCountries": [{"Country": r.producer_country}],
                "ProductUPCs": [],
                "Hazards": [
                    {
                        "Name": HAZARD_EN[r.hazard][1],
                        "HazardType": HAZARD_EN[r.hazard][0],
                        "HazardTypeID": "",
                    }
                ],
                "Remedies": [{"Name": row[10]}],
                "RemedyOptions": [{"Option": row[10]}],
            }
        )
    resp = json_response(out)
    resp.headers.append(("Content-Disposition", 'attachment; filename="recalls.json"'))
    return resp


def eu_csv(world: World, req: Request) -> Response:
    reg = world.recall_registry
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(EU_COLUMNS)
    for i in range(reg.count_source("eu_safety_gate")):
        w.writerow(eu_row(reg.recall(reg.newest("eu_safety_gate", i))))
    return Response(
        200,
        buf.getvalue().encode("utf-8"),
        "text/csv; charset=utf-8",
        [("Content-Disposition", 'attachment; filename="safety_gate_alerts.csv"')],
    )


def manage(world: World, req: Request) -> Response:
    return _page(
        "管理登录",
        '<form method="post" class="login"><input name="user"><input type="password" name="pw">'
        "<button>登录</button></form>",
    )


def _maker(r: Recall) -> str:
    return r.extra["producer_en"]
