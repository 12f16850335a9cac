"""The advisor's lexicon (English and Chinese): words and phrases -> what they mean for a
makeup request. Data only, plus the look templates occasions map to; parser.py applies it.

Every phrase is lower-case; English phrases are space-separated words, Chinese phrases are
strings (jieba learns them as words, so "豆沙色" or "不要太亮" stay whole).
"""

from __future__ import annotations

from dataclasses import dataclass

# --- categories ------------------------------------------------------------------------------

CATEGORY_WORDS: dict[str, str] = {
    # lips
    "lipstick": "lipstick", "lipsticks": "lipstick", "lip stick": "lipstick",
    "lip colour": "lipstick", "lip color": "lipstick", "lip": "lipstick", "lips": "lipstick",
    "lippie": "lipstick", "lip tint": "lipstick", "lip gloss": "lipstick",
    "lipgloss": "lipstick", "gloss": "lipstick", "lip stain": "lipstick", "stain": "lipstick",
    "tint": "lipstick",
    "lip lacquer": "lipstick", "liquid lipstick": "lipstick",
    "口红": "lipstick", "唇膏": "lipstick", "唇釉": "lipstick", "唇彩": "lipstick",
    "唇蜜": "lipstick", "唇泥": "lipstick", "唇油": "lipstick", "染唇液": "lipstick",
    "唇": "lipstick", "唇色": "lipstick", "唇妆": "lipstick", "子弹头": "lipstick",
    "lip liner": "lip_liner", "lipliner": "lip_liner", "lip pencil": "lip_liner",
    "唇线笔": "lip_liner", "唇线": "lip_liner",
    # face
    "blush": "blush", "blusher": "blush", "cheek colour": "blush", "cheek color": "blush",
    "rouge": "blush", "腮红": "blush", "胭脂": "blush",
    "bronzer": "bronzer", "古铜粉": "bronzer", "阴影粉": "contour",
    "contour": "contour", "contouring": "contour", "修容": "contour", "修容粉": "contour",
    "highlighter": "highlighter", "highlight": "highlighter", "illuminator": "highlighter",
    "高光": "highlighter",
    "foundation": "foundation", "foundations": "foundation", "base": "foundation",
    "粉底": "foundation", "粉底液": "foundation", "粉底霜": "foundation", "气垫": "foundation",
    "底妆": "foundation",
    "concealer": "concealer", "遮瑕": "concealer", "遮瑕膏": "concealer", "遮瑕液": "concealer",
    # eyes and brows
    "eyeshadow": "eyeshadow", "eye shadow": "eyeshadow", "eyeshadows": "eyeshadow",
    "shadow": "eyeshadow", "eye palette": "eyeshadow", "眼影": "eyeshadow", "眼影盘": "eyeshadow",
    "eyeliner": "eyeliner", "eye liner": "eyeliner", "liquid liner": "eyeliner",
    "眼线": "eyeliner", "眼线笔": "eyeliner", "眼线液": "eyeliner",
    "mascara": "mascara", "睫毛膏": "mascara",
    "brow": "brow", "brows": "brow", "eyebrow": "brow", "eyebrows": "brow",
    "brow pencil": "brow", "眉笔": "brow", "眉粉": "brow", "眉毛": "brow", "眉": "brow",
    # nails
    "nail polish": "nail_polish", "nail varnish": "nail_polish", "nail colour": "nail_polish",
    "nail color": "nail_polish", "nails": "nail_polish", "nail": "nail_polish",
    "指甲油": "nail_polish", "美甲": "nail_polish",
}  # fmt: skip

# Category words that also say a finish ("lip gloss" is a glossy lip product).
CATEGORY_IMPLIED_FINISH: dict[str, str] = {
    "lip gloss": "gloss", "lipgloss": "gloss", "gloss": "gloss", "唇彩": "gloss",
    "lip lacquer": "gloss", "唇油": "gloss", "唇泥": "matte",
}  # fmt: skip

# --- finishes --------------------------------------------------------------------------------
# 丝绒 (velvet) is a soft matte, as the catalog files velvet series (real_catalogs.py); 滋润
# (moisturising) lipsticks are the creamy satin kind, not glosses.
FINISH_WORDS: dict[str, str] = {
    "matte": "matte", "matt": "matte", "mattes": "matte", "velvet": "matte",
    "powdery": "matte", "哑光": "matte", "雾面": "matte", "丝绒": "matte", "柔雾": "matte",
    "磨砂": "matte", "雾感": "matte",
    "satin": "satin", "creamy": "satin", "缎面": "satin", "滋润": "satin",
    "gloss": "gloss", "glossy": "gloss", "shiny": "gloss", "shine": "gloss", "glass": "gloss",
    "high shine": "gloss", "wet look": "gloss", "dewy": "gloss", "lacquer": "gloss",
    "水光": "gloss", "镜面": "gloss", "亮面": "gloss", "水润": "gloss", "玻璃": "gloss",
    "shimmer": "shimmer", "shimmery": "shimmer", "shimmering": "shimmer", "glitter": "shimmer",
    "glittery": "shimmer", "sparkle": "shimmer", "sparkly": "shimmer", "pearl": "shimmer",
    "pearly": "shimmer", "frost": "shimmer", "frosty": "shimmer",
    "珠光": "shimmer", "闪": "shimmer", "闪闪": "shimmer", "亮片": "shimmer", "细闪": "shimmer",
    "闪片": "shimmer", "偏光": "shimmer", "带闪": "shimmer",
    "metallic": "metallic", "metal": "metallic", "foil": "metallic", "chrome": "metallic",
    "金属": "metallic", "金属感": "metallic", "金属光": "metallic",
}  # fmt: skip

# --- negation, degree, intensity -------------------------------------------------------------

NEGATIONS = frozenset({
    "not", "no", "nothing", "without", "avoid", "never", "don't", "dont", "non", "hate", "except",
    "excluding", "nor", "less", "不那么", "isn't", "isnt", "aren't", "doesn't", "nothing too",
    "不要", "别", "不", "不想要", "不想", "不用", "避免", "除了", "不喜欢", "拒绝", "不能",
    "不考虑", "不需要", "不太", "别太", "不要太", "无", "没有", "少点", "少一点", "少些",
})  # fmt: skip
# Phrases that negate the brand after them only with their full words ("anything but").
NEGATION_PHRASES = ("anything but", "other than", "stay away from", "don't want", "do not want")
# Words that may stand between a negation and what it negates ("not too", "不要太").
DEGREE_WORDS = frozenset({
    "too", "very", "so", "overly", "super", "really", "that", "a", "an", "any", "anything",
    "thing", "things", "something", "of", "the", "i", "want", "like", "please", "it",
    "太", "很", "过于", "那么", "特别", "要", "用", "的", "想", "是",
})  # fmt: skip
NEGATION_SCOPE_TOKENS = 5  # a negation covers what follows within this many tokens

INTENSITY_WORDS: dict[str, str] = {
    "natural": "natural", "subtle": "natural", "soft": "natural", "minimal": "natural",
    "understated": "natural", "light": "natural", "sheer": "natural", "low-key": "natural",
    "no-makeup": "natural", "barely there": "natural", "everyday": "",
    "淡": "natural", "淡妆": "natural", "自然": "natural", "清淡": "natural", "清透": "natural",
    "素雅": "natural", "低调": "natural", "温柔": "natural",
    "medium": "medium", "moderate": "medium", "适中": "medium",
    "bold": "bold", "dramatic": "bold", "intense": "bold", "statement": "bold", "strong": "bold",
    "loud": "bold", "vivid": "bold", "bright": "bold", "vibrant": "bold", "glam": "bold",
    "浓": "bold", "浓妆": "bold", "显色": "bold", "浓郁": "bold", "夸张": "bold", "艳": "bold",
    "鲜艳": "bold", "亮": "bold", "大胆": "bold", "张扬": "bold", "气场": "bold", "艳丽": "bold",
    "smoky": "bold", "smokey": "bold", "烟熏": "bold", "烟熏妆": "bold",
}  # fmt: skip
# "not too bright" / "不要太亮": a negated bold word asks for natural; a negated natural word
# ("不要太淡") for medium.
NEGATED_INTENSITY = {"bold": "natural", "natural": "medium", "medium": ""}

# --- occasions and their look templates --------------------------------------------------------

OCCASION_WORDS: dict[str, str] = {
    "date": "date", "date night": "date", "dating": "date", "first date": "date",
    "romantic": "date", "约会": "date", "见男朋友": "date", "相亲": "date",
    "office": "office", "work": "office", "working": "office", "workplace": "office",
    "professional": "office", "commute": "office", "business": "office", "meeting": "office",
    "上班": "office", "通勤": "office", "职场": "office", "办公室": "office", "工作": "office",
    "开会": "office",
    "party": "party", "parties": "party", "club": "party", "clubbing": "party",
    "night out": "party", "festival": "party", "concert": "party",
    "派对": "party", "夜店": "party", "蹦迪": "party", "聚会": "party", "酒会": "party",
    "wedding": "wedding", "bride": "wedding", "bridal": "wedding", "bridesmaid": "wedding",
    "婚礼": "wedding", "新娘": "wedding", "伴娘": "wedding", "结婚": "wedding",
    "interview": "interview", "job interview": "interview", "面试": "interview",
    "daily": "daily", "everyday": "daily", "every day": "daily", "school": "daily",
    "日常": "daily", "每天": "daily", "上学": "daily", "上课": "daily",
    "holiday": "holiday", "holidays": "holiday", "christmas": "holiday", "new year": "holiday",
    "new year's eve": "holiday", "thanksgiving": "holiday", "festive": "holiday",
    "过年": "holiday", "春节": "holiday", "圣诞": "holiday", "圣诞节": "holiday",
    "新年": "holiday", "年会": "holiday",
    "no-makeup look": "natural", "no makeup look": "natural", "no-makeup makeup": "natural",
    "素颜": "natural", "素颜妆": "natural", "裸妆": "natural", "伪素颜": "natural",
}  # fmt: skip


@dataclass(frozen=True)
class CategoryPrefs:
    category: str
    families: tuple[str, ...] = ()  # preferred colour families, best first
    finishes: tuple[str, ...] = ()  # preferred finishes, best first


@dataclass(frozen=True)
class LookTemplate:
    occasion: str
    intensity: str
    products: tuple[CategoryPrefs, ...]

    @property
    def categories(self) -> tuple[str, ...]:
        return tuple(p.category for p in self.products)


def _look(occasion: str, intensity: str, *products: CategoryPrefs) -> LookTemplate:
    return LookTemplate(occasion, intensity, products)


P = CategoryPrefs
LOOK_TEMPLATES: dict[str, LookTemplate] = {
    "office": _look(
        "office",
        "natural",
        P("foundation"),
        P("concealer"),
        P("brow", ("brown", "taupe")),
        P("mascara", ("black", "brown")),
        P("blush", ("nude", "pink"), ("matte", "satin")),
        P("lipstick", ("nude", "pink"), ("satin", "matte")),
    ),
    "interview": _look(
        "interview",
        "natural",
        P("foundation"),
        P("concealer"),
        P("brow", ("brown", "taupe")),
        P("mascara", ("black", "brown")),
        P("lipstick", ("nude", "pink"), ("satin", "matte")),
    ),
    "date": _look(
        "date",
        "medium",
        P("foundation"),
        P("blush", ("pink", "coral"), ("satin",)),
        P("eyeshadow", ("brown", "pink", "gold"), ("shimmer", "satin")),
        P("mascara", ("black",)),
        P("lipstick", ("pink", "red", "nude"), ("satin", "gloss")),
    ),
    "party": _look(
        "party",
        "bold",
        P("foundation"),
        P("contour"),
        P("highlighter", ("gold",), ("shimmer", "metallic")),
        P("eyeshadow", ("gold", "purple", "black"), ("shimmer", "metallic")),
        P("eyeliner", ("black",)),
        P("mascara", ("black",)),
        P("lipstick", ("red", "berry", "plum"), ("matte", "gloss")),
    ),
    "wedding": _look(
        "wedding",
        "medium",
        P("foundation"),
        P("concealer"),
        P("highlighter", ("gold",), ("shimmer",)),
        P("blush", ("pink",), ("satin",)),
        P("eyeshadow", ("brown", "gold"), ("shimmer", "satin")),
        P("eyeliner", ("brown", "black")),
        P("mascara", ("black",)),
        P("lipstick", ("pink", "nude", "red"), ("satin",)),
    ),
    "daily": _look(
        "daily",
        "natural",
        P("foundation"),
        P("brow", ("brown",)),
        P("mascara", ("black", "brown")),
        P("blush", ("pink", "coral"), ("satin", "matte")),
        P("lipstick", ("nude", "pink", "coral"), ("satin",)),
    ),
    "holiday": _look(
        "holiday",
        "bold",
        P("foundation"),
        P("highlighter", ("gold",), ("shimmer",)),
        P("eyeshadow", ("gold", "berry"), ("shimmer", "metallic")),
        P("eyeliner", ("black",)),
        P("mascara", ("black",)),
        P("lipstick", ("red", "berry"), ("matte", "satin")),
    ),
    "natural": _look(
        "natural",
        "natural",
        P("foundation"),
        P("concealer"),
        P("brow", ("brown", "taupe")),
        P("mascara", ("brown", "black")),
        P("lipstick", ("nude", "pink"), ("satin",)),
    ),
}
del P

# --- price -----------------------------------------------------------------------------------
# One fixed conversion, so the same message always means the same cap: 7.2 CNY per USD (the
# 2024-2025 average of the PBOC central parity, rounded).
CNY_PER_USD = 7.2
# "cheap" / "便宜" / "平价" with no number: a drugstore cap of $15.
CHEAP_CAP_MINOR = 1500
CHEAP_WORDS = frozenset({
    "cheap", "affordable", "inexpensive", "budget", "drugstore", "budget-friendly",
    "便宜", "平价", "实惠", "学生党", "性价比", "白菜价",
})  # fmt: skip
PRICE_CAP_WORDS = ("under", "below", "less than", "up to", "max", "maximum", "within", "budget",
                   "no more than", "at most", "cheaper than", "<", "<=", "not over", "around",
                   "about", "以内", "以下", "之内", "内", "不超过", "低于", "少于", "左右",
                   "预算")  # fmt: skip

# --- brands ----------------------------------------------------------------------------------
# Common names shoppers use (Chinese, abbreviations) -> the brand's usual Latin name; a name the
# catalog spells differently is mapped to the catalog's spelling at parse time.
BRAND_ALIASES: dict[str, str] = {
    "迪奥": "Dior", "dior": "Dior", "christian dior": "Dior",
    "香奈儿": "Chanel", "香奈": "Chanel", "chanel": "Chanel",
    "纪梵希": "Givenchy", "givenchy": "Givenchy",
    "圣罗兰": "Yves Saint Laurent", "ysl": "Yves Saint Laurent",
    "yves saint laurent": "Yves Saint Laurent", "saint laurent": "Yves Saint Laurent",
    "杨树林": "Yves Saint Laurent",
    "阿玛尼": "Armani", "armani": "Armani", "giorgio armani": "Armani",
    "魅可": "MAC", "mac": "MAC",
    "美宝莲": "Maybelline", "maybelline": "Maybelline",
    "兰蔻": "Lancôme", "lancome": "Lancôme", "lancôme": "Lancôme",
    "nars": "NARS", "纳斯": "NARS",
    "植村秀": "Shu Uemura", "shu uemura": "Shu Uemura",
    "雅诗兰黛": "Estée Lauder", "estee lauder": "Estée Lauder", "estée lauder": "Estée Lauder",
    "汤姆福特": "Tom Ford", "tom ford": "Tom Ford", "tf": "Tom Ford",
    "芭比波朗": "Bobbi Brown", "bobbi brown": "Bobbi Brown",
    "资生堂": "Shiseido", "shiseido": "Shiseido",
    "欧莱雅": "L'Oreal", "巴黎欧莱雅": "L'Oreal", "l'oreal": "L'Oreal", "loreal": "L'Oreal",
    "l'oréal": "L'Oreal",
    "完美日记": "Perfect Diary", "perfect diary": "Perfect Diary",
    "花西子": "Florasis", "florasis": "Florasis",
    "卡姿兰": "Carslan", "carslan": "Carslan",
    "芬缇": "Fenty", "fenty": "Fenty", "fenty beauty": "Fenty",
    "nyx": "NYX", "露华浓": "Revlon", "revlon": "Revlon",
    "倩碧": "Clinique", "clinique": "Clinique",
    "贝玲妃": "Benefit", "benefit": "Benefit",
    "elf": "e.l.f.", "e.l.f.": "e.l.f.", "e.l.f": "e.l.f.",
    "covergirl": "CoverGirl", "cover girl": "CoverGirl", "封面女郎": "CoverGirl",
    "milani": "Milani", "colourpop": "ColourPop", "colorpop": "ColourPop",
    "卡拉泡泡": "ColourPop", "glossier": "Glossier", "smashbox": "Smashbox", "stila": "Stila",
    "wet n wild": "wet n wild", "almay": "Almay", "physicians formula": "Physicians Formula",
    "essie": "Essie", "安娜苏": "Anna Sui", "anna sui": "Anna Sui",
    "dr. hauschka": "Dr. Hauschka", "德国世家": "Dr. Hauschka",
    "burt's bees": "Burt's Bees", "小蜜蜂": "Burt's Bees",
    "charlotte tilbury": "Charlotte Tilbury", "ct": "Charlotte Tilbury",
    "huda beauty": "Huda Beauty", "rare beauty": "Rare Beauty", "urban decay": "Urban Decay",
    "too faced": "Too Faced", "3ce": "3CE", "rom&nd": "rom&nd", "romand": "rom&nd",
    "sephora": "Sephora", "丝芙兰": "Sephora",
}  # fmt: skip

# --- skin ------------------------------------------------------------------------------------
# Phrase -> (depth or "", undertone or ""): the depth word ("fair", "light", "medium", "olive",
# "tan", "deep") goes into Slots.skin_words, the undertone into Slots.undertone.
SKIN_WORDS: dict[str, tuple[str, str]] = {
    "olive skin": ("olive", ""), "olive skinned": ("olive", ""),
    "olive undertone": ("olive", ""), "olive": ("olive", ""),
    "fair skin": ("fair", ""), "fair": ("fair", ""), "pale skin": ("fair", ""),
    "porcelain skin": ("fair", ""), "light skin": ("light", ""), "medium skin": ("medium", ""),
    "tan skin": ("tan", ""), "tanned skin": ("tan", ""), "tanned": ("tan", ""),
    "deep skin": ("deep", ""), "dark skin": ("deep", ""), "dark skinned": ("deep", ""),
    "dark-skinned": ("deep", ""), "brown skin": ("tan", ""), "black skin": ("deep", ""),
    "warm undertone": ("", "warm"), "warm undertones": ("", "warm"),
    "cool undertone": ("", "cool"), "cool undertones": ("", "cool"),
    "neutral undertone": ("", "neutral"), "neutral undertones": ("", "neutral"),
    "yellow undertone": ("", "warm"), "yellow undertones": ("", "warm"),
    "pink undertone": ("", "cool"), "pink undertones": ("", "cool"),
    "warm skin": ("", "warm"), "cool skin": ("", "cool"),
    "黄皮": ("", "warm"), "黄黑皮": ("tan", "warm"), "黄一白": ("light", "warm"),
    "黄二白": ("light", "warm"), "白皮": ("fair", ""), "冷白皮": ("fair", "cool"),
    "暖白皮": ("fair", "warm"), "黑皮": ("deep", ""), "小麦色皮肤": ("tan", "warm"),
    "小麦肤色": ("tan", "warm"), "暖皮": ("", "warm"), "冷皮": ("", "cool"),
    "中性皮": ("", "neutral"), "暖调皮": ("", "warm"), "冷调皮": ("", "cool"),
    "皮肤黑": ("deep", ""), "皮肤白": ("fair", ""), "肤色黑": ("deep", ""),
    "肤色白": ("fair", ""), "肤色偏黄": ("", "warm"), "皮肤偏黄": ("", "warm"),
    "皮肤黄": ("", "warm"), "肤色暗": ("tan", ""), "暗黄皮": ("", "warm"),
}  # fmt: skip

# --- follow-ups ------------------------------------------------------------------------------

ADJUSTMENT_WORDS: dict[str, str] = {
    "lighter": "lighter", "paler": "lighter", "a bit lighter": "lighter",
    "darker": "darker", "deeper": "darker", "richer": "darker",
    "warmer": "warmer", "cooler": "cooler",
    "brighter": "brighter", "more vivid": "brighter", "more vibrant": "brighter",
    "softer": "softer", "more muted": "softer", "subtler": "softer", "more subtle": "softer",
    "toned down": "softer", "less bright": "softer", "less intense": "softer",
    "cheaper": "cheaper", "less expensive": "cheaper", "more affordable": "cheaper",
    "lower price": "cheaper", "too expensive": "cheaper", "too pricey": "cheaper",
    "浅一点": "lighter", "浅一些": "lighter", "浅点": "lighter", "再浅": "lighter",
    "淡一点": "lighter", "淡一些": "lighter", "淡点": "lighter", "更浅": "lighter",
    "深一点": "darker", "深一些": "darker", "深点": "darker", "再深": "darker",
    "更深": "darker", "暖一点": "warmer", "暖一些": "warmer", "更暖": "warmer",
    "冷一点": "cooler", "冷一些": "cooler", "更冷": "cooler",
    "亮一点": "brighter", "亮一些": "brighter", "鲜艳一点": "brighter", "艳一点": "brighter",
    "更亮": "brighter", "柔和一点": "softer", "柔和": "softer", "低调一点": "softer",
    "便宜点": "cheaper", "便宜一点": "cheaper", "便宜些": "cheaper", "再便宜": "cheaper",
    "更便宜": "cheaper", "太贵": "cheaper", "太贵了": "cheaper",
}  # fmt: skip
# Words that mark a message as refining the last answer when it names no category ("what
# about a wedding?", "那约会呢"); without them an occasion is a new look request.
FOLLOW_UP_MARKERS = frozenset({
    "what about", "how about", "instead", "then", "那", "那么", "呢", "换成", "改成", "的话",
})  # fmt: skip
# "another brand": the brands of the last answer are not wanted any more.
OTHER_BRAND_WORDS = frozenset({
    "another brand", "other brands", "other brand", "different brand", "a different brand",
    "换个牌子", "换个品牌", "换一个牌子", "换一个品牌", "别的牌子", "其他牌子",
    "其他品牌", "别的品牌",
})  # fmt: skip
# "something else" / "换一个" without any other change: show other products of the same request.
ANOTHER_WORDS = frozenset({
    "something else", "another one", "another", "other options", "other ones",
    "a different one", "different one", "show me more", "more options",
    "换个", "换一个", "还有别的", "别的", "其他", "再来",
})  # fmt: skip

# --- greetings, generic makeup words, out of scope --------------------------------------------

GREETINGS = frozenset({
    "hi", "hello", "hey", "hiya", "howdy", "good morning", "good afternoon", "good evening",
    "hi there", "hello there", "thanks", "thank you", "thx", "cheers",
    "你好", "您好", "嗨", "哈喽", "在吗", "在不在", "早上好", "下午好", "晚上好", "谢谢",
    "你好呀", "hello呀", "哈罗", "亲", "早",
})  # fmt: skip
# Makeup words that say "this is a makeup request" without filling a slot.
MAKEUP_WORDS = frozenset({
    "makeup", "make-up", "make up", "cosmetics", "cosmetic", "look", "shade", "shades",
    "colour", "color", "palette", "beauty", "glam",
    "化妆", "彩妆", "妆", "妆容", "化妆品", "色号", "颜色", "妆感", "上妆", "试色",
})  # fmt: skip
# Of those, the words that ask for a whole look rather than refine the last answer.
LOOK_WORDS = frozenset({"look", "makeup", "make up", "make-up", "妆", "妆容", "化妆", "彩妆"})
# Intents the advisor cannot serve (orders, the weather, chat, code, prompt games): a message
# with one of them is out of scope even if it names a product ("refund my lipstick").
OUT_OF_SCOPE_WORDS = frozenset({
    "weather", "forecast", "order", "orders", "refund", "refunds", "return", "returns",
    "shipping", "delivery", "deliver", "shipped", "tracking", "track", "parcel", "package",
    "invoice", "password", "account", "login", "joke", "jokes", "poem", "story", "code",
    "python", "javascript", "program", "script", "sql", "bitcoin", "stock", "stocks",
    "recipe", "movie", "football", "homework", "translate",
    "天气", "订单", "退款", "退货", "物流", "快递", "发货", "到货", "发票", "密码", "账号",
    "笑话", "写诗", "代码", "编程", "股票", "菜谱", "电影", "翻译", "作业",
})  # fmt: skip

# Common English words of five letters or more that the typo matcher must leave alone
# (each is one edit from a lexicon word: "night" ~ "light", "clear" ~ "cheap"...).
COMMON_WORDS = frozenset({
    "night", "nights", "right", "might", "sight", "fight", "tight", "eight", "weight",
    "height", "bright", "lights", "flight", "slight", "bring", "thing", "things", "think",
    "where", "there", "their", "these", "those", "about", "would", "could", "should",
    "shape", "store", "place", "price", "prices", "which", "while", "other", "after",
    "again", "never", "still", "today", "maybe", "please", "really", "little", "great",
    "trying", "wants", "wanted", "going", "looks", "looking", "shades", "colors", "colours",
    "brand", "brands", "dress", "dresses", "skins", "wearing", "wears", "clean", "clear",
    "cheap", "goes", "mostly", "lasts", "lasting", "match", "matches", "friend", "friends",
    "summer", "winter", "spring", "autumn", "black", "dinner", "lunch", "event", "events",
    "photos", "shoot", "prefer", "recommend", "suggest", "something", "anything", "nothing",
    "without", "under", "below", "dollars", "sister", "mother", "works", "worked", "shiner",
    "glossy", "lipsticks", "cream", "creams", "lovely", "pretty", "cute", "everyday",
    "office", "party", "style", "styles", "tones", "toned", "neutral", "darken", "liner",
    "lines", "coverage", "second", "wedding", "brides", "shine", "shines", "dewy", "sheer",
    "stain", "stains", "stick", "sticks", "pinky", "red's", "reds", "pinks", "nudes",
    "corals", "browns", "golds", "tonight", "brush", "brushes", "powder", "powders",
    "setting", "primer", "primers", "blushes", "morning", "teacher", "meetings", "parties",
    "dating", "weddings", "holidays", "glosses",
})  # fmt: skip
