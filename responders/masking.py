"""Mask personal data and scrub secrets before text leaves the desk.

``mask_personal(text)`` is the desk's one personal-data masker (exports, reports,
alerts and screens all call it, so a number looks the same everywhere). Outside
URLs (links keep working) it masks:

- mainland mobile numbers, with or without +86/0086 and separators:
  ``13812345678`` -> ``138****5678``, ``138-1234-5678`` -> ``138-****-5678``;
- 18-character resident ID numbers: ``61070219900101123X`` -> ``6107**********123X``;
- landlines (area code and last four digits kept): ``0916-2345678`` ->
  ``0916-***5678``, ``（0916）23456789`` -> ``（0916）****6789``;
- e-mail local parts: ``zhang.san@example.com`` -> ``z***@example.com``;
- the door part of a private address, kept up to the road, community or village:
  ``XX路12号3单元402室`` -> ``XX路**号*单元***室``, ``XX小区3-2-301`` -> ``XX小区*-*-***``,
  ``XX村3组15号`` -> ``XX村3组**号``. Only dwelling-level addresses (a unit or room
  after a house/building number) are masked, so public places named in news
  (``天汉大道568号``, ``住院部3号楼``, ``区政府302室``) stay as written; a residential
  unit named in a news report (``XX小区3号楼2单元``) is masked like a hotline record.

- 15-digit (old) ID numbers and ID numbers written in groups (``6107 0219 9001 0112 34``),
  and bank card numbers (16-19 digits starting 3-6, plain or in groups): first and last
  four kept;
- licence plates: ``陕F·D12345`` -> ``陕F·*****``... (province and city letter kept);
- QQ and WeChat ids after their label: ``QQ 123456789`` -> ``QQ 12*****89``;
- names of private persons after a hotline label (来电人, 投诉人, 联系人, 姓名 ...) or after
  市民/村民/居民/群众/业主 and before 反映/称/来电/投诉: ``市民张三反映`` -> ``市民张*反映``.

Numbers glued to Latin letters or other digits are left alone, so hashes, hex ids
and tokens in exports never change (``Tel13812345678`` is still masked). Full-width
digits are masked like ASCII ones. The result is stable: masking twice changes nothing.

``scrub_secrets(obj)`` is the desk's one secret scrubber
(:func:`common.secrets.scrub_record`). ``clean(obj)`` scrubs and masks a JSON-like value.
All are pure.
"""
from __future__ import annotations

import re
from typing import Any

from common.secrets import scrub_record as scrub_secrets

# ---------------------------------------------------------------- personal data

#: A URL: ASCII only, so Chinese text right after a link is still masked.
_URL = re.compile(r"(?i)(?<![A-Za-z])(?:https?|ftp)://[A-Za-z0-9\-._~:/?#@!$&*+,;=%]+")
#: Quick reject: text with no digit and no '@' has nothing to mask.
_MAYBE = re.compile(r"(?i)[\d@]|微信|QQ|ＱＱ|扣扣|wx|vx|wechat|weixin|V信")

# Numbers glued to Latin letters or digits are not masked (hashes, hex ids and
# tokens in exports stay intact), except after a phone label such as "Tel".
_ALNUM = "0-9A-Za-z０-９Ａ-Ｚａ-ｚ"
_ID = re.compile(rf"(?<![{_ALNUM}])([1-9１-９]\d{{3}})(\d{{10}})(\d{{3}}[\dXxＸｘ])(?![{_ALNUM}])")
_MOBILE = re.compile(
    rf"(?=[+＋0０1１8８(（])(?:(?<![{_ALNUM}+＋])|(?<=[Tt]el)|(?<=TEL)|(?<=[Pp]hone)|(?<=PHONE)|(?<=[Mm]obile))"
    rf"((?:[(（](?:[+＋]|00|００)?(?:86|８６)[)）][- －]?|(?:[+＋]|00|００)?(?:86|８６)[- －.]?)?[1１][3-9３-９]\d)"
    rf"([- －.]?)(\d{{4}})(\2)(\d{{4}})(?![{_ALNUM}])")
_LANDLINE = re.compile(
    rf"(?=[(（0０])(?<![{_ALNUM}])(\([0０]\d{{2,3}}\)\s?|（[0０]\d{{2,3}}）\s?|[0０]\d{{2,3}}[- －])(\d{{3,4}})([-－]?)(\d{{4}})"
    rf"(?![{_ALNUM}])|(?<![{_ALNUM}])([0０]\d{{2,3}})(\d{{3,4}})(\d{{4}})(?![{_ALNUM}])")
#: 15 to 19 digits, maybe in groups split by one space or dash: grouped or old IDs, bank cards.
_LONG = re.compile(rf"(?<![{_ALNUM}])(?<!\d[ -])(\d(?:[ -]?\d){{13,17}}[ -]?[\dXxＸｘ])(?![{_ALNUM}])(?![ -]\d)")
_PLATE = re.compile(r"([京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼])([A-HJ-NP-Z])([·•・ ]?)"
                    r"([A-HJ-NP-Z0-9]{5,6}|[A-HJ-NP-Z0-9]{4}[挂学警])(?![A-Za-z0-9])")
_IM_ID = re.compile(r"(?i)((?:QQ|ＱＱ|扣扣|微信|weixin|wechat|wx|vx|V信)(?:号码|号|id)?\s*[:：]?\s*)"
                    r"([A-Za-z0-9][-_A-Za-z0-9]{4,19})(?![-_A-Za-z0-9])")
_SURNAMES = ("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢"
             "姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚符舒阮柯纪梅童凌毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕屈饶解牟艾尤阳时穆农司卓古吉缪简车项连芦麦褚娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂全佟应臧闵苟邬边卞姬师和仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩明佘池查麻苑迟邝")
_NAME_LABEL = re.compile(r"((?:来电人|来电者|来电群众|反映人|投诉人|举报人|求助人|联系人|当事人|申请人|姓名|户主)\s*[:：]?\s*)"
                         rf"([{_SURNAMES}][\u4e00-\u9fa5]{{1,2}}?)(?=[，。,、；;\s（(]|$|先生|女士|电话|手机|联系|反映|称|来电|投诉|住|，)")
_NAME_CITIZEN = re.compile(r"((?:市民|村民|居民|群众|业主|网友|家长|患者) ?)"
                           rf"([{_SURNAMES}][\u4e00-\u9fa5]{{1,2}}?)(?= ?(?:反映|称|来电|投诉|举报|表示|说|求助|家|，|、))")
_EMAIL = re.compile(r"(?<![A-Za-z0-9._%+-])([A-Za-z0-9])[A-Za-z0-9._%+-]*(@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,})")

# Addresses. A "part" is a number (Arabic, full-width or Chinese, maybe with a
# letter) followed by a door word; a chain of parts is private when it reaches a
# unit or room, or is a bare room number after a unit/building/floor.
_NUM = r"(?:[A-Za-z]?[\d一二三四五六七八九十百零〇两]{1,5}[A-Za-z]?|[A-Za-z])"
_DOOR = r"(?:号院|号楼|号房|号|栋|幢|座|单元|层|楼|室|户)"
_ADDR = re.compile(rf"(?=[\dA-Za-z一二三四五六七八九十百零〇两])(?<![\dA-Za-z])((?:{_NUM}{_DOOR})+)({_NUM}(?![\dA-Za-z]))?")
_PART = re.compile(f"{_NUM}{_DOOR}")
_DOOR_CHAR = re.compile(r"[号栋幢座元层楼室户]")
_PRIVATE_PART = re.compile(r"单元|室|户")
_ROOM_AFTER = re.compile(r"(?:单元|层|楼|栋|幢|座)$")
_PLACE_END = "路街巷道村区园苑城府寓厦场庄院坊湾居里弄"
#: 3-2-301 right after a place name (not a date: the first part has at most 3 digits).
_DASH_ADDR = re.compile(rf"(?<=[{_PLACE_END}])(\d{{1,3}}-\d{{1,3}}-\d{{1,4}})(室|号)?(?![\d-])")
#: 路12号3-2-301: the house number and the building-unit-room after it.
_HOUSE_DASH = re.compile(rf"(?<=[{_PLACE_END}])(\d{{1,5}})(号)(\d{{1,3}}-\d{{1,3}}-\d{{1,4}})(室|号)?(?![\d-])")
#: A village group's house number: 3组15号 -> 3组**号.
_VILLAGE_HOUSE = re.compile(r"(?<=[\d一二三四五六七八九十]组)(\d{1,4})(号)(?![院楼房\d])")
_MASKABLE = re.compile(r"[\dA-Za-z一二三四五六七八九十百零〇两]")


def _stars(s: str) -> str:
    return _MASKABLE.sub("*", s)


def _mask_id(m: re.Match) -> str:
    return m.group(1) + "*" * 10 + m.group(3)[-4:]


def _mask_mobile(m: re.Match) -> str:
    return f"{m.group(1)}{m.group(2)}****{m.group(4)}{m.group(5)}"


def _mask_landline(m: re.Match) -> str:
    if m.group(1) is not None:
        return f"{m.group(1)}{'*' * len(m.group(2))}{m.group(3)}{m.group(4)}"
    area, mid, tail = m.group(5), m.group(6), m.group(7)
    if len(area) + len(mid) + len(tail) not in (11, 12):
        return m.group(0)
    return f"{area}{'*' * len(mid)}{tail}"


def _valid_date(y: str, mo: str, d: str) -> bool:
    return 1 <= int(mo) <= 12 and 1 <= int(d) <= 31 and y.isdigit()


def _keep_ends(text: str, head: int, tail: int) -> str:
    """Digits of ``text`` starred except the first ``head`` and last ``tail``; separators kept."""
    positions = [i for i, ch in enumerate(text) if ch not in " -"]
    keep = set(positions[:head]) | set(positions[len(positions) - tail:])
    return "".join(ch if (i in keep or ch in " -") else "*" for i, ch in enumerate(text))


def _mask_long(m: re.Match) -> str:
    text = m.group(1)
    digits = "".join(ch for ch in text if ch not in " -")
    n = len(digits)
    last_x = digits[-1] in "XxＸｘ"
    if n == 18:
        return _keep_ends(text, 4, 4)
    if last_x:
        return text
    if n == 15 and _valid_date(digits[6:8], digits[8:10], digits[10:12]):
        return _keep_ends(text, 4, 3)
    if 16 <= n <= 19 and digits[0] in "3456３４５６":
        return _keep_ends(text, 4, 4)
    return text


def _mask_plate(m: re.Match) -> str:
    tail = m.group(4)
    if not any(ch.isdigit() for ch in tail):
        return m.group(0)
    return m.group(1) + m.group(2) + m.group(3) + "*" * (len(tail) - 1) + tail[-1]


def _mask_im(m: re.Match) -> str:
    ident = m.group(2)
    if len(ident) < 5 or "*" in ident:
        return m.group(0)
    return m.group(1) + ident[:2] + "*" * (len(ident) - 4) + ident[-2:]


_NOT_A_NAME = ("先生", "女士", "某", "师傅", "阿姨", "大爷", "大妈", "老师", "同志", "师", "总", "姐", "哥")


def _mask_name(m: re.Match) -> str:
    if m.group(2)[1:].startswith(_NOT_A_NAME):
        return m.group(0)
    return m.group(1) + m.group(2)[0] + "*" * (len(m.group(2)) - 1)


def mask_names(text: str) -> str:
    """Private persons' names after a hotline label or 市民/村民… (surname kept)."""
    if not text:
        return text or ""
    text = _NAME_LABEL.sub(_mask_name, text)
    return _NAME_CITIZEN.sub(_mask_name, text)


def _mask_address(m: re.Match) -> str:
    chain, bare = m.group(1), m.group(2)
    parts = _PART.findall(chain)
    private = (len(parts) >= 2 and _PRIVATE_PART.search(chain) is not None) or \
              (bare is not None and _ROOM_AFTER.search(chain) is not None)
    if not private:
        return m.group(0)
    return _stars(chain) + (_stars(bare) if bare else "")


def _mask_plain(s: str) -> str:
    if "@" in s:
        s = _EMAIL.sub(lambda m: m.group(1) + "***" + m.group(2), s)
    s = _ID.sub(_mask_id, s)
    s = _IM_ID.sub(_mask_im, s)
    s = _LONG.sub(_mask_long, s)
    s = _MOBILE.sub(_mask_mobile, s)
    s = _LANDLINE.sub(_mask_landline, s)
    if _DOOR_CHAR.search(s):
        s = _ADDR.sub(_mask_address, s)
        if "组" in s:
            s = _VILLAGE_HOUSE.sub(lambda m: _stars(m.group(1)) + m.group(2), s)
    if "-" in s:
        s = _DASH_ADDR.sub(lambda m: _stars(m.group(1)) + (m.group(2) or ""), s)
        s = _HOUSE_DASH.sub(lambda m: _stars(m.group(1)) + m.group(2) + _stars(m.group(3)) + (m.group(4) or ""), s)
    s = _PLATE.sub(_mask_plate, s)
    return s


def mask_personal(text: str | None) -> str:
    """``text`` with phone, ID and landline numbers, e-mail local parts and private
    door numbers masked (URLs left intact). ``None`` gives ``""``."""
    if not text:
        return text or ""
    text = mask_names(text)
    if not _MAYBE.search(text):
        return text
    if "://" not in text:
        return _mask_plain(text)
    out: list[str] = []
    pos = 0
    for m in _URL.finditer(text):
        out.append(_mask_plain(text[pos:m.start()]))
        out.append(m.group(0))
        pos = m.end()
    out.append(_mask_plain(text[pos:]))
    return "".join(out)


# ---------------------------------------------------------------- secrets

def clean(obj: Any, *, mask: bool = True) -> Any:
    """Scrub secrets and (by default) mask personal data in every string of a JSON-like value."""
    obj = scrub_secrets(obj)
    return _mask_tree(obj) if mask else obj


def _mask_tree(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {k: _mask_tree(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_mask_tree(v) for v in obj]
    if isinstance(obj, str):
        return mask_personal(obj)
    return obj
