"""`jitsi-audit advisories`: list the advisory data the audit uses, or refresh it (--update)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from auditor.advisories.data import AdvisoryData, AdvisoryDataError, active_data, user_data_path, write_data
from auditor.report.terminal import safe

EXIT_OK, EXIT_USAGE = 0, 2

HELP = (
    "List the bundled advisory data (--list, the default: data version, then one line per advisory: id, "
    "severity, component, affected versions, fixed version, aliases, title), or refresh it from a public "
    "source (--update; the only command that goes online, the audit never does). --update writes the new "
    "file only after validating it, to --output or the user data file the audit then prefers; offline or "
    "on invalid data it prints one line and exits 2."
)


def _err(message: str) -> None:
    sys.stderr.write(f"jitsi-audit: {safe(message)}\n")


def advisories_command(
    list_: Annotated[bool, typer.Option("--list", help="print the data version and every advisory")] = False,
    update: Annotated[bool, typer.Option("--update", help="refresh the data from --source (online)")] = False,
    source: Annotated[
        str | None,
        typer.Option(
            help="GitHub contents listing of JSA files, or a data file URL (default: jitsi/security-advisories)"
        ),
    ] = None,
    output: Annotated[
        Path | None, typer.Option(help="where --update writes (default: the user data file the audit reads)")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="--list as the data file's JSON")] = False,
) -> None:
    if list_ and update:
        _err("choose --list or --update, not both")
        raise typer.Exit(EXIT_USAGE)
    try:
        active = active_data()
    except AdvisoryDataError as exc:
        _err(str(exc))
        raise typer.Exit(EXIT_USAGE) from None
    if update:
        _update(active.data, source, output)
        return
    if source is not None or output is not None:
        _err("--source and --output go with --update")
        raise typer.Exit(EXIT_USAGE)
    if as_json:
        sys.stdout.write(json.dumps(active.data.model_dump(mode="json", exclude_defaults=True), indent=2) + "\n")
        return
    if active.warning:
        _err(active.warning)
    _print_list(active.data, active.label)


def _print_list(data: AdvisoryData, label: str) -> None:
    out = sys.stdout
    stables = data.stable_releases
    out.write(
        f"{label}, updated {data.updated}: {len(data.advisories)} advisories; stable-release mapping "
        f"{stables[0].stable}-{stables[-1].stable} ({len(stables)} releases)\n"
    )
    out.write(f"coverage: {data.coverage}\n")
    for adv in sorted(data.advisories, key=lambda a: (a.component, a.published or "", a.id)):
        flags = [
            f
            for f, on in (
                ("unconfirmed", not adv.confirmed),
                (adv.status, adv.status != "published"),
                ("client", adv.scope == "client"),
            )
            if on
        ]
        aliases = ",".join(adv.aliases)
        fixed = adv.fixed or "-"
        extra = f" [{', '.join(flags)}]" if flags else ""
        out.write(
            safe(
                f"{adv.id:<26} {adv.severity:<8} {adv.component:<19} {adv.range_text():<28} "
                f"fixed {fixed:<18} {aliases:<34} {adv.title}{extra}"
            ).rstrip()
            + "\n"
        )


def _update(current: AdvisoryData, source: str | None, output: Path | None) -> None:
    from auditor.advisories.update import DEFAULT_SOURCE, UpdateError, update

    target = output or user_data_path()
    url = source or DEFAULT_SOURCE
    try:
        result = update(url, current)
        write_data(result.data, target)
    except UpdateError as exc:
        _err(f"advisories --update: {exc}")
        raise typer.Exit(EXIT_USAGE) from None
    except (AdvisoryDataError, OSError) as exc:
        reason = f"{exc.strerror} ({target})" if isinstance(exc, OSError) and exc.strerror else str(exc)
        _err(f"advisories --update: cannot write: {reason}")
        raise typer.Exit(EXIT_USAGE) from None
    for note in result.notes:
        _err(f"note: {note}")
    added = f"; new: {', '.join(result.added)}" if result.added else "; no new advisory"
    sys.stdout.write(
        f"advisory data {result.data.version} written to {target}: {len(result.data.advisories)} advisories{added}\n"
    )
    raise typer.Exit(EXIT_OK)
