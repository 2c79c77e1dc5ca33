"""docker-jitsi-meet's `.env`, read with python-dotenv's own parser (`dotenv.parser.parse_stream`).

parse_stream gives each binding with its source text and line and does no variable expansion (that
is `dotenv_values`' job, which would also consult the auditor's environment), so `${X}` stays text.
Two fixes around it: the line reported is where the key is (parse_stream counts from the blank lines
before it), and very long runs of blanks are refused up front, because python-dotenv strips inline
comments from unquoted values with a regex (`\\s+#.*`) that is quadratic on such runs.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass

from dotenv.parser import parse_stream

from auditor.parsers.base import ConfigParseError, line_at, prepare_text

MAX_BYTES = 512 * 1024  # a docker .env is a few KiB
MAX_BLANK_RUN = 64
_BLANK_RUN = re.compile(r"[^\S\n]{" + str(MAX_BLANK_RUN + 1) + ",}")
_LEADING_NEWLINES = re.compile(r"\s*")


@dataclass(frozen=True, slots=True)
class EnvValue:
    value: str | None  # None: the key is listed without `=` (taken from the environment by docker)
    line: int


def parse_dotenv(text: str, path: str, *, max_bytes: int = MAX_BYTES) -> dict[str, EnvValue]:
    text = prepare_text(text, path, max_bytes)
    run = _BLANK_RUN.search(text)
    if run:
        raise ConfigParseError(path, f"more than {MAX_BLANK_RUN} blanks in a row", line_at(text, run.start()))
    result: dict[str, EnvValue] = {}
    for binding in parse_stream(io.StringIO(text)):
        source = binding.original.string
        lead = _LEADING_NEWLINES.match(source)
        line = binding.original.line + (source.count("\n", 0, lead.end()) if lead else 0)
        if binding.error:
            # no excerpt: the line may hold a secret the redaction did not recognise as one
            raise ConfigParseError(path, "not a KEY=value line", line)
        if binding.key is not None:
            result[binding.key] = EnvValue(binding.value, line)
    return result


def reads_as_dotenv(text: str) -> bool:
    """Whether every line of `text` is what a `.env` holds (bindings, comments, blanks): how a file that
    names docker-jitsi-meet's variables is told from a script that sets them (its gen-passwords.sh)."""
    if _BLANK_RUN.search(text):
        return False
    return not any(binding.error for binding in parse_stream(io.StringIO(text)))
