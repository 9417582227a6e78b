#!/usr/bin/env bash
# The nightly load (deploy/systemd/enforcement-load.timer, or cron:
#   30 1 * * *  enforcement  /opt/enforcement/deploy/bin/nightly-load.sh >> /var/log/enforcement-load.log 2>&1
# Every file waiting in $ENFORCEMENT_INBOX goes through `python -m etl load` in one run (the ETL
# orders the tables itself; the warehouse is swapped atomically, the app picks the new file up).
# Afterwards each file moves to loaded/STAMP/ or refused/STAMP/ beside the inbox; set-aside rows
# are in the report the load prints. Exit status: the load's (0, or 1 when a file was refused).
set -uo pipefail
inbox="${ENFORCEMENT_INBOX:?ENFORCEMENT_INBOX is not set (see deploy/enforcement.env.example)}"
here="$(cd "$(dirname "$0")/../.." && pwd)"
py="${ENFORCEMENT_PYTHON:-$here/.venv/bin/python}"
shopt -s nullglob nocaseglob
files=("$inbox"/*.csv "$inbox"/*.xlsx "$inbox"/*.xls)
if [ ${#files[@]} -eq 0 ]; then
  echo "$(date -Is) nothing to load in $inbox"
  exit 0
fi
stamp="$(date +%Y%m%d-%H%M%S)"
out="$(mktemp)"
cd "$here"
"$py" -m etl load "${files[@]}" >"$out"
rc=$?
cat "$out"
for f in "${files[@]}"; do
  if grep -qF -- "$f:" "$out"; then dest="$inbox/../loaded/$stamp"; else dest="$inbox/../refused/$stamp"; fi
  mkdir -p "$dest" && mv -- "$f" "$dest/"
done
rm -f "$out"
echo "$(date -Is) load finished with status $rc"
exit $rc
