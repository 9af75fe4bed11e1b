"""What staff read for an expected error of the response engine. The CLI and the console call
:func:`staff_message` where they show an error; the exception types carry only facts."""
from __future__ import annotations

from responders.exceptions import IncidentNotFound, ProposalNotFound, UnknownUnit


def staff_message(exc: BaseException) -> str:
    """One line in Simplified Chinese for ``exc`` (errors already worded for staff as they are)."""
    if isinstance(exc, IncidentNotFound):
        return f"事件 #{exc.incident_id} 不存在"
    if isinstance(exc, ProposalNotFound):
        return f"发布检测提议 #{exc.proposal_id} 不存在"
    if isinstance(exc, UnknownUnit):
        hint = f"，最接近的：{'、'.join(exc.nearest)}" if exc.nearest else "，请用地名录中的部门或镇办名称"
        return f"未知单位「{exc.name}」{hint}（未作任何更改）"
    return str(exc)
