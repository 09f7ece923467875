"""The pages' language: Chinese by default, English on ``?lang=en``, remembered in a cookie.

Labels are written in place in both languages (``t("频道", "Channels")`` in a template), so a
page and its translation are read and changed together; there is no catalogue to fall out of step.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from enum import StrEnum

LANG_COOKIE = "rcmedia_lang"
LANG_PARAM = "lang"


class Lang(StrEnum):
    ZH = "zh"
    EN = "en"


def chosen_lang(query: Mapping[str, str], cookies: Mapping[str, str]) -> tuple[Lang, bool]:
    """The language asked for, and whether the query asked for it (the cookie is then set)."""
    asked = query.get(LANG_PARAM, "").lower()
    if asked in Lang.__members__.values():
        return Lang(asked), True
    remembered = cookies.get(LANG_COOKIE, "")
    return (Lang(remembered) if remembered in Lang.__members__.values() else Lang.ZH), False


def translator(lang: Lang) -> Callable[[str, str], str]:
    """``t(zh, en)``: the label in ``lang``."""
    if lang is Lang.EN:
        return lambda _zh, en: en
    return lambda zh, _en: zh
