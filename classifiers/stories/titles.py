"""Story titles: a phrase a person can read, taken from the story's own items.

A story's title is, in this order: a Weibo #话题# carried by a large share of its items;
else the phrase of its most representative item — the news title, the 【headline】 or the
leading clause of a post — where "representative" means repeated by the most items
(near-duplicates count for their original) and containing the most of the story's top
keywords, earlier items winning ties. Phrases come from the item's text after
:func:`clean_for_title` (the poster's own words, or the reposted original when the
poster only wrote "转发微博"; @-mentions, URLs, repost chains and emoji codes removed),
so a title is always a substring of one cleaned item.

A story keeps at most ``MAX_CANDIDATES`` phrases and ``MAX_TAGS`` hashtags (the first
items' phrases, then the most repeated ones), so its state is bounded and a new item
costs a few dictionary operations.
"""
from __future__ import annotations

import math
import re

from classifiers.normalize import NormalizedText, normalize

__all__ = ["clean_for_title", "strip_noise", "title_phrase", "clean_normalized", "leading_phrase", "TitleCandidates", "MAX_CANDIDATES"]

MAX_CANDIDATES = 8
MAX_TAGS = 6
MAX_CHARS = 30  # a title longer than this is cut at a comma (or hard) within this many characters
_MIN_CHARS = 5
_KEEP_FIRST = 3  # the first items' phrases are never replaced (the 首发 frames the story)
_TAG_SHARE = 0.3  # a hashtag carried by this share of the items (and 2 at least) titles the story

_MENTION = re.compile(r"(?:回复)?@[^\s:：,，。.!！?？、;；()（）\[\]【】#@/“”\"'《》]{1,30}\s*[:：]?")
_URL = re.compile(r"https?://[A-Za-z0-9./?=&%_\-~:+#@!$*,;]+|www\.[A-Za-z0-9./?=&%_\-~]+")
_EMOJI_CODE = re.compile(r"\[[^\[\]\s]{1,8}\]")
_EMOJI = re.compile("[\U0001F000-\U0001FAFF\u2600-\u27BF\uFE0F\u200d]")
_SPACES = re.compile(r"[ \t]{2,}")
_BARE_REPOST = re.compile(r"^(?:转发微博|轉發微博|转发|repost|Repost|分享|转)?[\s。.!！~～]*$")
_HEADLINE = re.compile(r"^\s*[【\[]([^【】\[\]]{4,60})[】\]]")
_STRONG = re.compile(r"[。！？!?；;\n#【】…~～|]+")
_COMMA = re.compile(r"[，,]")
_CLAUSE_CHARS = 10  # a leading clause this long is a title by itself
_WEAK = re.compile(r"[，,、：:（(“\"\s]")
_EDGE = " \t\u3000，,、：:；;。.!！?？-—_·\"'“”‘’()（）《》<>"
_WORDY = re.compile(r"[\u3400-\u9fffA-Za-z0-9]")


def _strip(text: str) -> str:
    if "@" in text:
        text = _MENTION.sub(" ", text).replace("@", "")  # a lone @ is a mention too
    if "http" in text or "www." in text:
        text = _URL.sub(" ", text)
    if "[" in text:
        text = _EMOJI_CODE.sub("", text)
    text = _EMOJI.sub("", text)
    return _SPACES.sub(" ", text).strip()


def clean_normalized(norm: NormalizedText) -> str:
    """The readable words of a normalised item: its own words, or (a bare repost) the
    innermost reposted words; @-mentions, URLs, chains and emoji codes removed."""
    own = _strip(norm.own)
    if norm.reposts and _BARE_REPOST.match(own):
        for part in reversed(norm.reposts):  # the innermost part is the original post
            words = _strip(part.split(":", 1)[1] if ":" in part else part)
            if words and not _BARE_REPOST.match(words):
                return words
    return own


def strip_noise(text: str) -> str:
    """@-mentions, URLs and emoji removed from a text (no other normalisation)."""
    return _strip(text or "")


def clean_for_title(text: str) -> str:
    """:func:`clean_normalized` of a raw text (the cleaning titles are taken from)."""
    return clean_normalized(normalize(text or ""))


def _wordy_len(s: str) -> int:
    return len(_WORDY.findall(s))


def leading_phrase(clean: str) -> str:
    """The phrase that leads a cleaned text: a 【headline】, else the first clause of
    ``_MIN_CHARS`` characters or more (cut at a comma to ``MAX_CHARS``)."""
    m = _HEADLINE.match(clean)
    if m and _wordy_len(m.group(1)) >= 4:
        return _cut(m.group(1).strip(_EDGE))
    best = ""
    for piece in _STRONG.split(clean):
        piece = piece.strip(_EDGE)
        if len(piece) >= _MIN_CHARS and _wordy_len(piece) >= _MIN_CHARS:
            return _cut(piece)
        if len(piece) > len(best) and _wordy_len(piece) >= 2:
            best = piece
    return _cut(best)


def _cut(piece: str) -> str:
    if len(piece) <= _CLAUSE_CHARS:
        return piece
    m = _COMMA.search(piece)
    if m is not None and _wordy_len(piece[: m.start()]) >= _CLAUSE_CHARS:
        piece = piece[: m.start()].strip(_EDGE)  # the leading clause says enough
    if len(piece) <= MAX_CHARS:
        return piece
    head = piece[: MAX_CHARS + 1]
    cuts = [m.start() for m in _WEAK.finditer(head) if _wordy_len(head[: m.start()]) >= _MIN_CHARS + 3]
    return (head[: cuts[-1]] if cuts else piece[:MAX_CHARS]).strip(_EDGE)


def title_phrase(norm: NormalizedText) -> tuple[str, tuple[str, ...]]:
    """The phrase one item offers as a title, and its hashtags that its cleaned text keeps."""
    clean = clean_normalized(norm)
    tags = tuple(t for t in norm.hashtags if t in clean and _wordy_len(t) >= 2) if norm.hashtags else ()
    return leading_phrase(clean), tags


class TitleCandidates:
    """The bounded title material of one story (most stories are one item: the dicts are
    made on first use)."""

    __slots__ = ("phrases", "tags", "items")

    def __init__(self) -> None:
        self.phrases: dict[str, list] | None = None  # phrase -> [support, arrival order, (item ids)]
        self.tags: dict[str, int] | None = None  # hashtag -> items carrying it
        self.items = 0

    def seed(self, item_id: str, phrase: str, tags: tuple[str, ...] = ()) -> None:
        """The item that started the story, by its :func:`title_phrase` (kept by the story until now)."""
        self.items += 1
        if tags:
            self.tags = {t: 1 for t in tags[:MAX_TAGS]}
        if phrase:
            self.phrases = {phrase: [1, 0, (item_id,)]}

    def add(self, item_id: str, norm: NormalizedText | None, dup_of: str | None, seq: int) -> None:
        """One item of the story: a near-duplicate supports its original's phrase; a
        unique item brings its own phrase (``norm`` of its full text)."""
        self.items += 1
        clean = None
        if norm is not None and norm.hashtags:
            clean = clean_normalized(norm)
            if self.tags is None:
                self.tags = {}
            tags = self.tags
            for t in norm.hashtags:
                if t in tags:
                    tags[t] += 1
                elif len(tags) < MAX_TAGS and _wordy_len(t) >= 2 and t in clean:
                    tags[t] = 1
        phrases = self.phrases
        if dup_of is not None and phrases:
            for entry in phrases.values():
                if dup_of in entry[2]:
                    entry[0] += 1
                    return
            if len(phrases) >= MAX_CANDIDATES:
                return
        if norm is None:
            return
        phrase = leading_phrase(clean if clean is not None else clean_normalized(norm))
        if not phrase:
            return
        if phrases is None:
            self.phrases = {phrase: [1, seq, (item_id,)]}
            return
        entry = phrases.get(phrase)
        if entry is not None:
            entry[0] += 1
            if len(entry[2]) < 4:
                entry[2] += (item_id,)
            return
        if len(phrases) >= MAX_CANDIDATES:
            # replace the least supported phrase among the later ones (ties: the oldest)
            later = sorted(phrases.items(), key=lambda kv: kv[1][1])[_KEEP_FIRST:]
            victim = min(later, key=lambda kv: (kv[1][0], kv[1][1]))
            if victim[1][0] > 1:
                return
            del phrases[victim[0]]
        phrases[phrase] = [1, seq, (item_id,)]

    def title(self, keywords: tuple[str, ...]) -> str:
        """The story's title given its top keywords (most significant first)."""
        if self.tags:
            tag, n = max(self.tags.items(), key=lambda kv: (kv[1], -len(kv[0])))
            if n >= 2 and n >= _TAG_SHARE * self.items:
                return tag
        if not self.phrases:
            return ""
        best, best_key = "", None
        for phrase, (support, seq, _) in self.phrases.items():
            hits = sum(1 for k in keywords if k in phrase)
            key = (hits + math.log2(support), -seq)
            if best_key is None or key > best_key:
                best, best_key = phrase, key
        return best
