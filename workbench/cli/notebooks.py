"""CLI subcommands for notebooks and reports: ``report``, ``investigate``, ``lab``."""
from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import sys
from pathlib import Path

from ..errors import UsageError


def register(sub) -> None:
    p = sub.add_parser("report", help="run a notebook headless with parameters; write one self-contained HTML",
                       description="Execute NOTEBOOK (papermill) with -p parameters and write OUT.html, self-"
                                   "contained (widgets with their state, charts offline), and OUT.manifest.json "
                                   "(inputs with sizes and sha256, versions, the re-run command). NOTEBOOK is a "
                                   "notebook file, or the name of a template notebook installed with workbench "
                                   "(e.g. 02_cpu_regex_hotspot), which works from any folder.")
    p.add_argument("notebook", help="a .ipynb file, or a template's name: 01_api_gateway_memory_leak, "
                                    "02_cpu_regex_hotspot, 03_event_loop_blocking, 04_compare_deploys, 05_library_tour")
    p.add_argument("-p", "--parameter", nargs=2, action="append", metavar=("NAME", "VALUE"), default=[],
                   help="set a parameter of the notebook's 'parameters' cell (repeatable)")
    p.add_argument("-o", "--output", required=True, help="the HTML file to write")
    p.add_argument("--save-notebook", metavar="OUT.ipynb", help="also keep the executed notebook")
    p.add_argument("--keep-paths", action="store_true",
                   help="show this machine's absolute paths in the page and manifest (default: relative to here)")
    p.add_argument("--timeout", type=int, default=900, help="seconds per cell (default 900)")
    p.add_argument("--no-input", action="store_true", help="hide the code cells: the report shows the findings only")
    p.set_defaults(func=_report)

    p = sub.add_parser("investigate", help="fill the right template notebook from your files; write an HTML report",
                       description="Three snapshots -> the memory-leak notebook (01); a profile -> the CPU "
                                   "notebook (02); metrics (and a profile) -> the event-loop notebook (03).")
    p.add_argument("--snapshots", nargs="+", default=[], metavar="S", help="baseline, target and final snapshots")
    p.add_argument("--profile", help="a CPU profile")
    p.add_argument("--metrics", nargs="+", default=[], metavar="M", help="metric files or folders")
    p.add_argument("-o", "--output", required=True, help="the HTML file to write")
    p.add_argument("--save-notebook", metavar="OUT.ipynb", help="also keep the executed notebook")
    p.add_argument("--keep-paths", action="store_true",
                   help="show this machine's absolute paths in the page and manifest (default: relative to here)")
    p.set_defaults(func=_investigate)

    p = sub.add_parser("lab", help="start JupyterLab on 127.0.0.1 with token authentication, on the notebooks",
                       description="Starts JupyterLab bound to 127.0.0.1 with a random token (or $JUPYTER_TOKEN), "
                                   "serving ROOT and opened on ROOT/notebooks/NOTEBOOK. ROOT is --root if given; "
                                   "else the workbench checkout, when workbench runs from one (an editable "
                                   "install); else the current directory, if it holds notebooks/. Installed from "
                                   "a wheel, start it in a folder of your own with --copy-notebooks, which first "
                                   "copies the template notebooks into ROOT/notebooks (ROOT: --root, else the "
                                   "current directory). Blocks until stopped.")
    p.add_argument("--port", type=int, default=8888)
    p.add_argument("--no-browser", action="store_true", help="do not open a web browser")
    p.add_argument("--notebook", default="01_api_gateway_memory_leak.ipynb",
                   help="the notebook to open (relative to ROOT/notebooks/)")
    p.add_argument("--root", help="serve this folder (holding notebooks/) instead of the workbench checkout")
    p.add_argument("--copy-notebooks", action="store_true",
                   help="copy the template notebooks into ROOT/notebooks first (files already there are kept)")
    p.set_defaults(func=_lab)


def _quiet() -> bool:
    return bool(os.environ.get("WORKBENCH_QUIET"))


def _params(pairs) -> dict:
    from ..report import parse_value
    return {name: parse_value(value) for name, value in pairs}


def _done(out, man) -> int:
    print(f"wrote {out} and {Path(out).with_suffix('.manifest.json')} "
          f"({len(man['inputs'])} inputs, notebook {Path(man['notebook']['path']).name})")
    return 0


def _report(args) -> int:
    from ..report import render
    man = render(args.notebook, args.output, _params(args.parameter), timeout=args.timeout, quiet=_quiet(),
                 keep_paths=args.keep_paths,
                 save_notebook=args.save_notebook, no_input=args.no_input)
    return _done(args.output, man)


def _investigate(args) -> int:
    from ..report import investigation, render
    nb, params = investigation(args.snapshots, args.profile, args.metrics)
    man = render(nb, args.output, params, quiet=_quiet(), save_notebook=args.save_notebook,
                 keep_paths=args.keep_paths)
    return _done(args.output, man)


def _lab_root(args) -> Path:
    """The folder `workbench lab` serves (see its --help)."""
    from ..report import CHECKOUT, template_dir
    if args.copy_notebooks:
        root = Path(args.root or ".").resolve()
        dest = root / "notebooks"
        dest.mkdir(parents=True, exist_ok=True)
        copied = 0
        for src in sorted(template_dir().glob("*.ipynb")):
            if not (dest / src.name).exists():
                shutil.copyfile(src, dest / src.name)
                copied += 1
        print(f"copied {copied} template notebooks into {dest}", flush=True)
        return root
    if args.root:
        return Path(args.root).resolve()
    if CHECKOUT is not None and (CHECKOUT / "notebooks").is_dir():
        return CHECKOUT
    if (Path.cwd() / "notebooks").is_dir():
        return Path.cwd().resolve()
    raise UsageError("no notebooks to serve: workbench is not running from its checkout and this folder has no "
                     "notebooks/; pass --root FOLDER (holding notebooks/), run it in such a folder, or add "
                     "--copy-notebooks to copy the template notebooks into ./notebooks")


def _lab(args) -> int:
    root = _lab_root(args)
    target = root / "notebooks" / args.notebook
    if not target.exists():
        raise UsageError(f"no notebook {args.notebook} in {root / 'notebooks'}")
    token = os.environ.get("JUPYTER_TOKEN") or secrets.token_hex(24)
    env = dict(os.environ, JUPYTER_TOKEN=token)  # in the environment, not on the command line (ps)
    url_path = "lab/tree/" + target.relative_to(root).as_posix()
    cmd = [sys.executable, "-m", "jupyterlab", "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={args.port}",
           "--ServerApp.port_retries=0", f"--ServerApp.root_dir={root}", f"--ServerApp.default_url=/{url_path}",
           "--ServerApp.open_browser=" + ("False" if args.no_browser else "True"),
           "--ServerApp.allow_remote_access=False",
           # the extension manager would query PyPI from the server; an investigation needs no installs
           "--LabApp.extension_manager=readonly"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:  # containers and CI run as root
        cmd.append("--allow-root")
    print(f"JupyterLab: http://127.0.0.1:{args.port}/{url_path}?token={token}", flush=True)
    try:
        return subprocess.call(cmd, env=env)
    except KeyboardInterrupt:
        return 0
