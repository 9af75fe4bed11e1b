"""Typed results of text understanding. Pure data, no I/O."""
from __future__ import annotations

from dataclasses import dataclass, field

TOPICS = (
    "安全生产", "生态环境", "医疗卫生", "食品药品", "住房保障", "征地拆迁", "产品质量",
    "交通运输", "旅游市场", "教育", "社会保障", "价格收费", "公共资源交易", "财政资金",
    "城市管理", "政务作风", "社会治安", "自然灾害", "其他",
)
SENTIMENTS = ("负面", "中性", "正面")
#: The desk's one severity scale, lowest first (incidents, alerts, triggers and the estimator).
SEVERITIES = ("一般", "较大", "重大", "特别重大")
RELEASE_OWNER = "区委宣传部"


def severity_rank(severity: str) -> int:
    """0 for 一般 ... 3 for 特别重大; unknown values rank lowest."""
    try:
        return SEVERITIES.index(severity)
    except ValueError:
        return 0


@dataclass(frozen=True)
class PlaceHit:
    code: str  # official division code (12-digit village, 9-digit town, 6-digit county)
    name: str  # official name
    level: str  # county | town | village | landmark
    county_code: str  # the county the place belongs to
    in_district: bool  # belongs to the configured district
    matched: str  # the surface form found in the text
    reason: str  # why it counts, in words


@dataclass(frozen=True)
class DepartmentHit:
    name: str  # canonical short name, e.g. 区住建局
    official_name: str  # e.g. 汉台区住房和城乡建设局
    matched: str
    reason: str


@dataclass(frozen=True)
class Jurisdiction:
    places: tuple[PlaceHit, ...] = ()
    departments: tuple[DepartmentHit, ...] = ()
    involves_district: bool = False
    reasons: tuple[str, ...] = ()


@dataclass(frozen=True)
class SchemeHit:
    scheme: str
    words: tuple[str, ...]  # the words that fired
    alert: bool = False
    explanation: str = ""


@dataclass(frozen=True)
class TopicResult:
    label: str
    probability: float
    alternatives: tuple[tuple[str, float], ...] = ()


@dataclass(frozen=True)
class SentimentResult:
    label: str  # one of SENTIMENTS
    score: float  # -1 (negative) .. 1 (positive)
    words: tuple[str, ...] = ()


@dataclass(frozen=True)
class SeverityResult:
    level: str  # one of SEVERITIES
    reasons: tuple[str, ...] = ()


@dataclass(frozen=True)
class Classification:
    topic: TopicResult
    sentiment: SentimentResult
    jurisdiction: Jurisdiction
    schemes: tuple[SchemeHit, ...] = ()
    risk_words: tuple[str, ...] = ()
    severity: SeverityResult = field(default_factory=lambda: SeverityResult("一般"))
    responsible_units: tuple[str, ...] = ()
    release_owner: str = RELEASE_OWNER
    # The normalised Simplified title and body, segmented (empty when the classifier has no
    # segmenter): the pipeline reuses them for the search index and the story engine.
    # Not part of any output; left out of comparisons.
    title_tokens: tuple[str, ...] = field(default=(), compare=False, repr=False)
    text_tokens: tuple[str, ...] = field(default=(), compare=False, repr=False)
