"""拼佳 (pinjia): no structured data, site-specific markup, client-side search."""

from __future__ import annotations

from ..catalog import CATEGORIES, GROUPS
from ..entities import Listing
from ..listingtext import price_round
from ..reviews import rating_summary
from ..world import World, listing_path, shop_path
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
    q,
    wan,
    yuan_short,
)
from .market import cat_id, cat_index, enumeration, int_or_404, resolve_query, shop_page

P = "pinjia"
PAGE = 20
REVIEW_PAGE = 10


def _page(title: str, body: str, script: str = "") -> Response:
    nav = (
        '<div class="pj-nav"><a href="/pinjia/">首页</a><a href="/pinjia/search">搜索</a>'
        '<a href="https://www.example.com/app/download" class="app">打开APP 领红包</a></div>'
    )
    foot = f'<div class="pj-foot">{offsite_footer()}</div>'
    return html_response(document(f"{title} - 拼佳", nav + body + foot + script))


def _tile(listing: Listing) -> str:
    return (
        f'<div class="goods-tile"><a href="{listing_path(P, listing.ext_id)}"><img src="{listing.images[0]}">'
        f'<div class="g-name">{esc(listing.title)}</div></a>'
        f'<div class="g-line"><span class="g-price">¥{yuan_short(listing.price_fen)}</span>'
        f'<span class="g-sold">已拼{wan(listing.sales_month * 6)}件</span></div></div>'
    )


def home(world: World, req: Request) -> Response:
    cats = "".join(
        f'<a class="cat" href="/pinjia/c/{cat_id(P, i)}">{esc(c.zh)}</a>'
        for i, c in enumerate(CATEGORIES)
    )
    groups = "".join(f'<a href="/pinjia/search?q={q(zh)}">{zh}</a>' for zh in GROUPS.values())
    return _page(
        "拼佳 - 拼着买 更便宜",
        f'<div class="pj-home"><div class="cats">{cats}</div><div class="hot">{groups}</div></div>',
    )


def search_shell(world: World, req: Request) -> Response:
    kw = req.query.get("q", "")
    script = """<script>
(function(){var app=document.getElementById('app');var q=app.getAttribute('data-q');var page=1;
function load(){fetch('/pinjia/api/search?q='+encodeURIComponent(q)+'&page='+page).then(function(r){return r.json();})
.then(function(d){d.items.forEach(function(it){var a=document.createElement('a');a.href=it.link_url;
a.className='goods-tile';a.textContent=it.goods_name+' ¥'+it.price;app.appendChild(a);});
if(d.has_more){page+=1;}});}
load();})();
</script>"""
    body = (
        f'<form class="pj-search" action="/pinjia/search"><input name="q" value="{esc(kw)}"><button>搜索</button>'
        f'</form><div id="app" class="result-list" data-q="{esc(kw)}"></div>'
        "<noscript>请开启JavaScript后查看搜索结果</noscript>"
    )
    return _page(f"{kw} 搜索", body, script)


def search_api(world: World, req: Request) -> Response:
    kw = req.query.get("q", "")
    page = req.int_arg("page")
    target = resolve_query(kw)
    if target is None:
        return json_response(
            {"q": kw, "page": page, "page_size": PAGE, "total": 0, "has_more": False, "items": []}
        )
    enum = enumeration(world, P, target)
    total = len(enum)
    items = []
    for pid, j in enum.range((page - 1) * PAGE, page * PAGE):
        lst = world.listing(P, pid, j)
        items.append(
            {
                "goods_id": lst.ext_id,
                "goods_name": lst.title,
                "price": yuan_short(lst.price_fen),
                "market_price": yuan_short(lst.list_price_fen),
                "sales_tip": f"已拼{wan(lst.sales_month * 6)}件",
                "mall_name": lst.shop.name,
                "mall_id": lst.shop.ext_id,
                "thumb_url": lst.images[0],
                "link_url": listing_path(P, lst.ext_id),
            }
        )
    return json_response(
        {
            "q": kw,
            "page": page,
            "page_size": PAGE,
            "total": total,
            "has_more": page * PAGE < total,
            "items": items,
        }
    )


def category(world: World, req: Request, cid: str) -> Response:
    idx = cat_index(P, int_or_404(cid))
    if idx is None:
        raise NotFound(cid)
    page = req.int_arg("p")
    enum = enumeration(world, P, ("cat", idx))
    pages = pages_for(len(enum), PAGE)
    if page > pages:
        raise NotFound("page")
    tiles = "".join(
        _tile(world.listing(P, pid, j)) for pid, j in enum.range((page - 1) * PAGE, page * PAGE)
    )
    body = (
        f'<div class="cat-title">{esc(CATEGORIES[idx].zh)}</div><div class="tile-list">{tiles}</div>'
        f"{pager(f'/pinjia/c/{cat_id(P, idx)}', page, pages, '?', 'p')}"
    )
    return _page(CATEGORIES[idx].zh, body)


def goods(world: World, req: Request) -> Response:
    listing = world.listing_by_ext(P, int_or_404(req.query.get("goods_id", "")))
    if listing is None:
        raise NotFound("goods")
    p = listing.product
    avg, good = rating_summary(world, listing)
    rows = [("品牌", listing.brand_text), ("型号", listing.model_text)]
    rows += [(k, v) for k, v in p.specs if k not in ("品牌", "型号", "条形码")]
    if listing.manufacturer:
        rows.append(("生产企业", listing.manufacturer))
    if listing.origin:
        rows.append(("产地", listing.origin))
    if listing.ccc_shown:
        rows.append(("3C认证", f"CCC {listing.ccc_shown}"))
    params = "".join(
        f'<div class="row"><span class="k">{esc(k)}</span><span class="v">{esc(v)}</span></div>'
        for k, v in rows
    )
    first = "".join(
        f'<div class="cmt"><span class="u">{esc(r.nickname)}</span><span class="s">{r.rating}星</span>'
        f'<p>{esc(r.text)}</p><span class="t">{r.posted:%m-%d}</span></div>'
        for r in world.reviews(listing, 0, 3)
    )
    imgs = "".join(f'<img src="{u}">' for u in listing.images)
    gi = CATEGORIES.index(p.category)
    group_price = listing.price_fen
    solo = min(listing.list_price_fen, price_round(int(group_price * 1.25)))
    body = f"""<div class="goods-wrap" data-gid="{listing.ext_id}">
<div class="g-crumb"><a href="/pinjia/">首页</a> / <a href="/pinjia/c/{cat_id(P, gi)}">{esc(p.category.zh)}</a></div>
<div class="g-gallery">{imgs}</div>
<div class="g-title">{esc(listing.title)}</div>
<div class="g-price"><span class="cur">拼单价 ¥<b>{yuan_short(group_price)}</b></span> <span class="solo">单独购买 ¥{yuan_short(solo)}</span> <span class="ori">¥{yuan_short(listing.list_price_fen)}</span></div>
<div class="g-sold">已拼{wan(listing.sales_month * 6)}件 · 评分{avg} · {listing.review_count}人评价 · {listing.stock}</div>
<div class="mall-info"><a class="mall-name" href="{shop_path(P, listing.shop.ext_id)}">{esc(listing.shop.name)}</a><span class="mall-loc">{listing.shop.city.name}</span></div>
<div class="g-params">{params}</div>
<div class="g-desc">{"".join(f"<p>{esc(t)}</p>" for t in listing.description)}</div>
<div class="g-comments"><div class="hd">商品评价({listing.review_count}) 好评率{round(good * 100)}%</div>{first}
<a class="all" href="/pinjia/comments.html?goods_id={listing.ext_id}">查看全部评价</a></div>
<a class="track" href="/pinjia/api/internal/track?goods_id={listing.ext_id}" rel="nofollow" style="display:none">t</a>
</div>"""
    script = (
        f'<script>navigator.sendBeacon&&navigator.sendBeacon("/pinjia/api/internal/stats?goods_id='
        f'{listing.ext_id}");</script>'
    )
    return _page(listing.title, body, script)


def comments_page(world: World, req: Request) -> Response:
    listing = world.listing_by_ext(P, int_or_404(req.query.get("goods_id", "")))
    if listing is None:
        raise NotFound("goods")
    page = req.int_arg("page")
    pages = pages_for(listing.review_count, REVIEW_PAGE)
    if page > pages:
        raise NotFound("page")
    cmts = "".join(
        f'<div class="cmt" data-id="{r.id}"><span class="u">{esc(r.nickname)}</span>'
        f'<span class="s">{r.rating}星</span><p>{esc(r.text)}</p>'
        + (
            f'<p class="add">追评({r.followup[0]}天后)：{esc(r.followup[1])}</p>'
            if r.followup
            else ""
        )
        + f'<span class="t">{r.posted:%Y-%m-%d}</span><span class="spec">{esc(r.sku)}</span></div>'
        for r in world.reviews(listing, (page - 1) * REVIEW_PAGE, page * REVIEW_PAGE)
    )
    link = f"/pinjia/comments.html?goods_id={listing.ext_id}"
    body = (
        f'<div class="cmt-page"><a href="{listing_path(P, listing.ext_id)}">{esc(listing.title)}</a>'
        f"{cmts}{pager(link, page, pages, '&')}</div>"
    )
    return _page("全部评价", body)


def reviews_api(world: World, req: Request) -> Response:
    listing = world.listing_by_ext(P, int_or_404(req.query.get("goods_id", "")))
    if listing is None:
        return json_response({"success": False, "error_msg": "goods not found"}, 404)
    page = req.int_arg("page")
    items = [
        {
            "review_id": r.id,
            "name": r.nickname,
            "score": r.rating,
            "time": int(r.posted.timestamp()),
            "comment": r.text,
            "specs": r.sku,
            "pictures": list(r.images),
            "append": {"comment": r.followup[1], "days": r.followup[0]} if r.followup else None,
        }
        for r in world.reviews(listing, (page - 1) * REVIEW_PAGE, page * REVIEW_PAGE)
    ]
    return json_response(
        {
            "success": True,
            "goods_id": listing.ext_id,
            "total": listing.review_count,
            "page": page,
            "has_more": page * REVIEW_PAGE < listing.review_count,
            "data": items,
        }
    )


def mall(world: World, req: Request, id_text: str) -> Response:
    s, total, page, pages, keys = shop_page(world, P, req, id_text)
    tiles = "".join(_tile(world.listing(*k)) for k in keys)
    body = (
        f'<div class="mall-head" data-mall="{s.ext_id}"><div class="mall-name">{esc(s.name)}</div>'
        f'<div class="mall-sub">已拼{wan(total * 431)}件 · 店铺评分{s.score}</div>'
        f'<div class="mall-cert"><p>企业名称：{esc(s.company)}</p><p>信用代码：{s.credit_code}</p>'
        f"<p>地址：{esc(s.address)}</p><p>客服电话：{s.phone}</p><p>负责人：{esc(s.contact)}</p></div></div>"
        f'<div class="tile-list">{tiles}</div>{pager(shop_path(P, s.ext_id), page, pages)}'
    )
    return _page(s.name, body)


def internal(world: World, req: Request) -> Response:
    return json_response({"success": True, "internal": True, "goods_id": req.query.get("goods_id")})
