"""乐货网 (lehuo): GBK pages, schema.org microdata, Chinese number formats."""

from __future__ import annotations

from ..catalog import CATEGORIES, GROUPS
from ..entities import Listing
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
    offsite_footer,
    pager,
    pages_for,
    q,
    rel_date,
    wan,
    yuan,
)
from .market import cat_id, cat_index, enumeration, int_or_404, resolve_query, shop_page

P = "lehuo"
PAGE = 40
REVIEW_PAGE = 10
_AVAIL = {
    "有货": "https://schema.org/InStock",
    "无货": "https://schema.org/OutOfStock",
    "预售": "https://schema.org/PreOrder",
}


def _page(world: World, req: Request, title: str, body: str) -> Response:
    """GBK pages; the charset is declared in the header, a meta tag, or both."""
    variant = stable_hash(world.seed, "gbk-variant", req.path) % 3
    meta = (
        '<meta charset="gbk">'
        if variant != 2
        else '<meta http-equiv="Content-Type" content="text/html; charset=gb2312">'
    )
    header = (
        '<div class="lh-top"><a href="/lehuo/member/login.html" rel="nofollow">请登录</a> '
        '<a href="/lehuo/member/register.html" rel="nofollow">免费注册</a></div>'
        '<div class="lh-header"><a class="logo" href="/lehuo/">乐货网</a>'
        '<form action="/lehuo/search" method="get" accept-charset="gbk"><input name="q" value="">'
        '<input type="submit" value="搜索"></form></div>'
    )
    footer = (
        f'<div class="lh-footer">{offsite_footer()}<p>乐货网 版权所有 粤ICP备00000000号</p></div>'
    )
    return html_response(
        document(f"{title}-乐货网", header + body + footer, charset_meta=meta),
        charset="gbk",
        header_charset=variant == 0,
    )


def _card(listing: Listing) -> str:
    price = f'<span class="price">￥{yuan(listing.price_fen)}</span>'
    if listing.coupon_fen:
        price += f' <span class="coupon-price">券后价￥{yuan(listing.price_fen - listing.coupon_fen)}</span>'
    return (
        f'<li class="item"><div class="pic"><a href="{listing_path(P, listing.ext_id)}" target="_blank">'
        f'<img src="{listing.images[0]}"></a></div>'
        f'<div class="title"><a href="{listing_path(P, listing.ext_id)}" target="_blank">{esc(listing.title)}</a></div>'
        f'<div class="row">{price}<span class="deal">月销{wan(listing.sales_month)}</span></div>'
        f'<div class="store"><a href="{shop_path(P, listing.shop.ext_id)}">{esc(listing.shop.name)}</a>'
        f'<span class="loc">{listing.shop.city.province.rstrip("省市")} {listing.shop.city.short}</span></div></li>'
    )


def home(world: World, req: Request) -> Response:
    nav = "".join(
        f'<dd><a href="/lehuo/cat/{cat_id(P, i)}_1.html">{esc(c.zh)}</a></dd>'
        for i, c in enumerate(CATEGORIES)
    )
    groups = "".join(f'<a href="/lehuo/search?q={q(zh)}">{zh}</a> ' for zh in GROUPS.values())
    body = f'<div class="main"><dl class="cat-menu"><dt>全部商品分类</dt>{nav}</dl><div class="hot">{groups}</div></div>'
    return _page(world, req, "乐货网-乐享好货 天天低价", body)


def _results(
    world: World, target: tuple[str, int | str] | None, page: int, link: str, mode: str
) -> str:
    if target is None:
        return '<div class="no-result">没有找到相关宝贝</div>'
    enum = enumeration(world, P, target)
    total = len(enum)
    pages = pages_for(total, PAGE)
    if page > pages:
        raise NotFound("page")
    items = "".join(
        _card(world.listing(P, pid, j)) for pid, j in enum.range((page - 1) * PAGE, page * PAGE)
    )
    if mode == "cat":
        nav = "".join(
            f'<a href="{link}{p}.html">{p}</a> ' if p != page else f"<b>{p}</b> "
            for p in range(max(1, page - 4), min(pages, page + 4) + 1)
        )
        if page < pages:
            nav += f'<a class="next" href="{link}{page + 1}.html">下一页&gt;</a>'
        pag = f'<div class="pages">{nav}<span>共{pages}页</span></div>'
    else:
        pag = pager(link, page, pages, "&")
    return f'<div class="sum">共找到<em>{wan(total)}</em>件宝贝</div><ul class="items">{items}</ul>{pag}'


def search(world: World, req: Request) -> Response:
    kw = req.query.get("q", "")
    page = req.int_arg("page")
    body = _results(world, resolve_query(kw), page, f"/lehuo/search?q={q(kw)}", "search")
    return _page(world, req, f"{kw}_搜索结果", f'<div class="search-result">{body}</div>')


def category(world: World, req: Request, cid: str, page_text: str) -> Response:
    idx = cat_index(P, int_or_404(cid))
    page = int_or_404(page_text)
    if idx is None or page < 1:
        raise NotFound(cid)
    cat = CATEGORIES[idx]
    crumbs = (
        f'<div class="crumb"><a href="/lehuo/">首页</a> &gt; {GROUPS[cat.group]} &gt; '
        f'<a href="/lehuo/cat/{cat_id(P, idx)}_1.html">{esc(cat.zh)}</a></div>'
    )
    body = _results(world, ("cat", idx), page, f"/lehuo/cat/{cat_id(P, idx)}_", "cat")
    return _page(world, req, f"{cat.zh}-{cat.zh}价格-{cat.zh}品牌", crumbs + body)


def goods(world: World, req: Request, id_text: str) -> Response:
    listing = world.listing_by_ext(P, int_or_404(id_text))
    if listing is None:
        raise NotFound(id_text)
    p = listing.product
    cat = p.category
    avg, good = rating_summary(world, listing)
    price_plain = yuan(listing.price_fen).replace(",", "")
    coupon = (
        f'<div class="coupon">券后价￥{yuan(listing.price_fen - listing.coupon_fen)} '
        f'<span class="tag">满减券{listing.coupon_fen // 100}元</span></div>'
        if listing.coupon_fen
        else ""
    )
    gtin = f'<meta itemprop="gtin13" content="{p.gtin}">' if p.gtin else ""
    rating = ""
    if listing.review_count:
        rating = (
            f'<div class="rate" itemprop="aggregateRating" itemscope itemtype="https://schema.org/AggregateRating">'
            f'评分 <span itemprop="ratingValue">{avg}</span> 累计评价 <span itemprop="reviewCount">'
            f"{listing.review_count}</span> 好评率{round(good * 100)}%</div>"
        )
    attrs = [("品牌", listing.brand_text), ("型号", listing.model_text)]
    attrs += [(k, v) for k, v in p.specs if k not in ("品牌", "型号", "条形码")]
    if listing.manufacturer:
        attrs.append(("生产厂家", listing.manufacturer))
    if listing.origin:
        attrs.append(("产地", listing.origin))
    if listing.ccc_shown:
        attrs.append(("CCC证书编号", listing.ccc_shown))
    attr_html = "".join(f"<li>{esc(k)}：{esc(v)}</li>" for k, v in attrs)
    mfr = (
        f'<div class="mfr" itemprop="manufacturer" itemscope itemtype="https://schema.org/Organization">'
        f'生产商：<span itemprop="name">{esc(listing.manufacturer)}</span></div>'
        if listing.manufacturer
        else ""
    )
    ccc = (
        f'<div class="ccc"><i class="icon-3c"></i>CCC {listing.ccc_shown}</div>'
        if listing.ccc_shown
        else ""
    )
    imgs = "".join(f'<img itemprop="image" src="{u}">' for u in listing.images)
    desc = "".join(f"<p>{esc(t)}</p>" for t in listing.description)
    gi = CATEGORIES.index(cat)
    body = f"""<div class="crumb"><a href="/lehuo/">首页</a> &gt; {GROUPS[cat.group]} &gt; <a href="/lehuo/cat/{cat_id(P, gi)}_1.html">{esc(cat.zh)}</a> &gt; {esc(listing.brand_text)}</div>
<div class="detail" itemscope itemtype="https://schema.org/Product">
<div class="imgs">{imgs}</div>
<div class="props">
<h1 itemprop="name">{esc(listing.title)}</h1>
<meta itemprop="sku" content="{listing.ext_id}">{gtin}
<div class="brand" itemprop="brand" itemscope itemtype="https://schema.org/Brand">品牌：<span itemprop="name">{esc(listing.brand_text)}</span></div>
<div class="model">型号：<span itemprop="model">{esc(listing.model_text)}</span></div>
<div class="offer" itemprop="offers" itemscope itemtype="https://schema.org/Offer"><meta itemprop="priceCurrency" content="CNY">
价格 <span class="price">￥<span itemprop="price" content="{price_plain}">{yuan(listing.price_fen)}</span></span> <s class="orig">￥{yuan(listing.list_price_fen)}</s>
<link itemprop="availability" href="{_AVAIL[listing.stock]}"><span class="stock">{listing.stock}</span>
<span itemprop="seller" itemscope itemtype="https://schema.org/Organization"><meta itemprop="name" content="{esc(listing.shop.name)}"></span></div>
{coupon}<div class="deal">月销{wan(listing.sales_month)}</div>
{rating}
<div class="onsale">上架时间：{rel_date(listing.listed, world.clock)}</div>
{ccc}{mfr}
<div class="shop">店铺：<a href="{shop_path(P, listing.shop.ext_id)}">{esc(listing.shop.name)}</a> <a href="/lehuo/member/favorite.html?goods={listing.ext_id}" rel="nofollow">收藏宝贝</a></div>
</div></div>
<div class="attributes"><h3>产品参数</h3><ul>{attr_html}</ul></div>
<div class="description" itemprop="description">{desc}</div>
<div class="rate-link"><a href="/lehuo/goods/{listing.ext_id}/reviews_1.html">查看全部{listing.review_count}条评价</a></div>"""
    return _page(world, req, listing.title, body)


def reviews_page(world: World, req: Request, id_text: str, page_text: str) -> Response:
    listing = world.listing_by_ext(P, int_or_404(id_text))
    page = int_or_404(page_text)
    if listing is None:
        raise NotFound(id_text)
    pages = pages_for(listing.review_count, REVIEW_PAGE)
    if page < 1 or page > pages:
        raise NotFound("page")
    rows = []
    for r in world.reviews(listing, (page - 1) * REVIEW_PAGE, page * REVIEW_PAGE):
        imgs = "".join(f'<img src="{u}">' for u in r.images)
        follow = (
            f'<div class="append">用户{r.followup[0]}天后追评：{esc(r.followup[1])}</div>'
            if r.followup
            else ""
        )
        rows.append(
            f'<li class="rate-item" id="r{r.id}"><div class="user">{esc(r.nickname)}</div>'
            f'<div class="star star-{r.rating}">{"★" * r.rating}{"☆" * (5 - r.rating)}</div>'
            f'<div class="content">{esc(r.text)}</div><div class="pics">{imgs}</div>{follow}'
            f'<div class="info"><span class="date">{rel_date(r.posted.date(), world.clock)}</span> '
            f'<span class="sku">{esc(r.sku)}</span></div></li>'
        )
    nav = "".join(
        f'<a href="/lehuo/goods/{listing.ext_id}/reviews_{p}.html">{p}</a> '
        if p != page
        else f"<b>{p}</b> "
        for p in range(max(1, page - 4), min(pages, page + 4) + 1)
    )
    if page < pages:
        nav += f'<a class="next" href="/lehuo/goods/{listing.ext_id}/reviews_{page + 1}.html">下一页</a>'
    body = (
        f'<div class="rate-head"><a href="{listing_path(P, listing.ext_id)}">{esc(listing.title)}</a> '
        f'累计评价 {listing.review_count}</div><ul class="rate-list">{"".join(rows)}</ul>'
        f'<div class="pages">{nav}</div>'
    )
    return _page(world, req, f"{listing.title}评价", body)


def store(world: World, req: Request, id_text: str) -> Response:
    s, total, page, pages, keys = shop_page(world, P, req, id_text)
    cards = "".join(_card(world.listing(*k)) for k in keys)
    body = f"""<div class="store-head" data-store="{s.ext_id}"><h1>{esc(s.name)}</h1>
<p>所在地：{s.city.province}{s.city.name} · 开店{rel_date(s.opened, world.clock)} · 店铺评分 {s.score}</p>
<table class="qualification"><tr><th>公司名称</th><td>{esc(s.company)}</td></tr>
<tr><th>统一社会信用代码</th><td>{s.credit_code}</td></tr><tr><th>联系人</th><td>{esc(s.contact)}</td></tr>
<tr><th>联系电话</th><td>{s.phone}</td></tr><tr><th>地址</th><td>{esc(s.address)}</td></tr></table></div>
<div class="store-items"><h2>全部宝贝 {total}</h2><ul class="items">{cards}</ul>{pager(shop_path(P, s.ext_id), page, pages)}</div>"""
    return _page(world, req, s.name, body)


def member(world: World, req: Request) -> Response:
    return _page(
        world,
        req,
        "会员登录",
        '<div class="login"><h1>会员登录</h1><form method="post"><input name="u">'
        '<input name="p" type="password"><input type="submit" value="登录"></form></div>',
    )
