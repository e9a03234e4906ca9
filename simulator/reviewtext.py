"""Compositional review text: many phrasings per meaning, noise and emoji.

Every generator takes a seeded ``random.Random`` and a category; the result
depends only on the generator's state, so texts are reproducible.
"""

from __future__ import annotations

import random

from .catalog import Category

INTENS = ("很", "非常", "特别", "超级", "挺", "蛮", "相当", "真的", "真心", "巨", "贼")
GOOD = (
    "好用",
    "实用",
    "满意",
    "不错",
    "精致",
    "结实",
    "方便",
    "耐用",
    "划算",
    "喜欢",
    "给力",
    "顺手",
)
OPEN = (
    "收到了",
    "到货了",
    "第二次回购了",
    "帮朋友买的",
    "给爸妈买的",
    "用了一段时间才来评价",
    "618囤的",
    "双十一买的",
    "拿到手",
    "开箱就用上了",
    "给宝宝买的",
    "单位团购的",
    "看了好多家最后选的这家",
    "朋友推荐的",
    "直播间下单的",
    "纠结了很久才下单",
    "老公买的",
    "搬新家添置的",
    "女朋友让买的",
    "趁活动入手",
    "第三次购买了",
    "",
)
CLOSE = (
    "推荐购买",
    "会回购的",
    "五星好评",
    "下次还来",
    "给个好评",
    "值得入手",
    "性价比很高",
    "物超所值",
    "放心买",
    "好评",
    "满意的一次购物",
    "推荐给大家",
    "总体满意",
    "还会再来",
    "点赞",
    "支持一下",
    "必须好评",
)
DELIVERY_OK = (
    "物流很快",
    "快递给力",
    "第二天就到了",
    "包装很严实",
    "发货速度快",
    "隔天达",
    "送货上门很方便",
    "快递小哥很耐心",
    "包装完好无损",
)
EMOJI = ("👍", "😊", "😄", "❤️", "👌", "🌹", "💯", "😂", "🙂", "✨", "🎉", "😍")
ANGRY = ("😡", "😤", "💩", "🙄", "😭", "😠", "👎", "🤬", "😱", "😰")
ASPECTS: dict[str, tuple[str, ...]] = {
    "appliance": (
        "加热很快",
        "声音不大",
        "做工扎实",
        "颜值很高",
        "功率足",
        "操作简单",
        "清洗方便",
        "开关手感好",
        "体积小巧不占地方",
        "线够长",
        "说明书写得清楚",
        "按键灵敏",
        "温控准",
        "外壳质感好",
    ),
    "toy": (
        "孩子很喜欢",
        "手感软软的",
        "颜色鲜艳",
        "做工精细",
        "拼起来很有成就感",
        "缝线整齐",
        "没有毛刺",
        "大小合适",
        "孩子爱不释手",
        "送人很有面子",
        "比图片还可爱",
        "玩了好几天都不腻",
    ),
    "kids": (
        "面料很柔软",
        "尺码标准",
        "做工细致",
        "宝宝穿着舒服",
        "推起来很轻",
        "折叠方便",
        "孩子用着顺手",
        "颜色好看",
        "洗了没缩水",
        "安装简单",
        "很透气",
        "质感好",
    ),
    "lighting": (
        "亮度够",
        "光线柔和",
        "不闪",
        "插孔很紧实",
        "线很粗",
        "做工扎实",
        "开关手感好",
        "安装简单",
        "看书眼睛不累",
        "颜值在线",
        "孔位间距合理",
    ),
    "digital": (
        "充电很快",
        "容量够用",
        "做工精致",
        "屏幕清晰",
        "运行流畅",
        "续航不错",
        "小巧便携",
        "接口齐全",
        "散热还行",
        "颜值高",
        "兼容性好",
        "握感舒服",
    ),
    "ebike": (
        "续航扎实",
        "安装方便",
        "充电快",
        "戴着不压头",
        "尺寸合适",
        "很轻",
        "镜片清晰",
        "做工结实",
        "跑了几十公里没问题",
        "扣带牢固",
    ),
    "textile": (
        "面料舒服",
        "不起球",
        "做工细致",
        "颜色正",
        "洗了没掉色",
        "很柔软",
        "厚度合适",
        "尺码标准",
        "版型好看",
        "透气性好",
        "吸水性好",
    ),
    "cosmetic": (
        "很好推开",
        "吸收快",
        "不油腻",
        "味道淡淡的很好闻",
        "保湿效果好",
        "上脸很舒服",
        "显色度高",
        "包装精美",
        "用量省",
        "肤感清爽",
        "不假白",
    ),
    "kitchen": (
        "很厚实",
        "密封性好",
        "做工精细",
        "容量合适",
        "保温效果好",
        "好清洗",
        "颜值高",
        "手感很好",
        "釉面光滑",
        "分量足",
        "拿着不烫手",
    ),
}
QUALITY_BAD: dict[str, tuple[str, ...]] = {
    "appliance": (
        "用了{n}天就坏了",
        "不加热了",
        "开关不灵敏",
        "按键失灵",
        "温控不准",
        "声音特别大",
        "底座接触不良",
    ),
    "toy": (
        "一拉就开线",
        "颜色和图片差很多",
        "做工粗糙",
        "电池盒盖子关不上",
        "比想象中小很多",
        "零件对不上",
    ),
    "kids": (
        "缝线歪歪扭扭",
        "洗一次就缩水了",
        "轮子不太顺",
        "折叠很费劲",
        "扣子不好扣",
        "尺码偏小",
    ),
    "lighting": ("开关接触不良", "亮度不够", "插头插不紧", "用了{n}天灯就不亮了", "线太短"),
    "digital": (
        "充不进电",
        "电量虚标",
        "用了{n}天就充不上了",
        "接口松动",
        "屏幕有坏点",
        "续航很差",
    ),
    "ebike": ("续航虚标", "充电很慢", "扣带不结实", "尺寸偏小", "用了{n}天掉电严重"),
    "textile": ("起球严重", "掉色厉害", "线头很多", "洗一次就变形", "尺码不准", "很薄"),
    "cosmetic": ("效果一般", "搓泥", "不持久", "量很少", "颜色不对", "太干了"),
    "kitchen": ("盖子盖不严", "漏水", "保温效果差", "有毛边", "尺寸和描述不符", "掉漆"),
}
HAZARD: dict[str, tuple[str, ...]] = {
    "fire": (
        "冒烟了",
        "起火了",
        "着火了",
        "烧焦了",
        "插头烧黑了",
        "冒火花",
        "一股焦糊味还冒烟",
        "突然爆炸了",
        "鼓包了",
        "线烧化了",
        "差点引起火灾",
        "噼啪响然后冒烟",
    ),
    "electric_shock": (
        "漏电",
        "电到手了",
        "摸着麻手",
        "有点漏电",
        "被电了一下",
        "外壳带电",
        "测电笔一碰就亮",
        "触电了",
        "碰到金属部分发麻",
    ),
    "burn": (
        "发烫得厉害",
        "烫手",
        "外壳很烫",
        "把手烫伤了",
        "温度高得吓人",
        "烫到孩子了",
        "烫得根本没法拿",
    ),
    "chemical_odour": (
        "有股刺鼻的味道",
        "异味很大",
        "甲醛味很重",
        "塑料味熏人",
        "味道呛人",
        "一打开全是化学味",
        "散了一个星期味还在",
        "闻着头晕",
    ),
    "choking_small_parts": (
        "小零件脱落",
        "眼睛一抠就掉了",
        "纽扣掉了",
        "小珠子掉出来了",
        "孩子差点吞下去",
        "零件太小容易误吞",
        "鼻子一扯就掉",
        "亮片一直掉",
    ),
    "cut_breakage": (
        "断裂了",
        "直接裂开了",
        "边缘很锋利划手",
        "碎了一地",
        "把手断了",
        "卡扣断了",
        "划伤了孩子的手",
        "支架一压就折断",
    ),
    "allergy_skin": (
        "过敏了",
        "脸上起红疹",
        "用完刺痛",
        "皮肤发痒",
        "起了一片小疙瘩",
        "烂脸了",
        "红肿了好几天",
        "头皮又痒又痛",
    ),
    "performance": (
        "完全用不了",
        "根本不工作",
        "用{n}次就坏了",
        "功能全部失灵",
        "彻底罢工了",
        "开不了机",
    ),
}
NEGATED: dict[str, tuple[str, ...]] = {
    "fire": ("用了{n}天也没冒烟", "不会起火", "没有焦味", "不冒烟也不发热"),
    "electric_shock": ("不漏电", "没有漏电", "不会电到手", "摸着不麻", "完全不用担心漏电"),
    "burn": ("一点也不烫", "外壳不烫手", "不会发烫", "摸着只是温温的", "没有烫手的感觉"),
    "chemical_odour": (
        "没有异味",
        "完全没有异味",
        "不刺鼻",
        "一点味道都没有",
        "没有甲醛味",
        "没什么塑料味",
    ),
    "choking_small_parts": ("零件很牢固不会掉", "眼睛缝得很结实", "没有小零件脱落", "扣子钉得很牢"),
    "cut_breakage": ("边缘打磨得很圆润不划手", "摔了一下也没裂", "很结实不会断", "没有毛刺"),
    "allergy_skin": ("敏感肌用着也没过敏", "没有过敏", "不刺激", "用了没起疹子", "不会痒"),
    "performance": ("一次都没出过问题", "用了{n}天一切正常"),
}
TIMING = (
    "用了{n}天",
    "才用{n}次",
    "第{n}次用的时候",
    "刚用没多久",
    "买回来第{n}天",
    "插上电没几分钟",
    "昨天用的时候",
    "用了不到一个星期",
    "刚拆开",
    "用到第{n}天",
)
CONSEQ = (
    "吓死我了",
    "赶紧拔了插头",
    "太危险了",
    "还好人没事",
    "要求退货",
    "已经投诉了",
    "这种东西怎么敢卖",
    "大家千万别买",
    "孩子吓哭了",
    "家里差点出事",
    "商家还不认账",
    "已经拍了视频留证",
    "希望有关部门管一管",
)
LOGISTICS = (
    "快递太慢了",
    "物流慢得要死",
    "等了{n}天才到",
    "快递慢",
    "发货太慢",
    "物流信息{n}天不更新",
    "快递员态度不好",
    "包装破损",
    "外箱压坏了",
    "盒子都烂了",
    "包装太简陋",
    "送错地址了",
    "放快递柜也不说一声",
    "快递不送上门",
    "客服态度差",
    "客服不理人",
    "客服回复很慢",
    "问客服一问三不知",
    "退款好慢",
    "申请退款{n}天了还没处理",
    "发错颜色了",
    "少发了赠品",
    "说好的赠品没有",
    "发票一直不给开",
    "价保不给退差价",
    "买完就降价了",
)
LOGISTICS_TAIL = (
    "东西本身还行",
    "产品倒是没问题",
    "东西是好的",
    "商品本身没毛病",
    "质量还可以",
    "就是物流体验太差",
    "东西没问题就是服务不行",
    "",
)
NEUTRAL = (
    "一般般吧",
    "和描述差不多",
    "中规中矩",
    "价格还可以，质量一般",
    "凑合用吧",
    "还行",
    "没有想象中好",
    "对得起这个价",
    "普普通通",
    "先用着看看",
    "暂时没发现问题",
    "颜色和图片有点色差",
    "比预期小一点",
)
MILD = (
    "说明书有点简单",
    "比预期重一点",
    "盒子有点旧",
    "颜色偏暗一点",
    "没有送收纳袋",
    "尺寸比想象中大",
    "价格要是再低点就好了",
    "外观一般",
    "需要自己安装有点麻烦",
)
SARCASM = (
    "真是好质量，{timing}就{hazard}{emo}",
    "太棒了呢，{hazard}，谢谢商家让我长见识了{emo}",
    "质量好到{hazard}，给个五星不谢{emo}",
    "绝了，{timing}就{hazard}，这就是传说中的品质吗{emo}",
    "五星好评！{hazard}的体验不是谁都有的{emo}",
    "厉害厉害，{timing}{hazard}，佩服佩服{emo}",
)
SHORT = ("好评", "不错", "满意", "可以", "很好", "挺好的", "还不错", "非常满意", "好用", "喜欢")
TYPOS = (
    ("质量", "质亮"),
    ("质量", "资量"),
    ("客服", "客付"),
    ("快递", "快第"),
    ("收到", "收倒"),
    ("不错", "不措"),
    ("满意", "蛮意"),
    ("漏电", "露电"),
    ("非常", "飞常"),
    ("东西", "东东"),
    ("喜欢", "稀饭"),
    ("宝贝", "宝呗"),
    ("的", "滴"),
    ("很", "hen"),
    ("好评", "好平"),
    ("什么", "神马"),
    ("孩子", "孩纸"),
)
SLANG = ("yyds", "hhh", "nice", "绝绝子", "无语", "哈哈哈", "嗯嗯", "emmm", "OK", "冲鸭")
PUNCT = ("，", "，", "，", "。", "！", " ", "~", "、")
END = ("", "。", "！", "!!!", "~", "。。。", "～～", "!")


_ELECTRIC = ("appliance", "lighting", "digital", "ebike")


def _electric(cat: Category) -> bool:
    return cat.group in _ELECTRIC or cat.code == "electric_toy"


def _timing(rng: random.Random, cat: Category) -> str:
    options = TIMING if _electric(cat) else tuple(t for t in TIMING if "插" not in t)
    return _fill(rng, rng.choice(options))


def _conseq(rng: random.Random, cat: Category, k: int) -> list[str]:
    options = CONSEQ if _electric(cat) else tuple(c for c in CONSEQ if "插头" not in c)
    return rng.sample(options, k=k)


def _n(rng: random.Random) -> str:
    return str(rng.choice((2, 3, 4, 5, 6, 7, 10, 12, 15, 20, 30)))


def _fill(rng: random.Random, text: str) -> str:
    return text.replace("{n}", _n(rng)) if "{n}" in text else text


def _praise_clause(rng: random.Random, cat: Category) -> str:
    r = rng.random()
    if r < 0.45:
        return _fill(rng, rng.choice(ASPECTS[cat.group]))
    if r < 0.75:
        return rng.choice(INTENS) + rng.choice(GOOD)
    if r < 0.88:
        return f"{rng.choice(cat.nouns)}{rng.choice(INTENS)}{rng.choice(GOOD)}"
    return rng.choice(DELIVERY_OK)


def _join(rng: random.Random, parts: list[str]) -> str:
    parts = [p for p in parts if p]
    out = parts[0] if parts else ""
    for p in parts[1:]:
        out += rng.choice(PUNCT) + p
    return out + rng.choice(END)


def noise(rng: random.Random, text: str, emoji_pool: tuple[str, ...] = EMOJI) -> str:
    """Typos, homophones, slang and emoji, applied sparingly."""
    if rng.random() < 0.15:
        a, b = rng.choice(TYPOS)
        text = text.replace(a, b, 1)
    if rng.random() < 0.2:
        text += rng.choice(emoji_pool) * rng.randint(1, 3)
    if rng.random() < 0.06:
        text = rng.choice(SLANG) + rng.choice(("，", " ")) + text
    return text


def praise(rng: random.Random, cat: Category) -> str:
    k = rng.choice((1, 2, 2, 3, 3, 4))
    clauses = [_praise_clause(rng, cat) for _ in range(k)]
    parts = [rng.choice(OPEN)] + list(dict.fromkeys(clauses))
    if rng.random() < 0.6:
        parts.append(rng.choice(CLOSE))
    return noise(rng, _join(rng, parts))


def short(rng: random.Random) -> str:
    return rng.choice(SHORT) + rng.choice(("", "", "！", "~", rng.choice(EMOJI)))


def neutral(rng: random.Random, cat: Category) -> str:
    parts = [rng.choice(OPEN), rng.choice(NEUTRAL)]
    if rng.random() < 0.5:
        parts.append(_praise_clause(rng, cat))
    if rng.random() < 0.4:
        parts.append(rng.choice(MILD))
    rng.shuffle(parts)
    return noise(rng, _join(rng, parts))


def logistics(rng: random.Random, cat: Category) -> str:
    issues = rng.sample(LOGISTICS, k=rng.choice((1, 1, 2)))
    parts = [_fill(rng, i) for i in issues]
    if rng.random() < 0.3:
        parts.insert(0, rng.choice(OPEN))
    parts.append(rng.choice(LOGISTICS_TAIL))
    if rng.random() < 0.3:
        parts.append(_praise_clause(rng, cat))
    return noise(rng, _join(rng, parts), ANGRY)


def negation(rng: random.Random, cat: Category) -> str:
    hz = rng.choice(cat.hazards)
    neg = _fill(rng, rng.choice(NEGATED[hz]))
    parts = [rng.choice(OPEN), neg, _praise_clause(rng, cat)]
    if rng.random() < 0.5:
        parts.insert(rng.randint(1, len(parts)), _timing(rng, cat))
    if rng.random() < 0.5:
        parts.append(rng.choice(CLOSE))
    return noise(rng, _join(rng, parts))


def quality(rng: random.Random, cat: Category) -> str:
    parts = [rng.choice(OPEN), _fill(rng, rng.choice(QUALITY_BAD[cat.group]))]
    if rng.random() < 0.5:
        parts.append(
            rng.choice(
                ("差评", "不推荐", "失望", "要求换货", "申请退货了", "白花钱了", "不会再买了")
            )
        )
    return noise(rng, _join(rng, parts), ANGRY)


def hazard(rng: random.Random, cat: Category, hz: str) -> str:
    event = _fill(rng, rng.choice(HAZARD[hz]))
    parts = [_timing(rng, cat), event]
    if rng.random() < 0.4:
        parts.insert(0, rng.choice(OPEN))
    parts.extend(_conseq(rng, cat, rng.choice((1, 1, 2))))
    return noise(rng, _join(rng, parts), ANGRY)


def sarcasm(rng: random.Random, cat: Category, hz: str) -> str:
    tmpl = rng.choice(SARCASM)
    return tmpl.format(
        timing=_timing(rng, cat),
        hazard=_fill(rng, rng.choice(HAZARD[hz])),
        emo=rng.choice(("👍", "👍👍", "😊", "🙂", "👏", "")),
    )


def followup_good(rng: random.Random, cat: Category) -> str:
    return _join(
        rng,
        [
            f"用了{rng.choice(('一个月', '半个月', '两个月', '一周', '三个月'))}了",
            rng.choice(("还是很好用", "没出过问题", "依然满意", "一切正常", "质量经得起考验")),
            _praise_clause(rng, cat),
        ],
    )


def spam_base(rng: random.Random) -> str:
    """A farmed review; the same few texts are posted on every listing a cluster works on."""
    praise = [rng.choice(INTENS) + rng.choice(GOOD) for _ in range(3)]
    parts = [rng.choice(OPEN), "宝贝收到了"] + praise
    parts += [
        "和卖家描述的完全一致",
        rng.choice(("物流超快", "包装精美")),
        rng.choice(CLOSE),
        "以后还会光顾的",
    ]
    return _join(rng, parts)


def spam_copy(rng: random.Random, base: str) -> str:
    r = rng.random()
    if r < 0.45:
        return base
    if r < 0.65:
        return base + rng.choice(EMOJI)
    if r < 0.8:
        return base.replace("，", ",")
    return base.rstrip("。！!~") + rng.choice(("！！", "~~", "。"))
