"""Preprocess: from the titles a visitor types or uploads to their movies and their row of likes.

Titles are matched forgivingly ("Matrix, The" = "The Matrix", a year settles remakes); an
unknown or ambiguous title is named, with the closest spellings MovieLens has.
"""
from __future__ import annotations

import csv
import difflib
import io
import re
from typing import Sequence

import numpy as np
from scipy.sparse import csr_matrix

from core.validation import InputError, checked_suffix, read_text
from demos.recommender.data import Catalogue

MAX_PICKS = 200
MAX_TITLE_CHARS = 200  # the longest MovieLens title, with its year, is 158
TITLE_LIST_TYPES = ["txt", "csv"]
PROBLEMS_SHOWN = 10  # unknown titles named (and spell-checked) at once; a long list's others are counted
TITLE_COLUMNS = ("title", "name", "movie")  # IMDb's ratings export says Title, Letterboxd's Name


def split_titles(text: str) -> list[str]:
    """One title per line or separated by ';' (titles themselves contain commas: "Godfather, The")."""
    return [part.strip() for part in re.split(r"[;\n]", text or "") if part.strip()]


def read_title_list(file_name: str, data: bytes) -> tuple[list[str], list[str]]:
    """(titles, notices) from an uploaded list of movies: a .txt with one title per line, or a .csv
    with a Title, Name or Movie column, where a Year column makes "Title (Year)" (remakes share titles)."""
    suffix = checked_suffix(file_name, TITLE_LIST_TYPES,
                            "Upload a .txt with one title per line, or a .csv with a Title column.")
    text = read_text(data)
    titles = list(dict.fromkeys(_csv_titles(text) if suffix == "csv" else split_titles(text)))
    if not titles:
        raise InputError(f"{file_name} lists no titles.")
    if len(titles) <= MAX_PICKS:
        return titles, []
    return titles[:MAX_PICKS], [f"{file_name} lists {len(titles):,} movies; only its first {MAX_PICKS} were read "
                                f"(at most {MAX_PICKS} picks count: a handful of favourites says more about your "
                                "taste than a long list)."]


def _csv_titles(text: str) -> list[str]:
    text = text.lstrip()
    header = text.splitlines()[0]
    # exports use commas; spreadsheets in some locales save with ; or tabs
    reader = csv.DictReader(io.StringIO(text), delimiter=max(",;\t", key=header.count))
    try:
        columns = {name.strip().lower(): name for name in reader.fieldnames if name}
        rows = list(reader)
    except csv.Error as error:
        raise InputError(f"This CSV file could not be read ({error}).") from None
    title = next((columns[name] for name in TITLE_COLUMNS if name in columns), None)
    if title is None:
        raise InputError("This CSV has no column of titles named Title, Name or Movie (its columns: "
                         f"{', '.join(reader.fieldnames)}). Rename that column, or upload a .txt with one "
                         "title per line.")
    year = columns.get("year")
    return [_with_year(row[title], row[year] if year else None) for row in rows if (row[title] or "").strip()]


def _with_year(title: str, year: str | None) -> str:
    """ "Alien (1979)" from an export's Title and Year columns, unless the title already has a year."""
    title, year = title.strip(), (year or "").strip()
    if not re.fullmatch(r"\d{4}", year) or re.search(r"\(\d{4}\)$", title):
        return title
    return f"{title} ({year})"


def _normalise(title: str) -> str:
    title = re.sub(r"^(.*), (the|a|an)$", r"\2 \1", title.strip().lower())  # "Matrix, The" = "The Matrix"
    return re.sub(r"[^a-z0-9]+", " ", title).strip()


def resolve_titles(catalogue: Catalogue, names: Sequence[str]) -> list[int]:
    """Movie indices for typed titles ("Toy Story", "Alice in Wonderland (1951)"), or an
    ``InputError`` naming every title that is unknown or matches several movies. Counted and
    measured first: matching an unknown title costs a search of the whole catalogue."""
    if len(names) > MAX_PICKS:
        raise InputError(f"Type at most {MAX_PICKS} titles (you typed {len(names):,}): a handful of favourites "
                         "says more about your taste than a long list.")
    too_long = next((name for name in names if len(name) > MAX_TITLE_CHARS), None)
    if too_long is not None:
        raise InputError(f"A title is {len(too_long):,} characters long; titles have at most {MAX_TITLE_CHARS}. "
                         "Put one title per line, or separate them with ';'.")
    found, problems = _resolve(catalogue, names)
    if problems:
        raise InputError(problems)
    return found


def picks_from_list(catalogue: Catalogue, file_name: str, data: bytes) -> tuple[list[int], list[str]]:
    """(movies, notices) from an uploaded list (``read_title_list``). Unlike typed titles, titles not
    in MovieLens are skipped with a notice: a real export holds films newer than the data (2016)."""
    titles, notices = read_title_list(file_name, data)
    found, problems = _resolve(catalogue, titles)
    if not found:
        raise InputError(f"None of the {len(titles)} titles in {file_name} could be matched to one movie in "
                         f"MovieLens:\n{problems}")
    if problems:
        notices.append(f"{len(titles) - len(found)} of the {len(titles)} titles in {file_name} were skipped "
                       f"(not in MovieLens, or several movies match):\n{problems}")
    return found, notices


def _resolve(catalogue: Catalogue, names: Sequence[str]) -> tuple[list[int], str]:
    """(movies matched, a message on the titles that are unknown or ambiguous; empty if none)."""
    normalised = [_normalise(title) for title in catalogue.movies["title"]]
    years = catalogue.movies["year"].to_numpy()
    found, problems = [], []
    for name in names:
        match = re.fullmatch(r"(.*?)\s*\((\d{4})\)", name.strip())
        wanted, year = (match[1], int(match[2])) if match else (name, None)
        matches = _matching_movies(_normalise(wanted), year, normalised, years)
        if len(matches) == 1:
            found.append(matches[0])
        else:
            problems.append((name, matches))
    return list(dict.fromkeys(found)), _problems(catalogue, problems, normalised) if problems else ""


def _problems(catalogue: Catalogue, problems: list[tuple[str, list[int]]], titles: list[str]) -> str:
    """One line per unknown or ambiguous title; of a long uploaded list, the first few and a count."""
    lines = [_ambiguous(catalogue, name, matches) if matches else _unknown(name, catalogue, titles)
             for name, matches in problems[:PROBLEMS_SHOWN]]
    if len(problems) > PROBLEMS_SHOWN:
        lines.append(f"…and {len(problems) - PROBLEMS_SHOWN} more titles that are not in MovieLens or match "
                     "several movies.")
    return "\n".join(lines)


def _matching_movies(wanted: str, year: int | None, titles: list[str], years: np.ndarray) -> list[int]:
    for matches in ([i for i, t in enumerate(titles) if t == wanted],
                    [i for i, t in enumerate(titles) if wanted and wanted in t]):
        if year is not None:
            matches = [i for i in matches if years[i] == year]
        if matches:
            return matches
    return []


def _ambiguous(catalogue: Catalogue, name: str, matches: list[int]) -> str:
    by_fans = sorted(matches, key=lambda i: -catalogue.movies["fans"].iat[i])
    shown = "; ".join(catalogue.movies["label"].iat[i] for i in by_fans[:5])
    more = f" and {len(matches) - 5} more" if len(matches) > 5 else ""
    return f'"{name}" matches {len(matches)} movies: {shown}{more}. Write the full title with its year.'


def _unknown(name: str, catalogue: Catalogue, titles: list[str]) -> str:
    close = difflib.get_close_matches(_normalise(name), titles, n=3, cutoff=0.6)
    labels = [catalogue.movies["label"].iat[titles.index(title)] for title in close]
    hint = f" Did you mean: {'; '.join(labels)}?" if labels else " Check the spelling, or pick it from the list."
    return f'No movie called "{name}" in MovieLens.{hint}'


def pick_options(catalogue: Catalogue) -> list[int]:
    """Every movie, the best-known first, for a searchable list."""
    return catalogue.movies.sort_values("fans", ascending=False, kind="stable").index.tolist()


def describe(catalogue: Catalogue, movie: int) -> str:
    """ "Toy Story (1995) · Adventure, Animation, ..." for lists a visitor picks from."""
    row = catalogue.movies.iloc[movie]
    return f"{row['label']} · {row['genres'].replace('|', ', ')}"


def picks_row(catalogue: Catalogue, picks: Sequence[int]) -> csr_matrix:
    """The visitor as one row of the likes matrix."""
    return csr_matrix((np.ones(len(picks), np.float32), (np.zeros(len(picks), int), list(picks))),
                      shape=(1, catalogue.size))


def checked_picks(catalogue: Catalogue, picks: Sequence[int]) -> list[int]:
    """``picks`` once each, or an ``InputError``: a pick not in the catalogue, too many, or all of it."""
    picks = list(dict.fromkeys(int(p) for p in picks))
    if any(not 0 <= p < catalogue.size for p in picks):
        raise InputError("One of the picked movies is not in the catalogue.")
    if len(picks) >= catalogue.size:
        raise InputError(f"You picked all {catalogue.size:,} movies: there is nothing left to recommend. "
                         "Remove a few picks.")
    if len(picks) > MAX_PICKS:
        raise InputError(f"Pick at most {MAX_PICKS} movies (you picked {len(picks)}): a handful of "
                         "favourites says more about your taste than a long list.")
    return picks
