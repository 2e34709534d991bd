#!/usr/bin/env bash
# Finds or starts the MySQL/MariaDB server the project runs against.
#
#   scripts/database.sh start   prints the database URL to use (on stdout, nothing else):
#                               - $ATTENDANCE_DB_URL when it is set;
#                               - mysql://root@127.0.0.1:3306/<db> when a server answers there;
#                               - otherwise a private MariaDB under .run/mariadb (port 3399),
#                                 installing Debian's mariadb-server first if needed and root.
#   scripts/database.sh stop    stops the private server if this script started one.
#
# DB_NAME (default: attendance) is the database name put in the URL.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
run_dir="$here/.run/mariadb"
port=3399
db_name=${DB_NAME:-attendance}

say() { echo "database.sh: $*" >&2; }

answers() {  # answers HOST PORT: something accepts TCP connections there
    (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null
}

wait_ready() {
    for _ in $(seq 1 60); do
        if mariadb-admin --protocol=socket --socket="$run_dir/mysqld.sock" -uroot ping >/dev/null 2>&1; then
            return 0
        fi
        sleep 0.5
    done
    say "private MariaDB did not start; see $run_dir/error.log"
    tail -n 20 "$run_dir/error.log" >&2 || true
    return 1
}

start_private() {
    if ! command -v mariadbd >/dev/null 2>&1 && [ ! -x /usr/sbin/mariadbd ]; then
        if [ "$(id -u)" != 0 ]; then
            say "no MySQL server answers on 127.0.0.1:3306 and mariadb-server is not installed;"
            say "install it (apt-get install mariadb-server) or set ATTENDANCE_DB_URL"
            exit 1
        fi
        say "installing Debian's mariadb-server"
        (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mariadb-server) >&2
    fi
    export PATH="$PATH:/usr/sbin"
    mkdir -p "$run_dir"
    if [ -f "$run_dir/mariadbd.pid" ] && kill -0 "$(cat "$run_dir/mariadbd.pid")" 2>/dev/null; then
        return 0  # already running from an earlier call
    fi
    # Its own tmpdir: a MariaDB starting (or installing) deletes every #sql* file in its tmpdir,
    # the temporary tables of any other server using the same one (/tmp by default).
    mkdir -p "$run_dir/tmp"
    if [ ! -d "$run_dir/data/mysql" ]; then
        say "initialising a private MariaDB in $run_dir/data"
        mariadb-install-db --no-defaults --datadir="$run_dir/data" --tmpdir="$run_dir/tmp" \
            --auth-root-authentication-method=normal \
            --skip-test-db --user="$(id -un)" >"$run_dir/install.log" 2>&1 \
            || { cat "$run_dir/install.log" >&2; exit 1; }
    fi
    say "starting a private MariaDB on 127.0.0.1:$port"
    mariadbd --no-defaults --datadir="$run_dir/data" --tmpdir="$run_dir/tmp" --socket="$run_dir/mysqld.sock" \
        --port="$port" --bind-address=127.0.0.1 --pid-file="$run_dir/mariadbd.pid" \
        --log-error="$run_dir/error.log" --user="$(id -un)" --innodb-buffer-pool-size=128M \
        >/dev/null 2>&1 &
    wait_ready
}

case "${1:-}" in
start)
    if [ -n "${ATTENDANCE_DB_URL:-}" ]; then
        echo "$ATTENDANCE_DB_URL"
    elif answers 127.0.0.1 3306; then
        echo "mysql://root@127.0.0.1:3306/$db_name"
    else
        start_private
        echo "mysql://root@127.0.0.1:$port/$db_name"
    fi
    ;;
stop)
    if [ -f "$run_dir/mariadbd.pid" ]; then
        pid=$(cat "$run_dir/mariadbd.pid")
        if kill "$pid" 2>/dev/null; then
            say "stopping the private MariaDB (pid $pid)"
            for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
        fi
        rm -f "$run_dir/mariadbd.pid"
    fi
    ;;
*)
    echo "usage: $0 start|stop" >&2
    exit 2
    ;;
esac
