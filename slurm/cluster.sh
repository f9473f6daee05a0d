#!/usr/bin/env bash
# A throw-away one-node SLURM cluster on localhost (for tests and for trying the sweeps).
#
#   slurm/cluster.sh start  DIR   install what is missing (Debian/Ubuntu, root), start everything, wait for the node
#   slurm/cluster.sh stop   DIR   cancel the jobs, stop every daemon by the PID recorded in DIR
#   slurm/cluster.sh status DIR   which daemons run (exit 0: all, 1: some, 3: none), sinfo
#   slurm/cluster.sh env    DIR   prints `export SLURM_CONF=DIR/etc/slurm.conf` (use: eval "$(slurm/cluster.sh env DIR)")
#
# Everything lives under DIR (config, state, spool, logs, pid files, MariaDB data) except the munge daemon's socket
# directory, /run/munge/cluster-<hash of DIR>/ (munged runs as user munge and needs a directory it owns; it is
# created by `start` and removed by `stop`). Each DIR gets its own munged, MariaDB and free TCP ports, so several
# clusters (e.g. a test session's and a user's) can run side by side.
#
# Environment knobs: SLURM_LOCAL_CPUS, SLURM_LOCAL_MEM_MB (node size; default nproc and min(total/2, 8192) MB),
# SLURM_LOCAL_START_TIMEOUT (seconds per wait, a hang guard; default 300), SLURM_LOCAL_KEEP_ON_FAILURE=1 (leave daemons running
# when `start` fails, for debugging).
set -euo pipefail

PROG=$(basename "$0")
PACKAGES=(munge slurmctld slurmd slurm-client slurmdbd mariadb-server)
BINARIES=(munged munge slurmctld slurmd slurmdbd sinfo sbatch squeue scancel sacct sacctmgr scontrol
          mariadbd mariadb mariadb-admin mariadb-install-db)
# start order; stop goes the other way
DAEMONS=(munged mariadbd slurmdbd slurmctld slurmd)
TIMEOUT=${SLURM_LOCAL_START_TIMEOUT:-300}
CLUSTER_NAME=local
PARTITION=debug

say() { echo "$PROG: $*" >&2; }
die() { echo "$PROG: error: $*" >&2; exit 1; }

usage() {
    sed -n '2,7p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
}

# ---------------------------------------------------------------------------------------------------------- paths

set_paths() {
    [[ -n ${1:-} ]] || usage
    [[ $1 != *[[:space:]]* ]] || die "DIR must not contain whitespace (slurm.conf cannot quote paths): '$1'"
    if [[ ${2:-} == create ]]; then mkdir -p "$1" 2>/dev/null || true; fi
    if [[ ! -d $1 ]]; then
        case ${2:-} in
            create) die "cannot create directory $1" ;;
            missing-ok) echo "no cluster in $1 (no such directory)"; exit "${3:-0}" ;;
            *) die "no directory $1" ;;
        esac
    fi
    DIR=$(cd "$1" && pwd -P)
    ETC=$DIR/etc
    RUN=$DIR/run
    LOG=$DIR/log
    CONF=$ETC/slurm.conf
    DBD_CONF=$ETC/slurmdbd.conf
    STATE_FILE=$ETC/cluster.env
    MYSQL_DATA=$DIR/mysql
    MYSQL_TMP=$DIR/mysql-tmp
    MYSQL_SOCK=$RUN/mysql.sock
    local tag
    tag=$(printf '%s' "$DIR" | cksum | cut -d' ' -f1)
    MUNGE_DIR=/run/munge/cluster-$tag
    MUNGE_SOCK=$MUNGE_DIR/munge.socket
    export SLURM_CONF=$CONF
}

pidfile() { echo "$RUN/$1.pid"; }

# The PID recorded for daemon $1 if that process is alive and really is that daemon (guards against PID reuse).
live_pid() {
    local f pid comm
    f=$(pidfile "$1")
    [[ -s $f ]] || return 1
    pid=$(tr -dc "0-9" 2>/dev/null <"$f") || return 1
    [[ -n $pid ]] || return 1
    [[ -r /proc/$pid/comm ]] || return 1
    comm=$(cat "/proc/$pid/comm" 2>/dev/null) || return 1
    [[ $comm == "$1" ]] || return 1
    # a zombie is not alive
    [[ $(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null) != Z ]] || return 1
    echo "$pid"
}

tail_log() {  # tail_log FILE [LINES]
    local f=$1 n=${2:-25}
    if [[ -s $f ]]; then
        echo "----- last $n lines of $f -----" >&2
        tail -n "$n" "$f" >&2
        echo "-----" >&2
    else
        echo "($f is empty or missing)" >&2
    fi
}

# ------------------------------------------------------------------------------------------------------- install

ensure_installed() {
    local missing=() b
    for b in "${BINARIES[@]}"; do command -v "$b" >/dev/null 2>&1 || missing+=("$b"); done
    ((${#missing[@]} == 0)) && return 0
    command -v apt-get >/dev/null 2>&1 || die "missing ${missing[*]} and no apt-get to install ${PACKAGES[*]}"
    [[ $(id -u) == 0 ]] || die "missing ${missing[*]}; run as root to install ${PACKAGES[*]}"
    say "installing ${PACKAGES[*]} (missing: ${missing[*]})"
    mkdir -p "$LOG"
    # Keep the packages' own services (system mariadb, munge, slurm) from starting, if nothing says otherwise.
    local policy=/usr/sbin/policy-rc.d made_policy=0
    if [[ ! -e $policy ]]; then
        printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod 755 "$policy" && made_policy=1
    fi
    local rc=0
    {
        DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 update -qq &&
        DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 -o Dpkg::Use-Pty=0 install -y -qq \
            --no-install-recommends \
            "${PACKAGES[@]}"
    } >"$LOG/apt.log" 2>&1 || rc=$?
    ((made_policy)) && rm -f "$policy"
    if ((rc != 0)); then
        tail_log "$LOG/apt.log" 30
        die "apt-get install failed (exit $rc), full log: $LOG/apt.log"
    fi
    for b in "${BINARIES[@]}"; do command -v "$b" >/dev/null 2>&1 || die "$b still missing after installing"; done
}

ensure_munge_key() {
    id munge >/dev/null 2>&1 || die "no user 'munge' (is the munge package installed?)"
    local key=/etc/munge/munge.key
    if [[ ! -s $key ]]; then
        say "creating munge key $key"
        install -d -o munge -g munge -m 0700 /etc/munge
        if command -v mungekey >/dev/null 2>&1; then
            mungekey --create --keyfile="$key" --force >/dev/null
        else
            dd if=/dev/urandom of="$key" bs=1 count=1024 status=none
        fi
    fi
    chown munge:munge "$key"
    chmod 0400 "$key"
}

# ------------------------------------------------------------------------------------------------------- config

# N free TCP ports below the ephemeral range (so an outgoing connection cannot take one meanwhile), none of them
# bound by anything on the machine (IPv4 or IPv6, any state).
free_ports() {
    local n=$1 low hi used=" " h p out=() tries=0
    low=$(awk '{print $1}' /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)
    hi=$((low - 1)); ((hi > 20000)) || hi=30000
    for h in $(awk 'FNR > 1 { split($2, a, ":"); print a[2] }' /proc/net/tcp /proc/net/tcp6 2>/dev/null || true); do
        used+="$((16#$h)) "
    done
    while ((${#out[@]} < n)); do
        ((tries++ < 1000)) || die "could not find $n free TCP ports"
        p=$((10000 + (RANDOM * 32768 + RANDOM) % (hi - 10000)))
        [[ $used == *" $p "* ]] && continue
        [[ " ${out[*]} " == *" $p "* ]] && continue
        out+=("$p")
    done
    echo "${out[@]}"
}

write_configs() {
    mkdir -p "$ETC" "$RUN" "$LOG" "$DIR/state" "$DIR/spool/slurmd"
    chmod 0755 "$DIR" "$ETC" "$RUN" "$LOG"
    NODE=$(hostname -s)
    [[ -n $NODE ]] || die "hostname -s is empty"
    local cpus mem_total mem
    # nproc lowers its answer to OMP_NUM_THREADS when that is set (the tests' environment often sets it to 1): a
    # one-CPU node could never run two jobs at once. Ask for the CPUs this process may use, whatever OMP says.
    cpus=${SLURM_LOCAL_CPUS:-$(env -u OMP_NUM_THREADS -u OMP_THREAD_LIMIT nproc)}
    mem_total=$(awk '/^MemTotal:/ {print int($2 / 1024)}' /proc/meminfo)
    mem=${SLURM_LOCAL_MEM_MB:-$((mem_total / 2 < 8192 ? mem_total / 2 : 8192))}
    ((mem >= 256)) || mem=256
    read -r CTLD_PORT SLURMD_PORT DBD_PORT MYSQL_PORT <<<"$(free_ports 4)"
    DB_PASS=$(head -c 18 /dev/urandom | base64 | tr -dc 'A-Za-z0-9')
    ((${#MYSQL_SOCK} < 100)) || die "DIR is too long for a unix socket path ($MYSQL_SOCK); use a shorter DIR"

    cat >"$CONF" <<EOF
# Generated by slurm/cluster.sh start; rewritten at every start.
ClusterName=$CLUSTER_NAME
SlurmctldHost=$NODE(127.0.0.1)
SlurmctldPort=$CTLD_PORT
SlurmdPort=$SLURMD_PORT
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$MUNGE_SOCK,cred_expire=10
CredType=cred/munge
StateSaveLocation=$DIR/state
SlurmdSpoolDir=$DIR/spool/slurmd
SlurmctldPidFile=$(pidfile slurmctld)
SlurmdPidFile=$(pidfile slurmd)
SlurmctldLogFile=$LOG/slurmctld.log
SlurmdLogFile=$LOG/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=127.0.0.1
AccountingStoragePort=$DBD_PORT
# the munge socket for talking to slurmdbd (clients default to /run/munge/munge.socket.2 otherwise)
AccountingStoragePass=$MUNGE_SOCK
JobCompType=jobcomp/none
SwitchType=switch/none
MpiDefault=none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
DefMemPerCPU=$((mem / cpus))
SchedulerType=sched/backfill
SchedulerParameters=sched_interval=2,bf_interval=2
SlurmdParameters=config_overrides
ReturnToService=2
KillWait=5
MailProg=/bin/true
MaxArraySize=100001
MaxJobCount=100001
MinJobAge=300
InactiveLimit=0
SlurmctldTimeout=30
SlurmdTimeout=60
MessageTimeout=10
NodeName=$NODE NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=$PARTITION Nodes=$NODE Default=YES MaxTime=INFINITE State=UP
EOF
    chmod 0644 "$CONF"

    (umask 077 && cat >"$DBD_CONF" <<EOF
# Generated by slurm/cluster.sh start; rewritten at every start.
AuthType=auth/munge
AuthInfo=socket=$MUNGE_SOCK
DbdHost=$NODE
DbdAddr=127.0.0.1
DbdPort=$DBD_PORT
SlurmUser=root
DebugLevel=info
LogFile=$LOG/slurmdbd.log
PidFile=$(pidfile slurmdbd)
StorageType=accounting_storage/mysql
StorageHost=127.0.0.1
StoragePort=$MYSQL_PORT
StorageUser=slurm
StoragePass=$DB_PASS
StorageLoc=slurm_acct_db
EOF
    )
    chown root:root "$DBD_CONF"
    chmod 0600 "$DBD_CONF"

    cat >"$STATE_FILE" <<EOF
NODE=$NODE
CPUS=$cpus
REAL_MEMORY_MB=$mem
SLURMCTLD_PORT=$CTLD_PORT
SLURMD_PORT=$SLURMD_PORT
DBD_PORT=$DBD_PORT
MYSQL_PORT=$MYSQL_PORT
MUNGE_SOCKET=$MUNGE_SOCK
PARTITION=$PARTITION
EOF
}

# ------------------------------------------------------------------------------------------------------- waiting

# wait_for DESCRIPTION LOGFILE DAEMON COMMAND...: retry COMMAND until it succeeds; fail if the daemon dies or on timeout.
wait_for() {
    local what=$1 log=$2 daemon=$3; shift 3
    local deadline=$((SECONDS + TIMEOUT))
    until "$@" >/dev/null 2>&1; do
        if [[ -n $daemon ]] && ! live_pid "$daemon" >/dev/null; then
            tail_log "$log"
            fail "$daemon exited while waiting for $what"
        fi
        if ((SECONDS >= deadline)); then
            tail_log "$log"
            fail "timed out after ${TIMEOUT}s waiting for $what"
        fi
        sleep 0.3
    done
}

wait_pidfile() {  # wait_pidfile DAEMON LOGFILE
    wait_for "$1 to write $(pidfile "$1")" "$2" "" live_pid "$1"
}

fail() {
    echo "$PROG: error: $*" >&2
    if [[ ${SLURM_LOCAL_KEEP_ON_FAILURE:-0} == 1 ]]; then
        say "leaving the daemons running (SLURM_LOCAL_KEEP_ON_FAILURE=1); stop with: $0 stop $DIR"
    else
        say "stopping what was started"
        do_stop >/dev/null 2>&1 || true
    fi
    exit 1
}

# ------------------------------------------------------------------------------------------------------- daemons

start_munged() {
    mkdir -p /run/munge
    chown munge:munge /run/munge
    chmod 0755 /run/munge
    install -d -o munge -g munge -m 0755 "$MUNGE_DIR"
    rm -f "$MUNGE_DIR/munged.pid" "$MUNGE_SOCK" "$MUNGE_SOCK.lock"
    (cd / && runuser -u munge -- munged --socket="$MUNGE_SOCK" --pid-file="$MUNGE_DIR/munged.pid" \
        --seed-file="$MUNGE_DIR/munged.seed" --log-file="$MUNGE_DIR/munged.log" --num-threads=2) \
        </dev/null >>"$LOG/munged.out" 2>&1 || { tail_log "$MUNGE_DIR/munged.log"; tail_log "$LOG/munged.out"; fail "munged did not start"; }
    wait_for "munged's pid file" "$MUNGE_DIR/munged.log" "" test -s "$MUNGE_DIR/munged.pid"
    cp "$MUNGE_DIR/munged.pid" "$(pidfile munged)"
    wait_for "munge to answer on $MUNGE_SOCK" "$MUNGE_DIR/munged.log" munged \
        bash -c "munge -S '$MUNGE_SOCK' -n | unmunge -S '$MUNGE_SOCK'"
}

start_mariadb() {
    # Its temporary tables in a folder of its own, not the shared /tmp: a temp file of the install there was once
    # gone before MariaDB removed it ("Could not remove temporary table ... error: 2"), and the install failed.
    mkdir -p "$MYSQL_TMP"
    if [[ ! -d $MYSQL_DATA/mysql ]]; then
        rm -rf "$MYSQL_DATA"
        mariadb-install-db --no-defaults --datadir="$MYSQL_DATA" --tmpdir="$MYSQL_TMP" --user=root --skip-test-db \
            --auth-root-authentication-method=socket >"$LOG/mariadb-install.log" 2>&1 ||
            { grep -E "ERROR|Warning" "$LOG/mariadb-install.log" >&2; tail_log "$LOG/mariadb-install.log"
              fail "mariadb-install-db failed"; }
    fi
    rm -f "$MYSQL_SOCK" "$(pidfile mariadbd)"
    (cd / && exec setsid mariadbd --no-defaults --datadir="$MYSQL_DATA" --tmpdir="$MYSQL_TMP" --socket="$MYSQL_SOCK" \
        --bind-address=127.0.0.1 --port="$MYSQL_PORT" --pid-file="$(pidfile mariadbd)" --user=root \
        --log-error="$LOG/mariadb.log" --skip-name-resolve --innodb-buffer-pool-size=64M \
        --innodb-log-file-size=16M --innodb-lock-wait-timeout=900 --max-connections=100) \
        </dev/null >>"$LOG/mariadb.out" 2>&1 &
    wait_pidfile mariadbd "$LOG/mariadb.log"
    wait_for "MariaDB on $MYSQL_SOCK" "$LOG/mariadb.log" mariadbd \
        mariadb-admin --no-defaults --socket="$MYSQL_SOCK" -u root ping
    mariadb --no-defaults --socket="$MYSQL_SOCK" -u root >"$LOG/mariadb-setup.log" 2>&1 <<EOF || { tail_log "$LOG/mariadb-setup.log"; fail "creating the accounting database failed"; }
CREATE DATABASE IF NOT EXISTS slurm_acct_db;
CREATE USER IF NOT EXISTS 'slurm'@'127.0.0.1' IDENTIFIED BY '$DB_PASS';
CREATE USER IF NOT EXISTS 'slurm'@'localhost' IDENTIFIED BY '$DB_PASS';
ALTER USER 'slurm'@'127.0.0.1' IDENTIFIED BY '$DB_PASS';
ALTER USER 'slurm'@'localhost' IDENTIFIED BY '$DB_PASS';
GRANT ALL ON slurm_acct_db.* TO 'slurm'@'127.0.0.1';
GRANT ALL ON slurm_acct_db.* TO 'slurm'@'localhost';
FLUSH PRIVILEGES;
EOF
}

start_slurmdbd() {
    (cd / && exec slurmdbd) </dev/null >>"$LOG/slurmdbd.out" 2>&1 ||
        { tail_log "$LOG/slurmdbd.log"; tail_log "$LOG/slurmdbd.out"; fail "slurmdbd did not start"; }
    wait_pidfile slurmdbd "$LOG/slurmdbd.log"
    wait_for "slurmdbd on port $DBD_PORT" "$LOG/slurmdbd.log" slurmdbd sacctmgr -n show cluster
    if [[ -z $(sacctmgr -n -P show cluster format=cluster where cluster="$CLUSTER_NAME" 2>/dev/null) ]]; then
        sacctmgr -i add cluster "$CLUSTER_NAME" >"$LOG/sacctmgr.log" 2>&1 ||
            { tail_log "$LOG/sacctmgr.log"; fail "sacctmgr add cluster $CLUSTER_NAME failed"; }
    fi
}

start_slurmctld() {
    (cd / && exec slurmctld -f "$CONF") </dev/null >>"$LOG/slurmctld.out" 2>&1 ||
        { tail_log "$LOG/slurmctld.log"; tail_log "$LOG/slurmctld.out"; fail "slurmctld did not start"; }
    wait_pidfile slurmctld "$LOG/slurmctld.log"
    wait_for "slurmctld to answer" "$LOG/slurmctld.log" slurmctld bash -c 'scontrol ping | grep -q UP'
}

node_idle() {
    local st
    st=$(sinfo -h -N -n "$NODE" -o %T 2>/dev/null | head -n1)
    [[ $st == idle* || $st == mixed* || $st == allocated* ]]
}

start_slurmd() {
    (cd / && exec slurmd -f "$CONF" -N "$NODE") </dev/null >>"$LOG/slurmd.out" 2>&1 ||
        { tail_log "$LOG/slurmd.log"; tail_log "$LOG/slurmd.out"; fail "slurmd did not start"; }
    wait_pidfile slurmd "$LOG/slurmd.log"
    local deadline=$((SECONDS + TIMEOUT))
    until node_idle; do
        if ! live_pid slurmd >/dev/null; then tail_log "$LOG/slurmd.log"; fail "slurmd exited"; fi
        if ((SECONDS >= deadline)); then
            sinfo -N -l >&2 || true
            sinfo -R >&2 || true
            tail_log "$LOG/slurmd.log"
            tail_log "$LOG/slurmctld.log"
            fail "timed out after ${TIMEOUT}s waiting for node $NODE to be idle in sinfo"
        fi
        sleep 0.3
    done
}

# ------------------------------------------------------------------------------------------------------- commands

do_start() {
    [[ $(id -u) == 0 ]] || die "must run as root (slurmd, munge and the package install need it)"
    local running=() d
    for d in "${DAEMONS[@]}"; do live_pid "$d" >/dev/null && running+=("$d($(live_pid "$d"))"); done
    if ((${#running[@]})); then
        die "already running in $DIR: ${running[*]}; stop it first: $0 stop $DIR"
    fi
    local t0=$SECONDS
    ensure_installed
    local t_inst=$SECONDS
    ensure_munge_key
    rm -f "$RUN"/*.pid
    write_configs
    start_munged
    start_mariadb
    start_slurmdbd
    start_slurmctld
    start_slurmd
    say "cluster up in $((SECONDS - t0))s (install check $((t_inst - t0))s): node $NODE, partition $PARTITION," \
        "$(awk -F= '/^CPUS=/{c=$2} /^REAL_MEMORY_MB=/{m=$2} END{print c " CPUs, " m " MB"}' "$STATE_FILE")"
    say "use it with: eval \"\$($0 env $DIR)\""
}

# stop_daemon NAME: SIGTERM the recorded PID, wait up to 20 s, then SIGKILL.
stop_daemon() {
    local name=$1 pid i
    pid=$(live_pid "$name") || { rm -f "$(pidfile "$name")"; return 0; }
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 200; i++)); do
        live_pid "$name" >/dev/null || break
        sleep 0.1
    done
    if live_pid "$name" >/dev/null; then
        say "$name ($pid) did not exit after SIGTERM; sending SIGKILL"
        kill -KILL "$pid" 2>/dev/null || true
        for ((i = 0; i < 50; i++)); do
            live_pid "$name" >/dev/null || break
            sleep 0.1
        done
    fi
    live_pid "$name" >/dev/null && { say "$name ($pid) is still alive"; return 1; }
    rm -f "$(pidfile "$name")"
    echo "stopped $name ($pid)"
}

# Job step daemons of this cluster left after slurmd stopped: slurmstepd processes whose environment names our
# slurm.conf (the environment they inherit from our slurmd).
leftover_stepds() {
    local p
    for p in /proc/[0-9]*; do
        [[ $(cat "$p/comm" 2>/dev/null) == slurmstepd ]] || continue
        tr "\0" "\n" 2>/dev/null <"$p/environ" | grep -qxF "SLURM_CONF=$CONF" && echo "${p#/proc/}"
    done
    return 0
}

do_stop() {
    local rc=0 i jobs
    if live_pid slurmctld >/dev/null && [[ -f $CONF ]]; then
        jobs=$(squeue -h -o %A 2>/dev/null | tr '\n' ' ')
        if [[ -n ${jobs// /} ]]; then
            # shellcheck disable=SC2086
            scancel $jobs 2>/dev/null || true
            for ((i = 0; i < 150; i++)); do
                [[ -z $(squeue -h -o %A 2>/dev/null) ]] && break
                sleep 0.2
            done
        fi
    fi
    stop_daemon slurmd || rc=1
    local stepds
    stepds=$(leftover_stepds)
    if [[ -n $stepds ]]; then
        # shellcheck disable=SC2086
        kill -KILL $stepds 2>/dev/null || true
        echo "killed leftover slurmstepd: $stepds"
    fi
    stop_daemon slurmctld || rc=1
    stop_daemon slurmdbd || rc=1
    stop_daemon mariadbd || rc=1
    stop_daemon munged || rc=1
    if ! live_pid munged >/dev/null && [[ -d $MUNGE_DIR ]]; then
        cp "$MUNGE_DIR/munged.log" "$LOG/munged.log" 2>/dev/null || true
        rm -rf "$MUNGE_DIR"
    fi
    return $rc
}

do_status() {
    local d pid n=0
    for d in "${DAEMONS[@]}"; do
        if pid=$(live_pid "$d"); then
            echo "$d: running (pid $pid)"
            n=$((n + 1))
        else
            echo "$d: stopped"
        fi
    done
    echo "SLURM_CONF=$CONF"
    if ((n > 0)) && [[ -f $STATE_FILE ]]; then
        sed 's/^/  /' "$STATE_FILE"
    fi
    if live_pid slurmctld >/dev/null; then
        sinfo -N -o '%N %P %T %c %m' 2>&1 || true
    fi
    ((n == ${#DAEMONS[@]})) && return 0
    ((n == 0)) && return 3
    return 1
}

main() {
    local cmd=${1:-}
    case $cmd in
        start) set_paths "${2:-}" create; do_start ;;
        stop) set_paths "${2:-}" missing-ok 0; do_stop ;;
        status) set_paths "${2:-}" missing-ok 3; do_status ;;
        env) set_paths "${2:-}"; printf 'export SLURM_CONF=%q\n' "$CONF" ;;
        -h | --help | help) usage ;;
        *) usage ;;
    esac
}

main "$@"
