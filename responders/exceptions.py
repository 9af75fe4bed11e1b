"""One exception tree for the response engine. Messages are one line, fit for staff."""
from __future__ import annotations

from common.errors import YuqingError


class ResponderError(YuqingError):
    """Base of every expected response-engine error."""


class PolicyError(ResponderError):
    """The [clock] configuration is wrong. The message names the key and the problem."""


class IncidentNotFound(ResponderError):
    def __init__(self, incident_id):
        super().__init__(f"事件 #{incident_id} 不存在")
        self.incident_id = incident_id


class IllegalTransition(ResponderError):
    """The state machine refuses an action (e.g. archive before a final-result release)."""


class InvalidValue(ResponderError):
    """A value is not one of the allowed ones (severity, channel, state, time ...)."""


class UnknownUnit(InvalidValue):
    """A unit name the gazetteer does not know; the message names the nearest known ones."""

    def __init__(self, name: str, nearest: list[str]):
        hint = f"，最接近的：{'、'.join(nearest)}" if nearest else "，请用地名录中的部门或镇办名称"
        super().__init__(f"未知单位「{name}」{hint}（未作任何更改）")
        self.name = name
        self.nearest = nearest


class CandidateError(ResponderError):
    """An incident candidate is malformed; the message names the field."""


class ProposalNotFound(ResponderError):
    def __init__(self, proposal_id):
        super().__init__(f"发布检测提议 #{proposal_id} 不存在")
        self.proposal_id = proposal_id


class ExportError(ResponderError):
    """An export could not be produced (unknown format, unwritable file)."""
