"""``flinkbatch render --target kubernetes <script.sql>``: print the exact resources a task would apply.

Users keep the output next to the DAG and review it in PRs; a changed preset, image or SQL shows up
as a diff (config drift is caught before it runs). The resources are checked against the operator's
CRD schemas unless ``--no-validate``.
"""

from __future__ import annotations

import argparse


def extend_render_parser(render: argparse.ArgumentParser) -> None:
    """Teach ``flinkbatch render`` (the spec command) to render a plain ``.sql`` script for a target.

    ``flinkbatch render job.sql --target kubernetes --target-options @k8s.yaml`` prints the resources;
    a spec file or folder keeps going to the spec renderer (which asks the target for the same view).
    """
    render.add_argument("--target", choices=["kubernetes"], help="render a .sql script for this target=")
    render.add_argument(
        "--target-options",
        default="{}",
        help="the operator's target_options: JSON text, or @file (.json/.yaml)",
    )
    render.add_argument("--dag-id", default="dag", help="DAG id of the task (part of the name and identity)")
    render.add_argument("--task-id", default=None, help="task id (default: the script's file name)")
    render.add_argument("--run-id", default="manual", help="DAG run id (the identity of one task instance)")
    render.add_argument("--map-index", type=int, default=-1)
    render.add_argument("--attempt", type=int, default=0, help="job attempt (0 = first submission)")
    render.add_argument("--job-name", help="Flink job name (default: <dag_id>.<task_id>)")
    render.add_argument(
        "--flink-config", action="append", default=[], metavar="KEY=VALUE", help="the operator's flink_config"
    )
    render.add_argument("--archive-dir", help="the flink connection's archive_dir (jobmanager.archive.fs.dir)")
    render.add_argument("--no-validate", action="store_true", help="skip the check against the CRD schemas")
    render_spec = render.get_default("func")

    def dispatch(args: argparse.Namespace) -> int:
        script = args.spec == "-" or str(args.spec).endswith(".sql")
        if args.target or script:
            if not args.target:
                raise ValueError("render <script.sql> needs --target kubernetes (a spec file names its own target)")
            args.sql = args.spec
            # The manifests, identity and CRD schema code loads for a rendered script only, not for --help.
            from airflow_provider_flinkbatch.kubernetes.render_script import render_command

            return render_command(args)
        return int(render_spec(args))

    render.set_defaults(func=dispatch)
