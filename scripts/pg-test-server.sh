#!/usr/bin/env bash
# A throwaway PostgreSQL for the test suite: initdb in a temp folder, listening
# on 127.0.0.1 at a free port, no durability (tests only).
#   pg-test-server.sh start STATE_FILE   writes the server's URL (line 1) and folder (line 2)
#   pg-test-server.sh restart STATE_FILE stops it (fast shutdown) and starts it again, same port
#   pg-test-server.sh stop STATE_FILE    stops it and removes the folder
set -euo pipefail

cmd="${1:?start or stop}"
state="${2:?state file}"
bindir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
if [[ -z "$bindir" ]]; then
  echo "pg-test-server: PostgreSQL is not installed (scripts/install-deps.sh test)" >&2
  exit 1
fi

# initdb refuses to run as root: the server then runs as the postgres user.
as_server() {
  if [[ $(id -u) -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "$cmd" in
  start)
    dir="$(mktemp -d /tmp/vidgate-pg-XXXXXX)"
    chmod 755 "$dir"
    if [[ $(id -u) -eq 0 ]]; then chown postgres "$dir"; fi
    as_server "$bindir/initdb" -D "$dir/data" -A trust -U vidgate --no-sync -E UTF8 >/dev/null
    # Every role is trusted but vidgate_pw, which must give its password
    # (the catalog's password tests create it).
    sed -i '1i host all vidgate_pw 127.0.0.1/32 scram-sha-256' "$dir/data/pg_hba.conf"
    for _ in $(seq 1 20); do
      # Below the ephemeral range (32768 up): no outgoing connection takes
      # it, also while a test has the server restarting on it.
      port=$((20000 + RANDOM % 12000))
      opts="-p $port -h 127.0.0.1 -k $dir -c fsync=off -c full_page_writes=off -c synchronous_commit=off -c max_connections=200"
      if as_server "$bindir/pg_ctl" -D "$dir/data" -l "$dir/log" -w -t 30 start -o "$opts" \
          >/dev/null 2>&1; then
        printf 'postgresql://vidgate@127.0.0.1:%s/postgres\n%s\n%s\n' "$port" "$dir" "$opts" > "$state"
        exit 0
      fi
    done
    echo "pg-test-server: could not start PostgreSQL; see $dir/log" >&2
    exit 1
    ;;
  restart)
    dir="$(sed -n 2p "$state")"
    opts="$(sed -n 3p "$state")"
    as_server "$bindir/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null
    as_server "$bindir/pg_ctl" -D "$dir/data" -l "$dir/log" -w -t 30 start -o "$opts" >/dev/null
    ;;
  stop)
    [[ -f "$state" ]] || exit 0
    dir="$(sed -n 2p "$state")"
    as_server "$bindir/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
    rm -rf "$dir" "$state"
    ;;
  *)
    echo "usage: pg-test-server.sh start|stop STATE_FILE" >&2
    exit 2
    ;;
esac
