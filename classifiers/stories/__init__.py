"""Stories and heat: near-duplicates, online clustering, first publisher, burst detection.

Pure: no I/O. Heavy parts (rjieba, OpenCC) load on first use.
"""
from classifiers.stories.engine import StoryEngine
from classifiers.stories.heat import BurstConfig
from classifiers.stories.types import Assignment, EvidenceSnapshot, RankSpan, Story, StoryItem, content_hash

__all__ = ["StoryEngine", "BurstConfig", "StoryItem", "Assignment", "Story", "EvidenceSnapshot", "RankSpan",
           "content_hash"]
