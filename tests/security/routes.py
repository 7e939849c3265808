"""Walk the URL configuration: every URL pattern with its full pattern string, its namespaced
name, the HTTP methods its view answers, and a way to build a concrete URL from kwargs."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django.urls import URLPattern, URLResolver, get_resolver

ROUTE_PARAM = re.compile(r"<(?:(?P<conv>[^>:]+):)?(?P<name>\w+)>")
REGEX_PARAM = re.compile(r"\(\?P<(?P<name>\w+)>(?:[^()]|\([^()]*\))*\)")
DEFAULT_METHODS = ("get", "post")
ALL_METHODS = ("get", "post", "put", "patch", "delete")


@dataclass(frozen=True)
class Route:
    pattern: str  # the joined pattern strings, e.g. "api/v1/^links/(?P<pk>[^/.]+)/$"
    name: str  # namespaced name, "" when the pattern has none
    callback: Any

    @property
    def key(self) -> str:
        return self.name or self.pattern

    @property
    def params(self) -> list[str]:
        names = [m.group("name") for m in ROUTE_PARAM.finditer(self.pattern)]
        names += [m.group("name") for m in REGEX_PARAM.finditer(self.pattern)]
        return list(dict.fromkeys(names))

    @property
    def is_api(self) -> bool:
        return self.pattern.startswith("api/")

    def methods(self) -> tuple[str, ...]:
        """The methods the view implements (OPTIONS/HEAD left out)."""
        actions = getattr(self.callback, "actions", None)
        if actions:
            return tuple(m for m in ALL_METHODS if m in actions)
        cls = getattr(self.callback, "view_class", None) or getattr(self.callback, "cls", None)
        if cls is not None:
            return tuple(m for m in ALL_METHODS if hasattr(cls, m))
        return DEFAULT_METHODS

    def url(self, **kwargs: Any) -> str:
        """A concrete path with the kwargs filled in (the format suffix becomes json)."""
        values = {"format": "json", **{k: str(v) for k, v in kwargs.items()}}

        def fill(match: re.Match[str]) -> str:
            if match.groupdict().get("conv") == "drf_format_suffix":
                return ".json"
            return values[match.group("name")]

        path = REGEX_PARAM.sub(fill, self.pattern)
        path = ROUTE_PARAM.sub(fill, path)
        # The pieces of included regex patterns: drop anchors and un-escape.
        path = path.replace("^", "").replace("$", "").replace("/?", "/").replace("\\.", ".")
        path = path.replace("\\", "")
        return "/" + path


def walk(resolver: Any = None, prefix: str = "", namespaces: tuple[str, ...] = ()) -> list[Route]:
    resolver = resolver or get_resolver()
    routes: list[Route] = []
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            ns = (*namespaces, entry.namespace) if entry.namespace else namespaces
            routes += walk(entry, prefix + str(entry.pattern), ns)
        elif isinstance(entry, URLPattern):
            name = ":".join((*namespaces, entry.name)) if entry.name else ""
            routes.append(Route(prefix + str(entry.pattern), name, entry.callback))
    return routes
