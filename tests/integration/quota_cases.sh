# Tenant budgets across jobs (issue 15): `launch --tenant` against the SQLite ledger. A CPU
# budget split across three sequential jobs stops the third at the budget and refuses a fourth;
# the jobs budget refuses a second job while one runs; kill -9 of a running VMM leaves its job
# settled from its last checkpoint by its keeper, kill -9 of VMM and keeper together by the next
# ledger user; 10 concurrent launches against a budget for 3 jobs' worth of CPU admit 3 and
# together stay within it; the Linux tier is charged and stopped the same way; the ledger passes
# PRAGMA integrity_check after each; the jailer and the keeper service (`isovm quota keeper`)
# do the same.
# shellcheck shell=bash
# Sourced by run.sh after linux_cases.sh (it uses _lx_images and _lx_run). Every case name
# starts with "quota/". isovm only (not native). Each case has a ledger of its own:
# ISOVM_LEDGER=$WORK/case/ledger.db.

QUOTA_CHECKPOINT_NS=1000000000 # quota/keeper.h KEEPER_CHECKPOINT_NS

_q_setup() {
    native && { fail "quota cases need isovm"; return 1; }
    export ISOVM_LEDGER=$WORK/case/ledger.db
    "$ISOVM" quota set "$@" >"$WORK/case/set.out" 2>&1 ||
        { fail "quota set $*: $(cat "$WORK/case/set.out")"; return 1; }
}

# _q_get TENANT PY-EXPR : QV = the expression over the tenant's `quota report --format json`
# object (t), e.g. "t['usage']['cpu_ns']"; a tuple's items separated by spaces
_q_get() {
    QV=""
    "$ISOVM" quota report --format json --tenant "$1" >"$WORK/case/q.json" 2>"$WORK/case/q.err" ||
        { fail "quota report: $(cat "$WORK/case/q.err")"; return 1; }
    QV=$(py -c "import json, sys; t = json.load(sys.stdin)['tenants'][0]; v = ($2); print(*(v if isinstance(v, tuple) else (v,)))" \
        <"$WORK/case/q.json") || { fail "quota report JSON: $(head -c 300 "$WORK/case/q.json")"; return 1; }
}

# _q_wait TENANT PY-CONDITION SECONDS : poll the report until the condition over t holds
_q_wait() {
    local end=$((SECONDS + $3))
    while ((SECONDS < end)); do
        _q_get "$1" "1 if ($2) else 0" || return 1
        [ "$QV" = 1 ] && return 0
        sleep 0.2
    done
    fail "waited $3 s for ($2) in the ledger: $(head -c 600 "$WORK/case/q.json")"
    return 1
}

# _q_sql SQL : QV = the query's rows ("|"-separated) from the case's ledger, read-only
_q_sql() {
    QV=$(py - "$ISOVM_LEDGER" "$1" <<'PY'
import sqlite3, sys
c = sqlite3.connect('file:%s?mode=ro' % sys.argv[1], uri=True)
for row in c.execute(sys.argv[2]):
    print('|'.join(str(v) for v in row))
PY
) || { fail "sqlite: $1"; return 1; }
}

_q_intact() {
    _q_sql "PRAGMA integrity_check" || return 1
    [ "$QV" = ok ] || fail "the ledger fails PRAGMA integrity_check: $QV"
}

# _q_launch_many N REFUSAL LAUNCH-ARGS... : N launches at once; QA = how many ended at their CPU
# limit (152: admitted), QR = how many were refused (125) with REFUSAL in their stderr; any other
# outcome fails the case, naming it
_q_launch_many() {
    local n=$1 refusal=$2 i rc pids=() other=""
    shift 2
    QA=0
    QR=0
    for ((i = 0; i < n; i++)); do
        "$ISOVM" launch "$@" >/dev/null 2>"$WORK/case/l$i.err" &
        pids+=($!)
    done
    for ((i = 0; i < n; i++)); do
        wait "${pids[$i]}"
        rc=$?
        case $rc in
            152) QA=$((QA + 1)) ;;
            125) QR=$((QR + 1))
                grep -qF -- "$refusal" "$WORK/case/l$i.err" || other+=" $i:125:$(head -c 200 "$WORK/case/l$i.err")" ;;
            *) other+=" $i:$rc:$(head -c 200 "$WORK/case/l$i.err")" ;;
        esac
    done
    [ -z "$other" ] || fail "unexpected outcomes:$other"
}

# cpu=3s/day: two jobs with a CPU time limit of 1.2 s of their own end at it (cpu-limit: the
# budget left room), the third, without one, is granted the 0.6 s left and stopped at it
# ("quota", 152, one stderr line naming the tenant and the budget), a fourth is refused (125,
# naming the budget, what was used and when it renews); the ledger holds 3 s, within one
# checkpoint interval.
c_q_sequential() {
    _q_setup seq cpu=3s/day || return
    need spin.musl || return
    local k r=$WORK/case/r.json
    for k in 1 2; do
        run_isovm launch --tenant seq --cpu-time-limit 1.2s -- "$J" --forever
        expect_status 152 "job $k: its own CPU time limit" || return
        expect_stderr_has "CPU time limit reached"
    done
    run_isovm launch --tenant seq --report "$r" -- "$J" --forever
    expect_status 152 "job 3: the budget's rest" || return
    expect_report "$r" exit_reason '"quota"'
    expect_report_in "$r" cpu_time_ns 500000000 700000000
    _slurp "$ERR_FILE"
    case $TEXT in
        "isovm: job stopped: quota: tenant seq: the CPU budget's rest granted to this job is used up ("*" of vCPU time, granted 0."*$'s)\n') ;;
        *) fail "job 3's stderr: '${TEXT:0:300}'" ;;
    esac
    run_isovm launch --tenant seq -- "$J" --forever
    expect_status 125 "job 4: nothing left" || return
    expect_stderr_has "isovm: quota: launch refused: tenant seq: budget cpu=3s/day used up: 3."
    expect_stderr_has "s used this day, 0.000s held by running jobs; nothing left until "
    _q_get seq "t['usage']['cpu_ns'], t['jobs_total'], t['budgets']['cpu_ns']['left']" || return
    local used total left
    read -r used total left <<<"$QV"
    ((used >= 3000000000 && used <= 3000000000 + QUOTA_CHECKPOINT_NS)) ||
        fail "the tenant used ${used} ns of a 3 s budget (allowed: one checkpoint interval over)"
    [ "$total" = 3 ] || fail "jobs_total $total, want 3 (a refused launch is no job)"
    [ "$left" = 0 ] || fail "left $left, want 0"
    _q_sql "SELECT exit_reason FROM jobs ORDER BY start_s, rowid" || return
    [ "$QV" = $'cpu-limit\ncpu-limit\nquota' ] || fail "exit reasons: ${QV//$'\n'/,}"
    _q_intact
}

# jobs=1: a second job is refused while the first runs; kill -9 of the first VMM: its keeper
# settles the job from its last checkpoint ("recovered", "vmm-died", its CPU time so far); then
# a third job runs and is killed with its keeper (kill -9 of both): the next `quota report`
# settles it. Nothing is lost and the ledger stays intact.
c_q_kill() {
    _q_setup one jobs=1 || return
    need spin.musl || return
    local vmm keeper
    "$ISOVM" launch --tenant one --timeout 60s -- "$J" --forever >/dev/null 2>"$WORK/case/a.err" &
    vmm=$!
    _q_wait one "t['jobs_running'] == 1 and t['usage']['cpu_ns'] > 0" 20 ||
        { kill -9 "$vmm"; wait "$vmm"; return; }
    run_isovm launch --tenant one -- "$J"
    expect_status 125 "the jobs budget"
    expect_stderr_has "isovm: quota: launch refused: tenant one: jobs budget reached: 1 of 1 jobs running"
    kill -9 "$vmm"
    wait "$vmm" 2>/dev/null
    _q_wait one "t['jobs_recovered'] == 1 and t['jobs_running'] == 0" 10 || return
    _q_sql "SELECT state, exit_reason, cpu_ns > 0, end_s >= start_s FROM jobs" || return
    [ "$QV" = "recovered|vmm-died|1|1" ] || fail "the killed VMM's job: $QV"
    # VMM and keeper killed together: only the next ledger user can settle the job
    _q_get one "t['usage']['cpu_ns']" || return
    local before=$QV
    "$ISOVM" launch --tenant one --timeout 60s -- "$J" --forever >/dev/null 2>"$WORK/case/b.err" &
    vmm=$!
    _q_wait one "t['jobs_running'] == 1 and t['usage']['cpu_ns'] > $before" 20 ||
        { kill -9 "$vmm"; wait "$vmm"; return; }
    _q_sql "SELECT owner_pid FROM jobs WHERE state = 'running'" || return
    keeper=$QV
    [ -n "$keeper" ] && kill -0 "$keeper" 2>/dev/null || { fail "no live keeper pid in the ledger ($keeper)"; kill -9 "$vmm"; return; }
    kill -9 "$vmm" "$keeper"
    wait "$vmm" 2>/dev/null
    while kill -0 "$keeper" 2>/dev/null; do sleep 0.05; done
    _q_get one "t['jobs_recovered'], t['jobs_running']" || return
    [ "$QV" = "2 0" ] || fail "after kill -9 of VMM and keeper, recovered and running: $QV, want (2, 0)"
    _q_sql "SELECT count(*) FROM jobs WHERE state = 'recovered' AND cpu_ns > 0" || return
    [ "$QV" = 2 ] || fail "recovered jobs with their checkpointed CPU time: $QV, want 2"
    # the place is free again
    run_isovm launch --tenant one -- "$J" 0
    expect_status 0 "a job after the recoveries"
    _q_intact
}

# 20 launches at once of one tenant with cpu=5s/day and 1 s of CPU time each: exactly 5 are
# admitted (each reserves its 1 s) and stopped at their limit, 15 refused at once; the tenant's
# CPU time stays within the budget plus one checkpoint interval per job.
c_q_concurrent() {
    _q_setup many cpu=3s/day || return
    need spin.musl || return
    _q_launch_many 10 "launch refused: tenant many: budget cpu=3s/day used up" \
        --tenant many --cpu-time-limit 1s -- "$J" --forever
    [ "$QA $QR" = "3 7" ] || fail "$QA admitted and $QR refused, want 3 and 7"
    _q_get many "t['usage']['cpu_ns']" || return
    ((QV >= 3000000000 && QV <= 3000000000 + 3 * QUOTA_CHECKPOINT_NS)) ||
        fail "the tenant used $QV ns of a 3 s budget (allowed: one checkpoint interval per job over)"
    _q_intact
}

# The Linux tier: a first job records its CPU time (the boot's included) under the tenant and
# the ledger's tier; the budget is then set to that plus 2 s, and a spinning job is granted the
# 2 s left and stopped at it ("quota", 152).
c_q_linux() {
    native && return
    _lx_images || return
    _q_setup lx jobs=2 || return
    _lx_run --tenant lx -- /bin/true
    expect_status 0 || return
    _q_sql "SELECT tier, state, exit_reason, cpu_ns FROM jobs" || return
    local tier state reason cpu
    IFS='|' read -r tier state reason cpu <<<"$QV"
    [ "$tier|$state|$reason" = "linux|ended|exit" ] && ((cpu > 0)) ||
        { fail "the Linux job in the ledger: $QV"; return; }
    "$ISOVM" quota set lx "cpu=$(((cpu / 1000000) + 2000))ms/day" >/dev/null 2>&1 ||
        { fail "quota set"; return; }
    _lx_run --tenant lx -- /bin/spin --forever
    expect_status 152 "the CPU budget's rest" || return
    expect_report "$WORK/case/r.json" exit_reason '"quota"'
    expect_stderr_has "isovm: job stopped: quota: tenant lx: the CPU budget's rest granted to this job is used up"
    _q_get lx "t['usage']['cpu_ns'] - t['budgets']['cpu_ns']['limit']" || return
    ((QV >= 0 && QV <= QUOTA_CHECKPOINT_NS)) || fail "used minus budget: $QV ns (allowed 0..1 s)"
    _q_intact
}

# Through the jailer: the ledger keeper runs outside the jail (the jailed VMM, another user in
# other namespaces, never sees the ledger); the job is granted the budget's 2 s and stopped at
# them, recorded under the job id its report names; the next jailed launch is refused.
c_q_jail() {
    _jail_init || return
    _q_setup jt cpu=2s/day || return
    need spin.musl || return
    local r=$WORK/jqr.json id
    rm -f "$r"
    _jail_run qj1 -- launch --tenant jt --report "$r" -- "$J" --forever
    expect_status 152 "the CPU budget's rest, in the jail" || return
    expect_report "$r" exit_reason '"quota"'
    _report_value "$r" job_id
    id=${RV//\"/}
    _q_sql "SELECT id, state, exit_reason, tier FROM jobs" || return
    [ "$QV" = "$id|ended|quota|hypercall" ] || fail "the jailed job in the ledger: '$QV' (report job_id '$id')"
    [ "$(stat -c %u "$ISOVM_LEDGER")" = 0 ] || fail "the ledger is not root's any more"
    _jail_run qj2 -- launch --tenant jt -- "$J" 0
    expect_status 125 "nothing left, in the jail"
    expect_stderr_has "isovm: quota: launch refused: tenant jt: budget cpu=2s/day used up"
    _jail_gone qj1
    _jail_gone qj2
    _q_intact
}

# Through the keeper service (`isovm quota keeper`): six launches at once against jobs=3: three
# admitted (each stopped at its own 1 s), three refused; one more killed with kill -9 while it
# runs is settled by the service from its checkpoint at once; SIGTERM ends the service (exit 0,
# its socket removed). Every job is owned by the service's pid.
c_q_service() {
    _q_setup svc jobs=3 || return
    need spin.musl || return
    local sock=$WORK/case/keeper.sock svc i vmm
    "$ISOVM" quota keeper --socket "$sock" 2>"$WORK/case/keeper.err" &
    svc=$!
    for ((i = 0; i < 100; i++)); do [ -S "$sock" ] && break; sleep 0.1; done
    [ -S "$sock" ] || { fail "the keeper service did not start: $(cat "$WORK/case/keeper.err")"; kill "$svc"; return; }
    _q_launch_many 6 "launch refused: tenant svc: jobs budget reached: 3 of 3 jobs running" \
        --tenant svc --ledger-socket "$sock" --cpu-time-limit 1s -- "$J" --forever
    [ "$QA $QR" = "3 3" ] || fail "$QA admitted and $QR refused, want 3 and 3"
    ISOVM_LEDGER_SOCKET=$sock "$ISOVM" launch --tenant svc --timeout 60s -- "$J" --forever >/dev/null 2>&1 &
    vmm=$!
    _q_wait svc "t['jobs_running'] == 1 and t['usage']['cpu_ns'] > 3000000000" 20 ||
        { kill -9 "$vmm"; kill "$svc"; return; }
    kill -9 "$vmm"
    wait "$vmm" 2>/dev/null
    _q_wait svc "t['jobs_recovered'] == 1 and t['jobs_running'] == 0" 10 || { kill "$svc"; return; }
    _q_sql "SELECT count(DISTINCT owner_pid), min(owner_pid) FROM jobs" || { kill "$svc"; return; }
    [ "$QV" = "1|$svc" ] || fail "owners of the jobs: $QV, want the service ($svc) alone"
    kill -TERM "$svc"
    wait "$svc"
    rc=$?
    [ "$rc" = 0 ] || fail "the keeper service exited $rc after SIGTERM: $(tail -n 3 "$WORK/case/keeper.err")"
    [ -e "$sock" ] && fail "the keeper service left its socket behind"
    _q_intact
}

# A ledger that is not a database: the launch is refused (125) with one line naming the file and
# what is wrong, nothing runs, and the file is left as it was.
c_q_damaged() {
    native && { fail "quota cases need isovm"; return; }
    need hello.musl || return
    local l=$WORK/case/damaged.db sum
    head -c 8192 /dev/urandom >"$l"
    sum=$(md5sum <"$l")
    run_isovm launch --tenant d --ledger "$l" -- "$J"
    expect_status 125 "a damaged ledger" || return
    expect_stderr_has "isovm: ledger $l: "
    expect_stderr_has "not a usable ledger"
    expect_stdout_lacks "hello from isovm"
    [ "$(md5sum <"$l")" = "$sum" ] || fail "the damaged ledger was changed"
}

# A ledger held locked by another process: the launch's wait for its reservation ends at the
# job's wall-clock timeout (124) and at SIGTERM (143), as the job itself would, not after the
# ledger's 30 s busy timeout.
c_q_locked() {
    _q_setup lk jobs=2 || return
    need hello.musl || return
    python3 - "$ISOVM_LEDGER" "$WORK/case/locked" <<'PY' &
import os, sqlite3, sys, time
c = sqlite3.connect(sys.argv[1], isolation_level=None)
c.execute("BEGIN EXCLUSIVE")
open(sys.argv[2], "w").close()
time.sleep(20)
PY
    local holder=$! i t0 vmm rc
    for ((i = 0; i < 100; i++)); do [ -e "$WORK/case/locked" ] && break; sleep 0.05; done
    t0=$SECONDS
    run_isovm launch --tenant lk --timeout 1s -- "$J"
    expect_status 124 "the timeout while the ledger is locked"
    expect_stderr_has "wall-clock timeout while the job waited for its reservation"
    ((SECONDS - t0 <= 8)) || fail "the timeout took $((SECONDS - t0)) s to end the launch"
    "$ISOVM" launch --tenant lk -- "$J" >/dev/null 2>"$WORK/case/term.err" &
    vmm=$!
    sleep 1
    t0=$SECONDS
    kill -TERM "$vmm"
    wait "$vmm"
    rc=$?
    [ "$rc" = 143 ] || fail "SIGTERM while waiting for the reservation: exit $rc, want 143 ($(head -c 200 "$WORK/case/term.err"))"
    ((SECONDS - t0 <= 3)) || fail "SIGTERM took $((SECONDS - t0)) s to end the launch"
    kill "$holder" 2>/dev/null
    wait "$holder" 2>/dev/null
    _q_intact
}

if ! native; then
    add_case "quota/cpu budget over three sequential jobs, the fourth refused spin.musl" with_budget 90 c_q_sequential
    add_case "quota/jobs budget, kill -9 of a VMM and of VMM and keeper spin.musl" with_budget 90 c_q_kill
    add_case "quota/10 concurrent launches, a budget for 3 spin.musl" with_budget 120 c_q_concurrent
    add_case "quota/linux tier: charged, stopped at the budget" with_budget 180 c_q_linux
    add_case "quota/jail: the keeper outside, the job charged and stopped spin.musl" with_budget 90 c_q_jail
    add_case "quota/keeper service: concurrent jobs, a refusal, kill -9, SIGTERM spin.musl" with_budget 90 c_q_service
    add_case "quota/a damaged ledger: refused, named, left as it was" with_budget 30 c_q_damaged
    add_case "quota/a locked ledger: the timeout and SIGTERM end the wait for a reservation" with_budget 60 c_q_locked
fi
