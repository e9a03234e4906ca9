#!/usr/bin/env bash
# The init job of docker/compose.yaml: run once per deployment, before the other
# services start (they wait for it to succeed). Every step is idempotent, so running it
# again after an upgrade brings both databases to the new image's schema.
set -euo pipefail

echo "ecqm-init: Airflow's metadata database"
airflow db migrate

echo "ecqm-init: the warehouse schema and marts (ECQM_MATERIALISED_MARTS=${ECQM_MATERIALISED_MARTS:-})"
ecqm warehouse upgrade
ecqm warehouse load-reference

echo "ecqm-init: the read-only role for BI tools (ecqm_bi_reader)"
ecqm warehouse grant-bi

# The folders of ECQM_HOME (named volumes start as copies of the image's folders; a
# bind mount or a fresh disk may not have them).
mkdir -p "${ECQM_HOME}/landing" "${ECQM_HOME}/evidence" "${ECQM_HOME}/outbox" \
    "${ECQM_HOME}/inbox/purchases" "${ECQM_HOME}/inbox/results"

ecqm warehouse current
echo "ecqm-init: done"
