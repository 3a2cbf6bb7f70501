# Shared by scripts/*.sh: packages, a private PostgreSQL 15 install with ducache in it, and a
# throwaway cluster run by an unprivileged user. Nothing here writes to the system's
# PostgreSQL directories: ducache is installed into a relocated copy of PostgreSQL 15.
# Override with: DUCACHE_PGPORT, DUCACHE_SANDBOX (dir for the copy, the cluster and its socket).

set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PG_MAJOR=15
DUCACHE_PGPORT=${DUCACHE_PGPORT:-54315}
# One sandbox per checkout, so several clones (and CI) never share a cluster.
DUCACHE_SANDBOX=${DUCACHE_SANDBOX:-/tmp/ducache-sandbox-$(printf '%s' "$REPO" | md5sum | cut -c1-8)}
PGROOT=$DUCACHE_SANDBOX/root            # relocated copy of PostgreSQL 15 + ducache
PGDATA_DIR=$DUCACHE_SANDBOX/data
PGSOCK=$DUCACHE_SANDBOX/run
PGBIN=$PGROOT/usr/lib/postgresql/$PG_MAJOR/bin
export DUCACHE_PGPORT DUCACHE_SANDBOX

log() { printf '== %s\n' "$*" >&2; }

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# The cluster's owner: PostgreSQL refuses to run as root, so root hands it to 'postgres'.
pg_owner() { if [ "$(id -u)" = 0 ]; then echo postgres; else id -un; fi; }
as_owner() {
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

ensure_packages() {
    local want=(postgresql-$PG_MAJOR postgresql-server-dev-$PG_MAJOR postgresql-contrib
                nlohmann-json3-dev g++ make cmake libgtest-dev python3)
    local missing=()
    for p in "${want[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
    done
    if [ ${#missing[@]} -gt 0 ]; then
        log "installing packages: ${missing[*]}"
        as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    fi
    # Debian creates the cluster owner with the server package; make sure it is there.
    if [ "$(id -u)" = 0 ] && ! id postgres >/dev/null 2>&1; then
        useradd --system --home-dir /var/lib/postgresql --shell /bin/bash postgres
    fi
}

# A copy of PostgreSQL's bin/lib/share trees: PostgreSQL finds share/ and lib/ relative to
# its binaries, so installing ducache into the copy (DESTDIR) needs no root and touches
# nothing shared.
make_pg_copy() {
    if [ ! -x "$PGBIN/postgres" ]; then
        log "copying PostgreSQL $PG_MAJOR into $PGROOT"
        mkdir -p "$PGROOT/usr/lib/postgresql" "$PGROOT/usr/share/postgresql"
        cp -a "/usr/lib/postgresql/$PG_MAJOR" "$PGROOT/usr/lib/postgresql/"
        cp -a "/usr/share/postgresql/$PG_MAJOR" "$PGROOT/usr/share/postgresql/"
    fi
    chmod 755 "$DUCACHE_SANDBOX"
}

# Builds with warnings as errors (DUCACHE_WERROR=1; see the Makefile for why a plain make does not).
build_and_install() {
    local hooks=${1:-0}
    log "building ducache (test hooks: $hooks)"
    make -C "$REPO" -s clean >/dev/null 2>&1 || true
    # Line tables only (DUCACHE_LINE_TABLES=1, see the Makefile): the same code, less compile CPU.
    make -C "$REPO" -s -j"$(nproc)" DUCACHE_TEST_HOOKS="$hooks" DUCACHE_WERROR=1 DUCACHE_LINE_TABLES=1 >/dev/null
    make -C "$REPO" -s install DESTDIR="$PGROOT" DUCACHE_TEST_HOOKS="$hooks" DUCACHE_LINE_TABLES=1 >/dev/null
}

pg_env() {
    export PGHOST=$PGSOCK PGPORT=$DUCACHE_PGPORT PGUSER=postgres PGDATABASE=postgres
}

# initdb DATA_DIR SOCKET_DIR PORT SHARED_BUFFERS: a throwaway cluster, Unix socket only, no
# durability (fsync off): every cluster the scripts start is made here.
init_cluster() {
    as_owner "$PGBIN/initdb" -D "$1" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
    as_owner tee -a "$1/postgresql.conf" >/dev/null <<CONF
listen_addresses = ''
unix_socket_directories = '$2'
port = $3
shared_buffers = $4
fsync = off
synchronous_commit = off
full_page_writes = off
CONF
}

start_cluster() {
    mkdir -p "$PGSOCK"
    if [ "$(id -u)" = 0 ]; then chown "$(pg_owner)" "$DUCACHE_SANDBOX" "$PGSOCK"; fi
    if [ ! -f "$PGDATA_DIR/PG_VERSION" ]; then
        log "initdb $PGDATA_DIR"
        init_cluster "$PGDATA_DIR" "$PGSOCK" "$DUCACHE_PGPORT" 512MB
        as_owner tee -a "$PGDATA_DIR/postgresql.conf" >/dev/null <<CONF
work_mem = 64MB
max_parallel_workers_per_gather = 2
shared_preload_libraries = ''
CONF
    fi
    # Restart so the freshly installed library is the one every backend loads.
    as_owner "$PGBIN/pg_ctl" -D "$PGDATA_DIR" -m fast stop >/dev/null 2>&1 || true
    # A fresh log per start, so checks of it see only this run.
    [ -f "$DUCACHE_SANDBOX/server.log" ] && mv -f "$DUCACHE_SANDBOX/server.log" "$DUCACHE_SANDBOX/server.log.prev"
    as_owner "$PGBIN/pg_ctl" -D "$PGDATA_DIR" -l "$DUCACHE_SANDBOX/server.log" -w -o "-p $DUCACHE_PGPORT" start >/dev/null
    pg_env
}

stop_cluster() {
    as_owner "$PGBIN/pg_ctl" -D "$PGDATA_DIR" -m fast stop >/dev/null 2>&1 || true
}
