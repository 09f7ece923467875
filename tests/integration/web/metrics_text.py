"""Reading a ``/metrics`` scrape in tests: samples by name and labels, and the names exported."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

SUFFIXES = {"counter": ("_total", "_created"), "histogram": ("_bucket", "_count", "_sum", "_created")}


class Scrape:
    def __init__(self, text: str) -> None:
        self.text = text
        self.families = list(text_string_to_metric_families(text))

    def value(self, name: str, **labels: str) -> float:
        """The sum of ``name``'s samples whose labels include ``labels`` (0 when none)."""
        return sum(
            sample.value
            for family in self.families
            for sample in family.samples
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items())
        )

    def names(self) -> set[str]:
        """Every sample name exported, or that a declared family would export once observed."""
        found = set()
        for family in self.families:
            found.add(family.name)
            found.update(family.name + suffix for suffix in SUFFIXES.get(family.type, ()))
            found.update(sample.name for sample in family.samples)
        return found
