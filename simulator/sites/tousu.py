"""消费投诉 (tousu): a 黑猫投诉-style complaint portal."""

from __future__ import annotations

from ..complaints import STATUS_CODES, STATUSES
from ..entities import Complaint
from ..layout import PLATFORMS
from ..world import World, listing_path, shop_path
from .base import (
    NotFound,
    Request,
    Response,
    document,
    esc,
    html_response,
    offsite_footer,
    pager,
    pages_for,
    yuan,
)

PAGE = 20
_CODE_OF = {v: k for k, v in STATUS_CODES.items()}


def _page(title: str, body: str) -> Response:
    head = (
        '<div class="ts-head"><a class="logo" href="/tousu/">消费投诉平台</a>'
        '<a href="/tousu/list">最新投诉</a> <a href="/tousu/user/login" rel="nofollow">我要投诉</a></div>'
    )
    return html_response(
        document(
            f"{title}_消费投诉平台", head + body + f'<div class="ts-foot">{offsite_footer()}</div>'
        )
    )


def list_page(world: World, req: Request) -> Response:
    book = world.complaint_book
    code = req.query.get("status", "")
    status = STATUS_CODES.get(code) or (code if code in STATUSES else None)
    if code and status is None:
        raise NotFound(code)
    page = req.int_arg("page")
    total = book.count_status(status)
    pages = pages_for(total, PAGE)
    if page > pages:
        raise NotFound("page")
    rows = []
    for i in range((page - 1) * PAGE, min(total, page * PAGE)):
        c = book.complaint(book.newest(status, i))
        rows.append(
            f'<div class="blackcat-con" data-sn="{c.number}"><h1><a href="/tousu/complaint/{c.number}">'
            f"{esc(c.title)}</a></h1>"
            f'<p class="info"><span class="u">{esc(c.complainant[0])}**</span> '
            f'<span class="time">{c.filed:%Y-%m-%d %H:%M}</span> '
            f'<span class="state">{c.status}</span></p>'
            f'<p class="target">投诉对象：{esc(c.shop_name)}（{c.platform_zh}）</p>'
            f'<p class="demand">投诉要求：{esc(c.demand)}</p></div>'
        )
    tabs = '<a href="/tousu/list">全部</a>' + "".join(
        f' <a href="/tousu/list?status={_CODE_OF[s]}">{s}</a>' for s in STATUSES
    )
    href = f"/tousu/list?status={_CODE_OF[status]}" if status else "/tousu/list"
    sep = "&" if status else "?"
    body = (
        f'<div class="tabs">{tabs}</div><div class="count">共 {total} 条投诉</div>'
        f'<div class="list">{"".join(rows)}</div>{pager(href, page, pages, sep)}'
    )
    return _page("最新投诉" + (f"-{status}" if status else ""), body)


def _steps(c: Complaint) -> str:
    return "".join(
        f'<li><span class="ts-time">{s.when:%Y-%m-%d %H:%M:%S}</span>'
        f'<span class="ts-actor">{esc(s.actor)}</span><p>{esc(s.text)}</p></li>'
        for s in reversed(c.steps)
    )


def detail(world: World, req: Request, number: str) -> Response:
    k = world.complaint_book.index_of(number)
    if k is None:
        raise NotFound(number)
    c = world.complaint(k)
    link = ""
    if c.listing:
        lst = world.listing(*c.listing)
        link = (
            f'<li>涉诉商品：<a href="{listing_path(lst.platform, lst.ext_id)}">{esc(lst.title)}</a></li>'
            f'<li>涉诉商家：<a href="{shop_path(lst.platform, lst.shop.ext_id)}">{esc(c.shop_name)}</a></li>'
        )
    personal = [
        f'<li>投诉人：<a href="/tousu/user/{c.user_id}" rel="nofollow">{esc(c.complainant)}</a></li>',
        f"<li>联系电话：{c.phone}</li>",
        f"<li>联系地址：{esc(c.address)}</li>",
    ]
    if c.id_number:
        personal.append(f"<li>身份证号：{c.id_number}</li>")
    if c.email:
        personal.append(f"<li>电子邮箱：{c.email}</li>")
    rating = ""
    if c.rating:
        rating = (
            f'<div class="ts-rate">投诉人评价：<span class="stars">{"★" * c.rating}{"☆" * (5 - c.rating)}</span> '
            f"{esc(c.rating_text or '')}</div>"
        )
    body = f"""<div class="ts-detail" data-sn="{c.number}">
<h1 class="article">{esc(c.title)}</h1>
<ul class="ts-q-list">
<li><label>投诉编号：</label>{c.number}</li>
<li><label>投诉对象：</label>{esc(c.shop_name)}（{c.platform_zh}）</li>
<li><label>投诉问题：</label>{esc(c.problem)}</li>
<li><label>投诉要求：</label>{esc(c.demand)}</li>
<li><label>涉诉金额：</label>¥{yuan(c.amount_fen)}</li>
<li><label>投诉进度：</label><b class="state">{c.status}</b></li>
{link}</ul>
<div class="ts-person"><h3>投诉人信息</h3><ul>{"".join(personal)}</ul></div>
<div class="ts-desc"><h3>投诉详情</h3><p>{esc(c.detail)}</p></div>
<ul class="ts-d-steplist">{_steps(c)}</ul>{rating}
</div>"""
    return _page(c.title, body)


def user(world: World, req: Request, uid: str) -> Response:
    return _page(
        "用户中心", f'<div class="user"><h1>用户 {esc(uid)}</h1><p>请登录后查看。</p></div>'
    )


def platforms() -> tuple[str, ...]:
    return PLATFORMS
