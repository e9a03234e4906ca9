#!/usr/bin/env bash
# Starts Airflow's API server (the UI, the REST API and the execution API the workers
# call) with the admin login of docker/.env. The simple auth manager reads passwords
# from a JSON file; it is written here from AIRFLOW_ADMIN_PASSWORD on every start, so
# changing the password in docker/.env and restarting the service changes it.
set -euo pipefail
: "${AIRFLOW_ADMIN_PASSWORD:?set AIRFLOW_ADMIN_PASSWORD in docker/.env}"
passwords="${AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE:-${AIRFLOW_HOME}/simple_auth_manager_passwords.json.generated}"
umask 077
python -c '
import json, os, sys
user = os.environ.get("AIRFLOW_ADMIN_USER") or "admin"
with open(sys.argv[1], "w", encoding="utf-8") as fh:
    json.dump({user: os.environ["AIRFLOW_ADMIN_PASSWORD"]}, fh)
' "$passwords"
unset AIRFLOW_ADMIN_PASSWORD
exec airflow api-server "$@"
