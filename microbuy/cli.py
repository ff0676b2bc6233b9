"""`microbuy`: the admin's command line for policies, requests, the database and the audit log.

Exit codes: 0 done; 1 the input (request, month, audit) is at fault; 2 wrong usage;
3 the policy file is broken; 4 the database cannot be used.
"""
from __future__ import annotations

import csv
import getpass
import json
import os
import sys
import tempfile
from contextlib import contextmanager
from datetime import date, timedelta, timezone, tzinfo
from decimal import Decimal
from pathlib import Path
from typing import Iterator, List, Optional

import click
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

import storage
import workflow
from policies import LoadedPolicy, PolicyError, RequestError, load_policy, policy_path
from policies.same_need import VocabularyError, shared_vocabulary
from storage.app_role import AppRoleError, grant_app_role
from storage.audit import read_snapshot
from storage.audit_key import AuditKeyError, audit_key, key_source
from storage.audit_replay import check_requests
from storage.audit_seal import AuditSealError, plan_seal, seal_unkeyed
from workflow.judging import judge

EXIT_INPUT, EXIT_POLICY, EXIT_DATABASE = 1, 3, 4
EXAMPLES_DIR = Path(__file__).resolve().parent.parent / "policies" / "examples"


class Failure(click.ClickException):
    """An error the user can act on: printed without a traceback, with its own exit code."""

    def __init__(self, message: str, exit_code: int):
        super().__init__(message)
        self.exit_code = exit_code  # type: ignore[misc]  # click declares it a ClassVar; each Failure has its own

    def show(self, file=None) -> None:
        click.echo(f"error: {self.format_message()}", err=True)


def shown_url(url: str) -> str:
    """A database URL safe for logs and messages: the password is never printed."""
    return make_url(url).render_as_string(hide_password=True)


def database_failure(doing: str, url: str, exc: SQLAlchemyError) -> Failure:
    """The driver's own first line (e.g. connection refused), without SQLAlchemy's SQL dump."""
    detail = (str(getattr(exc, "orig", None) or exc).strip().splitlines() or [""])[0]
    return Failure(f"cannot {doing} the database at {shown_url(url)}: {exc.__class__.__name__}: {detail}",
                   EXIT_DATABASE)


@contextmanager
def database() -> Iterator:
    url = storage.database_url()
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database and not Path(parsed.database).exists():
        # Connecting would create an empty file; say what to do instead.
        raise Failure(f"no database at {shown_url(url)}; run: microbuy db upgrade", EXIT_DATABASE)
    try:
        if storage.current_revision(url) is None:
            raise Failure(f"the database at {shown_url(url)} has no tables yet; run: microbuy db upgrade",
                          EXIT_DATABASE)
        sessions = storage.make_session_factory(storage.make_engine(url))
        with sessions.begin() as session:
            yield session
    except SQLAlchemyError as exc:
        raise database_failure("use", url, exc) from None


def get_policy(path: Optional[str]) -> LoadedPolicy:
    try:
        return load_policy(path)
    except PolicyError as exc:
        raise Failure(f"the policy is broken; nothing was evaluated:\n{exc.report()}", EXIT_POLICY) from None


def today_for(policy: LoadedPolicy) -> date:
    return workflow.today(policy)


def check_language(value: Optional[str], policy: LoadedPolicy) -> Optional[str]:
    languages = policy.rules.pack.languages
    if value is not None and value not in languages:
        raise click.BadParameter(f"'{value}' is not a language of this pack ({', '.join(languages)})",
                                 param_hint="--language")
    return value


def parse_date(value: Optional[str], policy: LoadedPolicy) -> date:
    if value is None:
        return today_for(policy)
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"'{value}' is not a date; use YYYY-MM-DD", param_hint="--date") from None


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
def main() -> None:
    """microbuy: check purchase requests against the department's rules.

    The policy in force is MICROBUY_POLICY (default policies/esdc.yml); the database is
    DATABASE_URL (default sqlite:///microbuy.db in this directory).
    """


# --- policy ---------------------------------------------------------------------------------
@main.group()
def policy() -> None:
    """Check policy packs before they go live."""


@policy.command("check")
@click.argument("files", nargs=-1, type=click.Path(dir_okay=False))
def policy_check(files: tuple) -> None:
    """Check policy FILES (default: the policy in force). Each problem is shown as
    file:line: key: what is wrong. Exits 3 if any file is broken."""
    broken = 0
    for file in files or (str(policy_path()),):
        try:
            loaded = load_policy(file)
        except PolicyError as exc:
            broken += 1
            click.echo(exc.report(), err=True)
            click.echo(f"✗ {file}: {len(exc.problems)} problem(s); not loaded", err=True)
            continue
        rules = loaded.rules
        if rules.splitting.same_need.shared_vocabulary:
            try:
                shared_vocabulary()
            except VocabularyError as exc:  # the pack reads it; a broken edit of it breaks the pack
                broken += 1
                click.echo(f"✗ {file}: its shared vocabulary: {exc}", err=True)
                continue
        click.echo(
            f"✓ {file}: valid (version {loaded.short_version}; {len(rules.categories)} categories, "
            f"{len(rules.approval.cost_centres)} cost centres, languages {', '.join(rules.pack.languages)})"
        )
    if broken:
        sys.exit(EXIT_POLICY)


@policy.command("diff")
@click.argument("draft_file", metavar="NEW.yml", type=click.Path(dir_okay=False))
@click.option("--days", default=90, show_default=True, type=click.IntRange(min=0),
              help="Re-judge the requests submitted in this many past days.")
@click.option("--policy", "policy_file", type=click.Path(dir_okay=False),
              help="The policy to compare with (default: the policy in force).")
@click.option("--json", "as_json", is_flag=True, help="Print the changes as JSON.")
def policy_diff(draft_file: str, days: int, policy_file: Optional[str], as_json: bool) -> None:
    """Show what the draft NEW.yml would change: each stored request of the window judged again
    under it (on the date and with the spending history it had then), compared with the policy
    in force. Lists the requests whose outcome, approval route or total would change. Changes
    nothing; exits 3 if the draft is broken."""
    from rich.console import Console

    from workflow.policy_diff import diff_policy

    from .policy_diff_table import summary, table

    draft = get_policy(draft_file)
    current = get_policy(policy_file)
    until = today_for(current)
    with database() as session:
        diff = diff_policy(session, current, draft, until - timedelta(days=days), until)
    if as_json:
        click.echo(json.dumps(diff.to_dict(), indent=2, ensure_ascii=False))
        return
    if diff.changes:
        # A pipe or a file gets a wide table rather than the 80 columns rich assumes.
        Console(highlight=False, width=None if sys.stdout.isatty() else 160).print(table(diff, draft))
    click.echo(summary(diff))


# --- evaluate -------------------------------------------------------------------------------
@main.command()
@click.argument("request_file", type=click.File("rb"))
@click.option("--policy", "policy_file", type=click.Path(dir_okay=False),
              help="Policy pack (default: the policy in force).")
@click.option("--date", "on", metavar="YYYY-MM-DD",
              help="Judge as of this date (default: today in the pack's time zone).")
@click.option("--language", metavar="LANG", help="Language of the messages (default: the pack's).")
def evaluate(request_file, policy_file: Optional[str], on: Optional[str], language: Optional[str]) -> None:
    """Evaluate the request in REQUEST_FILE (JSON; - for standard input) with the spending
    history in DATABASE_URL, and print the outcome as JSON. The fields are described in
    docs/request-fields.md."""
    loaded = get_policy(policy_file)
    when = parse_date(on, loaded)
    language = check_language(language, loaded)
    data = read_request(request_file)
    with database() as session:
        try:
            _, result = judge(session, loaded, data, when, language)
        except RequestError as exc:
            raise Failure(f"{stream_name(request_file)}: the request cannot be evaluated:\n" +
                          "\n".join(f"  {field}: {reason}" for field, reason in exc.problems), EXIT_INPUT) from None
    click.echo(json.dumps(result.to_dict(), indent=2, ensure_ascii=False))


def stream_name(stream) -> str:
    name = getattr(stream, "name", None)
    return name if isinstance(name, str) else "<stdin>"


def read_request(stream) -> dict:
    raw = stream.read()
    try:
        return json.loads(raw.decode("utf-8"), parse_float=Decimal)
    except UnicodeDecodeError:
        raise Failure(f"{stream_name(stream)}: not UTF-8 text", EXIT_INPUT) from None
    except json.JSONDecodeError as exc:
        raise Failure(f"{stream_name(stream)}:{exc.lineno}:{exc.colno}: not valid JSON: {exc.msg}",
                      EXIT_INPUT) from None
    except RecursionError:
        raise Failure(f"{stream_name(stream)}: not a request: the JSON is nested too deeply", EXIT_INPUT) from None
    except ValueError:  # a number of more digits than Python reads (sys.get_int_max_str_digits)
        raise Failure(f"{stream_name(stream)}: not a request: a number in it is too long", EXIT_INPUT) from None


@main.command()
@click.option("--policy", "policy_file", type=click.Path(dir_okay=False),
              help="Policy pack (default: the policy in force).")
@click.option("--date", "on", metavar="YYYY-MM-DD", help="Judge as of this date (default: today).")
@click.option("--language", metavar="LANG", help="Language of the messages (default: the pack's).")
@click.option("--dir", "folder", type=click.Path(file_okay=False, exists=True), default=str(EXAMPLES_DIR),
              show_default="policies/examples", help="Folder of request JSON files.")
def examples(policy_file: Optional[str], on: Optional[str], language: Optional[str], folder: str) -> None:
    """Evaluate the example requests and show the results readably."""
    from .showcase import show_results

    loaded = get_policy(policy_file)
    when = parse_date(on, loaded)
    language = check_language(language, loaded)
    files = sorted(Path(folder).glob("*.json"))
    if not files:
        raise Failure(f"no .json requests in {folder}", EXIT_INPUT)
    results: List[tuple] = []  # (file name, data, request or None, evaluation or RequestError)
    with database() as session:
        for file in files:
            with file.open("rb") as stream:
                data = read_request(stream)
            try:
                results.append((file.name, data, *judge(session, loaded, data, when, language)))
            except RequestError as exc:
                results.append((file.name, data, None, exc))
    show_results(loaded, when, results)


# --- up -------------------------------------------------------------------------------------
@main.command()
@click.option("--check", is_flag=True,
              help="Start everything, send one DM through the stand-in, stop; exit 0 if it all worked.")
@click.option("--logs", type=click.Path(file_okay=False), help="Folder for the processes' logs (default: .run/logs).")
def up(check: bool, logs: Optional[str]) -> None:
    """Run the whole product: migrate, check the policy, train if needed, start the action server,
    Rasa, the Slack stand-in (without SLACK_* credentials) and the bot; Ctrl-C stops them.
    Ports: PORT (3000), RASA_PORT (5005), ACTIONS_PORT (5055), STANDIN_PORT (3001)."""
    from .up import main as run_up

    sys.exit(run_up(check=check, logs=Path(logs) if logs else None))


# --- database and audit ---------------------------------------------------------------------
@main.command()
@click.option("--policy", "policy_file", type=click.Path(dir_okay=False),
              help="Policy file (default: MICROBUY_POLICY or policies/esdc.yml).")
@click.option("--reload/--no-reload", "reload_running", default=True, show_default=True,
              help="Make the running Rasa (RASA_URL, with RASA_TOKEN) use the model, without a restart.")
def train(policy_file: Optional[str], reload_running: bool) -> None:
    """Train the dialogue model (dialogues/models), only if the data, domain or policy changed,
    then hand it to the running Rasa; conversations in progress carry on."""
    from dialogues.reload import NoRasa, ReloadError, reload_model, running_model, running_rasa
    from dialogues.training import TrainingFailed
    from dialogues.training import train as train_dialogue

    click.echo("training the dialogue model (skipped if nothing changed)…")
    try:
        trained = train_dialogue(policy_file)
    except TrainingFailed as exc:
        raise Failure(f"training failed:\n{exc}", EXIT_INPUT) from None
    what = "trained" if trained.retrained else "nothing changed; kept"
    click.echo(f"✓ {what} {trained.model} ({trained.seconds:.1f} s)")
    if not reload_running:
        return
    try:
        rasa_url, token = running_rasa()
    except ReloadError as exc:  # RASA_URL is not a URL
        raise Failure(f"the model is trained, but {exc}", EXIT_INPUT) from None
    if not token:
        click.echo("  a running Rasa keeps its model until restarted (set RASA_TOKEN, as the running Rasa has it, "
                   "to hand it over in place)")
        return
    try:
        if Path(running_model(rasa_url, token)).name == trained.model.name:
            click.echo(f"✓ the running Rasa at {rasa_url} already uses it")
        else:
            reload_model(rasa_url, token, trained.model)
            click.echo(f"✓ the running Rasa at {rasa_url} now uses it; conversations in progress carry on")
    except NoRasa:
        click.echo(f"  no Rasa running at {rasa_url}; it loads this model when it starts")
    except ReloadError as exc:
        raise Failure(f"the model is trained, but {exc}", EXIT_INPUT) from None


@main.group()
def db() -> None:
    """Create or migrate the database (DATABASE_URL)."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True, help="Migrate to this revision.")
def db_upgrade(revision: str) -> None:
    """Create the tables, or migrate them to the latest schema; for a SQLite database, also make
    the audit key file beside it if there is none."""
    url = storage.database_url()
    try:
        storage.upgrade(url, revision)
        now = storage.current_revision(url)
    except SQLAlchemyError as exc:
        raise database_failure("migrate", url, exc) from None
    click.echo(f"database {shown_url(url)} is at revision {now}")
    try:
        audit_key(url, create=True)
    except AuditKeyError as exc:
        # The owner may migrate without the key; the processes that write the log need it.
        click.echo(f"warning: {exc}; microbuy cannot write its audit log until it has a key", err=True)
    else:
        click.echo(f"audit key: {key_source(url)}")


@db.command("grant-app-role")
@click.argument("role")
def db_grant_app_role(role: str) -> None:
    """PostgreSQL: give ROLE, the role microbuy's processes connect as, only what they need: it may
    add to the audit log but never change it, and owns nothing. Run as the owner (DATABASE_URL),
    after each upgrade; see docs/deployment.md."""
    url = storage.database_url()
    engine = storage.make_engine(url)
    try:
        with engine.begin() as connection:
            granted = grant_app_role(connection, role)
    except AppRoleError as exc:
        raise Failure(str(exc), EXIT_INPUT) from None
    except SQLAlchemyError as exc:
        raise database_failure("grant on", url, exc) from None
    finally:
        engine.dispose()
    for table, privileges in granted:
        click.echo(f"{table}: {', '.join(privileges)}")
    click.echo(f"✓ {role} may use {shown_url(url)} as the app role")


@main.group()
def audit() -> None:
    """Check the append-only audit log (needs its key: MICROBUY_AUDIT_KEY or MICROBUY_AUDIT_KEY_FILE)."""


def the_audit_key() -> bytes:
    try:
        return audit_key(storage.database_url())
    except AuditKeyError as exc:
        raise Failure(f"cannot check the audit log: {exc}", EXIT_DATABASE) from None


@audit.command("verify")
def audit_verify() -> None:
    """Recompute the audit log's keyed hash chain, then replay each request's audit trail and
    compare it with the stored request and its decisions. Exits 1 at the first altered, missing
    or extra row, or the first request that disagrees with its trail; 4 without the key."""
    with database() as session:
        key = the_audit_key()
        read_snapshot(session)  # the log, the requests and the decisions as of one moment
        chain = storage.verify_audit(session, key=key)
        requests = check_requests(session) if chain.ok else None
    if not chain.ok:
        raise Failure(f"audit log broken at row {chain.bad_row_id}: {chain.problem} "
                      f"({chain.rows_checked} row(s) checked before it)", EXIT_INPUT)
    assert requests is not None  # checked whenever the chain is intact
    if not requests.ok:
        raise Failure(f"request {requests.reference} disagrees with its audit trail: {requests.problem} "
                      f"({requests.requests_checked} request(s) agreed before it)", EXIT_INPUT)
    click.echo(f"✓ audit log intact: {chain.rows_checked} row(s) checked; "
               f"{requests.requests_checked} request(s) agree with their audit trail")


@audit.command("seal-unkeyed")
@click.option("--yes", is_flag=True, help="Seal without asking.")
def audit_seal_unkeyed(yes: bool) -> None:
    """Once per database, after upgrading from a microbuy whose audit log had no key: check the
    old rows' plain SHA-256 links, then seal the whole log with the key, audited. Run as the
    owner (the append-only trigger is lifted inside the transaction)."""
    with database() as session:
        key = the_audit_key()
        read_snapshot(session)
        try:
            plan = plan_seal(session, key)
        except AuditSealError as exc:
            raise Failure(f"cannot seal the audit log: {exc}", EXIT_INPUT) from None
    if plan.unkeyed == 0:
        click.echo(f"nothing to seal: all {plan.rows} row(s) of the audit log are keyed")
        return
    click.echo(f"rows 1 to {plan.unkeyed} of {plan.rows} carry plain SHA-256 hashes, written before the audit "
               "log was keyed. Seal them only if this database was written by such a microbuy and never sealed; "
               "if it was sealed before, someone has rewritten the log since: do not seal it, investigate.")
    if not yes:
        click.confirm("Seal them with the audit key?", abort=True)
    with database() as session:
        try:
            seal_unkeyed(session, key, expected_unkeyed=plan.unkeyed, actor=f"cli:{getpass.getuser()}"[:64])
        except AuditSealError as exc:
            raise Failure(f"cannot seal the audit log: {exc}", EXIT_INPUT) from None
    click.echo(f"✓ sealed {plan.unkeyed} row(s); microbuy audit verify checks the whole log with the key now")


# --- export ---------------------------------------------------------------------------------
CARD_LOG_COLUMNS = (
    "reference", "purchased_on", "requester", "cost_centre", "card_id", "category", "supplier",
    "description", "subtotal", "tax", "total", "amount_paid", "approved_by", "approved_on",
    "certified_by", "certified_on", "policy_version",
)


@main.command()
@click.option("--month", required=True, metavar="YYYY-MM", help="The month of the card log.")
@click.option("--output", "-o", type=click.Path(dir_okay=False, writable=True),
              help="Write to this file (default: standard output).")
def export(month: str, output: Optional[str]) -> None:
    """Export the monthly card log (purchases made in MONTH) as CSV for reconciliation."""
    try:
        where: tzinfo = workflow.zone(load_policy(None))
    except PolicyError:
        # The log reads only the database; a broken policy file must not stop reconciliation.
        click.echo("warning: the policy does not load; approval and certification dates are UTC days", err=True)
        where = timezone.utc
    with database() as session:
        try:
            rows = storage.card_log(session, month, zone=where)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--month") from None
    if output is None:
        write_csv(sys.stdout, rows)
        return
    # Write beside the target and rename, so a failed export never leaves half a file.
    target = Path(output)
    handle, temporary = tempfile.mkstemp(dir=target.parent or Path("."), prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", newline="", encoding="utf-8") as stream:
            write_csv(stream, rows)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    click.echo(f"wrote {len(rows)} purchase(s) for {month} to {target}", err=True)


def write_csv(stream, rows) -> None:
    writer = csv.writer(stream, lineterminator="\n")
    writer.writerow(CARD_LOG_COLUMNS)
    for row in rows:
        writer.writerow([_cell(getattr(row, column)) for column in CARD_LOG_COLUMNS])


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    if isinstance(value, date):
        return value.isoformat()
    text = str(value)
    # A cell starting with = + - @ would run as a formula in a spreadsheet (CSV injection).
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


# --- dialogue -------------------------------------------------------------------------------
@main.group()
def dialogue() -> None:
    """Check the dialogue files (dialogues/project/) against Rasa and the policy."""


@dialogue.command("check")
@click.option("--policy", "policy_file", type=click.Path(dir_okay=False),
              help="Policy pack (default: the policy in force).")
@click.option("--dir", "folder", type=click.Path(file_okay=False, exists=True), default=None,
              show_default="dialogues/project",
              help="The Rasa project to check; the actions are read from the folder around it.")
@click.option("--rasa/--no-rasa", "with_rasa", default=True, show_default=True,
              help="Also run `rasa data validate` (about 10 s).")
def dialogue_check(policy_file: Optional[str], folder: Optional[str], with_rasa: bool) -> None:
    """Run Rasa's validation and the project's own checks: every answer the policy needs is
    asked, every question is named in fields.yml, every category has training phrases, every
    response the actions send exists. One line per problem; exits 1 if there is any."""
    from dialogues import PROJECT
    from dialogues.consistency import check_project, rasa_validate

    loaded = get_policy(policy_file)
    project = Path(folder) if folder else PROJECT
    problems, notes = rasa_validate(project) if with_rasa else ([], [])
    problems += check_project(project, loaded)
    for note in notes:
        click.echo(f"note: {note}")
    for problem in problems:
        click.echo(str(problem), err=True)
    if problems:
        raise Failure(f"{len(problems)} problem(s) in the dialogue files", EXIT_INPUT)
    ran = "rasa data validate and the consistency checks" if with_rasa else "the consistency checks"
    click.echo(f"✓ {ran} found no problem (policy {loaded.short_version})")


# --- report ---------------------------------------------------------------------------------
@main.command()
@click.option("--month", required=True, metavar="YYYY-MM", help="The month to report on.")
@click.option("--cost-centre", metavar="CODE", help="Only this cost centre (default: each, and all together).")
@click.option("--policy", "policy_file", type=click.Path(dir_okay=False),
              help="Policy pack for names, currency and thresholds (default: the policy in force).")
@click.option("--output", "-o", "folder", type=click.Path(file_okay=False), default=".", show_default=True,
              help="Folder to write report-YYYY-MM.csv and report-YYYY-MM.html in.")
def report(month: str, cost_centre: Optional[str], policy_file: Optional[str], folder: str) -> None:
    """The monthly report per cost centre, as CSV (one figure per row) and as an HTML page with
    charts: spend approved and purchased, requests by category and outcome, time to decision,
    requests waiting, the share of spend with Indigenous businesses, and requests over the
    proactive-disclosure threshold. docs/admin.md says what each figure counts."""
    from storage.history import parse_month

    from .report import CSV_COLUMNS, build_report, html, rows

    try:
        parse_month(month)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--month") from None
    loaded = get_policy(policy_file)
    with database() as session:
        monthly = build_report(session, loaded, month, cost_centre=cost_centre)
    target = Path(folder)
    target.mkdir(parents=True, exist_ok=True)

    def write_table(stream) -> None:
        writer = csv.writer(stream, lineterminator="\n")
        writer.writerow(CSV_COLUMNS)
        writer.writerows([_cell(value) for value in row] for row in rows(monthly))

    page = html(monthly)  # rendered before anything is written, so a failure leaves no half report
    written = [_replace_file(target / f"report-{month}.csv", write_table),
               _replace_file(target / f"report-{month}.html", lambda stream: stream.write(page))]
    for path in written:
        click.echo(f"wrote {path}", err=True)


def _replace_file(target: Path, write) -> Path:
    """Write beside the target and rename, so a failure never leaves half a file."""
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", newline="", encoding="utf-8") as stream:
            write(stream)
        # mkstemp makes the file private (0600); a report is read like any file the admin writes.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return target


if __name__ == "__main__":
    main()
