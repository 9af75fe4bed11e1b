"""One exception tree for the response engine. Errors carry their facts (an incident id, a
unit name); the words staff read are chosen where an error is shown
(:func:`responders.wording.staff_message`)."""
from __future__ import annotations

from common.errors import YuqingError


class ResponderError(YuqingError):
    """Base of every expected response-engine error."""


class PolicyError(ResponderError):
    """The [clock] configuration is wrong. The message names the key and the problem."""


class IncidentNotFound(ResponderError):
    def __init__(self, incident_id):
        super().__init__(f"incident #{incident_id} does not exist")
        self.incident_id = incident_id


class IllegalTransition(ResponderError):
    """The state machine refuses an action (e.g. archive before a final-result release)."""


class InvalidValue(ResponderError):
    """A value is not one of the allowed ones (severity, channel, state, time ...)."""


class UnknownUnit(InvalidValue):
    """A unit name the gazetteer does not know; the message names the nearest known ones."""

    def __init__(self, name: str, nearest: list[str]):
        super().__init__(f"unknown unit {name!r}" + (f" (nearest: {', '.join(nearest)})" if nearest else ""))
        self.name = name
        self.nearest = nearest


class CandidateError(ResponderError):
    """An incident candidate is malformed; the message names the field."""


class ProposalNotFound(ResponderError):
    def __init__(self, proposal_id):
        super().__init__(f"release proposal #{proposal_id} does not exist")
        self.proposal_id = proposal_id


class ExportError(ResponderError):
    """An export could not be produced (unknown format, unwritable file)."""


class TimelineKeyMissing(ResponderError):
    """A server desk's timeline is anchored, but this machine has no timeline key: appending
    would start a second key and break verification for every machine, so nothing is written."""

    def __init__(self, db_name: str | None, folder, *, wrong: bool = False):
        where = f"本机 desk home（{folder}）" if folder else "本机 desk home"
        have = "本机的时间线密钥与锚定所用的不同" if wrong else "本机没有该密钥"
        super().__init__(f"数据库 {db_name or ''} 的时间线已用密钥锚定，但{have}：请把第一台机器"
                         f" desk home 中的 timeline.key 复制到{where}，或设置 YUQING_TIMELINE_KEY（未作任何更改）")
        self.db_name, self.folder, self.wrong = db_name, folder, wrong
