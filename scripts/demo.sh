#!/usr/bin/env bash
# Run the MeterOps demo on this machine until Ctrl-C.
#
# Migrates the SQLite database, loads the demo data, then starts on 127.0.0.1
# the concentrator simulator (ports 15020-15022), a Celery worker with beat
# embedded, and Django's development server on port 8000. One poll round and
# the bill runs of the last two months run right away, so the pages show data
# at once. Each process logs to var/log/NAME.log. Ctrl-C, or any of the three
# processes stopping, stops them all.
#
# `make demo` installs the virtualenv and system packages before this runs.
set -euo pipefail

cd "$(dirname "$0")/.."
root=$PWD
python=$root/.venv/bin/python
celery=$root/.venv/bin/celery
log_dir=var/log
web_port=8000
simulator_ports=(15020 15021 15022)

# The demo always runs on SQLite and the filesystem broker, whatever the
# shell exports for tests or production.
export DEBUG=true
export DATABASE_URL="sqlite:///$root/meterops.sqlite3"
export CELERY_BROKER_URL="filesystem://"
office_zone=${TIME_ZONE:-Asia/Shanghai}

port_open() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

wait_for_port() {
  local port=$1 name=$2 seconds=$3
  for ((i = 0; i < seconds * 2; i++)); do
    if port_open "$port"; then
      return 0
    fi
    sleep 0.5
  done
  echo "The $name did not open port $port within $seconds s; see $log_dir/$name.log." >&2
  return 1
}

for port in "$web_port" "${simulator_ports[@]}"; do
  if port_open "$port"; then
    echo "Port $port on 127.0.0.1 is already in use, perhaps by an earlier demo." >&2
    echo "Stop the program that listens there, then run make demo again." >&2
    exit 1
  fi
done

mkdir -p "$log_dir"
echo "Preparing the demo database (meterops.sqlite3)..."
"$python" manage.py migrate --no-input -v 0
"$python" manage.py load_demo_data

names=()
pids=()

start() {
  local name=$1
  shift
  "$@" >"$log_dir/$name.log" 2>&1 &
  names+=("$name")
  pids+=("$!")
}

# shellcheck disable=SC2317  # called by the EXIT trap
stop_all() {
  trap - EXIT INT TERM
  echo
  echo "Stopping the demo..."
  for pid in "${pids[@]}"; do
    kill -TERM "$pid" 2>/dev/null || true
  done
  # On TERM Celery finishes the task in hand, so wait up to 15 s before
  # killing what is left, including the worker's pool processes.
  for ((i = 0; i < 30; i++)); do
    local running=0
    for pid in "${pids[@]}"; do
      if kill -0 "$pid" 2>/dev/null; then
        running=1
      fi
    done
    if ((running == 0)); then
      break
    fi
    sleep 0.5
  done
  for pid in "${pids[@]}"; do
    if kill -0 "$pid" 2>/dev/null; then
      pkill -KILL -P "$pid" 2>/dev/null || true
      kill -KILL "$pid" 2>/dev/null || true
    fi
  done
  wait 2>/dev/null || true
  echo "Demo stopped. Logs are in $log_dir/."
}

stopping=0
trap stop_all EXIT
# Stopping on request is a normal end, so make does not report an error.
trap 'stopping=1; exit 0' INT TERM

echo "Starting the concentrator simulator..."
start simulator "$python" manage.py simulate_concentrators
for port in "${simulator_ports[@]}"; do
  wait_for_port "$port" simulator 60
done

# Poll before the worker starts, so beat's first round does not read the
# same poll slot at the same time.
echo "Polling every concentrator once..."
"$python" manage.py poll --once ||
  echo "The poll round failed; the worker polls again every minute." >&2

echo "Starting the Celery worker with beat and the web server..."
start worker "$celery" -A meterops worker -B \
  --scheduler django_celery_beat.schedulers:DatabaseScheduler \
  --concurrency 2 --loglevel INFO --hostname demo@%h
start web "$python" manage.py runserver "127.0.0.1:$web_port" --noreload
wait_for_port "$web_port" web 60

this_month=$(TZ=$office_zone date +%Y-%m-01)
last_month=$(date -d "$this_month -1 month" +%Y-%m)
month_before_last=$(date -d "$this_month -2 months" +%Y-%m)

for period in "$month_before_last" "$last_month"; do
  if "$python" manage.py shell -v 0 -c "import sys
from billing.models import Bill
sys.exit(0 if Bill.objects.filter(period_start='$period-01').exists() else 1)"; then
    echo "$period is billed already."
    continue
  fi
  echo "Billing $period..."
  "$python" manage.py run_billing --period "$period" ||
    echo "The bill run for $period failed; see the output above." >&2
done

cat <<EOF

MeterOps demo is running at http://127.0.0.1:$web_port/

EOF
"$python" manage.py load_demo_data --print-logins
cat <<EOF

Where to look:
  staff       Dashboard (工作台): the concentrators and their poll rounds, a new
              round every minute; Readings (抄表示数): each meter's register
  supervisor  Review queue (审核队列): the vacant flat's zero bills and a
              barber shop's bill for $last_month that catches up on a low
              estimated reading, more than three times its usual use
  customer    My bills (我的电费): each bill with a PDF download

Logs: $log_dir/simulator.log, $log_dir/worker.log, $log_dir/web.log
Press Ctrl-C to stop.
EOF

set +e
wait -n "${pids[@]}"
status=$?
# Ctrl-C reaches the child processes too, and one may end before this shell
# runs its INT trap: give the trap a moment before calling it a failure.
sleep 1
set -e
if ((stopping)); then
  exit 0
fi
for index in "${!pids[@]}"; do
  if ! kill -0 "${pids[$index]}" 2>/dev/null; then
    name=${names[$index]}
    echo "The $name process stopped (status $status); see $log_dir/$name.log." >&2
  fi
done
exit 1
