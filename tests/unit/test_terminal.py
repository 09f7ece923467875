"""What the CLI prints: control characters visible, rich markup inert."""

from __future__ import annotations

import io

from rich.console import Console
from rich.table import Table

from rcmedia.terminal import shown


def printed(*renderables: object) -> str:
    out = io.StringIO()
    # a terminal without colours: any ESC in the output came from the text printed
    console = Console(file=out, force_terminal=True, color_system=None, width=120)
    console.print(*renderables)
    return out.getvalue()


def test_a_hostile_title_in_a_table_is_shown_not_executed() -> None:
    table = Table("title")
    table.add_row(shown("课\x1b[31m红\x07[red]markup[/red][link=https://evil.example]x[/link]"))

    text = printed(table)

    assert "\x1b" not in text  # no colour, whatever the title says
    assert "\x07" not in text
    assert "\\x1b[31m红\\x07[red]markup[/red][link=https://evil.example]x[/link]" in text


def test_inside_console_markup() -> None:
    title = "[bold]x[/bold]\x1b]0;pwned\x07"
    text = printed(f"[green]✓[/] asset 7 {shown(title)} is withdrawn")

    assert "[bold]x[/bold]\\x1b]0;pwned\\x07 is withdrawn" in text
    assert "\x1b" not in text  # no window-title escape (OSC)
