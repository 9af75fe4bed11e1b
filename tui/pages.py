"""The console's pages, in key order: one entry per page drives its number key, its command in
the palette, the key guide and the screen made for it. A new page (值班, 批示, 待确认告警) is one
more :class:`Page` here and a Screen class in ``tui/screens/``."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Page:
    name: str  # internal key
    key: str  # the number key that shows it
    label: str  # the page's title (palette: 切换到<label>)
    short: str  # the key guide's word
    module: str
    cls: str
    help: str  # the palette's help line


PAGE_LIST: tuple[Page, ...] = (
    Page("dashboard", "1", "值班台", "值班台", "tui.screens.dashboard", "DashboardScreen",
         "未结事件的发布倒计时、预警信息流和采集状态"),
    Page("items", "2", "信息检索", "检索", "tui.screens.items", "ItemsScreen",
         "按关键词、镇街、主题、情感、来源检索信息，更正主题、情感、地点"),
    Page("sources", "3", "信源状态", "信源", "tui.screens.sources", "SourcesScreen",
         "各信源最近成功、最近错误和沉默情况"),
    Page("schemes", "4", "监测方案", "方案", "tui.screens.schemes", "SchemesScreen",
         "查看、修改监测方案并预览命中"),
    Page("reports", "5", "统计报表", "报表", "tui.screens.reports", "ReportsScreen",
         "每小时信息量、热度最高的报道和按时排行"),
    Page("duty", "6", "值班", "值班", "tui.screens.duty", "DutyScreen",
         "当前值班员和带班领导、下一班、值班表空档和交接班"),
    Page("orders", "7", "领导批示", "批示", "tui.screens.orders", "OrdersScreen",
         "待落实和已超期的领导批示，记录反馈"),
    Page("alerts", "8", "待确认告警", "告警", "tui.screens.alerts", "AlertsScreen",
         "等待确认的告警，确认后停止升级"),
)
PAGES: dict[str, Page] = {p.name: p for p in PAGE_LIST}


def page_keys_text() -> str:
    """The key guide's range of page keys, e.g. 1-5."""
    keys = [p.key for p in PAGE_LIST]
    return keys[0] if len(keys) == 1 else f"{keys[0]}-{keys[-1]}"
