"""Understanding what a person types when asked for their time zone.

`parse_zone` turns free text ("Berlin", "new york", "America/New York", "EST", "São Paulo")
into a canonical IANA zone name, and `local_now_label` renders what was understood so the
coach can confirm it ("Europe/Berlin (now 14:05, UTC+01:00)").

Safety: the user's text is only ever used as a key into indexes built from
`zoneinfo.available_timezones()`; it is never handed to `ZoneInfo` or the file system, so
input such as "../../etc/passwd" cannot reach a file.
"""

from __future__ import annotations

import contextlib
import difflib
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from zoneinfo import TZPATH, ZoneInfo, available_timezones

__all__ = ["UnknownZone", "ZoneMatch", "local_now_label", "offered_zones", "parse_zone"]

# Longer than any zone name or city a person would type; longer input is rejected early.
_MAX_INPUT = 64
_MAX_SUGGESTIONS = 5
_FUZZY_CUTOFF = 0.6


@dataclass(frozen=True, slots=True)
class ZoneMatch:
    """A zone understood from user input: an IANA name in any case, a city, a country, an
    abbreviation such as "EST", or a deprecated alias such as "US/Eastern"."""

    zone: str
    understood_from: str


class UnknownZone(ValueError):
    """The text names no zone we know. `suggestions` holds up to five IANA names to offer."""

    def __init__(self, text: str, suggestions: Sequence[str] = (), reason: str = "") -> None:
        shown = text if len(text) <= 40 else text[:40] + "…"
        message = f"unknown time zone {shown!r}"
        if reason:
            message += f" ({reason})"
        if suggestions:
            message += "; did you mean " + ", ".join(suggestions) + "?"
        super().__init__(message)
        self.text = text
        self.suggestions: list[str] = list(suggestions)[:_MAX_SUGGESTIONS]


# --- hand tables -----------------------------------------------------------------------------

_UTC_NAMES = ("UTC", "GMT", "Z", "Zulu", "UCT", "Universal", "Greenwich", "GMT0", "GMT+0", "GMT-0")
_UTC_EXTRA = ("Coordinated Universal Time", "Universal Time", "Greenwich Mean Time")

# Abbreviations are ambiguous (CST is also China, IST is also Israel and Ireland, BST is also
# Bangladesh); each maps to one representative zone and the caller shows what was understood.
# These win over the legacy zone files of the same name ("EST", "MST", "CET"...), which have
# no daylight saving or outdated rules.
_ABBREVIATIONS: dict[str, str] = {
    "est": "America/New_York",
    "edt": "America/New_York",
    "et": "America/New_York",
    "eastern": "America/New_York",
    "eastern time": "America/New_York",
    "est5edt": "America/New_York",
    "cst": "America/Chicago",
    "cdt": "America/Chicago",
    "ct": "America/Chicago",
    "central": "America/Chicago",
    "central time": "America/Chicago",
    "cst6cdt": "America/Chicago",
    "mst": "America/Denver",
    "mdt": "America/Denver",
    "mt": "America/Denver",
    "mountain": "America/Denver",
    "mountain time": "America/Denver",
    "mst7mdt": "America/Denver",
    "pst": "America/Los_Angeles",
    "pdt": "America/Los_Angeles",
    "pt": "America/Los_Angeles",
    "pacific": "America/Los_Angeles",
    "pacific time": "America/Los_Angeles",
    "pst8pdt": "America/Los_Angeles",
    "akst": "America/Anchorage",
    "akdt": "America/Anchorage",
    "hst": "Pacific/Honolulu",
    "ast": "America/Halifax",
    "adt": "America/Halifax",
    "nst": "America/St_Johns",
    "ndt": "America/St_Johns",
    "wet": "Europe/Lisbon",
    "west": "Europe/Lisbon",
    "bst": "Europe/London",
    "cet": "Europe/Berlin",
    "cest": "Europe/Berlin",
    "met": "Europe/Berlin",
    "mez": "Europe/Berlin",
    "mesz": "Europe/Berlin",
    "eet": "Europe/Athens",
    "eest": "Europe/Athens",
    "msk": "Europe/Moscow",
    "ist": "Asia/Kolkata",
    "pkt": "Asia/Karachi",
    "sgt": "Asia/Singapore",
    "hkt": "Asia/Hong_Kong",
    "jst": "Asia/Tokyo",
    "kst": "Asia/Seoul",
    "awst": "Australia/Perth",
    "acst": "Australia/Adelaide",
    "acdt": "Australia/Adelaide",
    "aest": "Australia/Sydney",
    "aedt": "Australia/Sydney",
    "nzst": "Pacific/Auckland",
    "nzdt": "Pacific/Auckland",
    "sast": "Africa/Johannesburg",
    "wat": "Africa/Lagos",
    "cat": "Africa/Maputo",
    "eat": "Africa/Nairobi",
}

# Well-known places that are not the last component of a zone name.
_CITIES: dict[str, str] = {
    # North America
    "nyc": "America/New_York",
    "new york city": "America/New_York",
    "manhattan": "America/New_York",
    "brooklyn": "America/New_York",
    "washington": "America/New_York",
    "washington dc": "America/New_York",
    "dc": "America/New_York",
    "boston": "America/New_York",
    "philadelphia": "America/New_York",
    "atlanta": "America/New_York",
    "miami": "America/New_York",
    "orlando": "America/New_York",
    "pittsburgh": "America/New_York",
    "baltimore": "America/New_York",
    "charlotte": "America/New_York",
    "la": "America/Los_Angeles",
    "san francisco": "America/Los_Angeles",
    "sf": "America/Los_Angeles",
    "san diego": "America/Los_Angeles",
    "san jose": "America/Los_Angeles",
    "seattle": "America/Los_Angeles",
    "las vegas": "America/Los_Angeles",
    "sacramento": "America/Los_Angeles",
    "oakland": "America/Los_Angeles",
    "houston": "America/Chicago",
    "dallas": "America/Chicago",
    "austin": "America/Chicago",
    "san antonio": "America/Chicago",
    "new orleans": "America/Chicago",
    "minneapolis": "America/Chicago",
    "st louis": "America/Chicago",
    "saint louis": "America/Chicago",
    "kansas city": "America/Chicago",
    "nashville": "America/Chicago",
    "salt lake city": "America/Denver",
    "albuquerque": "America/Denver",
    "tucson": "America/Phoenix",
    "ottawa": "America/Toronto",
    "montreal": "America/Toronto",
    "quebec": "America/Toronto",
    "quebec city": "America/Toronto",
    "calgary": "America/Edmonton",
    "guadalajara": "America/Mexico_City",
    # South America
    "rio": "America/Sao_Paulo",
    "rio de janeiro": "America/Sao_Paulo",
    "brasilia": "America/Sao_Paulo",
    "medellin": "America/Bogota",
    # Europe
    "munich": "Europe/Berlin",
    "munchen": "Europe/Berlin",
    "hamburg": "Europe/Berlin",
    "frankfurt": "Europe/Berlin",
    "cologne": "Europe/Berlin",
    "koln": "Europe/Berlin",
    "stuttgart": "Europe/Berlin",
    "dusseldorf": "Europe/Berlin",
    "leipzig": "Europe/Berlin",
    "dresden": "Europe/Berlin",
    "hanover": "Europe/Berlin",
    "hannover": "Europe/Berlin",
    "nuremberg": "Europe/Berlin",
    "bremen": "Europe/Berlin",
    "manchester": "Europe/London",
    "birmingham": "Europe/London",
    "liverpool": "Europe/London",
    "leeds": "Europe/London",
    "bristol": "Europe/London",
    "edinburgh": "Europe/London",
    "glasgow": "Europe/London",
    "cardiff": "Europe/London",
    "belfast": "Europe/London",
    "cambridge": "Europe/London",
    "oxford": "Europe/London",
    "cork": "Europe/Dublin",
    "lyon": "Europe/Paris",
    "marseille": "Europe/Paris",
    "toulouse": "Europe/Paris",
    "nice": "Europe/Paris",
    "bordeaux": "Europe/Paris",
    "barcelona": "Europe/Madrid",
    "valencia": "Europe/Madrid",
    "seville": "Europe/Madrid",
    "sevilla": "Europe/Madrid",
    "bilbao": "Europe/Madrid",
    "porto": "Europe/Lisbon",
    "milan": "Europe/Rome",
    "milano": "Europe/Rome",
    "naples": "Europe/Rome",
    "turin": "Europe/Rome",
    "florence": "Europe/Rome",
    "venice": "Europe/Rome",
    "geneva": "Europe/Zurich",
    "basel": "Europe/Zurich",
    "bern": "Europe/Zurich",
    "lausanne": "Europe/Zurich",
    "rotterdam": "Europe/Amsterdam",
    "the hague": "Europe/Amsterdam",
    "utrecht": "Europe/Amsterdam",
    "antwerp": "Europe/Brussels",
    "ghent": "Europe/Brussels",
    "krakow": "Europe/Warsaw",
    "gdansk": "Europe/Warsaw",
    "wroclaw": "Europe/Warsaw",
    "gothenburg": "Europe/Stockholm",
    "salzburg": "Europe/Vienna",
    "graz": "Europe/Vienna",
    "st petersburg": "Europe/Moscow",
    "saint petersburg": "Europe/Moscow",
    "kiev": "Europe/Kyiv",
    "odesa": "Europe/Kyiv",
    "odessa": "Europe/Kyiv",
    "kharkiv": "Europe/Kyiv",
    "lviv": "Europe/Kyiv",
    "thessaloniki": "Europe/Athens",
    "ankara": "Europe/Istanbul",
    "izmir": "Europe/Istanbul",
    # Asia and Middle East
    "mumbai": "Asia/Kolkata",
    "bombay": "Asia/Kolkata",
    "delhi": "Asia/Kolkata",
    "new delhi": "Asia/Kolkata",
    "bangalore": "Asia/Kolkata",
    "bengaluru": "Asia/Kolkata",
    "chennai": "Asia/Kolkata",
    "madras": "Asia/Kolkata",
    "hyderabad": "Asia/Kolkata",
    "pune": "Asia/Kolkata",
    "ahmedabad": "Asia/Kolkata",
    "calcutta": "Asia/Kolkata",
    "lahore": "Asia/Karachi",
    "islamabad": "Asia/Karachi",
    "beijing": "Asia/Shanghai",
    "peking": "Asia/Shanghai",
    "shenzhen": "Asia/Shanghai",
    "guangzhou": "Asia/Shanghai",
    "chengdu": "Asia/Shanghai",
    "hangzhou": "Asia/Shanghai",
    "wuhan": "Asia/Shanghai",
    "osaka": "Asia/Tokyo",
    "kyoto": "Asia/Tokyo",
    "yokohama": "Asia/Tokyo",
    "busan": "Asia/Seoul",
    "hanoi": "Asia/Ho_Chi_Minh",
    "saigon": "Asia/Ho_Chi_Minh",
    "ho chi minh city": "Asia/Ho_Chi_Minh",
    "abu dhabi": "Asia/Dubai",
    "doha": "Asia/Qatar",
    "tel aviv": "Asia/Jerusalem",
    "mecca": "Asia/Riyadh",
    "jeddah": "Asia/Riyadh",
    "cebu": "Asia/Manila",
    "penang": "Asia/Kuala_Lumpur",
    # Africa
    "cape town": "Africa/Johannesburg",
    "durban": "Africa/Johannesburg",
    "pretoria": "Africa/Johannesburg",
    "abuja": "Africa/Lagos",
    "alexandria": "Africa/Cairo",
    "marrakesh": "Africa/Casablanca",
    "rabat": "Africa/Casablanca",
    # Oceania
    "dumont d'urville": "Antarctica/DumontDUrville",
    "canberra": "Australia/Sydney",
    "newcastle": "Australia/Sydney",
    "gold coast": "Australia/Brisbane",
    "wellington": "Pacific/Auckland",
    "christchurch": "Pacific/Auckland",
    "queenstown": "Pacific/Auckland",
    "hawaii": "Pacific/Honolulu",
}

# Countries and regions with a single zone for practically everyone who lives there.
_COUNTRIES: dict[str, str] = {
    "germany": "Europe/Berlin",
    "deutschland": "Europe/Berlin",
    "france": "Europe/Paris",
    "spain": "Europe/Madrid",
    "italy": "Europe/Rome",
    "uk": "Europe/London",
    "united kingdom": "Europe/London",
    "great britain": "Europe/London",
    "britain": "Europe/London",
    "england": "Europe/London",
    "scotland": "Europe/London",
    "wales": "Europe/London",
    "gb": "Europe/London",
    "gb eire": "Europe/London",
    "ireland": "Europe/Dublin",
    "eire": "Europe/Dublin",
    "netherlands": "Europe/Amsterdam",
    "holland": "Europe/Amsterdam",
    "belgium": "Europe/Brussels",
    "switzerland": "Europe/Zurich",
    "austria": "Europe/Vienna",
    "poland": "Europe/Warsaw",
    "czechia": "Europe/Prague",
    "czech republic": "Europe/Prague",
    "sweden": "Europe/Stockholm",
    "norway": "Europe/Oslo",
    "denmark": "Europe/Copenhagen",
    "finland": "Europe/Helsinki",
    "portugal": "Europe/Lisbon",
    "greece": "Europe/Athens",
    "turkey": "Europe/Istanbul",
    "ukraine": "Europe/Kyiv",
    "iceland": "Atlantic/Reykjavik",
    "israel": "Asia/Jerusalem",
    "iran": "Asia/Tehran",
    "india": "Asia/Kolkata",
    "pakistan": "Asia/Karachi",
    "japan": "Asia/Tokyo",
    "china": "Asia/Shanghai",
    "prc": "Asia/Shanghai",
    "taiwan": "Asia/Taipei",
    "roc": "Asia/Taipei",
    "korea": "Asia/Seoul",
    "south korea": "Asia/Seoul",
    "rok": "Asia/Seoul",
    "hongkong": "Asia/Hong_Kong",
    "philippines": "Asia/Manila",
    "thailand": "Asia/Bangkok",
    "vietnam": "Asia/Ho_Chi_Minh",
    "malaysia": "Asia/Kuala_Lumpur",
    "uae": "Asia/Dubai",
    "united arab emirates": "Asia/Dubai",
    "saudi arabia": "Asia/Riyadh",
    "egypt": "Africa/Cairo",
    "south africa": "Africa/Johannesburg",
    "nigeria": "Africa/Lagos",
    "kenya": "Africa/Nairobi",
    "morocco": "Africa/Casablanca",
    "libya": "Africa/Tripoli",
    "new zealand": "Pacific/Auckland",
    "nz": "Pacific/Auckland",
    "nz chat": "Pacific/Chatham",
    "argentina": "America/Argentina/Buenos_Aires",
    "colombia": "America/Bogota",
    "peru": "America/Lima",
    "cuba": "America/Havana",
    "w su": "Europe/Moscow",
    "navajo": "America/Denver",
}

# Places that span several zones: ask instead of guessing.
_AMBIGUOUS: dict[str, tuple[str, ...]] = {
    "usa": (
        "America/New_York",
        "America/Chicago",
        "America/Denver",
        "America/Los_Angeles",
        "Pacific/Honolulu",
    ),
    "canada": (
        "America/Toronto",
        "America/Vancouver",
        "America/Edmonton",
        "America/Winnipeg",
        "America/Halifax",
    ),
    "australia": (
        "Australia/Sydney",
        "Australia/Melbourne",
        "Australia/Brisbane",
        "Australia/Adelaide",
        "Australia/Perth",
    ),
    "brazil": ("America/Sao_Paulo", "America/Manaus", "America/Recife", "America/Rio_Branco"),
    "russia": (
        "Europe/Moscow",
        "Asia/Yekaterinburg",
        "Asia/Novosibirsk",
        "Asia/Vladivostok",
        "Europe/Kaliningrad",
    ),
    "mexico": ("America/Mexico_City", "America/Tijuana", "America/Cancun", "America/Hermosillo"),
    "indonesia": ("Asia/Jakarta", "Asia/Makassar", "Asia/Jayapura"),
    "kazakhstan": ("Asia/Almaty", "Asia/Aqtobe"),
    "chile": ("America/Santiago", "Pacific/Easter", "America/Punta_Arenas"),
    "portland": ("America/Los_Angeles", "America/New_York"),
}
for _alias in ("us", "united states", "united states of america", "america", "the us", "states"):
    _AMBIGUOUS[_alias] = _AMBIGUOUS["usa"]

# Deprecated or legacy zone names map to the zone they name now: tzdata links them (its
# `tzdata.zi`, names not in `zone.tab`). Overridden where tzdata links a place to another
# country's zone with the same clocks: the place's own zone is the one to show.
_RENAMED_OVERRIDES: dict[str, str] = {
    "Africa/Asmera": "Africa/Asmara",
    "Africa/Timbuktu": "Africa/Bamako",
    "America/Coral_Harbour": "America/Atikokan",
    "America/Virgin": "America/St_Thomas",
    "Antarctica/South_Pole": "Antarctica/McMurdo",
    "Atlantic/Jan_Mayen": "Arctic/Longyearbyen",
    "Iceland": "Atlantic/Reykjavik",
    "Pacific/Ponape": "Pacific/Pohnpei",
    "Pacific/Truk": "Pacific/Chuuk",
    "Pacific/Yap": "Pacific/Chuuk",
}


_PREFERRED = ("US/", "Brazil/")

# Names offered neither as matches nor suggestions (only UTC is handled, by _UTC_ALIASES).
_SKIPPED_PREFIXES = (
    "Etc/",
    "US/",
    "posix/",
    "right/",
    "SystemV/",
    "Canada/",
    "Brazil/",
    "Mexico/",
    "Chile/",
)

_OFFSET = re.compile(r"(?:utc|gmt)?([+-])(\d{1,2})(?:[:.h]?(\d{2}))?", re.ASCII)
_STRIP_PUNCTUATION = str.maketrans({".": "", "'": "", "\u2019": "", "_": " ", "-": " "})


# --- normalisation and indexes ---------------------------------------------------------------


def _key(text: str) -> str:
    """Case-, accent-, underscore- and spacing-insensitive form of a name or what was typed."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    plain = plain.translate(_STRIP_PUNCTUATION)
    parts = (" ".join(part.split()) for part in plain.split("/"))
    return "/".join(parts)


def _keyed(table: dict[str, str]) -> dict[str, str]:
    return {_key(k): v for k, v in table.items()}


_UTC_KEYS = frozenset(_key(n) for n in (*_UTC_NAMES, *_UTC_EXTRA)) | frozenset(
    _key("Etc/" + n) for n in _UTC_NAMES
)
_ABBREVIATION_KEYS = _keyed(_ABBREVIATIONS)
_AMBIGUOUS_KEYS = {_key(k): v for k, v in _AMBIGUOUS.items()}


def _tzdata_folders() -> list[Traversable]:
    """The tzdata package first (a dependency, the same everywhere), then the system's."""
    folders: list[Traversable] = [Path(folder) for folder in TZPATH]
    with contextlib.suppress(ModuleNotFoundError):
        folders.insert(0, resources.files("tzdata") / "zoneinfo")
    return folders


def _renamed_by_tzdata() -> dict[str, str]:
    """Legacy name -> current name, from tzdata's links whose name is not a current zone
    (not in zone.tab). Fixed-offset, UTC and abbreviation names are left to the hand tables."""
    for folder in _tzdata_folders():
        try:
            compiled = (folder / "tzdata.zi").read_text(encoding="utf-8")
            table = (folder / "zone.tab").read_text(encoding="utf-8")
        except OSError:
            continue
        current = {line.split("\t")[2] for line in table.splitlines() if line and line[0] != "#"}
        renamed: dict[str, str] = {}
        for line in compiled.splitlines():
            if line.startswith("L "):
                _, target, name = line.split()
                if name not in current and not target.startswith("Etc/"):
                    renamed[name] = target
        return renamed
    return {}


@dataclass(frozen=True, slots=True)
class _Index:
    names: dict[str, str]  # key of a current IANA name -> the name
    deprecated: dict[str, str]  # key of a legacy name -> current name
    places: dict[str, str]  # key of a city, country or a zone's last component -> zone
    everything: dict[str, str]  # every key suggestions may come from -> zone
    by_offset: dict[int, list[str]]  # UTC offset in minutes (mid-January or mid-July) -> zones


def _is_offered(name: str) -> bool:
    return "/" in name and not name.startswith(_SKIPPED_PREFIXES)


def _place_rank(name: str) -> tuple[int, str]:
    # For a repeated last component prefer the deeper name:
    # America/Argentina/Buenos_Aires over America/Buenos_Aires.
    return (-name.count("/"), name)


@cache
def _index() -> _Index:
    available = available_timezones()
    renamed = {
        old: new
        for old, new in {**_renamed_by_tzdata(), **_RENAMED_OVERRIDES}.items()
        if new in available and _key(old) not in _ABBREVIATION_KEYS and _key(old) not in _UTC_KEYS
    }
    current = sorted(n for n in available if _is_offered(n) and n not in renamed)
    names = {_key(n): n for n in current}
    deprecated = {_key(old): new for old, new in renamed.items()}

    places: dict[str, str] = {}
    for name in sorted(current, key=_place_rank):
        places.setdefault(_key(name.rsplit("/", 1)[1]), name)
    # "Calcutta", "Saigon", "Godthab"...; a word two legacy names share ("Pacific", "West")
    # names the US or Brazilian zone, not the Canadian or Australian one.
    for old, new in sorted(renamed.items(), key=lambda item: not item[0].startswith(_PREFERRED)):
        places.setdefault(_key(old.rsplit("/", 1)[-1]), new)
    for table in (_CITIES, _COUNTRIES):
        places.update({k: v for k, v in _keyed(table).items() if v in available})

    everything = {**deprecated, **places, **names}

    by_offset: dict[int, list[str]] = {}
    popular = dict.fromkeys([*_CITIES.values(), *_COUNTRIES.values(), *current])
    for name in popular:
        if name not in available:
            continue
        zone = ZoneInfo(name)
        minutes = set()
        for month in (1, 7):
            offset = datetime(2025, month, 15, 12, tzinfo=zone).utcoffset()
            if offset is not None:
                minutes.add(int(offset.total_seconds()) // 60)
        for value in sorted(minutes):
            by_offset.setdefault(value, []).append(name)
    return _Index(names, deprecated, places, everything, by_offset)


def _is_control(ch: str) -> bool:
    return unicodedata.category(ch).startswith("C")


def _suggest(key: str) -> list[str]:
    if not key or len(key) > _MAX_INPUT:
        return []
    index = _index()
    close = difflib.get_close_matches(key, index.everything, n=20, cutoff=_FUZZY_CUTOFF)
    return _first_distinct(index.everything[k] for k in close)


def _first_distinct(zones: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(zones))[:_MAX_SUGGESTIONS]


def _lookup(key: str, typed: str) -> ZoneMatch | None:
    index = _index()
    if key in _UTC_KEYS:
        return ZoneMatch("UTC", typed)
    if key in _ABBREVIATION_KEYS:
        return ZoneMatch(_ABBREVIATION_KEYS[key], typed)
    if key in index.names:
        return ZoneMatch(index.names[key], typed)
    if key in index.deprecated:
        return ZoneMatch(index.deprecated[key], typed)
    if key in _AMBIGUOUS_KEYS:
        raise UnknownZone(typed, _AMBIGUOUS_KEYS[key], reason="it spans several time zones")
    if key in index.places:
        return ZoneMatch(index.places[key], typed)
    return None


def _offset_match(typed: str) -> ZoneMatch | None:
    """ "UTC+0" is UTC; "UTC+2" or "+05:30" is refused with zones that have that offset,
    because a fixed offset goes wrong at the next daylight-saving change."""
    compact = "".join(typed.casefold().split()).replace("\u2212", "-")
    # POSIX-style "Etc/GMT+5" means five hours *behind* UTC.
    posix = compact.startswith("etc/gmt")
    match = _OFFSET.fullmatch(compact.removeprefix("etc/"))
    if match is None:
        return None
    sign, hours, minutes = match.group(1), int(match.group(2)), int(match.group(3) or 0)
    total = (hours * 60 + minutes) * (-1 if (sign == "-") != posix else 1)
    if total == 0:
        return ZoneMatch("UTC", typed)
    suggestions = _index().by_offset.get(total, [])[:_MAX_SUGGESTIONS]
    raise UnknownZone(typed, suggestions, reason="a UTC offset changes with daylight saving")


# --- public API ------------------------------------------------------------------------------


def parse_zone(text: str) -> ZoneMatch:
    """Understand a time zone from free text; raise `UnknownZone` with suggestions otherwise."""
    typed = text.strip()
    if not typed:
        raise UnknownZone(text, reason="empty")
    if len(typed) > _MAX_INPUT:
        raise UnknownZone(text, reason="too long")
    if any(_is_control(ch) for ch in typed):
        cleaned = "".join(ch for ch in typed if not _is_control(ch))
        raise UnknownZone(text, _suggest(_key(cleaned)), reason="contains control characters")

    key = _key(typed)
    candidates = [key]
    # "Berlin, Germany", "London time", "Europe/Berlin timezone"
    head = key.split(",", 1)[0].strip()
    for suffix in (" time zone", " timezone", " time", " tz"):
        head = head.removesuffix(suffix).strip()
    if head and head != key:
        candidates.append(head)

    for candidate in candidates:
        found = _lookup(candidate, typed)
        if found is not None:
            return found
    found = _offset_match(typed)
    if found is not None:
        return found
    raise UnknownZone(typed, _suggest(head or key))


def local_now_label(zone: str, now_utc: datetime) -> str:
    """What was understood, for the person to confirm: "Europe/Berlin (now 14:05, UTC+01:00)"."""
    if now_utc.tzinfo is None or now_utc.utcoffset() is None:
        raise ValueError("now_utc must be timezone-aware")
    local = now_utc.astimezone(ZoneInfo(zone))
    return f"{zone} (now {local:%H:%M}, UTC{_format_offset(local.utcoffset())})"


def _format_offset(offset: timedelta | None) -> str:
    seconds = int((offset or timedelta()).total_seconds())
    sign = "-" if seconds < 0 else "+"
    hours, rest = divmod(abs(seconds), 3600)
    minutes, secs = divmod(rest, 60)
    text = f"{sign}{hours:02d}:{minutes:02d}"
    return f"{text}:{secs:02d}" if secs else text


def offered_zones() -> list[str]:
    """Every zone name `parse_zone` can return (for tests and admin tools)."""
    index = _index()
    return sorted({"UTC", *index.names.values(), *index.places.values(), *_ABBREVIATIONS.values()})
