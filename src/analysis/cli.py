"""Command line: ``python -m analysis {run,ingest,sample,startups-sample,template}`` (spec section 9)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from analysis.errors import UsageError, one_line, os_reason


class _Parser(argparse.ArgumentParser):
    """argparse with the toolkit's error line: one line on stderr, exit status 2."""

    _WORDS = (("the following arguments are required", "opzioni obbligatorie mancanti"),
              ("unrecognized arguments", "opzioni sconosciute"), ("expected one argument", "manca il valore"),
              ("expected 2 arguments", "servono due valori (nome e valore)"), ("invalid int value", "numero intero "
              "non valido"), ("invalid choice", "scelta non valida"), ("choose from", "scegliere tra"),
              ("argument ", "opzione "), ("ambiguous option", "opzione ambigua"), ("could match", "potrebbe essere"))

    def error(self, message: str):
        for english, italian in self._WORDS:
            message = message.replace(english, italian)
        self.exit(2, f"errore: opzioni non valide per {self.prog}: {message} (vedi {self.prog} --help)\n")


def _add_common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--codebook", type=Path, help="project codebook (YAML) overriding the package's")
    p.add_argument("--corrections", type=Path,
                   help="corrections file (.csv or .xlsx); default data/corrections.csv or .xlsx when present")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="python -m analysis",
        description="Cluster-needs survey toolkit of Confindustria Varese and PoliHub.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=_Parser)

    run = sub.add_parser("run", help="read the surveys, run every notebook, write the reports",
                         description="Read every survey under the raw folder, write the processed outputs, "
                                     "execute the notebooks in order and export the board reports.")
    run.add_argument("--raw", type=Path, help="raw survey folder (default data/raw/, or the bundled sample when empty)")
    run.add_argument("--out", type=Path, help="output root: OUT/processed/ and OUT/reports/WAVE/ "
                                              "(default data/processed/ and reports/)")
    run.add_argument("--wave", help="survey wave name (default: current year and month, e.g. 2026-11)")
    run.add_argument("--params", type=Path, help="YAML file of run parameters (step: {name: value} or step.name: "
                                                 "value); see docs/contratto-dati.md")
    run.add_argument("-p", nargs=2, action="append", metavar=("NAME", "VALUE"), default=[],
                     help="set a run parameter, e.g. -p segmentazione.k 4 (value read as a YAML scalar); "
                          "repeatable")
    _add_common(run)
    run.add_argument("--members", type=Path, help="member register (for response rates and weights)")
    run.add_argument("--startups", type=Path, help="startup spreadsheet or folder (default data/startups/)")
    run.add_argument("--compare-to", type=Path, help="a previous run's output folder, for the wave comparison")
    run.add_argument("--verdicts", type=Path, help="the scouts' verdicts on startup-need pairs (startup, bisogno, "
                                                   "verdetto, nota; default data/verdetti_startup.csv or .xlsx)")

    ing = sub.add_parser("ingest", help="read and check the surveys only (docs/contratto-dati.md, section 4)",
                         description="Read every survey file under --raw and write the outputs of reading "
                                     "(accepted responses, rejected rows, flagged cells, summary) under --processed, "
                                     "as one transaction (docs/contratto-dati.md).")
    ing.add_argument("--raw", type=Path, required=True, help="raw survey folder")
    ing.add_argument("--processed", type=Path, required=True, help="folder for the outputs")
    ing.add_argument("-p", nargs=2, action="append", metavar=("NAME", "VALUE"), default=[],
                     help="set a reading limit, e.g. -p lettura.secondi_massimi 120 (the lettura.* parameters); "
                          "repeatable")
    _add_common(ing)

    smp = sub.add_parser("sample", help="write a synthetic survey workbook",
                         description="Write a synthetic survey in the template's form, with a planted "
                                     "segment structure and supply network (see analysis.sample).")
    smp.add_argument("--out", type=Path, required=True, help="workbook to write (.xlsx)")
    smp.add_argument("--companies", type=int, default=300, help="number of companies (default 300)")
    smp.add_argument("--seed", type=int, default=42, help="random seed (default 42)")
    smp.add_argument("--truth", type=Path, help="also write the planted structure (CSV) here")
    smp.add_argument("--codebook", type=Path, help="project codebook (YAML) overriding the package's")
    smp.add_argument("--scenario", help="need ratings from a harder condition of analysis.scenarios (stili, "
                                        "mancanti, indipendenti, continuo, piccoli, deboli)")

    sts = sub.add_parser("startups-sample", help="write the synthetic startup list for scouting",
                         description="Write a synthetic list of about 80 deep-tech startups (spec section 7), "
                                     "some planted for each need (see analysis.startup_sample).")
    sts.add_argument("--out", type=Path, required=True, help="workbook to write (.xlsx)")
    sts.add_argument("--seed", type=int, default=7, help="random seed (default 7)")
    sts.add_argument("--truth", type=Path, help="also write the planted needs (CSV) here")

    tpl = sub.add_parser("template", help="write the blank survey workbook companies fill in",
                         description="Write the blank template: instructions, drop-down lists, "
                                     "one yes/no column per option of several-choice questions.")
    tpl.add_argument("--out", type=Path, required=True, help="workbook to write (.xlsx)")
    tpl.add_argument("--codebook", type=Path, help="project codebook (YAML) overriding the package's")
    return parser


def _cmd_sample(args) -> int:
    from analysis.codebook import load_codebook
    from analysis.sample import write_sample

    if args.companies < 1:
        raise UsageError("--companies deve essere almeno 1")
    if args.seed < 0:
        raise UsageError("--seed deve essere un numero intero da 0 in su")
    if args.out.suffix.lower() != ".xlsx":
        raise UsageError(f"{args.out}: il campione si scrive in formato .xlsx")
    if args.scenario is not None:
        from analysis.scenarios import SCENARIOS

        if args.scenario not in SCENARIOS:
            raise UsageError(f"--scenario {args.scenario!r} non esiste: scegliete tra {', '.join(SCENARIOS)}")
    survey = write_sample(args.out, args.companies, args.seed, load_codebook(args.codebook), args.truth,
                          scenario=args.scenario)
    condition = f", scenario {args.scenario}" if args.scenario else ""
    print(f"Wrote {len(survey.rows)} rows ({args.companies} companies, seed {args.seed}{condition}) to {args.out}")
    return 0


def _cmd_template(args) -> int:
    from analysis.codebook import load_codebook
    from analysis.template import write_template

    if args.out.suffix.lower() != ".xlsx":
        raise UsageError(f"{args.out}: il modello si scrive in formato .xlsx")
    write_template(args.out, load_codebook(args.codebook))
    print(f"Wrote the blank survey template to {args.out}")
    return 0


def _cmd_startups_sample(args) -> int:
    from analysis.startup_sample import write_startups

    if args.out.suffix.lower() != ".xlsx":
        raise UsageError(f"{args.out}: l'elenco startup si scrive in formato .xlsx")
    if args.seed < 0:
        raise UsageError("--seed deve essere un numero intero da 0 in su")
    frame, truth = write_startups(args.out, args.seed, args.truth)
    print(f"Wrote {len(frame)} rows ({(truth['need'] != '').sum()} startups planted for a need, seed {args.seed}) "
          f"to {args.out}")
    return 0


def _start_readers(config) -> None:
    """Start the reading workers before the heavy imports: they import in parallel with the parent."""
    from analysis.isolation import Limits, warm_up

    warm_up(Limits.from_params(config))


def _prefetch(raw: Path, codebook: Path | None) -> None:
    """Start reading the survey files while the heavy modules import; any problem is left for the reading
    itself to report, with its own message."""
    try:
        from analysis.codebook import load_codebook
        from analysis.reading import prefetch
        from analysis.workbooks import discover

        if raw.is_dir():
            prefetch([(p, p.relative_to(raw).as_posix()) for p in discover(raw).files], load_codebook(codebook))
    except Exception:  # noqa: BLE001 - only a head start: the reading proper says what is wrong
        pass


def _cmd_ingest(args) -> int:
    from analysis.config import configure

    others = sorted({name for name, _ in args.p if not name.startswith("lettura.")})
    if others:
        raise UsageError(f"il comando ingest accetta solo i parametri lettura.*, non {', '.join(others)}")
    config = configure(args.p)
    _start_readers(config)
    _prefetch(args.raw, args.codebook)
    from analysis.pipeline import run_ingest_command

    return run_ingest_command(args.raw, args.processed, args.codebook, args.corrections, config)


def _cmd_run(args) -> int:
    from analysis.config import configure

    config = configure(args.p, args.params)  # every parameter checked before any work
    _start_readers(config)
    from analysis.pipeline import RunOptions, run_pipeline

    return run_pipeline(RunOptions(raw=args.raw, out=args.out, wave=args.wave, codebook=args.codebook,
                                   corrections=args.corrections, members=args.members, startups=args.startups,
                                   compare_to=args.compare_to, verdicts=args.verdicts, config=config))


COMMANDS = {"run": _cmd_run, "ingest": _cmd_ingest, "sample": _cmd_sample, "template": _cmd_template,
            "startups-sample": _cmd_startups_sample}


def _terminated(signum, frame):
    raise KeyboardInterrupt  # a SIGTERM (``timeout``, a scheduler) ends the run as Ctrl-C does: nothing half-done stays


def main(argv: list[str] | None = None) -> int:
    import signal

    if argv is None:  # the command line itself, not a caller in Python
        signal.signal(signal.SIGTERM, _terminated)
    args = build_parser().parse_args(argv)
    from analysis.codebook import CodebookError

    try:
        return COMMANDS[args.command](args)
    except (UsageError, CodebookError, FileNotFoundError) as exc:
        print(f"errore: {one_line(exc)}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"errore: {os_reason(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("errore: interrotto", file=sys.stderr)
        return 130
