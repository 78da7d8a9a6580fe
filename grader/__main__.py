"""Command line: ``python -m grader {release,autograde,check,report,demo}``."""
import argparse
import sys
from pathlib import Path


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m grader", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("release", help="generate notebooks/ from solutions/ with nbgrader")
    p.add_argument("--force", action="store_true",
                   help="replace notebooks edited since the last release (a copy is kept)")

    p = sub.add_parser("autograde", help="grade SUBMISSIONS/<student_id>/<NN_topic>.ipynb")
    p.add_argument("submissions", type=Path)
    p.add_argument("--out", type=Path, default=Path("build/autograde"))
    p.add_argument("--jobs", type=int, default=2, help="submissions graded side by side")
    p.add_argument("--db", help="gradebook SQLAlchemy URL (default: sqlite in --out)")
    p.add_argument("--notebook", action="append", help="grade only these notebooks (repeatable)")
    p.add_argument("--no-isolation", action="store_true",
                   help="run student code without a sandbox (trusted code only)")
    p.add_argument("--scheduler", metavar="tcp://HOST:8786",
                   help="grade on this Dask cluster's workers instead of local lanes (--jobs unused)")

    p = sub.add_parser("check", help="grade one notebook of yours with the hidden checks")
    p.add_argument("notebook", type=Path)
    p.add_argument("--no-isolation", action="store_true")

    p = sub.add_parser("report", help="per-exercise pass rates and common mistakes")
    p.add_argument("out", type=Path, nargs="?", default=Path("build/autograde"))

    p = sub.add_parser("demo", help="release, grade a small class, print the table (in build/demo)")
    p.add_argument("--jobs", type=int, default=2)
    p.add_argument("--notebook", action="append", help="only these notebooks (repeatable)")
    p.add_argument("--no-isolation", action="store_true")

    args = parser.parse_args(argv)
    if args.command == "release":
        from grader.release import EditedNotebooks, release
        try:
            paths = release(force=args.force)
        except EditedNotebooks as e:
            print(e, file=sys.stderr)
            return 1
        for path in paths:
            print(f"wrote {path}")
        return 0
    if args.command == "autograde":
        from tqdm import tqdm

        from grader.autograde import autograde
        results = autograde(args.submissions, args.out, jobs=args.jobs, db_url=args.db,
                            isolate=not args.no_isolation, notebooks=args.notebook,
                            scheduler=args.scheduler, progress=tqdm.write)
        print(f"wrote {args.out}/grades.csv ({sum(len(r.rows) for r in results)} rows) and "
              f"{args.out}/feedback/")
        return 0
    if args.command == "check":
        return check(args.notebook, isolate=not args.no_isolation)
    if args.command == "report":
        from grader.report import report
        print(report(args.out))
        return 0
    if args.command == "demo":
        from grader.demo import demo
        return demo(jobs=args.jobs, isolate=not args.no_isolation, names=args.notebook)
    return 2


def check(path: Path, isolate: bool = True) -> int:
    """Grade one notebook and print a table; exit status 1 unless every check passed."""
    import torch

    from grader.grade import grade_submission
    from grader.notebooks import read_release
    from grader.sandbox import Sandbox

    torch.set_num_threads(1)  # as in a grading lane

    name = path.stem
    try:
        release = read_release(name)
    except Exception:
        print(f"{path.name} is not one of the course notebooks (its name must stay NN_topic.ipynb)")
        return 2
    with Sandbox(isolate=isolate) as sandbox:
        result = grade_submission(sandbox, release, path, "you")
    width = max(len(r.exercise) for r in result.rows)
    for row in result.rows:
        mark = "✔" if row.status == "passed" else "✘"
        print(f"{mark} {row.exercise:{width}s} {row.score:4g}/{row.max_score:<4g} {row.status}")
        if row.message:
            print(f"    {row.message}")
    total, maximum = result.score, sum(r.max_score for r in result.rows)
    print(f"total {total:g}/{maximum:g}")
    for note in result.notes:
        print(f"note: {note}")
    return 0 if total == maximum else 1


if __name__ == "__main__":
    sys.exit(main())
