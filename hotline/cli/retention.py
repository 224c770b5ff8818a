"""`flask anonymise-cases`: the retention rule for child-line cases, run by an operator or a cron job."""
from __future__ import annotations

import click
from flask.cli import with_appcontext

from dispatch.retention import anonymise_cases
from hotline import db
from models import utcnow


@click.command("anonymise-cases")
@click.option("--years", type=click.IntRange(min=1), default=None,
              help="Cases closed more than this many years ago (default: CASE_RETENTION_YEARS, 5).")
@click.option("--dry-run", is_flag=True, help="Say what would be anonymised; change nothing.")
@with_appcontext
def anonymise_cases_command(years: int | None, dry_run: bool) -> None:
    """Wipe the free text and the children's identity of cases closed more than N years ago (idempotent)."""
    state = db.state()
    years = years or state.settings.case_retention_years
    with state.session_factory() as session:
        result = anonymise_cases(session, utcnow(), years, dry_run=dry_run)
        if not dry_run:
            session.commit()
    cutoff = result.cutoff.astimezone(state.settings.tz).strftime("%Y-%m-%d")
    click.echo(f"结案早于 {cutoff}（{years} 年）的个案 / cases closed before {cutoff} ({years} years)")
    for year, count in sorted(result.by_year.items()):
        click.echo(f"  {year}: {count}")
    verb = ("将匿名化", "would be anonymised") if dry_run else ("已匿名化", "anonymised")
    click.echo(f"{verb[0]} {result.cases} 个个案、{result.children} 名儿童 / "
               f"{result.cases} case(s), {result.children} child(ren) {verb[1]}"
               + ("（试运行，未改动）/ (dry run, nothing changed)" if dry_run else ""))
