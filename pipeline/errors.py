"""The pipeline's error base and the two ways a pipeline process learns it must stop writing."""
from __future__ import annotations

from common.errors import YuqingError


class PipelineError(YuqingError):
    """Base of the pipeline's expected errors."""


class WatermarkMoved(PipelineError):
    """A stage's watermark is not where this process left it: another process (a pipeline leader
    that lost its lock, or one that took over) committed batches since. The caller must rebuild
    its window from the database before writing again."""

    def __init__(self, stage: str, expected: int, found: int):
        self.stage, self.expected, self.found = stage, expected, found
        super().__init__(f"pipeline stage {stage}: watermark at item {found}, this process expected {expected}")


class NotLeader(PipelineError):
    """This process no longer holds the pipeline leader lock (its session ended): it must not write
    stories or incidents until it holds the lock again."""
