#!/usr/bin/env bash
# Run by the postgres image once, when its data volume is empty
# (/docker-entrypoint-initdb.d): one server, two databases, each owned by a role of its
# own. `airflow` holds Airflow's metadata and the Celery results; `ecqm` is the
# warehouse. The ecqm role may create roles: `ecqm warehouse grant-bi` makes the
# read-only ecqm_bi_reader (drop CREATEROLE once a DBA has made that role instead).
# Changing a password later: ALTER ROLE … PASSWORD, then the same value in docker/.env.
set -euo pipefail
: "${AIRFLOW_DB_PASSWORD:?}" "${ECQM_DB_PASSWORD:?}"
psql -v ON_ERROR_STOP=1 --username "${POSTGRES_USER}" --dbname postgres \
    -v airflow_password="${AIRFLOW_DB_PASSWORD}" -v ecqm_password="${ECQM_DB_PASSWORD}" <<'SQL'
create role airflow login password :'airflow_password';
create database airflow owner airflow;
revoke all on database airflow from public;

create role ecqm login createrole password :'ecqm_password';
create database ecqm owner ecqm;
revoke all on database ecqm from public;
SQL
