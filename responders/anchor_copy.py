"""Carry a desk's timeline anchor over to a copy of the desk in another database (``db copy``).

The copied events keep their MACs, so the copy verifies only under the key they were signed
with. That key stays outside the database, in the desk home (``responders.anchor``): before the
copy, :func:`prepare` checks that the home serving the copy holds the same key (or none yet, when
the source desk lives in another folder: its key file is then copied into the home); after it,
:func:`finish` records in the key file from which event the copy is anchored (as the source's
entry says) and carries the source's last signed witness over to the copy's name, so ``verify``
on the copy checks the same things it checked on the original.
"""
from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from responders import anchor
from responders.exceptions import ResponderError


class AnchorCopyError(ResponderError):
    """The copy could not be kept verifiable (another key in the home, an unreadable key file)."""


@dataclass
class AnchorPlan:
    source: anchor.Anchor
    target_url: str
    home: Path
    copy_key_from: Path | None = None


def prepare(source_conn, target_conn, target_url: str, home: Path) -> AnchorPlan:
    """Check, before anything is copied, that the copy at ``target_url`` (reached by
    ``target_conn``) can be verified with the source's key from the desk ``home``."""
    anchor.use_home(target_url, home)
    try:
        src = anchor.load(source_conn)
        dst = anchor.load(target_conn)
    except ValueError as exc:
        raise AnchorCopyError(str(exc)) from None
    plan = AnchorPlan(src, target_url, Path(home))
    if src.source != "file" or src.key is None:
        return plan  # no key (plain chain only), or YUQING_TIMELINE_KEY: it serves the copy as well
    if dst.key is None:
        plan.copy_key_from = anchor.key_path(src.folder)
    elif dst.key != src.key:
        raise AnchorCopyError(
            f"桌面目录 {home} 已有另一把时间线密钥（{anchor.KEY_FILE}），与来源桌面 {src.folder} 的不同："
            "复制后的时间线将无法校验。请用来源桌面的目录作 --home，或换一个没有密钥的桌面目录")
    return plan


def finish(plan: AnchorPlan, target_conn) -> list[str]:
    """After the copy committed: the key in the home, the copy's anchored start and last witness.
    Returns notes for the operator."""
    notes: list[str] = []
    src = plan.source
    if src.key is None:
        return ["来源桌面没有时间线密钥：副本只由哈希链校验"]
    if src.source == "env":
        return [f"时间线密钥来自 {anchor.KEY_ENV}：使用副本的每台机器都须设置同一密钥"]
    if plan.copy_key_from is not None:
        dest = anchor.key_path(plan.home)
        plan.home.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as out, open(plan.copy_key_from, "rb") as src_file:
            shutil.copyfileobj(src_file, out)
        notes.append(f"时间线密钥已复制到 {dest}")
    dst = anchor.load(target_conn)
    if src.file_start is not None:
        anchor.record_start(dst, src.file_start)
    last, problem = anchor.last_witness(src)
    if problem:
        notes.append(problem)
    elif last is not None and dst.folder is not None:
        line = dict(last, db=dst.db_name)  # the witness signs (count, last id, head, time), not the name
        fd = os.open(anchor.witness_path(dst.folder), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        with os.fdopen(fd, "a", encoding="utf-8") as f:
            f.write(json.dumps(line, ensure_ascii=False) + "\n")
    notes.append(f"时间线密钥留在桌面目录 {plan.home}：其他机器使用副本时，请把 {anchor.KEY_FILE} 一并复制到各自的桌面目录")
    return notes
