"""Text for an operator's terminal: what the CLI prints through rich.

Titles, file names, names and failure reasons come from editors, uploads and tools. Printed as they
are, a title's ``ESC[31m`` reaches the terminal as a command and a title's ``[red]`` as rich markup
(rich interprets markup in table cells and in ``console.print`` strings). :func:`shown` makes both
inert: control characters become visible escapes (:func:`rcmedia.core.text.visible`), markup is
escaped.
"""

from __future__ import annotations

from rich.markup import escape

from rcmedia.core.text import visible


def shown(value: object) -> str:
    """``value`` for a rich table cell or inside a ``console.print`` f-string: shown, never executed."""
    return escape(visible(str(value)))
