"""优品商城 (youpin): schema.org JSON-LD product pages, a JSON review API."""

from __future__ import annotations

import base64
import json

from ..catalog import CATEGORIES, GROUPS
from ..entities import Listing
from ..layout import PLATFORMS
from ..reviews import rating_summary
from ..rng import stable_hash
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
    yuan,
)
from .market import cat_id, cat_index, enumeration, int_or_404, resolve_query, shop_page

P = "youpin"
PAGE = 30
REVIEW_PAGE = 10
_AVAIL = {
    "有货": "https://schema.org/InStock",
    "无货": "https://schema.org/OutOfStock",
    "预售": "https://schema.org/PreOrder",
}


def _header() -> str:
    return (
        '<header class="yp-header"><a class="logo" href="/youpin/">优品商城</a>'
        '<form class="search" action="/youpin/search" method="get"><input name="keyword" placeholder="搜索商品">'
        '<button type="submit">搜索</button></form>'
        '<nav class="top-links"><a href="/youpin/cart/">购物车</a> <a href="/youpin/cart/checkout">结算</a></nav>'
        "</header>"
    )


def _footer() -> str:
    return f'<footer class="yp-footer">{offsite_footer()}<p>© 2026 优品商城 版权所有 浙ICP备00000000号</p></footer>'


def _page(title: str, body: str, head: str = "") -> Response:
    return html_response(document(f"{title} - 优品商城", _header() + body + _footer(), head=head))


def _card(world: World, listing: Listing) -> str:
    return (
        f'<li class="goods-item" data-sku="{listing.ext_id}">'
        f'<a class="pic" href="{listing_path(P, listing.ext_id)}"><img src="{listing.images[0]}" alt=""></a>'
        f'<a class="title" href="{listing_path(P, listing.ext_id)}">{esc(listing.title)}</a>'
        f'<div class="price">¥<em>{yuan(listing.price_fen)}</em></div>'
        f'<div class="sales">月销 {listing.sales_month}</div><div class="comments">{listing.review_count}条评价</div>'
        f'<a class="shop" href="{shop_path(P, listing.shop.ext_id)}">{esc(listing.shop.name)}</a></li>'
    )


def home(world: World, req: Request) -> Response:
    cats = "".join(
        f'<li><a href="/youpin/list/{cat_id(P, i)}.html">{esc(c.zh)}</a></li>'
        for i, c in enumerate(CATEGORIES)
    )
    groups = "".join(
        f'<a href="/youpin/search?keyword={q(zh)}">{esc(zh)}</a> ' for zh in GROUPS.values()
    )
    hot = []
    pi = PLATFORMS.index(P)
    for i in range(len(CATEGORIES)):
        enum = world.layout.by_category(i, pi)
        if len(enum):
            hot.append(_card(world, world.listing(P, *enum.at(0))))
        if len(hot) >= 12:
            break
    body = (
        f'<div class="home"><ul class="cat-nav">{cats}</ul><div class="groups">{groups}</div>'
        f'<h2>热卖推荐</h2><ul class="goods-list">{"".join(hot)}</ul></div>'
    )
    return _page("优品商城 - 品质生活 从优品开始", body)


def _results(
    world: World, target: tuple[str, int | str] | None, page: int, href: str, heading: str
) -> str:
    if target is None:
        return '<div class="empty">抱歉，没有找到相关的商品，换个关键词试试吧</div>'
    enum = enumeration(world, P, target)
    total = len(enum)
    pages = pages_for(total, PAGE)
    if page > pages:
        raise NotFound("page")
    items = "".join(
        _card(world, world.listing(P, pid, j))
        for pid, j in enum.range((page - 1) * PAGE, page * PAGE)
    )
    sep = "&" if "?" in href else "?"
    return (
        f'<div class="result-head">{heading}，共 <b class="total">{total}</b> 件商品</div>'
        f'<ul class="goods-list">{items}</ul>{pager(href, page, pages, sep)}'
    )


def search(world: World, req: Request) -> Response:
    kw = req.query.get("keyword", req.query.get("q", ""))
    page = req.int_arg("page")
    body = _results(
        world, resolve_query(kw), page, f"/youpin/search?keyword={q(kw)}", f"“{esc(kw)}”的搜索结果"
    )
    return _page(f"{kw} - 商品搜索", f'<div class="search-page">{body}</div>')


def category(world: World, req: Request, cid_text: str) -> Response:
    idx = cat_index(P, int_or_404(cid_text))
    if idx is None:
        raise NotFound(cid_text)
    cat = CATEGORIES[idx]
    page = req.int_arg("page")
    crumbs = (
        f'<nav class="breadcrumb"><a href="/youpin/">首页</a> &gt; '
        f'<a href="/youpin/search?keyword={q(GROUPS[cat.group])}">{GROUPS[cat.group]}</a> &gt; '
        f"<span>{esc(cat.zh)}</span></nav>"
    )
    body = _results(world, ("cat", idx), page, f"/youpin/list/{cat_id(P, idx)}.html", esc(cat.zh))
    return _page(f"{cat.zh}_{cat.zh}价格", crumbs + body)


def _json_ld(world: World, req: Request, listing: Listing, avg: float) -> str:
    p = listing.product
    url = req.base + listing_path(P, listing.ext_id)
    variant = stable_hash(world.seed, "ld-variant", listing.ext_id) % 4
    price: str | float = yuan(listing.price_fen).replace(",", "")
    if variant == 1:
        price = listing.price_fen / 100
    offer = {
        "@type": "Offer",
        "url": url,
        "priceCurrency": "CNY",
        "price": price,
        "availability": _AVAIL[listing.stock],
        "seller": {"@type": "Organization", "name": listing.shop.name},
    }
    product: dict[str, object] = {
        "@type": "Product",
        "name": listing.title,
        "sku": str(listing.ext_id),
        "brand": {"@type": "Brand", "name": listing.brand_text},
        "model": listing.model_text,
        "image": [req.base + i for i in listing.images],
        "description": listing.description[0],
    }
    if p.gtin:
        product["gtin13"] = p.gtin
    if listing.manufacturer:
        product["manufacturer"] = {"@type": "Organization", "name": listing.manufacturer}
    if listing.review_count:
        product["aggregateRating"] = {
            "@type": "AggregateRating",
            "ratingValue": str(avg),
            "reviewCount": listing.review_count,
        }
    if variant == 2:
        offers = []
        for k, colour in enumerate(listing.colours[:3]):
            o = dict(offer)
            o["price"] = yuan(listing.price_fen + k * 1000).replace(",", "")
            o["name"] = colour
            offers.append(o)
        product["offers"] = offers
    elif variant == 3:
        product["offers"] = {
            "@type": "AggregateOffer",
            "priceCurrency": "CNY",
            "lowPrice": yuan(listing.price_fen).replace(",", ""),
            "highPrice": yuan(listing.list_price_fen).replace(",", ""),
            "offerCount": len(listing.colours),
            "availability": _AVAIL[listing.stock],
        }
    else:
        product["offers"] = offer
    if variant == 1:
        cat = p.category
        crumbs = {
            "@type": "BreadcrumbList",
            "itemListElement": [
                {"@type": "ListItem", "position": 1, "name": "首页", "item": req.base + "/youpin/"},
                {
                    "@type": "ListItem",
                    "position": 2,
                    "name": cat.zh,
                    "item": req.base + f"/youpin/list/{cat_id(P, CATEGORIES.index(cat))}.html",
                },
            ],
        }
        product["@id"] = url + "#product"
        doc: dict[str, object] = {"@context": "https://schema.org", "@graph": [crumbs, product]}
    else:
        doc = {"@context": "https://schema.org", **product}
    return json.dumps(doc, ensure_ascii=False, indent=1).replace("</", "<\\/")


def item(world: World, req: Request, id_text: str) -> Response:
    listing = world.listing_by_ext(P, int_or_404(id_text))
    if listing is None:
        raise NotFound(id_text)
    p = listing.product
    cat = p.category
    avg, good = rating_summary(world, listing)
    ld = f'<script type="application/ld+json">\n{_json_ld(world, req, listing, avg)}\n</script>\n'
    head = f'<link rel="canonical" href="{req.base}{listing_path(P, listing.ext_id)}">\n{ld}'
    gallery = "".join(f'<img src="{u}" alt="{esc(p.category.zh)}">' for u in listing.images)
    params = [("品牌", listing.brand_text), ("型号", listing.model_text)]
    params += [(k, v) for k, v in p.specs if k not in ("品牌", "型号", "条形码")]
    if listing.manufacturer:
        params.append(("生产企业", listing.manufacturer))
    if listing.origin:
        params.append(("产地", listing.origin))
    if listing.ccc_shown:
        params.append(("3C证书编号", listing.ccc_shown))
    rows = "".join(f"<tr><th>{esc(k)}</th><td>{esc(v)}</td></tr>" for k, v in params)
    ccc = (
        f'<div class="cert"><span class="ccc-mark">CCC</span> 认证编号 {listing.ccc_shown}</div>'
        if listing.ccc_shown
        else ""
    )
    desc = "".join(f"<p>{esc(t)}</p>" for t in listing.description)
    gi = CATEGORIES.index(cat)
    body = f"""<nav class="breadcrumb"><a href="/youpin/">首页</a> &gt; <a href="/youpin/search?keyword={q(GROUPS[cat.group])}">{GROUPS[cat.group]}</a> &gt; <a href="/youpin/list/{cat_id(P, gi)}.html">{esc(cat.zh)}</a> &gt; <span>{esc(listing.brand_text)}</span></nav>
<div class="product-main" data-item-id="{listing.ext_id}">
<div class="gallery">{gallery}</div>
<div class="info">
<h1 class="product-title">{esc(listing.title)}</h1>
<div class="price-box"><span class="label">优品价</span><span class="price">¥<em>{yuan(listing.price_fen)}</em></span> <del class="list-price">¥{yuan(listing.list_price_fen)}</del></div>
<ul class="meta">
<li>品牌：<span class="brand">{esc(listing.brand_text)}</span></li>
<li>型号：<span class="model">{esc(listing.model_text)}</span></li>
<li>月销量：<span class="sales">{listing.sales_month}</span></li>
<li>累计评价：<span class="review-count">{listing.review_count}</span></li>
<li>评分：<span class="rating">{avg}</span> 好评率 {round(good * 100)}%</li>
<li>库存：<span class="stock">{listing.stock}</span></li>
</ul>
{ccc}
<div class="shop-card">店铺：<a href="{shop_path(P, listing.shop.ext_id)}">{esc(listing.shop.name)}</a></div>
<a class="btn add-cart" href="/youpin/cart/add?item={listing.ext_id}" rel="nofollow">加入购物车</a>
</div></div>
<section class="params"><h2>规格参数</h2><table>{rows}</table></section>
<section class="desc"><h2>商品详情</h2>{desc}</section>
<section id="reviews" data-api="/youpin/api/reviews?item={listing.ext_id}"><h2>商品评价({listing.review_count})</h2><div class="list"></div><button class="more">查看更多评价</button></section>
<script>
(function(){{var box=document.getElementById('reviews');var url=box.getAttribute('data-api');
fetch(url).then(function(r){{return r.json();}}).then(function(d){{box.querySelector('.list').textContent=d.items.length+' 条';}});}})();
</script>"""
    return _page(listing.title, body, head)


def shop(world: World, req: Request, id_text: str) -> Response:
    s, total, page, pages, keys = shop_page(world, P, req, id_text)
    cards = "".join(_card(world, world.listing(*k)) for k in keys)
    body = f"""<div class="shop-head" data-shop-id="{s.ext_id}">
<h1 class="shop-name">{esc(s.name)}</h1>
<dl class="shop-info"><dt>店铺评分</dt><dd>{s.score}</dd><dt>所在地</dt><dd>{s.city.province} {s.city.name}</dd>
<dt>开店时间</dt><dd>{s.opened:%Y-%m-%d}</dd></dl>
<div class="license"><h3>营业执照信息</h3><ul><li>企业名称：{esc(s.company)}</li><li>统一社会信用代码：{s.credit_code}</li>
<li>经营地址：{esc(s.address)}</li><li>联系人：{esc(s.contact)}</li><li>联系电话：{s.phone}</li></ul></div>
</div><h2>全部商品（{total}）</h2><ul class="goods-list">{cards}</ul>{pager(shop_path(P, s.ext_id), page, pages)}"""
    return _page(s.name, body)


def _cursor(ext: int, offset: int) -> str:
    return base64.urlsafe_b64encode(f"{ext}:{offset}".encode()).decode().rstrip("=")


def _offset(cursor: str, ext: int) -> int:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        e, o = raw.split(":")
        if int(e) != ext:
            raise ValueError
        return int(o)
    except (ValueError, UnicodeDecodeError) as exc:
        raise NotFound("cursor") from exc


def reviews_api(world: World, req: Request) -> Response:
    listing = world.listing_by_ext(P, int_or_404(req.query.get("item", "")))
    if listing is None:
        return json_response(
            {"code": 404, "message": "商品不存在", "items": [], "next_cursor": None}, 404
        )
    cursor = req.query.get("cursor")
    offset = _offset(cursor, listing.ext_id) if cursor else 0
    stop = min(listing.review_count, offset + REVIEW_PAGE)
    items = []
    for r in world.reviews(listing, offset, stop):
        items.append(
            {
                "id": str(r.id),
                "user": r.nickname,
                "rating": r.rating,
                "date": r.posted.strftime("%Y-%m-%d %H:%M:%S"),
                "content": r.text,
                "sku": r.sku,
                "images": list(r.images),
                "useful": r.helpful,
                "append": {"days_after": r.followup[0], "content": r.followup[1]}
                if r.followup
                else None,
            }
        )
    nxt = _cursor(listing.ext_id, stop) if stop < listing.review_count else None
    return json_response(
        {
            "code": 0,
            "item": str(listing.ext_id),
            "total": listing.review_count,
            "items": items,
            "next_cursor": nxt,
        }
    )


def cart(world: World, req: Request) -> Response:
    item_id = req.query.get("item", "")
    body = (
        f'<div class="cart"><h1>购物车</h1><p>商品 {esc(item_id)} 已加入购物车。</p>'
        '<a href="/youpin/cart/checkout">去结算</a></div>'
    )
    return _page("我的购物车", body)
