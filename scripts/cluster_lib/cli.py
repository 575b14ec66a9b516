"""`scripts/cluster up | status | down | start | stop | restart | kill <component>`."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from .cluster import Cluster
from .config import DEFAULT_BASE_PORT, DEFAULT_INSTANCES, DEFAULT_STATE_DIR, ClusterConfig
from .processes import ClusterError


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="scripts/cluster",
        description="Taskwell on loopback: PostgreSQL primary + replica, PgBouncer, Redis, "
        "N app instances, a worker and nginx, from Debian packages.",
    )
    parser.add_argument(
        "--state-dir",
        type=Path,
        default=Path(os.environ.get("TASKWELL_CLUSTER_DIR", DEFAULT_STATE_DIR)),
        help="data, logs, pid files and secrets (env TASKWELL_CLUSTER_DIR; default .cluster/)",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    up = commands.add_parser("up", help="start what is not running and wait until ready")
    up.add_argument(
        "--base-port",
        type=int,
        default=None,
        help=f"first of the cluster's ports (env TASKWELL_CLUSTER_BASE_PORT; "
        f"default {DEFAULT_BASE_PORT})",
    )
    up.add_argument(
        "--instances",
        type=int,
        default=None,
        help=f"app instances (env TASKWELL_CLUSTER_INSTANCES; default {DEFAULT_INSTANCES})",
    )
    status = commands.add_parser("status", help="each component: pid, port, up/down, lag")
    status.add_argument("--json", action="store_true", help="machine-readable")
    down = commands.add_parser("down", help="stop everything and check nothing is left")
    down.add_argument("--purge", action="store_true", help="also delete the state directory")
    for verb in ("start", "stop", "restart", "kill"):
        one = commands.add_parser(verb, help=f"{verb} one component (e.g. app1, redis)")
        one.add_argument("component")
    return parser


def _config(args: argparse.Namespace) -> ClusterConfig:
    state_dir = args.state_dir.resolve()
    saved = ClusterConfig.load(state_dir)
    base = getattr(args, "base_port", None) or os.environ.get("TASKWELL_CLUSTER_BASE_PORT")
    count = getattr(args, "instances", None) or os.environ.get("TASKWELL_CLUSTER_INSTANCES")
    if saved is not None:
        if (base and int(base) != saved.base_port) or (count and int(count) != saved.instances):
            raise ClusterError(
                f"{state_dir} holds a cluster with base port {saved.base_port} and "
                f"{saved.instances} instances; run `down --purge` first to change them"
            )
        return saved
    return ClusterConfig(
        state_dir=state_dir,
        base_port=int(base or DEFAULT_BASE_PORT),
        instances=int(count or DEFAULT_INSTANCES),
    )


def _print_status(cluster: Cluster, as_json: bool) -> bool:
    rows = cluster.status()
    if as_json:
        print(json.dumps([row.__dict__ for row in rows], indent=2))
    else:
        print(f"{'component':<10} {'state':<5} {'pid':>7} {'port':>6}  detail")
        for row in rows:
            state = "up" if row.up else "down"
            print(f"{row.name:<10} {state:<5} {row.pid or '-':>7} {row.port:>6}  {row.detail}")
    return all(row.up for row in rows)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        cluster = Cluster(_config(args))
        if args.command == "up":
            seconds = cluster.up()
            config = cluster.config
            print(f"Taskwell is up in {seconds:.1f} s ({config.instances} instances)")
            print(f"  app:        {config.https_origin}/  (certificate: {config.cafile})")
            print(f"  API:        {config.https_origin}/api/v1/openapi.json")
            print(f"  primary:    postgresql://127.0.0.1:{config.port('primary')}/taskwell")
            print(f"  replica:    postgresql://127.0.0.1:{config.port('replica')}/taskwell")
            print(f"  pgbouncer:  postgresql://127.0.0.1:{config.port('pgbouncer')}/taskwell")
            print(f"  redis:      redis://127.0.0.1:{config.port('redis')}/0")
            print(f"  worker:     http://127.0.0.1:{config.port('worker')}/healthz")
            print(f"  state:      {config.state_dir} (secrets.json holds the passwords)")
            return 0
        if args.command == "status":
            return 0 if _print_status(cluster, args.json) else 3
        if args.command == "down":
            cluster.down(purge=args.purge)
            print("Taskwell is down: no process or port of the cluster is left.")
            return 0
        getattr(cluster, args.command)(args.component)
        return 0
    except ClusterError as exc:
        print(f"scripts/cluster: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
